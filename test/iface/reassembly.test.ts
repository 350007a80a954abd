// IPv4 reassembly: fragments from a raw peer, in every order, with duplicates, overlaps, too many
// pieces, too many bytes, timeouts and slot pressure. Delivered datagrams must be byte-exact and the
// pool must never run dry, whatever arrives.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { StackOptions } from "../../src/config.js";
import { checksumOk, ipv4, pattern, sameBytes, udp } from "../support/frames.js";
import {
  PEER_IP,
  PORT,
  STACK_IP,
  Solo,
  counters,
  delta,
  ipFrame,
  udpPacket,
} from "../support/harness.js";

interface Piece {
  offset: number;
  data: Uint8Array;
  more: boolean;
}

/** Cuts an IP payload into pieces of the given sizes, taken in turn, until it is all cut. */
function split(payload: Uint8Array, sizes: number[]): Piece[] {
  const pieces: Piece[] = [];
  let offset = 0;
  for (let i = 0; ; i++) {
    const size = sizes[i % sizes.length];
    if (offset + size >= payload.length) break;
    pieces.push({ offset, data: payload.slice(offset, offset + size), more: true });
    offset += size;
  }
  pieces.push({ offset, data: payload.slice(offset), more: false });
  return pieces;
}

function evenly(payload: Uint8Array, size: number): Piece[] {
  return split(payload, [size]);
}

function fragment(p: Piece, id: number, extra: Partial<Parameters<typeof ipv4>[0]> = {}) {
  return ipFrame({
    payload: p.data,
    id,
    fragment: (p.more ? 0x2000 : 0) | (p.offset >>> 3),
    ...extra,
  });
}

function setup(options: StackOptions = {}) {
  const solo = new Solo({
    stack: { udpReceiveBuffer: 20000, reassemblySlots: 2, reassemblySize: 8192 + 64, ...options },
  }).warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, PORT), 0);
  const buffer = new Uint8Array(70000);
  const receive = (): Uint8Array | null => {
    const n = socket.recvFrom(buffer, 0, buffer.length, null, 0);
    return n < 0 ? null : buffer.slice(0, n);
  };
  return { solo, socket, receive };
}

test("in order and in reverse, fragments reassemble byte-exact", () => {
  const { solo, receive } = setup();
  for (const [size, piece] of [
    [3000, 1480],
    [2000, 64],
    [100, 16],
    [8000, 1000],
  ]) {
    const data = pattern(size, size);
    const pieces = evenly(udpPacket(data), piece);
    for (const p of pieces) solo.send(fragment(p, size));
    assert.equal(receive(), data, `in order, ${size} bytes in ${pieces.length}`);
    for (const p of pieces.slice().reverse()) solo.send(fragment(p, size + 1));
    assert.equal(receive(), data, `reversed, ${size} bytes`);
    assert.is(receive(), null);
  }
  assert.is(solo.iface.ipStats.reassembled, 8);
  assert.is(solo.iface.ipStats.reassemblyFailures, 0);
  assert.equal(solo.take(), []);
  assert.ok(solo.poolFull());
});

