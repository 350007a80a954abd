// UDP across a bad link: seeded loss, reordering and duplication (and, separately, bit
// corruption) on both directions of one stack's device. Thousands of datagrams of random sizes,
// many of them fragmented, are echoed back; every one that arrives must be byte-exact and whole,
// never a mix of two, and the pools must be full at the end.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ImpairedDevice, type ImpairOptions } from "../../hal/impair.js";
import { LinkPair } from "../../hal/pair.js";
import type { StackOptions } from "../../src/config.js";
import { Random } from "../../src/random.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { FullAddress } from "../../src/wire/address.js";
import { endpoint, poolFull } from "../support/stacks.js";
import { VirtualNet } from "../support/virtual.js";

const HEADER = 12; // sequence, length, CRC-32 of the rest

function crc32(b: Uint8Array, from: number, to: number): number {
  let c = ~0;
  for (let i = from; i < to; i++) {
    c ^= b[i];
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

function get32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** Datagram `seq` of `size` bytes: a header naming it, then bytes only it has. */
function make(seq: number, size: number, out: Uint8Array): void {
  put32(out, 0, seq);
  put32(out, 4, size);
  let x = (seq * 2654435761) >>> 0;
  for (let i = HEADER; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  put32(out, 8, crc32(out, HEADER, size));
}

/** The sequence number of a datagram that is exactly what `make` built, or -1. */
function check(b: Uint8Array, n: number, expected: Uint8Array): number {
  if (n < HEADER) return -1;
  const seq = get32(b, 0);
  const size = get32(b, 4);
  if (size !== n || crc32(b, HEADER, n) !== get32(b, 8)) return -1;
  make(seq, size, expected);
  for (let i = 0; i < n; i++) if (b[i] !== expected[i]) return -1;
  return seq;
}

interface Outcome {
  sent: number;
  echoed: number;
  returned: number;
  bad: number;
  duplicates: number;
}

function run(impair: ImpairOptions, count: number, seed: number, largest = 8000): Outcome {
  const options: StackOptions = { udpReceiveBuffer: 40000, buffers: 24 };
  const slots = 64;
  const memory = new Memory(
    new Uint8Array(2 * Stack.memoryNeeded(options) + 4 * slots * 1514 + 2 * 64 * 1514 + 8192),
  );
  const pair = new LinkPair({ memory, slots });
  const impaired = new ImpairedDevice(pair.a, { ...impair, seed, memory });
  const a = new Stack({ ...options, memory, seed: seed + 1 });
  const b = new Stack({ ...options, memory, seed: seed + 2 });
  a.attach(impaired, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(impaired).attach(pair.b);

  const server = b.openUdp() as UdpEndpoint;
  assert.is(server.bind(null, 7), 0);
  const client = a.openUdp() as UdpEndpoint;
  assert.is(client.bind(null, 5000), 0);
  const to = endpoint("192.0.2.2", 7);
  const from = new FullAddress();
  const random = new Random(seed);
  const out = new Uint8Array(8000);
  const buf = new Uint8Array(9000);
  const expected = new Uint8Array(9000);
  const seenAtServer = new Set<number>();
  const seenAtClient = new Set<number>();
  const result: Outcome = { sent: 0, echoed: 0, returned: 0, bad: 0, duplicates: 0 };

  const drain = () => {
    for (;;) {
      const n = server.recvFrom(buf, 0, buf.length, from, 0);
      if (n < 0) break;
      const seq = check(buf, n, expected);
      if (seq < 0) result.bad++;
      else if (seenAtServer.has(seq)) result.duplicates++;
      else {
        seenAtServer.add(seq);
        result.echoed++;
      }
      server.sendTo(buf, 0, n, from);
    }
    for (;;) {
      const n = client.recvFrom(buf, 0, buf.length, null, 0);
      if (n < 0) break;
      const seq = check(buf, n, expected);
      if (seq < 0) result.bad++;
      else if (seenAtClient.has(seq)) result.duplicates++;
      else {
        seenAtClient.add(seq);
        result.returned++;
      }
    }
  };

  for (let seq = 0; seq < count; seq++) {
    const size = HEADER + random.below(largest - HEADER + 1);
    make(seq, size, out);
    const r = client.sendTo(out, 0, size, to);
    if (r === size) result.sent++;
    // Time moves on (reordered frames are released, held ones come due) and both ends answer.
    for (let k = 0; k < 4; k++) {
      net.advance(5);
      drain();
    }
  }
  // Long enough for every reassembly and resolution to finish or give up.
  for (let k = 0; k < 12; k++) {
    net.advance(10_000);
    drain();
  }
  assert.ok(poolFull(a), `a holds ${a.pool.count - a.pool.available} buffers`);
  assert.ok(poolFull(b), `b holds ${b.pool.count - b.pool.available} buffers`);
  assert.is(impaired.tx.held + impaired.rx.held, 0);
  return result;
}

test("loss 0.1, reorder 0.05, duplicate 0.02: what arrives is whole, exact and unmixed", () => {
  const impairments = { loss: 0.1, reorder: 0.05, duplicate: 0.02 };
  const r = run(impairments, 3000, 1234);
  assert.is(r.bad, 0, "no datagram arrived damaged or mixed");
  assert.is(r.sent, 3000, "every send was accepted");
  // Sanity: the link really was bad and still carried most small datagrams.
  assert.ok(r.echoed < r.sent, `${r.echoed} of ${r.sent} reached the server`);
  assert.ok(r.echoed > r.sent * 0.4, `${r.echoed} of ${r.sent} reached the server`);
  assert.ok(r.returned < r.echoed);
  assert.ok(r.returned > r.echoed * 0.3, `${r.returned} of ${r.echoed} came back`);
});

test("a flipped bit in a datagram is always caught by the checksums", () => {
  // One frame per datagram (1472 bytes at most): the Internet checksum detects any single-bit
  // error, but two flips in two fragments of one datagram can cancel out, as RFC 1071 allows.
  const r = run({ corrupt: 0.05, loss: 0.02, duplicate: 0.02, reorder: 0.02 }, 2000, 99, 1472);
  assert.is(r.bad, 0, "no corrupted datagram was delivered");
  assert.ok(r.echoed > 1500, `${r.echoed} of ${r.sent}`);
});

test.run();
