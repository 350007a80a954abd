// Fragmentation on output: what the stack puts on the wire for datagrams larger than the MTU,
// checked frame by frame, and what happens when the pool cannot hold every fragment.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { EAGAIN, ENOBUFS } from "../../src/errno.js";
import { FullAddress } from "../../src/wire/address.js";
import { Sent, checksumOk, concat, pattern, pseudoSum, sameBytes } from "../support/frames.js";
import { PEER_IP, STACK_IP, Solo } from "../support/harness.js";

function to(address: number, port: number): FullAddress {
  const full = new FullAddress();
  full.address.setV4(address);
  full.port = port;
  return full;
}

/**
 * Checks the fragments of one datagram as RFC 791 wants them and returns the reassembled IP
 * payload: same id, contiguous offsets, MF on all but the last, every fragment but the last a
 * multiple of 8 bytes, every frame within the MTU, every header checksum right.
 */
function reassemble(frames: Sent[], mtu: number): Uint8Array {
  assert.ok(frames.length > 0);
  const id = frames[0].ip!.id;
  let offset = 0;
  const parts: Uint8Array[] = [];
  frames.forEach((f, i) => {
    const ip = f.ip!;
    const last = i === frames.length - 1;
    assert.is(ip.id, id, "one identification for all fragments");
    assert.is(ip.offset, offset, "fragments are contiguous");
    assert.is(ip.moreFragments, !last, "MF on all but the last");
    assert.is(ip.dontFragment, false);
    assert.ok(ip.totalLength <= mtu, `a ${ip.totalLength}-byte packet on a ${mtu} MTU`);
    assert.ok(f.bytes.length <= mtu + 14);
    assert.ok(checksumOk(ip.header), "header checksum");
    if (!last) assert.is(ip.payload.length % 8, 0, "a multiple of 8 bytes");
    if (!last && frames.length > 1) {
      // As large as the MTU allows: no needless extra fragments.
      assert.is(ip.payload.length, (mtu - 20) & ~7);
    }
    assert.is(ip.source, STACK_IP);
    assert.is(ip.destination, PEER_IP);
    assert.is(ip.ttl, 64);
    parts.push(ip.payload);
    offset += ip.payload.length;
  });
  return concat(...parts);
}

/** A stack on a cable of the given MTU that already knows the peer. */
function setup(mtu: number, buffers = 16) {
  const solo = new Solo({ pair: { mtu, slots: buffers + 16 }, stack: { buffers } }).warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, 5555), 0);
  return { solo, socket };
}

function checkUdp(datagram: Uint8Array, data: Uint8Array): void {
  assert.is(datagram.length, 8 + data.length);
  assert.is((datagram[0] << 8) | datagram[1], 5555);
  assert.is((datagram[2] << 8) | datagram[3], 9);
  assert.is((datagram[4] << 8) | datagram[5], datagram.length);
  assert.ok(
    checksumOk(datagram, pseudoSum(STACK_IP, PEER_IP, 17, datagram.length)),
    "the UDP checksum over the whole datagram verifies",
  );
  assert.ok(sameBytes(datagram.subarray(8), data), "payload byte-exact");
}

test("datagrams around the MTU boundaries leave in correct fragments", () => {
  const { solo, socket } = setup(1500, 32);
  for (const size of [0, 1, 1471, 1472, 1473, 2951, 2952, 2953, 8000, 30000]) {
    const data = pattern(size, size & 255);
    assert.is(socket.sendTo(data, 0, size, to(PEER_IP, 9)), size);
    const frames = solo.take();
    assert.is(frames.length, size <= 1472 ? 1 : Math.ceil((size + 8) / 1480), `${size} bytes`);
    checkUdp(reassemble(frames, 1500), data);
  }
  assert.ok(solo.poolFull());
});