test("property: any order, any 8-byte-aligned cut, reassembles byte-exact", () => {
  const arbitrary = fc
    .integer({ min: 1, max: 8000 })
    .chain((size) =>
      fc.record({
        size: fc.constant(size),
        seed: fc.nat(255),
        sizes: fc.array(
          fc.integer({ min: 1, max: 185 }).map((n) => n * 8),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
      }),
    )
    .chain((r) => {
      const count = split(new Uint8Array(r.size + 8), r.sizes).length;
      return fc.record({
        size: fc.constant(r.size),
        seed: fc.constant(r.seed),
        sizes: fc.constant(r.sizes),
        order: fc.shuffledSubarray([...Array(count).keys()], {
          minLength: count,
          maxLength: count,
        }),
      });
    });
  fc.assert(
    fc.property(arbitrary, ({ size, seed, sizes, order }) => {
      // Room for the smallest pieces: 8008 bytes in 8-byte pieces.
      const { solo, receive } = setup({ reassemblyFragments: 1001 });
      const data = pattern(size, seed);
      const pieces = split(udpPacket(data), sizes);
      for (const i of order) solo.send(fragment(pieces[i], seed));
      const got = receive();
      return (
        got !== null &&
        sameBytes(got, data) &&
        receive() === null &&
        solo.iface.ipStats.reassembled === (pieces.length > 1 ? 1 : 0) &&
        solo.poolFull()
      );
    }),
    { numRuns: 150, seed: 42 },
  );
});

test("property: duplicates anywhere before completion are dropped alone", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1500, max: 8000 }),
      fc.integer({ min: 1, max: 185 }).map((n) => n * 8),
      fc.infiniteStream(fc.boolean()),
      fc.nat(),
      (size, piece, coin, salt) => {
        const { solo, receive } = setup({ reassemblyFragments: 1001 });
        const data = pattern(size, salt & 255);
        const pieces = evenly(udpPacket(data), piece);
        // A random order: rotate, and send each piece twice when the coin says so, except the
        // piece that completes the datagram.
        const start = salt % pieces.length;
        const order = pieces.map((_, i) => (start + i) % pieces.length);
        let duplicates = 0;
        const flips = coin[Symbol.iterator]();
        order.forEach((i, k) => {
          solo.send(fragment(pieces[i], 0x600d));
          if (k < order.length - 1 && flips.next().value) {
            solo.send(fragment(pieces[i], 0x600d));
            duplicates++;
          }
        });
        const got = receive();
        return (
          got !== null &&
          sameBytes(got, data) &&
          solo.iface.ipStats.duplicateFragments === duplicates &&
          solo.iface.ipStats.reassemblyFailures === 0 &&
          solo.poolFull()
        );
      },
    ),
    { numRuns: 100, seed: 11 },
  );
});

test("an exact duplicate is dropped alone and the datagram still completes", () => {
  const { solo, receive } = setup();
  const data = pattern(3000 - 8, 1);
  const pieces = evenly(udpPacket(data), 1000);
  assert.is(pieces.length, 3);
  solo.send(fragment(pieces[0], 9));
  solo.send(fragment(pieces[0], 9));
  solo.send(fragment(pieces[2], 9));
  solo.send(fragment(pieces[2], 9));
  const before = counters(solo.stack);
  solo.send(fragment(pieces[1], 9));
  assert.equal(receive(), data);
  assert.is(solo.iface.ipStats.duplicateFragments, 2);
  assert.is(solo.iface.ipStats.reassemblyFailures, 0);
  assert.is(delta(before, counters(solo.stack))["ip.reassembled"], 1);
  // A straggler after completion starts a datagram of its own, which never completes.
  solo.send(fragment(pieces[1], 9));
  assert.is(receive(), null);
  assert.ok(solo.poolFull());
});

for (const [what, start, length] of [
  ["overlapping the start of another", 1000 - 8, 16],
  ["overlapping the end of another", 1992, 16],
  ["inside another", 1008, 8],
  ["containing another", 992, 1016],
  ["same start, shorter", 1000, 504],
  ["same start, longer", 1000, 1008],
  ["same end, later start", 1496, 504],
] as const) {
  test(`an overlapping fragment (${what}) drops the whole datagram`, () => {
    const { solo, receive } = setup();
    const data = pattern(3000, 2);
    const payload = udpPacket(data);
    const pieces = evenly(payload, 1000);
    solo.send(fragment(pieces[1], 5)); // [1000, 2000)
    const rogue: Piece = { offset: start, data: payload.slice(start, start + length), more: true };
    const before = counters(solo.stack);
    solo.send(fragment(rogue, 5));
    const moved = delta(before, counters(solo.stack));
    assert.is(moved["ip.reassemblyOverlaps"], 1);
    assert.is(moved["ip.reassemblyFailures"], 1);
    for (const p of pieces) solo.send(fragment(p, 5));
    // Whatever arrived after the overlap belongs to a fresh attempt, which now completes only
    // because every piece was sent again -- never the poisoned one.
    const got = receive();
    assert.ok(got === null || sameBytes(got, data));
    assert.is(solo.iface.ipStats.reassembled, got === null ? 0 : 1);
    assert.ok(solo.poolFull());
  });
}

