// Security by default: SipHash-2-4 against the reference vectors, initial sequence numbers per
// RFC 6528 (a keyed hash of the 4-tuple plus a 4 µs clock), ephemeral ports per RFC 6056, and SYN
// cookies that only the stack's key can make.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { EINPROGRESS } from "../../src/errno.js";
import { EPHEMERAL_FIRST, EPHEMERAL_LAST } from "../../src/transport/ports.js";
import { SipHash } from "../../src/transport/siphash.js";
import { FullAddress } from "../../src/wire/address.js";
import { PEER_IP, STACK_IP } from "../support/harness.js";
import { TcpScript } from "../support/tcp-script.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";

// SipHash-2-4 with the key 00 01 .. 0f over the messages 00, 00 01, .. (the reference
// implementation's vectors, as 64-bit integers).
const VECTORS: readonly bigint[] = [
  0x726fdb47dd0e0e31n,
  0x74f839c593dc67fdn,
  0x0d6c8009d9a94f5an,
  0x85676696d7fb7e2dn,
  0xcf2794e0277187b7n,
  0x18765564cd99a68dn,
  0xcbc9466e58fee3cen,
  0xab0200f58b01d137n,
  0x93f5f5799a932462n,
  0x9e0082df0ba9e4b0n,
  0x7a5dbbc594ddb9f3n,
  0xf4b32f46226bada7n,
  0x751e8fbc860ee5fbn,
  0x14ea5627c0843d90n,
  0xf723ca908e7af2een,
  0xa129ca6149be45e5n,
  0x3f2acc7f57c29bdbn,
  0x699ae9f52cbe4794n,
  0x4bc1b3f0968dd39cn,
  0xbb6dc91da77961bdn,
  0xbed65cf21aa2ee98n,
  0xd0f2cbb02e3b67c7n,
  0x93536795e3a33e88n,
  0xa80c038ccd5ccec8n,
];
const LAST_VECTOR = 0x958a324ceb064572n; // 63 bytes

function keyed(): SipHash {
  const key = new Uint8Array(16);
  for (let i = 0; i < 16; i++) key[i] = i;
  const h = new SipHash();
  h.setKeyBytes(key, 0);
  return h;
}

function result(h: SipHash, low: number): bigint {
  return (BigInt(h.high >>> 0) << 32n) | BigInt(low >>> 0);
}

test("SipHash-2-4 gives the reference vectors", () => {
  const h = keyed();
  const message = new Uint8Array(64);
  for (let i = 0; i < 64; i++) message[i] = i;
  for (let n = 0; n < VECTORS.length; n++)
    assert.is(result(h, h.hashBytes(message, 0, n)), VECTORS[n], `${n} bytes`);
  assert.is(result(h, h.hashBytes(message, 0, 63)), LAST_VECTOR, "63 bytes");
  // At an offset, the same bytes hash the same.
  const shifted = new Uint8Array(70);
  shifted.set(message, 5);
  assert.is(result(h, h.hashBytes(shifted, 5, 15)), VECTORS[15]);
});

test("hashing words equals hashing their little-endian bytes", () => {
  const h = keyed();
  const words = [0x0302_0100, 0x0706_0504, 0x0b0a_0908, 0x0f0e_0d0c, 0x1312_1110];
  assert.is(result(h, h.hashWords(words[0], words[1], words[2])), VECTORS[12]);
  assert.is(result(h, h.hashWords5(words[0], words[1], words[2], words[3], words[4])), VECTORS[20]);
});

test("an ISN is the keyed hash of its 4-tuple plus a 4 µs clock", () => {
  const s = new TcpScript();
  const t = s.stack.tcp;
  const a = t.isn(STACK_IP, 80, PEER_IP, 40000, 5000);
  // The clock: 250 ticks a millisecond, and nothing else moves.
  assert.is((t.isn(STACK_IP, 80, PEER_IP, 40000, 5001) - a) | 0, 250);
  assert.is((t.isn(STACK_IP, 80, PEER_IP, 40000, 5000 + 4 * 3600_000) - a) | 0, 3600_000_000 | 0);
  // What goes on the wire is that function at the time of the SYN.
  const listener = s.stack.openTcp() as TcpEndpoint;
  listener.bind(null, 80);
  listener.listen(4);
  s.inject("S");
  const synAck = s.expect("S.");
  assert.is(synAck.seq, t.isn(STACK_IP, 80, PEER_IP, 40000, s.solo.now) >>> 0);
  // Another stack (another secret) numbers the same tuple at the same time differently.
  const other = new TcpScript({ stack: { seed: 8 } });
  assert.is.not(other.stack.tcp.isn(STACK_IP, 80, PEER_IP, 40000, 5000), a);
});

test("the ISNs of 1,000 tuples at one instant show no pattern", () => {
  const t = new TcpScript().stack.tcp;
  const isns: number[] = [];
  for (let port = 1; port <= 1000; port++) isns.push(t.isn(STACK_IP, 80, PEER_IP, port, 0));
  // No common step between neighbouring tuples, as a counter or a weak mix would show.
  const steps = new Set<number>();
  for (let i = 1; i < isns.length; i++) steps.add((isns[i] - isns[i - 1]) | 0);
  assert.ok(steps.size > 990, `${steps.size} distinct steps`);
  // Every bit is set about half the time (binomial, 1,000 draws: 500 ± 80 is over 5 sigma).
  for (let bit = 0; bit < 32; bit++) {
    let ones = 0;
    for (const v of isns) ones += (v >>> bit) & 1;
    assert.ok(ones > 420 && ones < 580, `bit ${bit}: ${ones} of 1000`);
  }
});

test("the ephemeral ports of 1,000 connects are spread over Linux's range, not counted up", () => {
  const s = new TcpScript();
  const to = new FullAddress();
  to.address.setV4(PEER_IP);
  to.port = 5001;
  const ports: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const conn = s.stack.openTcp() as TcpEndpoint;
    assert.is(conn.connect(to), -EINPROGRESS);
    ports.push(s.expect("S").sourcePort);
    assert.is(conn.close(), 0);
  }
  for (const p of ports) assert.ok(p >= EPHEMERAL_FIRST && p <= EPHEMERAL_LAST, `port ${p}`);
  // A scan from the last port (or any fixed step) makes most neighbours differ by the same step.
  const steps = new Map<number, number>();
  for (let i = 1; i < ports.length; i++) {
    const d = ports[i] - ports[i - 1];
    steps.set(d, (steps.get(d) ?? 0) + 1);
  }
  const commonest = Math.max(...steps.values());
  assert.ok(commonest < 10, `one step repeats ${commonest} times`);
  // Uniform over 28,232 ports: about 18 repeats in 1,000 draws expected.
  assert.ok(new Set(ports).size > 950, `${new Set(ports).size} distinct`);
  // Both halves of the range are used.
  const low = ports.filter((p) => p < (EPHEMERAL_FIRST + EPHEMERAL_LAST) / 2).length;
  assert.ok(low > 400 && low < 600, `${low} in the lower half`);
});

test.run();
