// Checksum offload over the in-memory pair (NetDevice.checksumOffload): with it, TCP and UDP cross
// byte-exact with no transport checksum computed or verified; a payload corrupted between the ends
// then goes undetected, as on Linux's loopback, while without offload it is caught and repaired.
// An impairment wrapped around either end turns offload off for the whole cable.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ImpairedDevice } from "../../hal/impair.js";
import { LinkPair } from "../../hal/pair.js";
import { DeviceWrapper } from "../../hal/wrapper.js";
import type { NetDevice } from "../../src/device.js";
import { EINPROGRESS } from "../../src/errno.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";
import { PROTOCOL_TCP, PROTOCOL_UDP } from "../../src/wire/ipv4.js";
import { pattern } from "../support/frames.js";
import { endpoint, poolFull } from "../support/stacks.js";
import { VirtualNet } from "../support/virtual.js";

/**
 * Passes frames through, but flips the last byte of the `nth` TCP or UDP frame carrying payload
 * that it delivers: memory going bad between the ends, which no wrapper announces.
 */
class Flipper extends DeviceWrapper {
  nth = -1;
  seen = 0;
  flipped = 0;

  transmit(frame: Uint8Array, offset: number, length: number): number {
    return this.inner.transmit(frame, offset, length);
  }

  receive(frame: Uint8Array, offset: number, capacity: number): number {
    const n = this.inner.receive(frame, offset, capacity);
    if (n < 34 || frame[offset + 12] !== 0x08 || frame[offset + 13] !== 0x00) return n;
    const protocol = frame[offset + 23];
    const ipEnd = offset + 14 + (frame[offset + 16] << 8) + frame[offset + 17];
    const header = offset + 14 + (frame[offset + 14] & 15) * 4;
    const payloadAt =
      protocol === PROTOCOL_TCP
        ? header + (frame[header + 12] >> 4) * 4
        : protocol === PROTOCOL_UDP
          ? header + 8
          : ipEnd;
    if (payloadAt >= ipEnd) return n;
    if (this.seen++ === this.nth) {
      frame[ipEnd - 1] ^= 0x5a;
      this.flipped++;
    }
    return n;
  }

  poll(now: number): void {
    this.inner.poll(now);
  }

  nextDeadline(): number {
    return this.inner.nextDeadline();
  }
}

const options = { tcpSendBuffer: 16384, tcpReceiveBuffer: 16384, buffers: 32, sendQueue: 16 };

interface Rig {
  net: VirtualNet;
  pair: LinkPair;
  a: Stack;
  b: Stack;
  /** What b's stack receives through. */
  bDevice: NetDevice;
  flipper: Flipper;
}