test("a last fragment ending before data already received drops the datagram", () => {
  const { solo, receive } = setup();
  const payload = udpPacket(pattern(3000, 3));
  solo.send(fragment({ offset: 2000, data: payload.slice(2000, 2400), more: true }, 6));
  solo.send(fragment({ offset: 1000, data: payload.slice(1000, 1600), more: false }, 6));
  assert.is(solo.iface.ipStats.reassemblyFailures, 1);
  assert.is(receive(), null);
});

test("a fragment past a known end, or a second different end, drops the datagram", () => {
  const { solo } = setup();
  const payload = udpPacket(pattern(3000, 3));
  solo.send(fragment({ offset: 1000, data: payload.slice(1000, 1600), more: false }, 7));
  solo.send(fragment({ offset: 1600, data: payload.slice(1600, 2000), more: true }, 7));
  assert.is(solo.iface.ipStats.reassemblyFailures, 1);
  solo.send(fragment({ offset: 1000, data: payload.slice(1000, 1600), more: false }, 8));
  solo.send(fragment({ offset: 1000, data: payload.slice(1000, 1800), more: false }, 8));
  assert.is(solo.iface.ipStats.reassemblyFailures, 2);
  assert.ok(solo.poolFull());
});

test("a middle fragment whose length is not a multiple of 8, or empty, is dropped", () => {
  const { solo, receive } = setup();
  const data = pattern(100, 4);
  const payload = udpPacket(data);
  const before = counters(solo.stack);
  solo.send(fragment({ offset: 0, data: payload.slice(0, 20), more: true }, 3));
  solo.send(fragment({ offset: 24, data: new Uint8Array(0), more: true }, 3));
  assert.is(delta(before, counters(solo.stack))["ip.badLength"], 2);
  // The datagram is still whole when sent properly.
  for (const p of evenly(payload, 24)) solo.send(fragment(p, 3));
  assert.equal(receive(), data);
});

test("more pieces than reassemblyFragments drop the datagram; exactly that many complete", () => {
  const { solo, receive } = setup({ reassemblyFragments: 6 });
  const data = pattern(40, 5); // 48 bytes with the header: six 8-byte pieces
  const pieces = evenly(udpPacket(data), 8);
  assert.is(pieces.length, 6);
  for (const p of pieces) solo.send(fragment(p, 1));
  assert.equal(receive(), data);
  const seven = evenly(udpPacket(pattern(48, 5)), 8);
  assert.is(seven.length, 7);
  for (const p of seven.slice(0, 6)) solo.send(fragment(p, 2));
  const before = counters(solo.stack);
  solo.send(fragment(seven[6], 2));
  assert.equal(delta(before, counters(solo.stack)), {
    "link.framesIn": 1,
    "ip.packetsIn": 1,
    "ip.fragmentsIn": 1,
    "ip.reassemblyFailures": 1,
  });
  assert.is(receive(), null);
  assert.ok(solo.poolFull());
});

test("a datagram larger than reassemblySize is dropped; one of exactly that size is not", () => {
  const { solo, receive } = setup({ reassemblySize: 4000 });
  const fits = pattern(4000 - 8, 6);
  for (const p of evenly(udpPacket(fits), 1480)) solo.send(fragment(p, 11));
  assert.equal(receive(), fits);
  const big = udpPacket(pattern(4000 - 8 + 1, 6));
  const pieces = evenly(big, 1480);
  for (const p of pieces) solo.send(fragment(p, 12));
  assert.is(receive(), null);
  assert.is(solo.iface.ipStats.reassemblyFailures, 1);
  assert.ok(solo.iface.ipStats.badLength >= 1);
  assert.ok(solo.poolFull());
});

