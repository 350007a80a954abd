// The HTTP server between two stacks on the virtual clock: routes, keep-alive and pipelining,
// Connection: close, malformed requests, more clients than sessions, and the pool whole after.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { HTTP_PATTERN_PERIOD, HttpServer, HttpServerOptions } from "../../src/apps/http-server.js";
import { EAGAIN, EINPROGRESS } from "../../src/errno.js";
import { Random } from "../../src/random.js";
import { ESTABLISHED } from "../../src/transport/tcp/constants.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { Duo, duo, endpoint, poolFull } from "../support/stacks.js";

const OPTIONS = { tcpSockets: 8, tcpSendBuffer: 16384, tcpReceiveBuffer: 32768, buffers: 64 };

function setup(options: HttpServerOptions = {}): { d: Duo; server: HttpServer } {
  const d = duo(OPTIONS, 64, HttpServer.memoryNeeded(options));
  return { d, server: new HttpServer(d.b, options) };
}

function connect(d: Duo): TcpEndpoint {
  const c = d.a.openTcp() as TcpEndpoint;
  assert.is(c.connect(endpoint("192.0.2.2", 80)), -EINPROGRESS);
  // A second of virtual time, not more: orphans in FIN-WAIT-2 time out with a reset, as Linux's do.
  d.net.runUntilIdle(100_000, 1000);
  assert.is(c.state, ESTABLISHED);
  return c;
}

function send(d: Duo, c: TcpEndpoint, text: string): void {
  const bytes = Buffer.from(text, "latin1");
  assert.is(c.send(bytes, 0, bytes.length, 0), bytes.length);
}

