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

/** The period of the `/bytes/N` pattern: body byte i is i % 251. */
export const HTTP_PATTERN_PERIOD = 251;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const SLASH = 47;
const QUESTION = 63;

/** Where the status page is written in a session's response buffer; headers go before it. */
const HEADER_ROOM = 512;
/** The largest `/bytes/N`: fifteen digits keep N an exact integer. */
const MAX_LENGTH_DIGITS = 15;

const METHOD_GET = 1;
const METHOD_HEAD = 2;

/**
 * Every text the server writes or compares with, encoded once into its arena at start-up: reading
 * a string's characters allocates on XS, copying bytes does not.
 */
const TEXTS: readonly string[] = Object.freeze([
  "HTTP/1.1 ",
  "OK",
  "Bad Request",
  "Not Found",
  "Method Not Allowed",
  "Not Implemented",
  "HTTP Version Not Supported",
  "\r\nServer: netstack\r\nContent-Type: ",
  "application/octet-stream",
  "text/plain",
  "\r\nContent-Length: ",
  "\r\nAllow: GET, HEAD",
  "\r\nConnection: close",
  "\r\nConnection: keep-alive",
  "\r\n\r\n",
  "bad request\n",
  "not supported\n",
  "not found\n",
  "method not allowed\n",
  "http/",
  "connection",
  "close",
  "keep-alive",
  "host",
  "content-length",
  "transfer-encoding",
  "GET",
  "HEAD",
  "/bytes/",
  "netstack\n",
  "time_ms ",
  "http_requests ",
  "http_sessions_active ",
  "http_bytes_out ",
  "tcp_connections ",
  "tcp_passive_opens ",
  "tcp_segments_in ",
  "tcp_segments_out ",
  "tcp_retransmits ",
  "tcp_syn_cookies_sent ",
  "tcp_listen_drops ",
  "tcp_challenge_acks ",
  "pool_free ",
  "pool_total ",
  "frames_in ",
  "frames_out ",
]);
const T_HTTP11 = 0;
const T_OK = 1;
const T_BAD_REQUEST = 2;
const T_NOT_FOUND = 3;
const T_NOT_ALLOWED = 4;
const T_NOT_IMPLEMENTED = 5;
const T_BAD_VERSION = 6;
const T_SERVER = 7;
const T_BINARY = 8;
const T_PLAIN = 9;
const T_LENGTH = 10;
const T_ALLOW = 11;
const T_CLOSE_HEADER = 12;
const T_KEEP_HEADER = 13;
const T_END = 14;
const T_BODY_BAD = 15;
const T_BODY_UNSUPPORTED = 16;
const T_BODY_NOT_FOUND = 17;
const T_BODY_NOT_ALLOWED = 18;
const T_HTTP_SLASH = 19;
const T_CONNECTION = 20;
const T_CLOSE = 21;
const T_KEEP_ALIVE = 22;
const T_HOST = 23;
const T_CONTENT_LENGTH = 24;
const T_TRANSFER_ENCODING = 25;
const T_GET = 26;
const T_HEAD = 27;
const T_BYTES = 28;
const T_NETSTACK = 29;
const T_TIME = 30;
const T_REQUESTS = 31;
const T_ACTIVE = 32;
const T_BYTES_OUT = 33;
const T_CONNECTIONS = 34;
const T_PASSIVE = 35;
const T_SEG_IN = 36;
const T_SEG_OUT = 37;
const T_RETRANSMITS = 38;
const T_COOKIES = 39;
const T_LISTEN_DROPS = 40;
const T_CHALLENGE = 41;
const T_POOL_FREE = 42;
const T_POOL_TOTAL = 43;
const T_FRAMES_IN = 44;
const T_FRAMES_OUT = 45;

function textBytes(): number {
  let n = 0;
  for (let id = 0; id < TEXTS.length; id++) n += TEXTS[id].length;
  return n;
}

/** Text `id` written at `at`; returns the offset after it. */
function putText(s: HttpServer, at: number, id: number): number {
  const bytes = s.bytes;
  const from = s.textAt[id];
  const length = s.textLength[id];
  for (let i = 0; i < length; i++) bytes[at + i] = bytes[from + i];
  return at + length;
}