test("a datagram past 65535 bytes is dropped; the largest legal one reassembles", () => {
  const { solo, receive } = setup({
    reassemblySize: 65535,
    udpReceiveBuffer: 66000,
    buffers: 4,
  });
  const largest = pattern(65535 - 20 - 8, 7);
  const pieces = evenly(udpPacket(largest), 1480);
  for (const p of pieces) solo.send(fragment(p, 21));
  assert.equal(receive(), largest);
  // The last piece of a datagram one byte too long: offset 65512 + 4 bytes = 65516 > 65515.
  const head = evenly(udpPacket(pattern(65535 - 20 - 8 + 1, 7)), 1480);
  for (const p of head) solo.send(fragment(p, 22));
  assert.is(receive(), null);
  // The furthest a fragment can reach: offset 8191 * 8 plus a full frame.
  solo.send(fragment({ offset: 65528, data: pattern(1480), more: false }, 23));
  assert.is(receive(), null);
  assert.ok(solo.poolFull());
});

test("a too-big fragment of a new datagram does not evict one in progress", () => {
  const { solo, receive } = setup({ reassemblySlots: 1 });
  const data = pattern(2000, 8);
  const pieces = evenly(udpPacket(data), 1000);
  solo.send(fragment(pieces[0], 31));
  solo.send(fragment({ offset: 65528, data: pattern(100), more: false }, 32));
  solo.send(fragment(pieces[1], 31));
  solo.send(fragment(pieces[2], 31));
  assert.equal(receive(), data);
});

test("an unfinished datagram times out after 30 s with time exceeded (code 1) quoting it", () => {
  const { solo, receive } = setup();
  const payload = udpPacket(pattern(3000, 9));
  const pieces = evenly(payload, 1480);
  const first = fragment(pieces[0], 0x4242);
  solo.send(first);
  solo.send(fragment(pieces[2], 0x4242));
  solo.advance(30_000 - 1);
  assert.equal(solo.take(), [], "nothing before 30 s");
  assert.is(solo.iface.ipStats.reassemblyTimeouts, 0);
  solo.advance(1);
  const sent = solo.take();
  assert.is(sent.length, 1);
  const reply = sent[0].ip!;
  assert.is(reply.protocol, 1);
  assert.is(reply.destination, PEER_IP);
  assert.is(reply.source, STACK_IP);
  assert.ok(checksumOk(reply.header), "IP header checksum");
  const message = reply.payload;
  assert.ok(checksumOk(message), "ICMP checksum");
  assert.is(message[0], 11, "time exceeded");
  assert.is(message[1], 1, "fragment reassembly time exceeded");
  // The quote: the first fragment's IP header and its first 8 bytes of data (RFC 792).
  const quoted = first.subarray(14, 14 + 20 + 8);
  assert.equal(message.slice(8, 8 + 28), quoted);
  assert.is(solo.iface.ipStats.reassemblyTimeouts, 1);
  assert.is(solo.iface.icmpStats.timeExceededOut, 1);
  assert.is(receive(), null);
  assert.ok(solo.poolFull());
});

test("without the first fragment, a timeout sends nothing", () => {
  const { solo } = setup();
  const pieces = evenly(udpPacket(pattern(3000, 9)), 1480);
  solo.send(fragment(pieces[1], 0x4343));
  solo.send(fragment(pieces[2], 0x4343));
  solo.advance(31_000);
  assert.equal(solo.take(), []);
  assert.is(solo.iface.ipStats.reassemblyTimeouts, 1);
  assert.is(solo.iface.icmpStats.timeExceededOut, 0);
  assert.ok(solo.poolFull());
});

