// One UDP echo round trip between two stacks over the in-memory pair, everything in one arena:
// the client sends `size` bytes, the server receives and sends them back, the client receives.
// The application buffers are arena spans too, so every copy is a memmove. Used as the step of
// the allocation benchmarks (V8 and XS) and the pair throughput figure. ARP resolves in setup().

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { duo, endpoint, type Duo } from "../../test/support/stacks.js";

interface State {
  duo: Duo;
  client: UdpEndpoint;
  server: UdpEndpoint;
  to: FullAddress;
  from: FullAddress;
  bytes: Uint8Array;
  sendAt: number;
  serverAt: number;
  clientAt: number;
  size: number;
}

let state: State | null = null;

/** Poll rounds per direction: enough for a datagram's frames to cross and be handled. */
const ROUNDS = 3;

function pump(d: Duo): void {
  for (let k = 0; k < ROUNDS; k++) {
    d.a.poll(0);
    d.b.poll(0);
  }
}

export function setup(size = 512): void {
  const d = duo({ udpReceiveBuffer: 16384 }, 64, 3 * 8192);
  const server = d.b.openUdp();
  const client = d.a.openUdp();
  if (server === null || client === null) throw new Error("udp-echo: no sockets");
  server.bind(null, 7);
  const memory = d.memory;
  state = {
    duo: d,
    client,
    server,
    to: endpoint("192.0.2.2", 7),
    from: new FullAddress(),
    bytes: memory.bytes,
    sendAt: memory.take(8192),
    serverAt: memory.take(8192),
    clientAt: memory.take(8192),
    size,
  };
  for (let i = 0; i < size; i++) state.bytes[state.sendAt + i] = i & 255;
  // The first datagram waits for ARP; the virtual net runs that exchange to the end.
  client.sendTo(state.bytes, state.sendAt, size, state.to);
  d.net.runUntilIdle();
  server.recvFrom(state.bytes, state.serverAt, 8192, state.from, 0);
  step(0);
}

export function step(i: number): void {
  const s = state as State;
  const bytes = s.bytes;
  bytes[s.sendAt] = i & 0xff;
  if (s.client.sendTo(bytes, s.sendAt, s.size, s.to) !== s.size) throw new Error("udp-echo: send");
  pump(s.duo);
  const n = s.server.recvFrom(bytes, s.serverAt, 8192, s.from, 0);
  if (n !== s.size || bytes[s.serverAt] !== (i & 0xff)) throw new Error(`udp-echo: received ${n}`);
  if (s.server.sendTo(bytes, s.serverAt, n, s.from) !== n) throw new Error("udp-echo: echo");
  pump(s.duo);
  if (s.client.recvFrom(bytes, s.clientAt, 8192, null, 0) !== n) throw new Error("udp-echo: back");
}

/** Pool buffers not returned: 0 when nothing leaked. */
export function leaked(): number {
  const s = state as State;
  return (
    s.duo.a.pool.count - s.duo.a.pool.available + (s.duo.b.pool.count - s.duo.b.pool.available)
  );
}
