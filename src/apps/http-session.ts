// One connection of the HTTP server: reads request heads into its fixed request buffer, writes
// each answer's headers (and the status page) into its response buffer, sends `/bytes/N` bodies
// from the server's shared pattern, and drops request bodies nobody asked for.

import { EAGAIN } from "../errno.js";
import { SHUT_WR } from "../transport/tcp/constants.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import {
  EVENT_ERR,
  EVENT_HUP,
  EVENT_IN,
  EVENT_OUT,
  type EntryCallback,
  WaiterEntry,
} from "../transport/waiter.js";
import type { HttpServer } from "./http-server.js";
import { METHOD_GET, METHOD_HEAD, ROUTE_STATUS } from "./http-request.js";
import {
  CR,
  LF,
  SP,
  T_ALLOW,
  T_BINARY,
  T_BODY_BAD,
  T_BODY_NOT_ALLOWED,
  T_BODY_NOT_FOUND,
  T_BODY_UNSUPPORTED,
  T_CLOSE_HEADER,
  T_END,
  T_HTTP11,
  T_KEEP_HEADER,
  T_LENGTH,
  T_PLAIN,
  T_SERVER,
  putDecimal,
  reason,
} from "./http-text.js";

/** The period of the `/bytes/N` pattern: body byte i is i % 251. */
export const HTTP_PATTERN_PERIOD = 251;

/** Where the status page is written in a session's response buffer; headers go before it. */
const HEADER_ROOM = 512;

export class Session implements EntryCallback {
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
    const request = s.parser;
    s.requests++;
    const status = request.parse(this.requestAt, end);
    if (status !== 0) return this.rejectHead(end, status);
    const method = request.method;
    const route = request.route();
    this.consume(end);
    this.skip = request.contentLength;
    this.closing = !request.keepAlive;
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
    const t = this.server.texts;
    const bytes = t.bytes;
    let at = this.responseAt;
    at = t.put(at, T_HTTP11);
    at = putDecimal(bytes, at, status);
    bytes[at++] = SP;
    at = t.put(at, reason(status));
    at = t.put(at, T_SERVER);
    at = t.put(at, binary ? T_BINARY : T_PLAIN);
    at = t.put(at, T_LENGTH);
    at = putDecimal(bytes, at, bodyLength);
    if (status === 405) at = t.put(at, T_ALLOW);
    at = t.put(at, this.closing ? T_CLOSE_HEADER : T_KEEP_HEADER);
    at = t.put(at, T_END);
    return at - this.responseAt;
  }

  private respondText(status: number, method: number, text: number): void {
    const t = this.server.texts;
    const length = t.length[text];
    const headers = this.putHeaders(status, length, false);
    if (method === METHOD_HEAD) return this.queue(headers);
    t.put(this.responseAt + headers, text);
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