test("fragments sent to the broadcast address time out without an error", () => {
  const { solo } = setup();
  const pieces = evenly(udpPacket(pattern(3000, 9), { destination: 0xffffffff }), 1480);
  solo.send(fragment(pieces[0], 0x4444, { destination: 0xffffffff }).fill(0xff, 0, 6));
  solo.advance(31_000);
  assert.equal(solo.take(), []);
  assert.is(solo.iface.ipStats.reassemblyTimeouts, 1);
});

test("with every slot busy, a new datagram recycles the oldest slot", () => {
  const { solo, receive } = setup({ reassemblySlots: 2 });
  const a = evenly(udpPacket(pattern(2500, 10)), 1000);
  const b = evenly(udpPacket(pattern(2500, 11)), 1000);
  const c = evenly(udpPacket(pattern(2500, 12)), 1000);
  solo.send(fragment(a[0], 100));
  solo.advance(10);
  solo.send(fragment(b[0], 101));
  solo.advance(10);
  solo.send(fragment(b[1], 101)); // touching b does not make it younger than its start
  solo.send(fragment(c[0], 102)); // evicts a
  assert.is(solo.iface.ipStats.reassemblyFailures, 1);
  for (const p of b.slice(1)) solo.send(fragment(p, 101));
  assert.equal(receive(), pattern(2500, 11));
  for (const p of c.slice(1)) solo.send(fragment(p, 102));
  assert.equal(receive(), pattern(2500, 12));
  for (const p of a.slice(1)) solo.send(fragment(p, 100));
  assert.is(receive(), null, "a lost its first piece with its slot");
  assert.ok(solo.poolFull());
});

test("datagrams are told apart by source, destination, protocol and identification", () => {
  const { solo, receive } = setup();
  const one = evenly(udpPacket(pattern(2000, 13)), 1000);
  const two = evenly(udpPacket(pattern(2000, 14)), 1000);
  // Same id, different protocol (an ICMP datagram in the same id space) must not mix.
  solo.send(fragment(one[0], 500));
  solo.send(fragment(two[1], 500, { protocol: 1 }));
  solo.send(fragment(one[1], 500));
  solo.send(fragment(one[2], 500));
  assert.equal(receive(), pattern(2000, 13));
  assert.ok(solo.poolFull());
});

test("endless fragments never exhaust the pool", () => {
  const { solo, receive } = setup({ buffers: 4 });
  const payload = udpPacket(pattern(3000, 15));
  const pieces = evenly(payload, 1480);
  for (let i = 0; i < 5000; i++) {
    solo.send(fragment(pieces[i % 2], i & 0xffff));
    if (!solo.poolFull()) throw new Error(`buffer held after fragment ${i}`);
  }
  assert.is(solo.iface.link.noBuffer, 0);
  assert.is(solo.iface.ipStats.fragmentsIn, 5000);
  assert.is(solo.iface.ipStats.reassemblyFailures, 5000 - 2);
  // A real datagram still gets through afterwards.
  for (const p of pieces) solo.send(fragment(p, 0x7777));
  assert.equal(receive(), pattern(3000, 15));
  solo.advance(60_000);
  solo.take();
  assert.ok(solo.poolFull());
});

test("a reassembled datagram to a closed port gets port unreachable quoting its first bytes", () => {
  const { solo } = setup();
  const payload = udp({
    source: PEER_IP,
    destination: STACK_IP,
    sourcePort: 4000,
    destinationPort: 9999,
    payload: pattern(3000, 16),
  });
  const pieces = evenly(payload, 1480);
  for (const p of pieces) solo.send(fragment(p, 0x5151));
  const sent = solo.take();
  assert.is(sent.length, 1);
  const message = sent[0].ip!.payload;
  assert.is(message[0], 3);
  assert.is(message[1], 3);
  assert.ok(checksumOk(message));
  // Quoted: the first fragment's header, then the UDP header and data, 576 bytes at most in all.
  assert.is(20 + message.length, 576);
  assert.equal(message.slice(8 + 20, 8 + 20 + 100), payload.slice(0, 100));
});

test.run();
