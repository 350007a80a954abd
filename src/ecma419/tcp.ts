// ECMA-419 TCP socket (§10) over the epsocket layer, with the behaviour of Moddable's lwIP
// implementation where the SDK's own clients depend on it: write() throws before the connection
// is up and when the data does not fit, and returns the writable count; read(n) throws beyond
// what is available; onError follows a drained receive queue; onReadable comes before
// onWritable. read(view) fills as much of the view as is available and returns the count (the
// specification's rule; lwIP throws when the view is larger).
//
// Zero allocation on the data path with the application's own Uint8Array views: they go to the
// socket as they are. Another view or an ArrayBuffer is seen through a cached Uint8Array over its
// buffer, made again only when the buffer changes.

import { EAGAIN, EINPROGRESS } from "../errno.js";
import {
  MSG_MORE,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_TCP,
  TCP_NODELAY,
  TIOCINQ,
} from "../epsocket/linux.js";
import { SocketOperations } from "../epsocket/socket.js";
import { EVENT_ERR, EVENT_HUP, EVENT_OUT, EVENT_RDHUP } from "../transport/waiter.js";
import { AF_INET, formatIPv4 } from "../wire/address.js";
import type { Delivery, SocketHost } from "./host.js";

/** Any of ECMA-419's callbacks: `this` is the instance. */
export type SocketCallback = (this: never, value: number) => void;

export interface TCPOptions {
  address?: string;
  port?: number;
  /** Moddable's spelling; `noDelay` (the specification's) is taken too. */
  nodelay?: boolean;
  noDelay?: boolean;
  format?: string;
  from?: TCP | SocketOperations;
  target?: unknown;
  onReadable?: (this: TCP, bytes: number) => void;
  onWritable?: (this: TCP, bytes: number) => void;
  onError?: (this: TCP) => void;
}

export interface WriteOptions {
  more?: boolean;
  byteLength?: number;
}

const FORMAT_BUFFER = 0;
const FORMAT_NUMBER = 1;

export class TCP implements Delivery {
  [expando: string]: unknown;
  #host: SocketHost;
  #socket: SocketOperations | null;
  #format = FORMAT_BUFFER;
  #onReadable: ((this: TCP, bytes: number) => void) | null;
  #onWritable: ((this: TCP, bytes: number) => void) | null;
  #onError: ((this: TCP) => void) | null;
  #connected = false;
  /** onError was called (or is due): reads drain what is left, writes do nothing. */
  #failed = false;
  #errorDelivered = false;
  /** The counts the application last heard (or learnt from a call): callbacks report gains. */
  #readable = 0;
  #writable = -1;
  #byte = new Uint8Array(1);
  #viewBuffer: ArrayBufferLike | null = null;
  #view: Uint8Array = this.#byte;