/** Two stacks over a pair, b's end behind a Flipper (and an impairment when `impair`). */
function rig(offload: boolean, impair = false): Rig {
  const memory = new Memory(new Uint8Array(2 * Stack.memoryNeeded(options) + (1 << 20)));
  const pair = new LinkPair({ memory, slots: 64, checksumOffload: offload });
  const inner: NetDevice = impair ? new ImpairedDevice(pair.b, { memory }) : pair.b;
  const flipper = new Flipper(inner);
  const a = new Stack({ ...options, memory, seed: 3 });
  const b = new Stack({ ...options, memory, seed: 4 });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(flipper, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(pair.a).attach(flipper);
  return { net, pair, a, b, bDevice: flipper, flipper };
}

function connect(r: Rig): [TcpEndpoint, TcpEndpoint] {
  const listener = r.b.openTcp() as TcpEndpoint;
  assert.is(listener.bind(null, 5001), 0);
  assert.is(listener.listen(1), 0);
  const client = r.a.openTcp() as TcpEndpoint;
  assert.is(client.connect(endpoint("192.0.2.2", 5001)), -EINPROGRESS);
  r.net.runUntilIdle(10_000, 5_000);
  const server = listener.accept(null);
  if (typeof server === "number") throw new Error(`accept: ${server}`);
  return [client, server];
}

/** Sends `data` from a to b and returns what b read. */
function move(r: Rig, client: TcpEndpoint, server: TcpEndpoint, data: Uint8Array): Uint8Array {
  const got = new Uint8Array(data.length);
  let sent = 0;
  let received = 0;
  for (let round = 0; received < data.length; round++) {
    if (round > 100_000) throw new Error(`move: stuck at ${received}/${data.length}`);
    if (sent < data.length) {
      const n = client.send(data, sent, data.length - sent, 0);
      if (n > 0) sent += n;
    }
    const n = server.recv(got, received, data.length - received, 0);
    if (n > 0) received += n;
    if (!r.net.busy) {
      const due = r.net.nextDeadline();
      if (due > r.net.now && due !== Infinity) r.net.now = due;
    }
    r.net.poll();
  }
  return got;
}

test("with offload, TCP both ways and UDP cross exact, with no transport checksum on the wire", () => {
  const r = rig(true);
  assert.ok(r.pair.a.checksumOffload && r.bDevice.checksumOffload === true);
  const [client, server] = connect(r);
  const data = pattern(200_000, 7);
  const got = move(r, client, server, data);
  assert.ok(Buffer.from(got).equals(Buffer.from(data)));
  const back = pattern(50_000, 8);
  assert.ok(Buffer.from(move(r, server, client, back)).equals(Buffer.from(back)));
  assert.is(r.a.tcp.stats.badChecksum + r.b.tcp.stats.badChecksum, 0);

  // A segment still waiting in the cable carries the pseudo-header sum, not a full checksum: the
  // sum over it does not verify, so the sender really skipped it and the receiver really trusts it.
  const small = pattern(100, 9);
  assert.is(client.send(small, 0, 100, 0), 100);
  r.a.poll(r.net.now);
  const queued = r.pair.b.inbound;
  assert.ok(queued.count > 0);
  const frame = new Uint8Array(2000);
  const length = queued.peekLength();
  r.pair.b.receive(frame, 0, frame.length);
  assert.is(frame[23], PROTOCOL_TCP);
  assert.is.not(fullSum(frame, 34, length - 34, pseudo(frame)), 0xffff);

  const ua = udp(r.a);
  const ub = udp(r.b);
  assert.is(ub.bind(null, 7), 0);
  const datagram = pattern(1000, 10);
  assert.is(ua.sendTo(datagram, 0, 1000, endpoint("192.0.2.2", 7)), 1000);
  r.net.runUntilIdle(1000, 100);
  const into = new Uint8Array(1000);
  assert.is(ub.recvFrom(into, 0, 1000, null), 1000);
  assert.ok(Buffer.from(into).equals(Buffer.from(datagram)));
  assert.is(r.b.udp.stats.badChecksum, 0);
});

test("with offload a corrupted payload is NOT detected (as on loopback); without, it is caught", () => {
  const data = pattern(100_000, 11);
  for (const offload of [true, false]) {
    const r = rig(offload);
    const [client, server] = connect(r);
    r.flipper.nth = r.flipper.seen + 5;
    const got = move(r, client, server, data);
    assert.is(r.flipper.flipped, 1);
    let differing = 0;
    for (let i = 0; i < data.length; i++) if (got[i] !== data[i]) differing++;
    if (offload) {
      assert.is(differing, 1, "the flipped byte reaches the application");
      assert.is(r.b.tcp.stats.badChecksum, 0);
    } else {
      assert.is(differing, 0, "the segment was dropped and sent again");
      assert.is(r.b.tcp.stats.badChecksum, 1);
    }
  }

  for (const offload of [true, false]) {
    const r = rig(offload);
    const ua = udp(r.a);
    const ub = udp(r.b);
    assert.is(ub.bind(null, 7), 0);
    r.flipper.nth = r.flipper.seen;
    const datagram = pattern(600, 12);
    assert.is(ua.sendTo(datagram, 0, 600, endpoint("192.0.2.2", 7)), 600);
    r.net.runUntilIdle(1000, 100);
    assert.is(r.flipper.flipped, 1);
    const into = new Uint8Array(600);
    const n = ub.recvFrom(into, 0, 600, null);
    if (offload) {
      assert.is(n, 600);
      assert.is(into[599], datagram[599] ^ 0x5a);
    } else {
      assert.ok(n < 0, "dropped");
      assert.is(r.b.udp.stats.badChecksum, 1);
    }
  }
});

test("an impairment on either end turns offload off for the whole cable; corruption is caught", () => {
  const r = rig(true, true);
  assert.is(r.pair.a.checksumOffload, false);
  assert.is(r.pair.b.checksumOffload, false);
  assert.is(r.bDevice.checksumOffload, false);
  const [client, server] = connect(r);
  r.flipper.nth = r.flipper.seen + 3;
  const data = pattern(60_000, 13);
  const got = move(r, client, server, data);
  assert.is(r.flipper.flipped, 1);
  assert.ok(Buffer.from(got).equals(Buffer.from(data)));
  assert.is(r.b.tcp.stats.badChecksum, 1);
  client.close();
  server.close();
  r.net.advance(130_000);
  assert.ok(poolFull(r.a) && poolFull(r.b));
});

function udp(stack: Stack): UdpEndpoint {
  const ep = stack.openUdp();
  if (typeof ep === "number") throw new Error(`openUdp: ${ep}`);
  return ep;
}

/** The pseudo-header sum of the IPv4 frame at 0 (Ethernet header at 0, IP at 14, no options). */
function pseudo(frame: Uint8Array): number {
  const total = (frame[16] << 8) + frame[17];
  const length = total - 20;
  let s = frame[23] + length;
  for (let i = 26; i < 34; i += 2) s += (frame[i] << 8) + frame[i + 1];
  return s;
}

function fullSum(bytes: Uint8Array, at: number, length: number, initial: number): number {
  let s = initial;
  for (let i = 0; i < length; i += 2)
    s += (bytes[at + i] << 8) + (i + 1 < length ? bytes[at + i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

test.run();
