// One step of a bulk TCP transfer between two stacks over the in-memory pair, each part in its own
// memory as an application is written (two `new Stack()`, a `new LinkPair()`, plain `new
// Uint8Array` application buffers): the client queues CHUNK more bytes, the server reads CHUNK
// bytes. 64 steps move 1 MB. The connection is made in setup(), and the client stays a CHUNK
// ahead, so the stream never runs dry and Nagle never waits for a delayed ACK: the step polls
// devices and stacks itself at one time, as a steady bulk transfer does.

import { LinkPair } from "../../hal/pair.js";
import { Stack } from "../../src/stack.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { endpoint } from "../../test/support/stacks.js";
import { VirtualNet } from "../../test/support/virtual.js";

export const CHUNK = 16384;
/** Poll rounds a step may take before it counts as stuck. */
const MAX_ROUNDS = 1000;

interface State {
  pair: LinkPair;
  a: Stack;
  b: Stack;
  client: TcpEndpoint;
  server: TcpEndpoint;
  data: Uint8Array;
  buffer: Uint8Array;
  /** Bytes the client still has to queue. */
  unsent: number;
  /** Bytes written and read so far, for the content check. */
  written: number;
  read: number;
}

let state: State | null = null;

const options = { tcpSockets: 4, tcpSendBuffer: 65536, tcpReceiveBuffer: 65536, buffers: 128 };

export function setup(): void {
  const pair = new LinkPair({ slots: 64 });
  const a = new Stack({ ...options, seed: 11 });
  const b = new Stack({ ...options, seed: 22 });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(pair.a).attach(pair.b);
  const listener = b.openTcp();
  const client = a.openTcp();
  if (typeof listener === "number" || typeof client === "number")
    throw new Error("tcp-bulk: no sockets");
  listener.bind(null, 9);
  listener.listen(1);
  client.connect(endpoint("192.0.2.2", 9));
  net.runUntilIdle(10_000, 0);
  const server = listener.accept(null);
  if (typeof server === "number") throw new Error(`tcp-bulk: accept ${server}`);
  const data = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) data[i] = i & 0xff;
  state = {
    pair,
    a,
    b,
    client,
    server,
    data,
    buffer: new Uint8Array(CHUNK),
    unsent: CHUNK,
    written: 0,
    read: 0,
  };
  step(0);
}

export function step(_i: number): void {
  const s = state as State;
  s.unsent += CHUNK;
  let received = 0;
  for (let round = 0; received < CHUNK; round++) {
    if (round === MAX_ROUNDS)
      throw new Error(`tcp-bulk: stuck with ${s.unsent} unsent, ${received} read`);
    while (s.unsent > 0) {
      // The data repeats every 256 bytes, so any offset in the buffer continues the stream.
      const at = s.written & 0xff;
      const n = s.client.send(s.data, at, Math.min(s.unsent, CHUNK - at), 0);
      if (n <= 0) break;
      s.unsent -= n;
      s.written += n;
    }
    s.pair.a.poll(0);
    s.pair.b.poll(0);
    s.a.poll(0);
    s.b.poll(0);
    const r = s.server.recv(s.buffer, 0, CHUNK - received, 0);
    if (r > 0) {
      if (s.buffer[0] !== (s.read & 0xff) || s.buffer[r - 1] !== ((s.read + r - 1) & 0xff))
        throw new Error("tcp-bulk: other bytes arrived");
      received += r;
      s.read += r;
    }
  }
}

/** Pool buffers not returned: 0 when nothing leaked. */
export function leaked(): number {
  const s = state as State;
  return s.a.pool.count - s.a.pool.available + (s.b.pool.count - s.b.pool.available);
}