  constructor(options: TCPOptions, host: SocketHost) {
    this.#host = host;
    const format = options.format;
    if (format !== undefined && format !== "buffer" && format !== "number")
      throw new RangeError("invalid format");
    this.#onReadable = typeof options.onReadable === "function" ? options.onReadable : null;
    this.#onWritable = typeof options.onWritable === "function" ? options.onWritable : null;
    this.#onError = typeof options.onError === "function" ? options.onError : null;
    if (options.target !== undefined) this.target = options.target;
    const from = options.from;
    let socket: SocketOperations;
    if (from !== undefined) {
      if (from instanceof SocketOperations) {
        socket = from;
        this.#connected = true;
      } else if (from instanceof TCP && from.#socket !== null) {
        socket = from.#socket;
        this.#connected = from.#connected;
        this.#failed = from.#failed;
        host.detach(socket.fd, from);
        from.#socket = null;
      } else throw new SyntaxError("invalid from");
      if (format === "number") this.#format = FORMAT_NUMBER;
    } else {
      const port = options.port;
      if (typeof port !== "number" || port <= 0 || port > 65535 || (port | 0) !== port)
        throw new RangeError("invalid port");
      if (typeof options.address !== "string" || !host.putSockaddr(options.address, port))
        throw new RangeError("invalid address");
      const opened = host.layer.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (typeof opened === "number") throw new Error("no socket");
      socket = opened;
      if (options.nodelay === true || options.noDelay === true) {
        const one = host.int;
        one[0] = 1;
        one[1] = one[2] = one[3] = 0;
        socket.setSockOpt(SOL_TCP, TCP_NODELAY, one, 0, 4);
      }
      const r = socket.connect(host.sockaddr, 0, 16);
      if (r === 0) this.#connected = true;
      else if (r !== -EINPROGRESS) this.#failed = true;
      if (format === "number") this.#format = FORMAT_NUMBER;
    }
    this.#socket = socket;
    host.attach(socket.fd, this);
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
    if (!TCP.#is(this)) throw new SyntaxError("invalid receiver");
    this.#open();
    return this.#format === FORMAT_NUMBER ? "number" : "buffer";
  }

  set format(value: string) {
    if (!TCP.#is(this)) throw new SyntaxError("invalid receiver");
    this.#open();
    if (value === "number") this.#format = FORMAT_NUMBER;
    else if (value === "buffer") this.#format = FORMAT_BUFFER;
    else throw new RangeError("invalid format");
  }

  get remoteAddress(): string | undefined {
    if (!TCP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#open();
    const host = this.#host;
    if (s.getPeerName(host.sockaddr, 0, 16) < 0) return undefined;
    return formatIPv4(host.sockaddrAddress());
  }

  get remotePort(): number | undefined {
    if (!TCP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#open();
    const host = this.#host;
    if (s.getPeerName(host.sockaddr, 0, 16) < 0) return undefined;
    return host.sockaddrPort();
  }

  /** Bytes waiting to be read. */
  #available(s: SocketOperations): number {
    const host = this.#host;
    if (s.ioctl(TIOCINQ, host.int, 0, 4, null) < 0) return 0;
    return host.readInt();
  }

  #space(s: SocketOperations): number {
    const tcp = s.tcp;
    return tcp === null ? 0 : tcp.sendSpace;
  }

  /** The caller's bytes as a Uint8Array, without a new view when it is one. */
  #bytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
    if (data instanceof Uint8Array) return data;
    const buffer = ArrayBuffer.isView(data) ? data.buffer : data;
    if (buffer !== this.#viewBuffer) {
      this.#viewBuffer = buffer;
      this.#view = new Uint8Array(buffer);
    }
    return this.#view;
  }

  /**
   * Sends all of `data` (a byte with format "number") or throws; returns the bytes writable
   * after it. `options` may be `{more, byteLength}` or, as Moddable's MQTT client passes, any
   * truthy value meaning "more".
   */
  write(
    data: number | ArrayBufferLike | ArrayBufferView,
    options?: WriteOptions | boolean,
  ): number {
    if (!TCP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#open();
    if (this.#failed) return 0;
    if (!this.#connected) throw new Error("not ready");
    let src: Uint8Array;
    let offset: number;
    let length: number;
    if (this.#format === FORMAT_NUMBER) {
      src = this.#byte;
      src[0] = data as number;
      offset = 0;
      length = 1;
    } else if (typeof data === "object" && data !== null) {
      src = this.#bytes(data);
      if (ArrayBuffer.isView(data)) {
        offset = src === data ? 0 : data.byteOffset;
        length = data.byteLength;
      } else {
        offset = 0;
        length = (data as ArrayBufferLike).byteLength;
      }
    } else throw new TypeError("invalid data");
    let flags = 0;
    if (options !== undefined && options !== null && options !== false) {
      if (typeof options === "object") {
        if (options.more === true) flags = MSG_MORE;
        const n = options.byteLength;
        if (typeof n === "number" && n >= 0 && n < length) length = n;
      } else flags = MSG_MORE;
    }
    const space = this.#space(s);
    if (length > space) throw new Error("would block");
    const r = length === 0 ? 0 : s.sendMsg(src, offset, length, flags, null, 0, 0);
    if (r < 0 && r !== -EAGAIN) {
      this.#failed = true;
      this.#host.wake();
      return 0;
    }
    const left = this.#space(s);
    this.#writable = left;
    return left;
  }

  /**
   * read(): a byte (format "number") or an ArrayBuffer of everything waiting; read(n): n bytes,
   * throwing when fewer wait; read(view): fills what it can and returns the count. undefined
   * when nothing waits.
   */
  read(request?: number | ArrayBufferLike | ArrayBufferView): number | ArrayBuffer | undefined {
    if (!TCP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#open();
    const available = this.#available(s);
    // A pending onError waits for the queue to drain: let the host look again after this read.
    if (this.#failed && !this.#errorDelivered) this.#host.wake();
    if (this.#format === FORMAT_NUMBER) {
      if (available === 0) return undefined;
      const byte = this.#byte;
      if (s.recvMsg(byte, 0, 1, 0, null, 0, 0) !== 1) return undefined;
      this.#readable = available - 1;
      return byte[0];
    }
    if (request === undefined) {
      if (available === 0) return undefined;
      const out = new Uint8Array(available);
      const n = s.recvMsg(out, 0, available, 0, null, 0, 0);
      this.#readable = 0;
      return n === available ? out.buffer : out.slice(0, n < 0 ? 0 : n).buffer;
    }
    if (typeof request === "number") {
      if (request > available) throw new Error("read beyond available");
      if (request <= 0) return undefined;
      const out = new Uint8Array(request);
      s.recvMsg(out, 0, request, 0, null, 0, 0);
      this.#readable = available - request;
      return out.buffer;
    }
    if (typeof request !== "object" || request === null) throw new TypeError("invalid buffer");
    const dst = this.#bytes(request);
    let offset = 0;
    let length: number;
    if (ArrayBuffer.isView(request)) {
      if (dst !== request) offset = request.byteOffset;
      length = request.byteLength;
    } else length = (request as ArrayBufferLike).byteLength;
    if (length > available) length = available;
    const n = length === 0 ? 0 : s.recvMsg(dst, offset, length, 0, null, 0, 0);
    const got = n < 0 ? 0 : n;
    this.#readable = available - got;
    return got;
  }

  /** Closes the socket; callbacks stop at once. Closing twice is allowed. */
  close(): void {
    if (!TCP.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#socket;
    if (s === null) return;
    this.#socket = null;
    this.#host.detach(s.fd, this);
    s.close();
  }

  /** From the host's poll: what the socket gained since the application last heard. */
  deliver(): void {
    let s = this.#socket;
    if (s === null || this.#errorDelivered) return;
    const events = s.readiness(EVENT_OUT | EVENT_ERR | EVENT_HUP | EVENT_RDHUP);
    if (!this.#connected && !this.#failed) {
      if ((events & (EVENT_ERR | EVENT_HUP)) !== 0) this.#failed = true;
      else if ((events & EVENT_OUT) !== 0) {
        // Settles the layer's sock->state as a second connect() would.
        s.connect(this.#host.layer.emptySockaddr, 0, 16);
        this.#connected = true;
      }
    }
    const available = this.#available(s);
    if (available > this.#readable) {
      this.#readable = available;
      const onReadable = this.#onReadable;
      if (onReadable !== null) onReadable.call(this, available);
      s = this.#socket;
      if (s === null) return;
    }
    if (this.#connected && !this.#failed) {
      const space = this.#space(s);
      if (space > this.#writable) {
        this.#writable = space;
        const onWritable = this.#onWritable;
        if (onWritable !== null) onWritable.call(this, space);
        s = this.#socket;
        if (s === null) return;
      }
    }
    // Any disconnect, the clean end of the peer's stream too, once everything was read.
    if ((events & (EVENT_ERR | EVENT_HUP | EVENT_RDHUP)) !== 0 || this.#failed) {
      this.#failed = true;
      if (this.#available(s) === 0) {
        this.#errorDelivered = true;
        const onError = this.#onError;
        if (onError !== null) onError.call(this);
      }
    }
  }
}
