// ECMA-419 Listener (§12) over the epsocket layer: accepts into a bounded queue from the host's
// poll, reports the count with onReadable(requests), and read() hands out a connected TCP with no
// callbacks, to be taken over with `new TCP({from})`.

import { SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from "../epsocket/linux.js";
import type { SocketOperations } from "../epsocket/socket.js";
import { AF_INET } from "../wire/address.js";
import type { Delivery, SocketHost } from "./host.js";
import { TCP } from "./tcp.js";

export interface ListenerOptions {
  port?: number;
  address?: string;
  target?: unknown;
  onReadable?: (this: Listener, requests: number) => void;
  [other: string]: unknown;
}

/** Connections accepted and not yet read, per listener (the listen backlog too). */
const BACKLOG = 4;

export class Listener implements Delivery {
  [expando: string]: unknown;
  #host: SocketHost;
  #socket: SocketOperations | null;
  #onReadable: ((this: Listener, requests: number) => void) | null;
  #pending: SocketOperations[] = [];
  #reported = 0;

  constructor(options: ListenerOptions, host: SocketHost) {
    this.#host = host;
    const port = options.port ?? 0;
    if (typeof port !== "number" || port < 0 || port > 65535 || (port | 0) !== port)
      throw new RangeError("invalid port");
    if (!host.putSockaddr(options.address, port)) throw new RangeError("invalid address");
    this.#onReadable = typeof options.onReadable === "function" ? options.onReadable : null;
    if (options.target !== undefined) this.target = options.target;
    const s = host.layer.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (typeof s === "number") throw new Error("no socket");
    const one = host.int;
    one[0] = 1;
    one[1] = one[2] = one[3] = 0;
    s.setSockOpt(SOL_SOCKET, SO_REUSEADDR, one, 0, 4);
    if (s.bind(host.sockaddr, 0, 16) < 0 || s.listen(BACKLOG) < 0) {
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

  get port(): number {
    if (!Listener.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#open();
    const host = this.#host;
    s.getSockName(host.sockaddr, 0, 16);
    return host.sockaddrPort();
  }

  get format(): string {
    if (!Listener.#is(this)) throw new SyntaxError("invalid receiver");
    this.#open();
    return "socket/tcp";
  }

  set format(value: string) {
    if (!Listener.#is(this)) throw new SyntaxError("invalid receiver");
    this.#open();
    if (value !== "socket/tcp") throw new RangeError("invalid format");
  }

  /** The next accepted connection as a TCP with no callbacks, or undefined. */
  read(): TCP | undefined {
    if (!Listener.#is(this)) throw new SyntaxError("invalid receiver");
    this.#open();
    const s = this.#pending.shift();
    if (s === undefined) return undefined;
    this.#reported = this.#pending.length;
    return new TCP({ from: s }, this.#host);
  }

  write(): never {
    throw new Error("unsupported");
  }

  close(): void {
    if (!Listener.#is(this)) throw new SyntaxError("invalid receiver");
    const s = this.#socket;
    if (s === null) return;
    this.#socket = null;
    this.#host.detach(s.fd, this);
    s.close();
    const pending = this.#pending;
    while (pending.length > 0) (pending.pop() as SocketOperations).close();
  }

  deliver(): void {
    const s = this.#socket;
    if (s === null) return;
    const pending = this.#pending;
    while (pending.length < BACKLOG) {
      const child = s.accept(SOCK_NONBLOCK, null, 0, 0);
      if (typeof child === "number") break;
      pending.push(child);
    }
    if (pending.length > this.#reported) {
      this.#reported = pending.length;
      const onReadable = this.#onReadable;
      if (onReadable !== null) onReadable.call(this, pending.length);
    }
  }
}
