// Two stacks over an in-memory cable: connections open, carry bulk data both ways byte-exact,
// close, and leave both tables idle and both pools whole once TIME-WAIT has passed; then the same
// through a link that loses, reorders and duplicates frames.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ImpairedDevice, type ImpairOptions } from "../../hal/impair.js";
import { LinkPair } from "../../hal/pair.js";
import type { StackOptions } from "../../src/config.js";
import { EAGAIN, EINPROGRESS } from "../../src/errno.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { ESTABLISHED, SHUT_WR } from "../../src/transport/tcp/constants.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { pattern } from "../support/frames.js";
import { duo, endpoint, poolFull } from "../support/stacks.js";
import { VirtualNet } from "../support/virtual.js";

interface Pair {
  net: VirtualNet;
  a: Stack;
  b: Stack;
}

/** Opens a connection from a to b's listener on `port`; returns both ends, established. */
function connect(p: Pair, port: number): [TcpEndpoint, TcpEndpoint, TcpEndpoint] {
  const listener = p.b.openTcp() as TcpEndpoint;
  assert.is(listener.bind(null, port), 0);
  assert.is(listener.listen(4), 0);
  const client = p.a.openTcp() as TcpEndpoint;
  assert.is(client.connect(endpoint("192.0.2.2", port)), -EINPROGRESS);
  p.net.runUntilIdle(10_000, 5_000);
  const from = new FullAddress();
  const server = listener.accept(from);
  if (typeof server === "number") throw new Error(`accept: ${server}`);
  assert.is(client.state, ESTABLISHED);
  assert.is(server.state, ESTABLISHED);
  return [client, server, listener];
}

/**
 * Moves `data` from `src` to `dst` and `back` the other way at the same time, polling the net as
 * a platform would, until both have arrived whole and the writers have shut down; returns what
 * each side read.
 */
function transfer(
  p: Pair,
  x: TcpEndpoint,
  y: TcpEndpoint,
  forward: Uint8Array,
  back: Uint8Array,
  limitMs = 600_000,
) {
  const gotY: number[] = [];
  const gotX: number[] = [];
  let sentX = 0;
  let sentY = 0;
  let eofX = false;
  let eofY = false;
  const buf = new Uint8Array(3000);
  const start = p.net.now;
  while (!(eofX && eofY)) {
    if (sentX < forward.length) {
      const n = x.send(forward, sentX, Math.min(1000 + (sentX % 777), forward.length - sentX), 0);
      if (n > 0) sentX += n;
      else assert.is(n, -EAGAIN);
      if (sentX === forward.length) assert.is(x.shutdown(SHUT_WR), 0);
    }
    if (sentY < back.length) {
      const n = y.send(back, sentY, back.length - sentY, 0);
      if (n > 0) sentY += n;
      else assert.is(n, -EAGAIN);
      if (sentY === back.length) assert.is(y.shutdown(SHUT_WR), 0);
    }
    for (;;) {
      const n = y.recv(buf, 0, buf.length, 0);
      if (n === 0) eofY = true;
      if (n <= 0) break;
      for (let i = 0; i < n; i++) gotY.push(buf[i]);
    }
    for (;;) {
      const n = x.recv(buf, 0, buf.length, 0);
      if (n === 0) eofX = true;
      if (n <= 0) break;
      for (let i = 0; i < n; i++) gotX.push(buf[i]);
    }
    // Frames a device signalled are handled at once; otherwise time jumps to the next deadline.
    if (!p.net.busy) {
      const due = p.net.nextDeadline();
      if (due === Infinity) throw new Error("transfer: nothing left to do and not done");
      if (due > p.net.now) p.net.now = due;
    }
    p.net.poll();
    if (p.net.now - start > limitMs)
      throw new Error(
        `transfer: not done in ${limitMs} ms (${gotY.length}/${forward.length}, ${gotX.length}/${back.length})`,
      );
  }
  return [Uint8Array.from(gotY), Uint8Array.from(gotX)];
}

const big: StackOptions = {
  tcpSendBuffer: 16384,
  tcpReceiveBuffer: 16384,
  buffers: 32,
  sendQueue: 16,
};

test("bulk transfer both ways is byte-exact; the tables end idle and the pools whole", () => {
  const p = duo(big);
  const [client, server, listener] = connect(p, 5001);
  const forward = pattern(300_000, 1);
  const back = pattern(120_000, 2);
  const [atServer, atClient] = transfer(p, client, server, forward, back);
  assert.equal(atServer.length, forward.length);
  assert.ok(Buffer.from(atServer).equals(Buffer.from(forward)));
  assert.ok(Buffer.from(atClient).equals(Buffer.from(back)));
  client.close();
  server.close();
  listener.close();
  p.net.advance(130_000);
  assert.is(p.a.tcp.openCount, 0);
  assert.is(p.b.tcp.openCount, 0);
  assert.is(p.a.tcp.timeWait.count + p.b.tcp.timeWait.count, 0);
  assert.ok(poolFull(p.a) && poolFull(p.b));
});

