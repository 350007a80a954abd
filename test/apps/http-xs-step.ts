// One keep-alive HTTP exchange between two stacks over the in-memory pair, as an XS allocation step
// (see bench/xs-alloc.ts): the client asks for `/bytes/1000` or the status page `/` in turn on one
// connection, the server parses the request in its fixed buffer and writes its headers and page
// into preallocated bytes, the client reads the whole answer. The connection is made in setup().

import { HttpServer } from "../../src/apps/http-server.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { duo, endpoint, type Duo } from "../support/stacks.js";

interface State {
  duo: Duo;
  server: HttpServer;
  client: TcpEndpoint;
  bytesRequest: Uint8Array;
  statusRequest: Uint8Array;
  buffer: Uint8Array;
}

let state: State | null = null;

const rounds = 6;

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function pump(d: Duo): void {
  for (let k = 0; k < rounds; k++) {
    d.pair.a.poll(0);
    d.pair.b.poll(0);
    d.a.poll(0);
    d.b.poll(0);
  }
}

export function setup(): void {
  const d = duo({}, 64, HttpServer.memoryNeeded());
  const server = new HttpServer(d.b);
  const client = d.a.openTcp();
  if (typeof client === "number") throw new Error("http-step: no socket");
  client.noDelay = true;
  client.connect(endpoint("192.0.2.2", 80));
  d.net.runUntilIdle(10_000, 0);
  state = {
    duo: d,
    server,
    client,
    bytesRequest: ascii("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"),
    statusRequest: ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    buffer: new Uint8Array(4096),
  };
  step(0);
}

export function step(i: number): void {
  const s = state as State;
  const request = s.bytesRequest;
  const before = s.server.responses;
  if (s.client.send(request, 0, request.length, 0) !== request.length)
    throw new Error("http-step: send");
  pump(s.duo);
  if (s.server.responses !== before + 1) throw new Error("http-step: no response");
  let got = 0;
  for (;;) {
    const n = s.client.recv(s.buffer, got, s.buffer.length - got, 0);
    if (n <= 0) break;
    got += n;
  }
  // "HTTP/1.1 200": the status code's digits at 9..11.
  if (got < 10 || s.buffer[9] !== 52) throw new Error(`http-step: received ${got}`);
}