/** A non-negative integer in decimal at `at`; returns the offset after it. */
function putDecimal(bytes: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = digits - 1; i >= 0; i--) {
    bytes[at + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}

function lower(b: number): number {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

/** Whether bytes[at, at + length) are text `id` (lower case), ignoring case. */
function equalsIgnoreCase(s: HttpServer, at: number, length: number, id: number): boolean {
  if (length !== s.textLength[id]) return false;
  const bytes = s.bytes;
  const from = s.textAt[id];
  for (let i = 0; i < length; i++) if (lower(bytes[at + i]) !== bytes[from + i]) return false;
  return true;
}

function equals(s: HttpServer, at: number, length: number, id: number): boolean {
  if (length !== s.textLength[id]) return false;
  const bytes = s.bytes;
  const from = s.textAt[id];
  for (let i = 0; i < length; i++) if (bytes[at + i] !== bytes[from + i]) return false;
  return true;
}

/** Whether the comma-separated list in bytes[at, end) holds the token text `id`. */
function listHas(s: HttpServer, at: number, end: number, id: number): boolean {
  const bytes = s.bytes;
  let i = at;
  while (i < end) {
    while (i < end && (bytes[i] === SP || bytes[i] === HTAB || bytes[i] === 44)) i++;
    const start = i;
    while (i < end && bytes[i] !== 44) i++;
    let stop = i;
    while (stop > start && (bytes[stop - 1] === SP || bytes[stop - 1] === HTAB)) stop--;
    if (equalsIgnoreCase(s, start, stop - start, id)) return true;
  }
  return false;
}

/** RFC 9110 tchar: what a method or a header name is made of. */
function isTokenChar(b: number): boolean {
  if ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)) return true;
  // ! # $ % & ' * + - . ^ _ ` | ~
  return (
    b === 33 ||
    (b >= 35 && b <= 39) ||
    b === 42 ||
    b === 43 ||
    b === 45 ||
    b === 46 ||
    b === 94 ||
    b === 95 ||
    b === 96 ||
    b === 124 ||
    b === 126
  );
}

function reason(status: number): number {
  switch (status) {
    case 200:
      return T_OK;
    case 400:
      return T_BAD_REQUEST;
    case 404:
      return T_NOT_FOUND;
    case 405:
      return T_NOT_ALLOWED;
    case 501:
      return T_NOT_IMPLEMENTED;
    default:
      return T_BAD_VERSION;
  }
}

class Session implements EntryCallback {
  endpoint: TcpEndpoint | null = null;
  /** Bytes of request in the request buffer, and how far the search for its end has looked. */
  filled = 0;
  scanned = 0;
  /** Response bytes in the response buffer still to send, from `outOffset`. */
  outOffset = 0;
  outPending = 0;
  /** Pattern bytes still to send, and the body offset of the next one. */
  bodyRemaining = 0;
  bodyPosition = 0;
  /** Request body bytes (Content-Length) still to read and drop. */
  skip = 0;
  /** After this response: shut down, read what the peer sent, then close. */
  closing = false;
  shutDown = false;
  /** The stack's time when the session last finished a response (or started). */
  idleSince = 0;
  /** Responses queued on this connection: a connection still owed its first is never idle. */
  answered = 0;
  private readonly entry = new WaiterEntry(this);
  private readonly server: HttpServer;
  readonly requestAt: number;
  readonly responseAt: number;

  constructor(server: HttpServer, requestAt: number, responseAt: number) {
    this.server = server;
    this.requestAt = requestAt;
    this.responseAt = responseAt;
  }

  /**
   * Waiting for a keep-alive request with nothing of it arrived: may be closed to make room (a
   * close over unread bytes would reset and lose the request, so any queued input keeps it).
   */
  get idle(): boolean {
    return (
      this.endpoint !== null &&
      this.answered > 0 &&
      this.endpoint.receiveQueued === 0 &&
      this.filled === 0 &&
      this.outPending === 0 &&
      this.bodyRemaining === 0 &&
      this.skip === 0 &&
      !this.closing
    );
  }

  start(endpoint: TcpEndpoint): void {
    this.endpoint = endpoint;
    this.filled = 0;
    this.scanned = 0;
    this.outOffset = 0;
    this.outPending = 0;
    this.bodyRemaining = 0;
    this.bodyPosition = 0;
    this.skip = 0;
    this.closing = false;
    this.shutDown = false;
    this.answered = 0;
    this.idleSince = this.server.stack.now;
    endpoint.eventRegister(this.entry, EVENT_IN | EVENT_OUT | EVENT_HUP | EVENT_ERR);
    this.pump();
  }

  callback(_entry: WaiterEntry, _events: number): void {
    this.pump();
  }

  finish(): void {
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    endpoint.eventUnregister(this.entry);
    endpoint.close();
    this.endpoint = null;
    this.server.closed++;
    this.server.acceptWaiting();
  }

