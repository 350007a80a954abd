// A minimal HTTP/1.1 server (RFC 9110, RFC 9112), port 80 by default: `/` is a status page with a
// few of the stack's counters, `/bytes/N` answers exactly N bytes of a fixed pattern (byte i of the
// body is i % 251: a prime period, so a segment lost, doubled or moved shows in the content), and
// any other path 404. GET and HEAD; keep-alive (HTTP/1.1's default, HTTP/1.0 when asked) with
// pipelined requests answered in order; "Connection: close"; a malformed request gets 400 and the
// connection closes behind the answer.
//
// Each session owns a fixed request buffer and a response buffer in the stack's arena; headers and
// the status page are written into them as ASCII, and bodies are sent straight from one shared
// pattern buffer, so serving allocates nothing. Connections beyond the sessions wait in the
// listener's accept queue; when one waits and every session is busy, the session idle longest
// between keep-alive requests is closed to make room (a client must expect that, RFC 9112 §9.5).

import type { Stack } from "../stack.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import { EVENT_IN, type EntryCallback, WaiterEntry } from "../transport/waiter.js";
import { HttpRequestParser } from "./http-request.js";
import { HTTP_PATTERN_PERIOD, Session } from "./http-session.js";
import {
  HttpTexts,
  LF,
  T_ACTIVE,
  T_BYTES_OUT,
  T_CHALLENGE,
  T_CONNECTIONS,
  T_COOKIES,
  T_FRAMES_IN,
  T_FRAMES_OUT,
  T_LISTEN_DROPS,
  T_NETSTACK,
  T_PASSIVE,
  T_POOL_FREE,
  T_POOL_TOTAL,
  T_REQUESTS,
  T_RETRANSMITS,
  T_SEG_IN,
  T_SEG_OUT,
  T_TIME,
  putDecimal,
} from "./http-text.js";

export { HTTP_PATTERN_PERIOD } from "./http-session.js";

class Listener implements EntryCallback {
  private readonly server: HttpServer;
  private readonly entry = new WaiterEntry(this);

  constructor(server: HttpServer, endpoint: TcpEndpoint) {
    this.server = server;
    endpoint.eventRegister(this.entry, EVENT_IN);
  }

  callback(_entry: WaiterEntry, _events: number): void {
    this.server.acceptWaiting();
  }
}

/** Options of an {@link HttpServer}; each has a default that fits a default Stack. */
export interface HttpServerOptions {
  /** The TCP port to listen on (80). */
  port?: number;
  /** Connections served at once (each holds a TCP connection slot while it lasts). */
  sessions?: number;
  /** Bytes of each session's request buffer: the largest request head accepted. */
  requestSize?: number;
  /** Bytes handed to one send() of a `/bytes/N` body. */
  chunk?: number;
  /** The listener's accept queue. */
  backlog?: number;
}

const DEFAULTS = Object.freeze({ port: 80, sessions: 4, requestSize: 2048, chunk: 16384 });
/** Each session's response buffer: headers, and the status page behind them. */
const RESPONSE_SIZE = 1536;

/**
 * A minimal HTTP/1.1 server on the stack's TCP: `/` is a status page of the stack's counters,
 * `/bytes/N` returns N bytes (byte i is i % 251), anything else 404. Keep-alive, pipelined
 * requests and `Connection: close`; bad requests get 400 and the connection closes. Every
 * buffer is taken from the stack's arena at construction.
 */
export class HttpServer {
  /** Arena bytes the server takes (add them to StackSetup.appMemory). */
  static memoryNeeded(options: HttpServerOptions = {}): number {
    const sessions = options.sessions ?? DEFAULTS.sessions;
    const requestSize = options.requestSize ?? DEFAULTS.requestSize;
    const chunk = options.chunk ?? DEFAULTS.chunk;
    const align = (n: number): number => (n + 7) & ~7;
    return (
      sessions * (align(requestSize) + align(RESPONSE_SIZE)) +
      align(chunk + HTTP_PATTERN_PERIOD) +
      align(HttpTexts.memoryNeeded())
    );
  }

  /** The stack it serves. */
  readonly stack: Stack;
  /** @internal The arena the server's buffers live in. */
  readonly bytes: Uint8Array;
  /** @internal Every text the server writes or compares with, in the arena. */
  readonly texts: HttpTexts;
  /** @internal The parser of the request head at hand. */
  readonly parser: HttpRequestParser;
  /** Bytes of each session's request buffer. */
  readonly requestSize: number;
  /** Bytes handed to one send() of a body. */
  readonly chunk: number;
  /** @internal The shared pattern: chunk + 251 bytes, byte j being j % 251. */
  readonly patternAt: number;
  /** The listening socket. */
  readonly listener: TcpEndpoint;
  /** Connections accepted. */
  accepted = 0;
  /** Connections finished. */
  closed = 0;
  /** Idle keep-alive sessions closed to make room for a new client. */
  idleClosed = 0;
  /** Request heads parsed. */
  requests = 0;
  /** Responses queued. */
  responses = 0;
  /** Status pages served. */
  statusPages = 0;
  /** `/bytes/N` responses served. */
  byteResponses = 0;
  /** Requests answered 404. */
  notFound = 0;
  /** Requests answered 405. */
  methodNotAllowed = 0;
  /** Requests answered 400, 501 or 505 (the connection then closes). */
  badRequests = 0;
  /** Response bytes queued to TCP. */
  bytesOut = 0;
  private readonly sessions: Session[] = [];
  private accepting = false;

