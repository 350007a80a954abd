import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { PerformanceObserver } from "node:perf_hooks";
import { Checksum, checksumAdjust, fold, headerSum20, sumBytes } from "../../src/wire/checksum.js";

// A plain RFC 1071 reference, written independently of the code under test.
function reference(bytes: Uint8Array, offset: number, length: number): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += (i % 2 === 0 ? 256 : 1) * bytes[offset + i];
  while (sum > 0xffff) sum = (sum % 65536) + Math.floor(sum / 65536);
  return sum;
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g)!.map((pair) => parseInt(pair, 16)));
}

test("RFC 1071 §3 worked example", () => {
  const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  assert.is(sumBytes(bytes, 0, 8, 0), 0xddf2);
});

test("the textbook IPv4 header (checksum 0xb861) verifies, and its checksum is recomputed", () => {
  const h = hex("45000073000040004011b861c0a80001c0a800c7");
  const summer = new Checksum();
  assert.is(sumBytes(h, 0, 20, 0), 0xffff);
  assert.is(summer.sum(h, 0, 20, 0), 0xffff);
  h[10] = 0;
  h[11] = 0;
  assert.is(~summer.sum(h, 0, 20, 0) & 0xffff, 0xb861);
});

test("the word-at-a-time summer equals the reference at every offset, length and start value", () => {
  const summer = new Checksum();
  const arena = new Uint8Array(4096);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 2000 }),
      fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: 0, max: 0x3ffff }),
      (data, shift, initial) => {
        arena.set(data, shift);
        const expected = fold(reference(arena, shift, data.length) + initial);
        return summer.sum(arena, shift, data.length, initial) === expected;
      },
    ),
    { numRuns: 3000 },
  );
});

test("the unrolled 20-byte header sum equals the reference at any offset", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 40, maxLength: 40 }),
      fc.integer({ min: 0, max: 20 }),
      (bytes, at) => headerSum20(bytes, at) === reference(bytes, at, 20),
    ),
  );
  assert.is(headerSum20(new Uint8Array(20).fill(0xff), 0), 0xffff);
});

test("sums of all-0xff data stay 0xffff rather than folding to zero", () => {
  const summer = new Checksum();
  const data = new Uint8Array(1024).fill(0xff);
  assert.is(summer.sum(data, 0, 1024, 0), 0xffff);
  assert.is(summer.sum(data, 1, 1000, 0), 0xffff);
});

test("incremental update (RFC 1624) equals recomputation", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 64 }),
      fc.integer({ min: 0, max: 9 }),
      fc.integer({ min: 0, max: 0xffff }),
      (data, word, value) => {
        const bytes = Uint8Array.from(data.subarray(0, data.length & ~1));
        bytes[0] = 0;
        bytes[1] = 0;
        const checksum = ~sumBytes(bytes, 0, bytes.length, 0) & 0xffff;
        const at = 2 + (word % ((bytes.length - 2) >> 1)) * 2;
        const old = (bytes[at] << 8) | bytes[at + 1];
        bytes[at] = value >>> 8;
        bytes[at + 1] = value & 255;
        const recomputed = ~sumBytes(bytes, 0, bytes.length, 0) & 0xffff;
        const adjusted = checksumAdjust(checksum, old, value);
        // Both encode the same sum; ones' complement has two zeros (0x0000 and 0xffff).
        return (
          adjusted === recomputed ||
          ((adjusted | recomputed) === 0xffff && (adjusted & recomputed) === 0)
        );
      },
    ),
    { numRuns: 2000 },
  );
});

// A message whose checksum field is word 1; `words` are its 16-bit words, checksum included.
function fullChecksum(words: Uint16Array): number {
  let sum = 0;
  for (let i = 0; i < words.length; i++) if (i !== 1) sum += words[i];
  return ~fold(sum) & 0xffff;
}

function verifies(words: Uint16Array): boolean {
  let sum = 0;
  for (let i = 0; i < words.length; i++) sum += words[i];
  return fold(sum) === 0xffff;
}

/** Changes word `at` from `from` to `to` and checks the incremental checksum against a full one. */
function checkAdjust(words: Uint16Array, at: number, from: number, to: number): string | null {
  words[at] = from;
  words[1] = fullChecksum(words);
  const adjusted = checksumAdjust(words[1], from, to);
  words[at] = to;
  const full = fullChecksum(words);
  words[1] = adjusted;
  if (!verifies(words)) return `${from}->${to}: 0x${adjusted.toString(16)} does not verify`;
  // The one difference allowed: a sum of -0 from non-zero data, which 0xffff verifies as well.
  if (adjusted !== full && !(full === 0 && adjusted === 0xffff))
    return `${from}->${to}: 0x${adjusted.toString(16)}, full 0x${full.toString(16)}`;
  return null;
}

test("incremental update equals a full recomputation for every 16-bit old and new word", () => {
  const shapes = [
    // An ICMP echo header with identifier, sequence and payload all zero.
    Uint16Array.of(0x0800, 0, 0, 0),
    // Everything else zero but one word of a larger message.
    Uint16Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    // Data summing to ones'-complement -0 apart from the changed word.
    Uint16Array.of(0x1234, 0, 0xedcb, 0x0000, 0xffff, 0),
    Uint16Array.of(0x4500, 0, 0x1c22, 0x2200, 0x4001, 0xc000, 0x0202, 0xc000, 0x0201),
  ];
  const probes = [0, 1, 0x0800, 0x7fff, 0x8000, 0xfffe, 0xffff];
  for (const shape of shapes) {
    for (const at of [0, shape.length - 1]) {
      const words = Uint16Array.from(shape);
      for (const probe of probes) {
        for (let v = 0; v <= 0xffff; v++) {
          const forward = checkAdjust(words, at, probe, v);
          if (forward !== null)
            assert.unreachable(`shape ${Array.from(shape)} word ${at}: ${forward}`);
          const back = checkAdjust(words, at, v, probe);
          if (back !== null) assert.unreachable(`shape ${Array.from(shape)} word ${at}: ${back}`);
        }
      }
    }
  }
});

test("an echo request with an all-zero rest gets a reply checksum of 0xffff, not 0x0000", () => {
  assert.is(checksumAdjust(0xf7ff, 0x0800, 0x0000), 0xffff);
});

test("arrays of every alignment and alternating arrays sum alike, past 2^30 of data", () => {
  const summer = new Checksum();
  const big = new Uint8Array(70_000).fill(0xff);
  big[5] = 0x12;
  const reference70k = reference(big, 3, 69_990);
  const window = new Uint8Array(big.buffer, 1, 69_999);
  for (let i = 0; i < 3; i++) {
    assert.is(summer.sum(big, 3, 69_990, 0), reference70k);
    assert.is(summer.sum(window, 2, 69_990, 0), reference70k);
    assert.is(sumBytes(big, 3, 69_990, 0), reference70k);
  }
  // Large initial values still fold with every carry.
  assert.is(summer.sum(big, 0, 64, 0x3_0000_0001), fold(reference(big, 0, 64) + 0x3_0000_0001));
});

test("summing two arrays in turn collects no garbage on V8", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc");
  const summer = new Checksum();
  const a = new Uint8Array(2048).fill(0x5a);
  const b = new Uint8Array(2048).fill(0xa5);
  let total = 0;
  const round = () => {
    for (let i = 0; i < 100_000; i++) {
      total ^= summer.sum(a, i & 7, 1472, 0);
      total ^= summer.sum(b, 1, 64, total);
    }
  };
  round();
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  collections = 0;
  round();
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  assert.is(collections, 0);
  assert.ok(total > 0);
});

test.run();