test("under 2% loss, fast retransmit repairs most losses, not the retransmission timer", () => {
  let fast = 0;
  let timeouts = 0;
  for (const seed of [1, 2, 3]) {
    const p = impaired({ loss: 0.02 }, seed);
    const [client, server] = connect(p, 5001);
    transfer(p, client, server, pattern(200_000, seed), pattern(10, seed));
    fast += p.a.tcp.stats.fastRetransmits;
    timeouts += p.a.tcp.stats.timeouts;
  }
  assert.ok(fast > timeouts, `fast retransmits ${fast}, timeouts ${timeouts}`);
});

test("many connections opened and closed in turn: tables idle after TIME-WAIT, pool whole", () => {
  const p = duo({ tcpSockets: 4, tcpTimeWait: 8, msl: 500 });
  const listener = p.b.openTcp() as TcpEndpoint;
  listener.bind(null, 7000);
  listener.listen(2);
  const buf = new Uint8Array(100);
  for (let i = 0; i < 60; i++) {
    const c = p.a.openTcp() as TcpEndpoint;
    assert.is(c.connect(endpoint("192.0.2.2", 7000)), -EINPROGRESS);
    p.net.runUntilIdle(1000, 2000);
    const s = listener.accept(null);
    if (typeof s === "number") throw new Error(`accept ${i}: ${s}`);
    assert.is(c.send(pattern(10, i), 0, 10, 0), 10);
    p.net.runUntilIdle(1000, 100);
    assert.is(s.recv(buf, 0, 100, 0), 10);
    // Alternate which side closes first, so TIME-WAIT lands on both.
    if (i % 2 === 0) {
      c.close();
      p.net.runUntilIdle(1000, 100);
      s.close();
    } else {
      s.close();
      p.net.runUntilIdle(1000, 100);
      c.close();
    }
    p.net.runUntilIdle(1000, 100);
  }
  p.net.advance(2000);
  assert.is(p.a.tcp.openCount, 0);
  assert.is(p.b.tcp.openCount, 1);
  assert.is(p.a.tcp.timeWait.count + p.b.tcp.timeWait.count, 0);
  assert.ok(poolFull(p.a) && poolFull(p.b));
  assert.is(p.a.tcp.stats.resetsOut + p.b.tcp.stats.resetsOut, 0);
});

/** Two stacks with `impair` on a's device, for a transfer both ways. */
function impaired(impair: ImpairOptions, seed: number): Pair {
  const slots = 64;
  const memory = new Memory(
    new Uint8Array(2 * Stack.memoryNeeded(big) + 4 * slots * 1514 + 2 * 64 * 1514 + 8192),
  );
  const pair = new LinkPair({ memory, slots });
  const device = new ImpairedDevice(pair.a, { ...impair, seed, memory });
  const a = new Stack({ ...big, memory, seed: seed + 1 });
  const b = new Stack({ ...big, memory, seed: seed + 2 });
  a.attach(device, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(device).attach(pair.b);
  return { net, a, b };
}

const grid: [string, ImpairOptions][] = [
  ["loss 2%", { loss: 0.02 }],
  ["loss 10%", { loss: 0.1 }],
  ["reorder 10%", { reorder: 0.1 }],
  ["duplicate 10%", { duplicate: 0.1 }],
  ["loss 5%, reorder 5%, duplicate 5%", { loss: 0.05, reorder: 0.05, duplicate: 0.05 }],
];

for (const [name, impair] of grid) {
  test(`through ${name}: bulk both ways byte-exact on the virtual clock`, () => {
    for (const seed of [1, 2, 3, 4]) {
      const p = impaired(impair, seed);
      try {
        const [client, server, listener] = connect(p, 5001);
        // Even seeds run CUBIC on both ends.
        client.cubic = server.cubic = seed % 2 === 0;
        const forward = pattern(60_000, seed);
        const back = pattern(30_000, seed + 5);
        const [atServer, atClient] = transfer(p, client, server, forward, back);
        assert.ok(Buffer.from(atServer).equals(Buffer.from(forward)), "forward stream differs");
        assert.ok(Buffer.from(atClient).equals(Buffer.from(back)), "backward stream differs");
        client.close();
        server.close();
        listener.close();
        p.net.advance(200_000);
        assert.ok(poolFull(p.a) && poolFull(p.b), "pool not whole");
      } catch (e) {
        console.log(`failed with ${name}, seed ${seed}`);
        throw e;
      }
    }
  });
}

test.run();
