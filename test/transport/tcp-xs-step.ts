// One TCP echo round trip between two stacks over the in-memory pair, as an XS allocation step
// (see bench/xs-alloc.ts): the client sends 512 bytes, the server reads them and sends them back,
// the client reads them. The connection is made in setup(); the step polls devices and stacks
// itself, with no iterator or closure of its own, so what it measures is TCP, IP and the pair.

import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { duo, endpoint, type Duo } from "../support/stacks.js";

interface State {
  duo: Duo;
  client: TcpEndpoint;
  server: TcpEndpoint;
  data: Uint8Array;
  buffer: Uint8Array;
}

let state: State | null = null;

const rounds = 4;

function pump(d: Duo): void {
  for (let k = 0; k < rounds; k++) {
    d.pair.a.poll(0);
    d.pair.b.poll(0);
    d.a.poll(0);
    d.b.poll(0);
  }
}

export function setup(): void {
  const d = duo();
  const listener = d.b.openTcp();
  const client = d.a.openTcp();
  if (typeof listener === "number" || typeof client === "number")
    throw new Error("tcp-pair: no sockets");
  listener.bind(null, 7);
  listener.listen(1);
  client.connect(endpoint("192.0.2.2", 7));
  d.net.runUntilIdle(10_000, 0);
  const server = listener.accept(null);
  if (typeof server === "number") throw new Error(`tcp-pair: accept ${server}`);
  server.noDelay = true;
  client.noDelay = true;
  state = { duo: d, client, server, data: new Uint8Array(512), buffer: new Uint8Array(1500) };
  step(0);
}

export function step(i: number): void {
  const s = state as State;
  s.data[0] = i & 0xff;
  if (s.client.send(s.data, 0, s.data.length, 0) !== s.data.length)
    throw new Error("tcp-pair: send");
  pump(s.duo);
  const n = s.server.recv(s.buffer, 0, s.buffer.length, 0);
  if (n !== s.data.length || s.buffer[0] !== (i & 0xff)) throw new Error(`tcp-pair: received ${n}`);
  s.server.send(s.buffer, 0, n, 0);
  pump(s.duo);
  if (s.client.recv(s.buffer, 0, s.buffer.length, 0) !== n) throw new Error("tcp-pair: echo");
}
