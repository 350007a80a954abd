// One UDP echo round trip between two stacks over the in-memory pair, as an allocation step: the
// client sends 512 bytes, the server receives and echoes them, the client receives. ARP resolves
// in setup(). The step polls the devices and stacks itself, with no iterator or closure of its
// own, so what it measures is the stack and the pair.

import type { UdpEndpoint } from "../../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../../src/wire/address.js";
import { duo, endpoint, type Duo } from "../../support/stacks.js";

interface State {
  duo: Duo;
  client: UdpEndpoint;
  server: UdpEndpoint;
  to: FullAddress;
  from: FullAddress;
  data: Uint8Array;
  buffer: Uint8Array;
}

let state: State | null = null;

/** Poll rounds per direction: enough for a frame to cross and be handled (virtual time stays 0). */
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
  const server = d.b.openUdp();
  const client = d.a.openUdp();
  if (typeof server === "number" || typeof client === "number")
    throw new Error("udp-pair: no sockets");
  server.bind(null, 7);
  state = {
    duo: d,
    client,
    server,
    to: endpoint("192.0.2.2", 7),
    from: new FullAddress(),
    data: new Uint8Array(512),
    buffer: new Uint8Array(1500),
  };
  // The first datagram waits for ARP; the virtual net runs that exchange to the end.
  state.client.sendTo(state.data, 0, state.data.length, state.to);
  d.net.runUntilIdle();
  state.server.recvFrom(state.buffer, 0, state.buffer.length, state.from, 0);
  step(0);
}

export function step(i: number): void {
  const s = state as State;
  s.data[0] = i & 0xff;
  if (s.client.sendTo(s.data, 0, s.data.length, s.to) !== s.data.length)
    throw new Error("udp-pair: send");
  pump(s.duo);
  const n = s.server.recvFrom(s.buffer, 0, s.buffer.length, s.from, 0);
  if (n !== s.data.length || s.buffer[0] !== (i & 0xff)) throw new Error(`udp-pair: received ${n}`);
  s.server.sendTo(s.buffer, 0, n, s.from);
  pump(s.duo);
  if (s.client.recvFrom(s.buffer, 0, s.buffer.length, null, 0) !== n)
    throw new Error("udp-pair: echo");
}