test("each datagram gets its own identification", () => {
  const { solo, socket } = setup(1500);
  const ids = new Set<number>();
  for (let i = 0; i < 50; i++) {
    socket.sendTo(pattern(3000), 0, 3000, to(PEER_IP, 9));
    const frames = solo.take();
    ids.add(frames[0].ip!.id);
  }
  assert.is(ids.size, 50);
});

test("property: any size on any MTU fragments correctly and checksums verify", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 68, max: 1500 }),
      fc.integer({ min: 0, max: 65507 }),
      fc.nat(255),
      (mtu, want, seed) => {
        const buffers = 64;
        // What fits the pool: whole fragments of (mtu - 20) & ~7 bytes.
        const most = Math.min(65507, buffers * ((mtu - 20) & ~7) - 8);
        const size = want % (most + 1);
        const { solo, socket } = setup(mtu, buffers);
        const data = pattern(size, seed);
        assert.is(socket.sendTo(data, 0, size, to(PEER_IP, 9)), size);
        checkUdp(reassemble(solo.take(), mtu), data);
        return solo.poolFull();
      },
    ),
    { numRuns: 200, seed: 7 },
  );
});

test("ENOBUFS, not a throw or a leak, when the pool cannot hold every fragment", () => {
  const { solo, socket } = setup(1500, 4);
  const before = solo.iface.ipStats.outNoBuffer;
  // Four buffers hold four fragments: 4 * 1480 - 8 bytes of UDP payload.
  assert.is(socket.sendTo(pattern(4 * 1480 - 8), 0, 4 * 1480 - 8, to(PEER_IP, 9)), 4 * 1480 - 8);
  assert.is(solo.take().length, 4);
  assert.is(socket.sendTo(pattern(4 * 1480 - 7), 0, 4 * 1480 - 7, to(PEER_IP, 9)), -ENOBUFS);
  assert.is(solo.iface.ipStats.outNoBuffer, before + 1);
  assert.equal(solo.take(), [], "no partial datagram goes out");
  assert.ok(solo.poolFull());
  // Buffers held elsewhere (frames waiting to leave, or for ARP) leave too few for now: the send
  // waits (EAGAIN, then EVENT_OUT) rather than failing for good.
  assert.is(socket.sendTo(pattern(100), 0, 100, to(0xc0000263, 9)), 100); // 192.0.2.99, unresolved
  assert.is(socket.sendTo(pattern(3000), 0, 3000, to(PEER_IP, 9)), 3000);
  assert.is(socket.sendTo(pattern(4 * 1480 - 8), 0, 4 * 1480 - 8, to(PEER_IP, 9)), -EAGAIN);
  assert.equal(solo.take().length, 3, "the 3000 bytes left; the datagram for .99 waits for ARP");
  solo.advance(5000);
  assert.is(socket.sendTo(pattern(4 * 1480 - 8), 0, 4 * 1480 - 8, to(PEER_IP, 9)), 4 * 1480 - 8);
  solo.take();
  assert.ok(solo.poolFull());
});

test("a ping too big for the pool gets ENOBUFS too", () => {
  const { solo } = setup(1500, 2);
  const ping = solo.stack.openPing() as PingEndpoint;
  const request = concat(Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1), pattern(4000));
  assert.is(ping.sendTo(request, 0, request.length, to(PEER_IP, 0)), -ENOBUFS);
  assert.ok(solo.poolFull());
});

test("fragments waiting for ARP all leave once the address resolves", () => {
  const solo = new Solo().warm(false);
  const socket = solo.stack.openUdp() as UdpEndpoint;
  socket.bind(null, 5555);
  const data = pattern(5000, 3);
  assert.is(socket.sendTo(data, 0, data.length, to(PEER_IP, 9)), 5000);
  const asked = solo.take();
  assert.is(asked.length, 1);
  assert.is(asked[0].arp!.targetIp, PEER_IP);
  solo.peerAnswers();
  const frames = solo.take().filter((f) => f.ip);
  checkUdp(reassemble(frames, 1500), data);
  assert.ok(solo.poolFull());
});

test.run();
