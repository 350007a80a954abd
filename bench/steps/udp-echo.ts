// One UDP echo round trip between two stacks over the in-memory pair: the client sends `size`
// bytes, the server receives and sends them back, the client receives. Used as the step of the
// allocation benchmarks (V8 and XS) and the pair throughput figure. ARP resolves in setup().
//
// Two layouts:
// - "shared": both stacks, the pair and the application buffers in one arena, so every copy is a
//   memmove within one array;
// - "own": the way an application is written: two `new Stack()` and a `new LinkPair()`, each with
//   its own memory, and application buffers that are plain `new Uint8Array`s, so every copy
//   between a device, a stack and the application crosses arrays.

import { LinkPair } from "../../hal/pair.js";
import { Stack } from "../../src/stack.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { duo, endpoint } from "../../test/support/stacks.js";
import { VirtualNet } from "../../test/support/virtual.js";

export type Layout = "shared" | "own";

interface State {
  a: Stack;
  b: Stack;
  client: UdpEndpoint;
  server: UdpEndpoint;
  to: FullAddress;
  from: FullAddress;
  sendBytes: Uint8Array;
  sendAt: number;
  serverBytes: Uint8Array;
  serverAt: number;
  clientBytes: Uint8Array;
  clientAt: number;
  size: number;
}

let state: State | null = null;

/** Poll rounds per direction: enough for a datagram's frames to cross and be handled. */
const ROUNDS = 3;
/** Room for 8000-byte datagrams: two in a socket's queue, one in reassembly. */
const options = { udpReceiveBuffer: 16384, reassemblySize: 8192 + 64 };

function pump(s: State): void {
  for (let k = 0; k < ROUNDS; k++) {
    s.a.poll(0);
    s.b.poll(0);
  }
}

export function setup(size = 512, layout: Layout = "shared"): void {
  let a: Stack;
  let b: Stack;
  let net: VirtualNet;
  let sendBytes: Uint8Array;
  let serverBytes: Uint8Array;
  let clientBytes: Uint8Array;
  let sendAt = 0;
  let serverAt = 0;
  let clientAt = 0;
  if (layout === "shared") {
    const d = duo(options, 64, 3 * 8192);
    ({ a, b, net } = d);
    sendBytes = serverBytes = clientBytes = d.memory.bytes;
    sendAt = d.memory.take(8192);
    serverAt = d.memory.take(8192);
    clientAt = d.memory.take(8192);
  } else {
    const pair = new LinkPair({ slots: 64 });
    a = new Stack({ ...options, seed: 11 });
    b = new Stack({ ...options, seed: 22 });
    a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
    b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
    net = new VirtualNet().add(a).add(b).attach(pair.a).attach(pair.b);
    sendBytes = new Uint8Array(8192);
    serverBytes = new Uint8Array(8192);
    clientBytes = new Uint8Array(8192);
  }
  const server = b.openUdp();
  const client = a.openUdp();
  if (typeof server === "number" || typeof client === "number")
    throw new Error("udp-echo: no sockets");
  server.bind(null, 7);
  const s: State = {
    a,
    b,
    client,
    server,
    to: endpoint("192.0.2.2", 7),
    from: new FullAddress(),
    sendBytes,
    sendAt,
    serverBytes,
    serverAt,
    clientBytes,
    clientAt,
    size,
  };
  state = s;
  for (let i = 0; i < size; i++) sendBytes[sendAt + i] = i & 255;
  // The first datagram waits for ARP; the virtual net runs that exchange to the end.
  client.sendTo(sendBytes, sendAt, size, s.to);
  net.runUntilIdle();
  server.recvFrom(serverBytes, serverAt, 8192, s.from, 0);
  step(0);
}

export function step(i: number): void {
  const s = state as State;
  s.sendBytes[s.sendAt] = i & 0xff;
  if (s.client.sendTo(s.sendBytes, s.sendAt, s.size, s.to) !== s.size)
    throw new Error("udp-echo: send");
  pump(s);
  const n = s.server.recvFrom(s.serverBytes, s.serverAt, 8192, s.from, 0);
  if (n !== s.size || s.serverBytes[s.serverAt] !== (i & 0xff))
    throw new Error(`udp-echo: received ${n}`);
  if (s.server.sendTo(s.serverBytes, s.serverAt, n, s.from) !== n)
    throw new Error("udp-echo: echo");
  pump(s);
  if (s.client.recvFrom(s.clientBytes, s.clientAt, 8192, null, 0) !== n)
    throw new Error("udp-echo: back");
  if (s.clientBytes[s.clientAt] !== (i & 0xff)) throw new Error("udp-echo: echoed other bytes");
}

/** Pool buffers not returned: 0 when nothing leaked. */
export function leaked(): number {
  const s = state as State;
  return s.a.pool.count - s.a.pool.available + (s.b.pool.count - s.b.pool.available);
}