  pump(): void {
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    const s = this.server;
    const bytes = s.bytes;
    for (;;) {
      if (this.outPending > 0) {
        const n = endpoint.send(bytes, this.responseAt + this.outOffset, this.outPending, 0);
        if (n === -EAGAIN) return;
        if (n < 0) return this.finish();
        this.outOffset += n;
        this.outPending -= n;
        s.bytesOut += n;
        continue;
      }
      if (this.bodyRemaining > 0) {
        const length = this.bodyRemaining < s.chunk ? this.bodyRemaining : s.chunk;
        const n = endpoint.send(
          bytes,
          s.patternAt + (this.bodyPosition % HTTP_PATTERN_PERIOD),
          length,
          0,
        );
        if (n === -EAGAIN) return;
        if (n < 0) return this.finish();
        this.bodyRemaining -= n;
        this.bodyPosition += n;
        s.bytesOut += n;
        if (this.bodyRemaining === 0) this.idleSince = s.stack.now;
        continue;
      }
      if (this.closing) {
        // The answer is queued and our FIN follows it. What the peer already sent is read first:
        // a close over unread data would reset and could take the answer with it. The connection
        // finishes its close without the session, which is free at once.
        if (!this.shutDown) {
          this.shutDown = true;
          endpoint.shutdown(SHUT_WR);
        }
        const r = endpoint.recv(bytes, this.requestAt, s.requestSize, 0);
        if (r > 0) continue;
        return this.finish();
      }
      if (this.skip > 0) {
        // A request body nobody asked for: dropped, from the buffer first.
        if (this.filled > 0) {
          const n = this.skip < this.filled ? this.skip : this.filled;
          this.consume(n);
          this.skip -= n;
          continue;
        }
        const r = endpoint.recv(
          bytes,
          this.requestAt,
          this.skip < s.requestSize ? this.skip : s.requestSize,
          0,
        );
        if (r === -EAGAIN) return;
        if (r <= 0) return this.finish();
        this.skip -= r;
        continue;
      }
      const end = this.headerEnd();
      if (end > 0) {
        this.handle(end);
        continue;
      }
      if (this.filled === s.requestSize) {
        // Headers larger than the buffer.
        this.respondError(400);
        continue;
      }
      const r = endpoint.recv(bytes, this.requestAt + this.filled, s.requestSize - this.filled, 0);
      if (r === -EAGAIN) return;
      if (r <= 0) return this.finish();
      this.filled += r;
    }
  }

  /** The length of the request head (through its empty line) when all of it is in, else 0. */
  private headerEnd(): number {
    const bytes = this.server.bytes;
    const base = this.requestAt;
    for (let i = this.scanned; i < this.filled; i++) {
      if (bytes[base + i] !== LF) continue;
      // Lines end in CR LF; a bare LF is accepted too (RFC 9112 §2.2).
      if (i + 1 < this.filled && bytes[base + i + 1] === LF) return i + 2;
      if (i + 2 < this.filled && bytes[base + i + 1] === CR && bytes[base + i + 2] === LF)
        return i + 3;
      if (i + 2 >= this.filled) {
        this.scanned = i;
        return 0;
      }
    }
    this.scanned = this.filled;
    return 0;
  }

  /** Drops the first `n` bytes of the request buffer. */
  private consume(n: number): void {
    const bytes = this.server.bytes;
    const base = this.requestAt;
    bytes.copyWithin(base, base + n, base + this.filled);
    this.filled -= n;
    this.scanned = 0;
  }

