// ECMA-419 UDP socket (§11) over the epsocket layer. read() returns one datagram as an
// ArrayBuffer carrying `address` and `port` (it allocates, by the specification);
// read(view) copies it into the application's view without allocating, returning its length
// (throwing when the view is too small, as the specification asks), with the sender kept for
// `remoteAddress`/`remotePort`. write(buffer, address, port) sends one datagram or throws; the
// order (address, port, buffer) of Moddable's older tests is taken too.

import { MSG_PEEK, MSG_TRUNC, SOCK_DGRAM, SOCK_NONBLOCK } from "../epsocket/linux.js";
import type { SocketOperations } from "../epsocket/socket.js";
import { AF_INET, formatIPv4 } from "../wire/address.js";
import { type Delivery, type SocketHost, dottedQuad } from "./host.js";

export interface UDPOptions {
  port?: number;
  address?: string;
  format?: string;
  target?: unknown;
  onReadable?: (this: UDP, packets: number) => void;
  onError?: (this: UDP) => void;
  [other: string]: unknown;
}

/** A datagram read with read(): its bytes and its sender. */
export interface Packet extends ArrayBuffer {
  address: string;
  port: number;
}

export class UDP implements Delivery {
  [expando: string]: unknown;
  #host: SocketHost;
  #socket: SocketOperations | null;
  #onReadable: ((this: UDP, packets: number) => void) | null;
  #reported = 0;
  #from = new Uint8Array(16);
  /** The last destination parsed: parsing it per packet cost 38 XS slots (measured). */
  #lastAddress = "";
  #lastValue = -1;
  #viewBuffer: ArrayBufferLike | null = null;
  #view: Uint8Array = this.#from;

  constructor(options: UDPOptions, host: SocketHost) {
    this.#host = host;
    if (options.format !== undefined && options.format !== "buffer")
      throw new RangeError("invalid format");
    const port = options.port ?? 0;
    if (typeof port !== "number" || port < 0 || port > 65535 || (port | 0) !== port)
      throw new RangeError("invalid port");
    if (!host.putSockaddr(options.address, port)) throw new RangeError("invalid address");
    this.#onReadable = typeof options.onReadable === "function" ? options.onReadable : null;
    if (options.target !== undefined) this.target = options.target;
    const s = host.layer.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (typeof s === "number") throw new Error("no socket");
    if (s.bind(host.sockaddr, 0, 16) < 0) {
      s.close();
      throw new Error("address in use");
    }
    this.#socket = s;
    host.attach(s.fd, this);
  }

  /** A receiver of this class (Moddable's tests call methods on strings and arrays). */
  static #is(o: unknown): boolean {
    return typeof o === "object" && o !== null && #socket in o;
  }

  #open(): SocketOperations {
    const s = this.#socket;
    if (s === null) throw new SyntaxError("closed");
    return s;
  }

  get format(): string {
    if (!UDP.#is(this)) throw new SyntaxError("invalid receiver");
    this.#open();
    return "buffer";
  }

  set format(value: string) {
    if (!UDP.#is(this)) throw new SyntaxError("invalid receiver");
    this.#open();
    if (value !== "buffer") throw new RangeError("invalid format");
  }

  /** The sender of the datagram last read. */
  get remoteAddress(): string {
    const b = this.#from;
    return formatIPv4(((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0);
  }

  get remotePort(): number {
    const b = this.#from;
    return (b[2] << 8) | b[3];
  }

  #queued(s: SocketOperations): number {
    const udp = s.udp;
    return udp === null ? 0 : udp.queuedDatagrams;
  }

  #bytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
    if (data instanceof Uint8Array) return data;
    const buffer = ArrayBuffer.isView(data) ? data.buffer : data;
    if (buffer !== this.#viewBuffer) {
      this.#viewBuffer = buffer;
      this.#view = new Uint8Array(buffer);
    }
    return this.#view;
  }

  read(view?: ArrayBufferLike | ArrayBufferView): Packet | number | undefined {
    if (!UDP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#open();
    const from = this.#from;
    if (this.#queued(s) === 0) return undefined;
    if (view === undefined) {
      const length = s.recvMsg(from, 0, 0, MSG_TRUNC | MSG_PEEK, null, 0, 0);
      if (length < 0) return undefined;
      const out = new Uint8Array(length);
      s.recvMsg(out, 0, length, 0, from, 0, 16);
      this.#reported = this.#queued(s);
      const packet = out.buffer as Packet;
      packet.address = this.remoteAddress;
      packet.port = this.remotePort;
      return packet;
    }
    const dst = this.#bytes(view);
    let offset = 0;
    let length: number;
    if (ArrayBuffer.isView(view)) {
      if (dst !== view) offset = view.byteOffset;
      length = view.byteLength;
    } else length = (view as ArrayBufferLike).byteLength;
    const n = s.recvMsg(dst, offset, length, MSG_TRUNC | MSG_PEEK, null, 0, 0);
    if (n < 0) return undefined;
    if (n > length) throw new RangeError("buffer too small");
    s.recvMsg(dst, offset, length, 0, from, 0, 16);
    this.#reported = this.#queued(s);
    return n;
  }

  write(
    data: ArrayBufferLike | ArrayBufferView | string,
    address: string | number,
    port: number | ArrayBufferLike | ArrayBufferView,
  ): void {
    if (!UDP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#open();
    if (typeof data === "string") {
      // (address, port, buffer)
      const a = data;
      data = port as ArrayBufferLike | ArrayBufferView;
      port = address as number;
      address = a;
    }
    if (typeof address !== "string") throw new TypeError("invalid address");
    if (typeof port !== "number") throw new TypeError("invalid port");
    if (typeof data !== "object" || data === null) throw new TypeError("invalid data");
    const host = this.#host;
    if (address !== this.#lastAddress) {
      this.#lastValue = dottedQuad(address);
      this.#lastAddress = address;
    }
    if (this.#lastValue < 0) throw new TypeError("invalid address");
    host.putSockaddrValue(this.#lastValue, port);
    const src = this.#bytes(data);
    let offset = 0;
    let length: number;
    if (ArrayBuffer.isView(data)) {
      if (src !== data) offset = data.byteOffset;
      length = data.byteLength;
    } else length = (data as ArrayBufferLike).byteLength;
    const r = s.sendMsg(src, offset, length, 0, host.sockaddr, 0, 16);
    if (r < 0) throw new Error("UDP send failed");
  }

  close(): void {
    if (!UDP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#socket;
    if (s === null) return;
    this.#socket = null;
    this.#host.detach(s.fd, this);
    s.close();
  }

  deliver(): void {
    const s = this.#socket;
    if (s === null) return;
    const queued = this.#queued(s);
    if (queued > this.#reported) {
      this.#reported = queued;
      const onReadable = this.#onReadable;
      if (onReadable !== null) onReadable.call(this, queued);
    } else if (queued < this.#reported) this.#reported = queued;
  }
}