/** Runs the net and reads what arrived; `eof` says whether the server closed its side. */
function receive(d: Duo, c: TcpEndpoint): { bytes: Buffer; eof: boolean } {
  const chunks: Buffer[] = [];
  const buf = new Uint8Array(65536);
  let eof = false;
  for (let round = 0; round < 10_000; round++) {
    d.net.runUntilIdle(100_000, 1000);
    let got = false;
    for (;;) {
      const n = c.recv(buf, 0, buf.length, 0);
      if (n === 0) eof = true;
      if (n <= 0) break;
      got = true;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    if (!got) break;
  }
  return { bytes: Buffer.concat(chunks), eof };
}

interface Response {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Splits the responses in `bytes`, each framed by its Content-Length. */
function parse(bytes: Buffer, head = false): Response[] {
  const out: Response[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf("\r\n\r\n", at, "latin1");
    assert.ok(end > 0, "a complete head");
    const lines = bytes.subarray(at, end).toString("latin1").split("\r\n");
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
    assert.ok(status, lines[0]);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(":");
      headers.set(l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim());
    }
    const length = Number(headers.get("content-length"));
    assert.ok(Number.isInteger(length), "Content-Length set");
    const bodyAt = end + 4;
    const bodyLength = head ? 0 : length;
    out.push({
      status: Number(status[1]),
      headers,
      body: bytes.subarray(bodyAt, bodyAt + bodyLength),
    });
    at = bodyAt + bodyLength;
  }
  assert.is(at, bytes.length, "nothing after the last response");
  return out;
}

function patternOk(body: Buffer): boolean {
  for (let i = 0; i < body.length; i++) if (body[i] !== i % HTTP_PATTERN_PERIOD) return false;
  return true;
}

function finish(d: Duo, c: TcpEndpoint): void {
  c.close();
  d.net.advance(120_000);
  d.net.runUntilIdle();
  assert.ok(poolFull(d.a) && poolFull(d.b), "every pool buffer back");
  assert.is(d.b.tcp.live, 1, "only the listener left");
}

test("GET / is a status page of the stack's counters; the connection stays open", () => {
  const { d, server } = setup();
  const c = connect(d);
  send(d, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const { bytes, eof } = receive(d, c);
  assert.not.ok(eof, "keep-alive: still open");
  const [r] = parse(bytes);
  assert.is(r.status, 200);
  assert.is(r.headers.get("connection"), "keep-alive");
  assert.is(r.headers.get("content-type"), "text/plain");
  const text = r.body.toString("latin1");
  assert.match(text, /^netstack\n/);
  assert.match(text, /\nhttp_requests 1\n/);
  assert.match(text, /\ntcp_connections 2\n/);
  assert.match(text, /\npool_total 64\n/);
  assert.is(server.statusPages, 1);
  finish(d, c);
});

test("/bytes/N: exactly N bytes of the i % 251 pattern, for sizes around the chunk and the ring", () => {
  const { d, server } = setup({ chunk: 4096 });
  const c = connect(d);
  for (const n of [0, 1, 250, 251, 252, 4096, 4097, 16384, 100_000, 1_000_003]) {
    send(d, c, `GET /bytes/${n} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const [r] = parse(receive(d, c).bytes);
    assert.is(r.status, 200);
    assert.is(r.headers.get("content-type"), "application/octet-stream");
    assert.is(Number(r.headers.get("content-length")), n);
    assert.is(r.body.length, n, `size ${n}`);
    assert.ok(patternOk(r.body), `pattern of ${n}`);
  }
  assert.is(server.byteResponses, 10);
  finish(d, c);
});

test("pipelined requests are answered in order on one connection; HEAD has no body", () => {
  const { d, server } = setup();
  const c = connect(d);
  send(
    d,
    c,
    "GET /bytes/300 HTTP/1.1\r\nHost: x\r\n\r\n" +
      "HEAD /bytes/5000 HTTP/1.1\r\nHost: x\r\n\r\n" +
      "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n" +
      "GET /bytes/7?x=1 HTTP/1.1\nHost: x\n\n",
  );
  const got = receive(d, c).bytes;
  const head = got.indexOf("HTTP/1.1 200", 10, "latin1");
  const rs = [...parse(got.subarray(0, head))];
  // The HEAD answer claims 5000 bytes and carries none.
  const second = got.indexOf("\r\n\r\n", head, "latin1") + 4;
  rs.push(...parse(got.subarray(head, second), true));
  rs.push(...parse(got.subarray(second)));
  assert.equal(
    rs.map((r) => r.status),
    [200, 200, 404, 200],
  );
  assert.is(rs[0].body.length, 300);
  assert.is(rs[1].headers.get("content-length"), "5000");
  assert.is(rs[3].body.length, 7);
  assert.is(server.requests, 4);
  finish(d, c);
});

test("Connection: close, and HTTP/1.0 without keep-alive: the answer, then end of stream", () => {
  const { d } = setup();
  for (const request of [
    "GET /bytes/20000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /bytes/20000 HTTP/1.0\r\n\r\n",
  ]) {
    const c = connect(d);
    send(d, c, request);
    const { bytes, eof } = receive(d, c);
    assert.ok(eof, "closed after the answer");
    const [r] = parse(bytes);
    assert.is(r.headers.get("connection"), "close");
    assert.is(r.body.length, 20000);
    finish(d, c);
  }
  // HTTP/1.0 asking for keep-alive keeps the connection.
  const c = connect(d);
  send(d, c, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  const { bytes, eof } = receive(d, c);
  assert.not.ok(eof);
  assert.is(parse(bytes)[0].headers.get("connection"), "keep-alive");
  finish(d, c);
});

test("malformed requests get 400 (or 405, 501, 505) and never stop the server", () => {
  const { d, server } = setup({ requestSize: 512 });
  const cases: [string, number, boolean][] = [
    ["garbage\r\n\r\n", 400, true],
    ["GET / HTTP/1.1\r\n\r\n", 400, true], // no Host
    ["GET nothing HTTP/1.1\r\nHost: x\r\n\r\n", 400, true],
    ["GET / HTTP/1.1\r\nHost: x\r\n bad fold\r\n\r\n", 400, true],
    ["GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, true],
    ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400, true],
    ["GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, true],
    ["GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, true],
    ["GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501, true],
    ["GET / XTTP/1.1\r\nHost: x\r\n\r\n", 400, true],
    [`GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(600)}\r\n\r\n`, 400, true], // head too large
    ["\0\0\0\0\r\n\r\n", 400, true],
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 405, false],
    ["get / HTTP/1.1\r\nHost: x\r\n\r\n", 405, false],
  ];
  for (const [request, status, closes] of cases) {
    const c = connect(d);
    send(d, c, request);
    const { bytes, eof } = receive(d, c);
    const [r] = parse(bytes);
    assert.is(r.status, status, JSON.stringify(request.slice(0, 40)));
    assert.is(eof, closes, `closes: ${JSON.stringify(request.slice(0, 40))}`);
    if (!closes) {
      // The body was skipped: the connection still answers.
      send(d, c, "GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.is(parse(receive(d, c).bytes)[0].body.length, 3);
    }
    finish(d, c);
  }
  assert.is(server.badRequests, 12);
  const c = connect(d);
  send(d, c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.is(parse(receive(d, c).bytes)[0].status, 200);
  finish(d, c);
});

test("more clients than sessions: the rest wait in the accept queue; idle ones make room", () => {
  const { d, server } = setup({ sessions: 2 });
  const busy = [connect(d), connect(d)];
  // Both sessions mid-request: a third client waits, accepted but not served.
  for (const c of busy) send(d, c, "GET / HTTP/1.1\r\n");
  const third = connect(d);
  send(d, third, "GET /bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.is(receive(d, third).bytes.length, 0, "no session yet");
  assert.is(server.active, 2);
  // One finishes its request with Connection: close: the third is served once that one is done.
  send(d, busy[0], "Host: x\r\nConnection: close\r\n\r\n");
  assert.ok(receive(d, busy[0]).eof);
  assert.is(parse(receive(d, third).bytes)[0].body.length, 10);
  // The third is now idle between requests; a fourth takes its session.
  const fourth = connect(d);
  const closed = receive(d, third);
  assert.ok(closed.eof, "the idle keep-alive session was closed");
  assert.is(server.idleClosed, 1);
  send(d, fourth, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.is(parse(receive(d, fourth).bytes)[0].status, 200);
  // The one mid-request was never disturbed.
  send(d, busy[1], "Host: x\r\n\r\n");
  assert.is(parse(receive(d, busy[1]).bytes)[0].status, 200);
  for (const c of [busy[0], third, fourth]) c.close();
  finish(d, busy[1]);
});

test("a connection still owed its first answer is never closed as idle", () => {
  const { d, server } = setup({ sessions: 2 });
  const fresh = connect(d);
  const served = connect(d);
  send(d, served, "GET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.is(parse(receive(d, served).bytes)[0].body.length, 1);
  const waiting = connect(d);
  assert.ok(receive(d, served).eof, "the served, idle one made room");
  assert.is(receive(d, fresh).eof, false, "the fresh one was left alone");
  send(d, waiting, "GET /bytes/2 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.is(parse(receive(d, waiting).bytes)[0].body.length, 2);
  assert.is(server.idleClosed, 1);
  send(d, fresh, "GET /bytes/4 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.is(parse(receive(d, fresh).bytes)[0].body.length, 4);
  for (const c of [served, waiting]) c.close();
  finish(d, fresh);
});

test("fuzz: 300 mutated requests, each answered with a status line or left waiting, never a throw", () => {
  const { d, server } = setup({ requestSize: 512 });
  const random = new Random(77);
  const base = Buffer.from(
    "GET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
    "latin1",
  );
  let answered = 0;
  for (let round = 0; round < 300; round++) {
    const request = Buffer.from(base);
    const edits = 1 + random.below(6);
    for (let e = 0; e < edits; e++) request[random.below(request.length)] = random.below(256);
    const c = connect(d);
    assert.is(c.send(request, 0, request.length, 0), request.length);
    const { bytes } = receive(d, c);
    if (bytes.length > 0) {
      answered++;
      assert.match(
        bytes.subarray(0, 12).toString("latin1"),
        /^HTTP\/1\.1 (200|400|404|405|501|505)$/,
      );
    }
    c.lingerZero = true;
    c.close();
    d.net.runUntilIdle(100_000, 1000);
  }
  console.log(`  fuzz: ${answered} of 300 answered, ${server.badRequests} bad`);
  assert.ok(answered > 150 && server.badRequests > 50);
  d.net.advance(120_000);
  assert.is(server.active, 0);
  assert.ok(poolFull(d.a) && poolFull(d.b));
});

test("a client that resets mid-body frees its session and every buffer", () => {
  const { d, server } = setup();
  const c = connect(d);
  send(d, c, "GET /bytes/10000000 HTTP/1.1\r\nHost: x\r\n\r\n");
  d.net.runUntilIdle(100_000, 50);
  const buf = new Uint8Array(1000);
  assert.ok(c.recv(buf, 0, 1000, 0) > 0);
  c.lingerZero = true;
  c.close();
  d.net.advance(1000);
  d.net.runUntilIdle();
  assert.is(server.active, 0);
  assert.ok(poolFull(d.a) && poolFull(d.b));
  assert.not.equal(c.recv(buf, 0, 1, 0), -EAGAIN);
});

test.run();
