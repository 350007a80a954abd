// The classic small TCP services: echo (RFC 862, port 7), discard (RFC 863, port 9) and chargen
// (RFC 864, port 19). A fixed set of sessions, each with a buffer from the stack's arena, serves
// the connections; everything happens in readiness callbacks, after the stack's input pass.
// chargen sends straight from one period of RFC 864's pattern (95 lines, 7,030 bytes) kept in the
// arena, so it costs what any bulk sender costs: one copy, into the socket's send ring.

import { EAGAIN } from "../errno.js";
import type { Stack } from "../stack.js";
import { SHUT_WR } from "../transport/tcp/constants.js";
import { TcpEndpoint } from "../transport/tcp/endpoint.js";
import {
  EVENT_ERR,
  EVENT_HUP,
  EVENT_IN,
  EVENT_OUT,
  EntryCallback,
  WaiterEntry,
} from "../transport/waiter.js";

export const SERVICE_ECHO = 0;
export const SERVICE_DISCARD = 1;
export const SERVICE_CHARGEN = 2;

/** RFC 864's line: 72 printable characters and CR LF, rotating by one each line. */
const LINE = 74;
const PRINTABLE = 95;
/** The pattern repeats after one line starting at each printable character. */
export const CHARGEN_PERIOD = LINE * PRINTABLE;

const align = (n: number): number => (n + 7) & ~7;

class Session implements EntryCallback {
  endpoint: TcpEndpoint | null = null;
  kind = SERVICE_ECHO;
  /** Bytes read and not yet sent back (echo), at `offset` in the buffer. */
  pending = 0;
  offset = 0;
  /** Where chargen is in its pattern, 0 to CHARGEN_PERIOD - 1. */
  position = 0;
  private readonly entry = new WaiterEntry(this);
  private readonly services: TcpServices;
  private readonly bufferAt: number;

  constructor(services: TcpServices, bufferAt: number) {
    this.services = services;
    this.bufferAt = bufferAt;
  }

  start(endpoint: TcpEndpoint, kind: number): void {
    this.endpoint = endpoint;
    this.kind = kind;
    this.pending = 0;
    this.offset = 0;
    this.position = 0;
    endpoint.noDelay = kind === SERVICE_ECHO;
    endpoint.eventRegister(this.entry, EVENT_IN | EVENT_OUT | EVENT_HUP | EVENT_ERR);
    this.pump();
  }

  callback(_entry: WaiterEntry, _events: number): void {
    this.pump();
  }

  private finish(): void {
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    endpoint.eventUnregister(this.entry);
    endpoint.close();
    this.endpoint = null;
    this.services.closed++;
  }

  private pump(): void {
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    const s = this.services;
    const bytes = s.bytes;
    const size = s.bufferSize;
    for (;;) {
      if (this.pending > 0) {
        const n = endpoint.send(bytes, this.bufferAt + this.offset, this.pending, 0);
        if (n === -EAGAIN) return;
        if (n < 0) {
          this.finish();
          return;
        }
        this.offset += n;
        this.pending -= n;
        s.bytesOut += n;
        if (this.pending > 0) return;
      }
      if (this.kind === SERVICE_CHARGEN) {
        // Input is discarded; output goes on until the peer closes.
        const r = endpoint.recv(bytes, this.bufferAt, size, 0);
        if (r === 0 || (r < 0 && r !== -EAGAIN)) {
          this.finish();
          return;
        }
        if (r > 0) {
          s.bytesIn += r;
          continue;
        }
        const n = endpoint.send(
          bytes,
          s.chargenAt + this.position,
          CHARGEN_PERIOD - this.position,
          0,
        );
        if (n === -EAGAIN) return;
        if (n < 0) {
          this.finish();
          return;
        }
        s.bytesOut += n;
        this.position += n;
        if (this.position === CHARGEN_PERIOD) this.position = 0;
        continue;
      }
      const r = endpoint.recv(bytes, this.bufferAt, size, 0);
      if (r === -EAGAIN) return;
      if (r <= 0) {
        // End of stream (or an error): echo closes its side once everything went back.
        if (r === 0 && this.kind === SERVICE_ECHO) endpoint.shutdown(SHUT_WR);
        this.finish();
        return;
      }
      s.bytesIn += r;
      if (this.kind === SERVICE_ECHO) {
        this.offset = 0;
        this.pending = r;
      }
    }
  }
}

