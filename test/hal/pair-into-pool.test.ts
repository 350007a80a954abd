// The pair writing frames straight into the receiving stack's pool buffers (intoPool): order holds
// when some frames wait in buffers and others in slots, a pulled cable gives the buffers back,
// frames never take the last quarter of the pool, and TCP between two stacks stays exact.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinkPair } from "../../hal/pair.js";
import { EINPROGRESS } from "../../src/errno.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { PacketPool } from "../../src/storage/pool.js";
import { pattern } from "../support/frames.js";
import { endpoint, poolFull } from "../support/stacks.js";
import { VirtualNet } from "../support/virtual.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";

function frame(length: number, seed: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 31 + seed) & 0xff;
  return f;
}

function receiverPool(count: number): PacketPool {
  return new PacketPool(new Memory(new Uint8Array(count * 1536 + 64)), count, 1536);
}

test("frames go into the receiver's buffers while it has room, in slots after, in order", () => {
  const pair = new LinkPair({ slots: 16, intoPool: true });
  const pool = receiverPool(8);
  // The receiver names its pool on its first receiveBuffer(), when nothing waits yet.
  assert.is(pair.b.receiveBuffer(pool), -1);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    frames.push(frame(100 + i * 37, i));
    assert.is(pair.a.transmit(frames[i], 0, frames[i].length), 1);
  }
  // Six buffers went to frames; the last quarter (two) stayed free, so four frames wait in slots.
  assert.is(pool.available, 2);
  for (let i = 0; i < 10; i++) {
    const h = pair.b.receiveBuffer(pool);
    assert.ok(h >= 0, `frame ${i}`);
    assert.is(pool.length[h], frames[i].length);
    const at = pool.offsetOf(h);
    assert.ok(
      Buffer.from(pool.bytes.subarray(at, at + frames[i].length)).equals(Buffer.from(frames[i])),
      `frame ${i} intact`,
    );
    pool.free(h);
  }
  assert.is(pair.b.receiveBuffer(pool), -1);
  assert.is(pool.available, 8);
  assert.is(pool.badFrees, 0);
  assert.is(pair.b.rxFrames, 10);
});

test("a pulled cable gives the buffers of frames in flight back", () => {
  const pair = new LinkPair({ slots: 16, intoPool: true });
  const pool = receiverPool(8);
  pair.b.receiveBuffer(pool);
  for (let i = 0; i < 5; i++) assert.is(pair.a.transmit(frame(200, i), 0, 200), 1);
  assert.ok(pool.available < 8);
  pair.setLink(false);
  assert.is(pool.available, 8);
  assert.is(pool.badFrees, 0);
  assert.is(pair.b.rxFlushed, 5);
});

test("without intoPool the receiver's pool is never touched by the sender", () => {
  const pair = new LinkPair({ slots: 16 });
  const pool = receiverPool(8);
  pair.b.receiveBuffer(pool);
  for (let i = 0; i < 5; i++) assert.is(pair.a.transmit(frame(200, i), 0, 200), 1);
  assert.is(pool.available, 8);
  const h = pair.b.receiveBuffer(pool);
  assert.ok(h >= 0);
  assert.is(pool.length[h], 200);
});

test("TCP between two stacks over an intoPool pair is exact and leaves both pools whole", () => {
  const options = { tcpSendBuffer: 16384, tcpReceiveBuffer: 16384, buffers: 32, sendQueue: 16 };
  const pair = new LinkPair({ slots: 64, intoPool: true });
  const a = new Stack({ ...options, seed: 5 });
  const b = new Stack({ ...options, seed: 6 });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(pair.a).attach(pair.b);
  const listener = b.openTcp() as TcpEndpoint;
  assert.is(listener.bind(null, 5001), 0);
  assert.is(listener.listen(1), 0);
  const client = a.openTcp() as TcpEndpoint;
  assert.is(client.connect(endpoint("192.0.2.2", 5001)), -EINPROGRESS);
  net.runUntilIdle(10_000, 5_000);
  const server = listener.accept(null);
  if (typeof server === "number") throw new Error(`accept: ${server}`);
  const data = pattern(300_000, 3);
  const got = new Uint8Array(data.length);
  let sent = 0;
  let received = 0;
  for (let round = 0; received < data.length; round++) {
    if (round > 100_000) throw new Error(`stuck at ${received}`);
    if (sent < data.length) {
      const n = client.send(data, sent, data.length - sent, 0);
      if (n > 0) sent += n;
    }
    const n = server.recv(got, received, data.length - received, 0);
    if (n > 0) received += n;
    if (!net.busy) {
      const due = net.nextDeadline();
      if (due > net.now && due !== Infinity) net.now = due;
    }
    net.poll();
  }
  assert.ok(Buffer.from(got).equals(Buffer.from(data)));
  client.close();
  server.close();
  listener.close();
  net.advance(130_000);
  assert.ok(poolFull(a) && poolFull(b));
  assert.ok(pair.b.rxFrames > 200);
});

test.run();
