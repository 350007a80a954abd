import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Checksum, checksumAdjust, fold, sumBytes } from "../../src/wire/checksum.js";

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

test.run();