/** One period of RFC 864's pattern at `at`: line i holds the 72 characters from printable i on. */
function fillChargen(bytes: Uint8Array, at: number): void {
  for (let line = 0; line < PRINTABLE; line++) {
    const start = at + line * LINE;
    for (let column = 0; column < 72; column++)
      bytes[start + column] = 32 + ((line + column) % PRINTABLE);
    bytes[start + 72] = 13;
    bytes[start + 73] = 10;
  }
}

class Listener implements EntryCallback {
  readonly endpoint: TcpEndpoint;
  readonly kind: number;
  private readonly services: TcpServices;
  private readonly entry = new WaiterEntry(this);

  constructor(services: TcpServices, endpoint: TcpEndpoint, kind: number) {
    this.services = services;
    this.endpoint = endpoint;
    this.kind = kind;
    endpoint.eventRegister(this.entry, EVENT_IN);
  }

  callback(_entry: WaiterEntry, _events: number): void {
    this.services.acceptAll(this);
  }
}

export interface TcpServicesOptions {
  echo?: number;
  discard?: number;
  chargen?: number;
  /** Connections served at once, over all services. */
  sessions?: number;
  /** Bytes of each session's buffer, taken from the stack's arena (StackSetup.appMemory). */
  bufferSize?: number;
}

export class TcpServices {
  /** Arena bytes the services take (add them to StackSetup.appMemory). */
  static memoryNeeded(options: TcpServicesOptions = {}): number {
    const sessions = options.sessions ?? 4;
    const bufferSize = options.bufferSize ?? 2048;
    return sessions * align(bufferSize) + (options.chargen === 0 ? 0 : align(CHARGEN_PERIOD));
  }

  readonly bytes: Uint8Array;
  readonly bufferSize: number;
  /** @internal Where one period of chargen's pattern lies in the arena (-1: chargen is off). */
  readonly chargenAt: number;
  /** Connections accepted, refused (no session free), and finished. */
  accepted = 0;
  refused = 0;
  closed = 0;
  bytesIn = 0;
  bytesOut = 0;
  private readonly sessions: Session[] = [];
  private readonly listeners: Listener[] = [];

  /** Ports 0 (or absent) leave a service off; by default all three run on their usual ports. */
  constructor(stack: Stack, options: TcpServicesOptions = {}) {
    this.bytes = stack.memory.bytes;
    this.bufferSize = options.bufferSize ?? 2048;
    const count = options.sessions ?? 4;
    for (let i = 0; i < count; i++)
      this.sessions.push(new Session(this, stack.memory.take(this.bufferSize)));
    this.chargenAt = options.chargen === 0 ? -1 : stack.memory.take(CHARGEN_PERIOD);
    if (this.chargenAt >= 0) fillChargen(this.bytes, this.chargenAt);
    this.listen(stack, options.echo ?? 7, SERVICE_ECHO, count);
    this.listen(stack, options.discard ?? 9, SERVICE_DISCARD, count);
    this.listen(stack, options.chargen ?? 19, SERVICE_CHARGEN, count);
  }

  private listen(stack: Stack, port: number, kind: number, backlog: number): void {
    if (port === 0) return;
    const endpoint = stack.openTcp();
    if (typeof endpoint === "number") throw new Error("tcp-services: no TCP endpoint free");
    const bound = endpoint.bind(null, port);
    if (bound < 0) throw new Error(`tcp-services: bind to port ${port} failed (${-bound})`);
    endpoint.listen(backlog);
    this.listeners.push(new Listener(this, endpoint, kind));
  }

  /** Takes every waiting connection into a free session; with none free, resets it. */
  acceptAll(listener: Listener): void {
    for (;;) {
      const conn = listener.endpoint.accept(null);
      if (typeof conn === "number") return;
      let session: Session | null = null;
      for (let i = 0; i < this.sessions.length; i++)
        if (this.sessions[i].endpoint === null) {
          session = this.sessions[i];
          break;
        }
      if (session === null) {
        this.refused++;
        conn.lingerZero = true;
        conn.close();
        continue;
      }
      this.accepted++;
      session.start(conn, listener.kind);
    }
  }

  /** Sessions serving a connection now. */
  get active(): number {
    let n = 0;
    for (let i = 0; i < this.sessions.length; i++) if (this.sessions[i].endpoint !== null) n++;
    return n;
  }

  close(): void {
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i].endpoint.close();
  }
}