  /** Parses the request head in [0, end) and queues its answer. */
  private handle(end: number): void {
    const s = this.server;
    const bytes = s.bytes;
    const base = this.requestAt;
    s.requests++;
    let i = 0;
    // At least one empty line before the request line is ignored (RFC 9112 §2.2).
    while (i < end && (bytes[base + i] === CR || bytes[base + i] === LF)) i++;
    const methodAt = i;
    while (i < end && isTokenChar(bytes[base + i])) i++;
    const methodLength = i - methodAt;
    if (methodLength === 0 || bytes[base + i] !== SP) return this.rejectHead(end, 400);
    i++;
    const targetAt = i;
    while (i < end && bytes[base + i] > SP && bytes[base + i] < 127) i++;
    const targetEnd = i;
    if (targetEnd === targetAt || bytes[base + targetAt] !== SLASH || bytes[base + i] !== SP)
      return this.rejectHead(end, 400);
    i++;
    const versionAt = i;
    while (i < end && bytes[base + i] !== CR && bytes[base + i] !== LF) i++;
    const versionLength = i - versionAt;
    if (bytes[base + i] === CR) i++;
    if (bytes[base + i] !== LF) return this.rejectHead(end, 400);
    i++;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT
    if (
      versionLength !== 8 ||
      !equalsIgnoreCase(s, base + versionAt, 5, T_HTTP_SLASH) ||
      bytes[base + versionAt + 5] < 48 ||
      bytes[base + versionAt + 5] > 57 ||
      bytes[base + versionAt + 6] !== 46 ||
      bytes[base + versionAt + 7] < 48 ||
      bytes[base + versionAt + 7] > 57
    )
      return this.rejectHead(end, 400);
    const major = bytes[base + versionAt + 5] - 48;
    const minor = bytes[base + versionAt + 7] - 48;
    if (major !== 1) return this.rejectHead(end, 505);
    let keepAlive = minor >= 1;
    let hasHost = false;
    let contentLength = 0;
    let lengthSeen = false;

    // Header fields, one a line, to the empty line.
    while (i < end) {
      const lineAt = i;
      while (i < end && bytes[base + i] !== LF) i++;
      let lineEnd = i;
      i++;
      if (lineEnd > lineAt && bytes[base + lineEnd - 1] === CR) lineEnd--;
      if (lineEnd === lineAt) break;
      let c = lineAt;
      while (c < lineEnd && isTokenChar(bytes[base + c])) c++;
      // No name, whitespace before the colon, or a folded line: 400 (RFC 9112 §5.1, §5.2).
      if (c === lineAt || c === lineEnd || bytes[base + c] !== COLON)
        return this.rejectHead(end, 400);
      const nameLength = c - lineAt;
      let v = c + 1;
      while (v < lineEnd && (bytes[base + v] === SP || bytes[base + v] === HTAB)) v++;
      let valueEnd = lineEnd;
      while (
        valueEnd > v &&
        (bytes[base + valueEnd - 1] === SP || bytes[base + valueEnd - 1] === HTAB)
      )
        valueEnd--;
      if (equalsIgnoreCase(s, base + lineAt, nameLength, T_CONNECTION)) {
        if (listHas(s, base + v, base + valueEnd, T_CLOSE)) keepAlive = false;
        else if (listHas(s, base + v, base + valueEnd, T_KEEP_ALIVE)) keepAlive = true;
      } else if (equalsIgnoreCase(s, base + lineAt, nameLength, T_HOST)) {
        if (hasHost) return this.rejectHead(end, 400);
        hasHost = true;
      } else if (equalsIgnoreCase(s, base + lineAt, nameLength, T_CONTENT_LENGTH)) {
        if (valueEnd === v || valueEnd - v > MAX_LENGTH_DIGITS) return this.rejectHead(end, 400);
        let n = 0;
        for (let d = v; d < valueEnd; d++) {
          const b = bytes[base + d];
          if (b < 48 || b > 57) return this.rejectHead(end, 400);
          n = n * 10 + (b - 48);
        }
        if (lengthSeen && n !== contentLength) return this.rejectHead(end, 400);
        lengthSeen = true;
        contentLength = n;
      } else if (equalsIgnoreCase(s, base + lineAt, nameLength, T_TRANSFER_ENCODING)) {
        // No chunked request bodies here: the body's end is unknown, so the connection closes.
        return this.rejectHead(end, 501);
      }
    }
    // HTTP/1.1 requires Host (RFC 9112 §3.2).
    if (minor >= 1 && !hasHost) return this.rejectHead(end, 400);

    // Methods are case-sensitive (RFC 9110 §9.1): "get" is not GET.
    const method = equals(s, base + methodAt, methodLength, T_GET)
      ? METHOD_GET
      : equals(s, base + methodAt, methodLength, T_HEAD)
        ? METHOD_HEAD
        : 0;
    // The path, without a query; judged before the head leaves the buffer.
    let pathEnd = targetAt;
    while (pathEnd < targetEnd && bytes[base + pathEnd] !== QUESTION) pathEnd++;
    const route = s.route(base + targetAt, pathEnd - targetAt);
    this.consume(end);
    this.skip = contentLength;
    this.closing = !keepAlive;
    if (method === 0) {
      s.methodNotAllowed++;
      this.respondText(405, METHOD_GET, T_BODY_NOT_ALLOWED);
    } else if (route === ROUTE_STATUS) {
      s.statusPages++;
      this.respondStatus(method);
    } else if (route >= 0) {
      s.byteResponses++;
      this.respondBytes(method, route);
    } else {
      s.notFound++;
      this.respondText(404, method, T_BODY_NOT_FOUND);
    }
  }

  /** A bad head: its answer, then the connection closes (its framing can no longer be trusted). */
  private rejectHead(end: number, status: number): void {
    this.consume(end);
    this.respondError(status);
  }