  constructor(stack: Stack, options: HttpServerOptions = {}) {
    this.stack = stack;
    this.bytes = stack.memory.bytes;
    this.requestSize = options.requestSize ?? DEFAULTS.requestSize;
    this.chunk = options.chunk ?? DEFAULTS.chunk;
    const count = options.sessions ?? DEFAULTS.sessions;
    for (let i = 0; i < count; i++) {
      const requestAt = stack.memory.take(this.requestSize);
      this.sessions.push(new Session(this, requestAt, stack.memory.take(RESPONSE_SIZE)));
    }
    this.patternAt = stack.memory.take(this.chunk + HTTP_PATTERN_PERIOD);
    for (let j = 0; j < this.chunk + HTTP_PATTERN_PERIOD; j++)
      this.bytes[this.patternAt + j] = j % HTTP_PATTERN_PERIOD;
    this.texts = new HttpTexts(stack.memory);
    this.parser = new HttpRequestParser(this.texts);
    const endpoint = stack.openTcp();
    if (typeof endpoint === "number") throw new Error("http-server: no TCP endpoint free");
    const port = options.port ?? DEFAULTS.port;
    const bound = endpoint.bind(null, port);
    if (bound < 0) throw new Error(`http-server: bind to port ${port} failed (${-bound})`);
    endpoint.listen(options.backlog ?? 16);
    this.listener = endpoint;
    new Listener(this, endpoint);
  }

  /** Sessions serving a connection now. */
  get active(): number {
    let n = 0;
    for (let i = 0; i < this.sessions.length; i++) if (this.sessions[i].endpoint !== null) n++;
    return n;
  }

  /**
   * Takes waiting connections into free sessions; with none free, closes the session idle longest
   * between keep-alive requests, and otherwise leaves the rest in the accept queue until a session
   * finishes.
   */
  acceptWaiting(): void {
    if (this.accepting) return;
    this.accepting = true;
    for (;;) {
      let free: Session | null = null;
      let idlest: Session | null = null;
      for (let i = 0; i < this.sessions.length; i++) {
        const session = this.sessions[i];
        if (session.endpoint === null) {
          free = session;
          break;
        }
        if (session.idle && (idlest === null || session.idleSince < idlest.idleSince))
          idlest = session;
      }
      if (free === null) {
        if (idlest === null || this.listener.readiness(EVENT_IN) === 0) break;
        this.idleClosed++;
        idlest.finish();
        continue;
      }
      const conn = this.listener.accept(null);
      if (typeof conn === "number") break;
      this.accepted++;
      free.start(conn);
    }
    this.accepting = false;
  }

  /** The status page at `at`; returns the offset after it. */
  putStatus(bytes: Uint8Array, at: number): number {
    const stack = this.stack;
    const tcp = stack.tcp.stats;
    const iface = stack.iface;
    const s = this;
    at = this.texts.put(at, T_NETSTACK);
    at = line(s, at, T_TIME, Math.floor(stack.now));
    at = line(s, at, T_REQUESTS, this.requests);
    at = line(s, at, T_ACTIVE, this.active);
    at = line(s, at, T_BYTES_OUT, this.bytesOut);
    at = line(s, at, T_CONNECTIONS, stack.tcp.live);
    at = line(s, at, T_PASSIVE, tcp.passiveOpens);
    at = line(s, at, T_SEG_IN, tcp.segmentsIn);
    at = line(s, at, T_SEG_OUT, tcp.segmentsOut);
    at = line(s, at, T_RETRANSMITS, tcp.retransmits);
    at = line(s, at, T_COOKIES, tcp.synCookiesSent);
    at = line(s, at, T_LISTEN_DROPS, tcp.listenDrops);
    at = line(s, at, T_CHALLENGE, tcp.challengeAcks);
    at = line(s, at, T_POOL_FREE, stack.pool.available);
    at = line(s, at, T_POOL_TOTAL, stack.pool.count);
    if (iface !== null) {
      at = line(s, at, T_FRAMES_IN, iface.link.framesIn);
      at = line(s, at, T_FRAMES_OUT, iface.link.framesOut);
    }
    return at;
  }

  /** Stops listening; sessions already accepted finish on their own. */
  close(): void {
    this.listener.close();
  }
}

function line(s: HttpServer, at: number, name: number, value: number): number {
  at = s.texts.put(at, name);
  at = putDecimal(s.bytes, at, value);
  s.bytes[at] = LF;
  return at + 1;
}