  private respondError(status: number): void {
    const s = this.server;
    s.badRequests++;
    this.filled = 0;
    this.scanned = 0;
    this.skip = 0;
    this.closing = true;
    this.respondText(status, METHOD_GET, status === 400 ? T_BODY_BAD : T_BODY_UNSUPPORTED);
  }

  /** Headers at the start of the response buffer; `bodyLength` is what Content-Length says. */
  private putHeaders(status: number, bodyLength: number, binary: boolean): number {
    const s = this.server;
    const bytes = s.bytes;
    let at = this.responseAt;
    at = putText(s, at, T_HTTP11);
    at = putDecimal(bytes, at, status);
    bytes[at++] = SP;
    at = putText(s, at, reason(status));
    at = putText(s, at, T_SERVER);
    at = putText(s, at, binary ? T_BINARY : T_PLAIN);
    at = putText(s, at, T_LENGTH);
    at = putDecimal(bytes, at, bodyLength);
    if (status === 405) at = putText(s, at, T_ALLOW);
    at = putText(s, at, this.closing ? T_CLOSE_HEADER : T_KEEP_HEADER);
    at = putText(s, at, T_END);
    return at - this.responseAt;
  }

  private respondText(status: number, method: number, text: number): void {
    const s = this.server;
    const length = s.textLength[text];
    const headers = this.putHeaders(status, length, false);
    if (method === METHOD_HEAD) return this.queue(headers);
    putText(s, this.responseAt + headers, text);
    this.queue(headers + length);
  }

  private respondBytes(method: number, length: number): void {
    this.queue(this.putHeaders(200, length, true));
    if (method !== METHOD_HEAD) {
      this.bodyRemaining = length;
      this.bodyPosition = 0;
    }
  }

  private respondStatus(method: number): void {
    const s = this.server;
    const bytes = s.bytes;
    const bodyAt = this.responseAt + HEADER_ROOM;
    const bodyLength = s.putStatus(bytes, bodyAt) - bodyAt;
    const headers = this.putHeaders(200, bodyLength, false);
    if (method !== METHOD_HEAD)
      bytes.copyWithin(this.responseAt + headers, bodyAt, bodyAt + bodyLength);
    this.queue(headers + (method === METHOD_HEAD ? 0 : bodyLength));
  }

  private queue(length: number): void {
    this.outOffset = 0;
    this.outPending = length;
    this.answered++;
    this.server.responses++;
    this.idleSince = this.server.stack.now;
  }
}

const ROUTE_STATUS = -2;
const ROUTE_NONE = -1;

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
      align(textBytes())
    );
  }

  /** The stack it serves. */
  readonly stack: Stack;
  /** @internal The arena the server's buffers live in. */
  readonly bytes: Uint8Array;
  /** @internal Where each of TEXTS is in the arena, and its length. */
  readonly textAt: Int32Array;
  /** @internal */
  readonly textLength: Int32Array;
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
    this.textAt = new Int32Array(TEXTS.length);
    this.textLength = new Int32Array(TEXTS.length);
    let textAt = stack.memory.take(textBytes());
    for (let id = 0; id < TEXTS.length; id++) {
      const text = TEXTS[id];
      this.textAt[id] = textAt;
      this.textLength[id] = text.length;
      for (let i = 0; i < text.length; i++) this.bytes[textAt++] = text.charCodeAt(i);
    }
    const endpoint = stack.openTcp();
    if (endpoint === null) throw new Error("http-server: no TCP endpoint free");
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

  /**
   * What the path at `at` in the arena names: ROUTE_STATUS for `/`, N for `/bytes/N`, ROUTE_NONE
   * otherwise.
   */
  route(at: number, length: number): number {
    const bytes = this.bytes;
    if (length === 1) return ROUTE_STATUS;
    const prefix = this.textLength[T_BYTES];
    if (length <= prefix || length > prefix + MAX_LENGTH_DIGITS) return ROUTE_NONE;
    if (!equals(this, at, prefix, T_BYTES)) return ROUTE_NONE;
    let n = 0;
    for (let i = at + prefix; i < at + length; i++) {
      const b = bytes[i];
      if (b < 48 || b > 57) return ROUTE_NONE;
      n = n * 10 + (b - 48);
    }
    return n;
  }

  /** The status page at `at`; returns the offset after it. */
  putStatus(bytes: Uint8Array, at: number): number {
    const stack = this.stack;
    const tcp = stack.tcp.stats;
    const iface = stack.iface;
    const s = this;
    at = putText(s, at, T_NETSTACK);
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
  at = putText(s, at, name);
  at = putDecimal(s.bytes, at, value);
  s.bytes[at] = LF;
  return at + 1;
}
