// The run-time span allocator: fill, fragment, coalesce, exhaustion (-1) and recovery, and a random
// workload checked against a model: spans never overlap, stay in the region, and free space always
// adds up.

import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Memory } from "../../src/storage/memory.js";
import { SPAN_ALIGN, Spans } from "../../src/storage/spans.js";

function spans(size: number, max: number): Spans {
  const memory = new Memory(new Uint8Array(size + 64));
  memory.take(3, 1); // the region does not start at 0
  return new Spans(memory, size, max);
}

test("fills the region, then reports exhaustion with -1", () => {
  const s = spans(1024, 8);
  assert.is(s.base % SPAN_ALIGN, 0);
  const got: number[] = [];
  for (let i = 0; i < 4; i++) got.push(s.alloc(256));
  assert.equal(
    got,
    got.map((_, i) => s.base + 256 * i),
  );
  assert.is(s.available, 0);
  assert.is(s.alloc(1), -1);
  assert.is(s.failures, 1);
  assert.ok(s.free(got[2]));
  assert.is(s.alloc(256), got[2], "recovers the freed span");
});

test("rounds up to the alignment; sizeOf reports the span's real length", () => {
  const s = spans(256, 4);
  const a = s.alloc(1);
  const b = s.alloc(9);
  assert.is(b - a, 8);
  assert.is(s.sizeOf(a), 8);
  assert.is(s.sizeOf(b), 16);
  assert.is(s.sizeOf(a + 1), -1);
  assert.is(s.available, 256 - 24);
});

test("freed neighbours coalesce, whatever the order", () => {
  for (const order of [
    [0, 1, 2],
    [2, 1, 0],
    [0, 2, 1],
    [1, 0, 2],
  ]) {
    const s = spans(312, 4);
    const a = [s.alloc(100), s.alloc(100), s.alloc(100)];
    for (const i of order) assert.ok(s.free(a[i]));
    assert.is(s.holes, 1, `order ${order}`);
    assert.is(s.largest, s.size);
    assert.is(s.alloc(s.size), s.base);
  }
});

test("fragmentation leaves room in holes; first fit takes the first hole big enough", () => {
  const s = spans(800, 8);
  const a = [];
  for (let i = 0; i < 8; i++) a.push(s.alloc(100 - (100 % 8)));
  const left = s.available;
  s.free(a[1]);
  s.free(a[3]);
  s.free(a[4]);
  assert.is(s.holes, 3, "3 and 4 merged; the tail is a hole too");
  assert.is(s.largest, 192);
  assert.is(s.alloc(150), a[3], "the first hole of 96 is too small");
  assert.is(s.alloc(96), a[1]);
  assert.is(s.alloc(200), -1);
  assert.is(s.available, left + 192 - 152);
});

test("a double or foreign free changes nothing", () => {
  const s = spans(128, 2);
  const a = s.alloc(64);
  assert.ok(s.free(a));
  assert.not.ok(s.free(a));
  assert.not.ok(s.free(12345));
  assert.is(s.available, 128);
  assert.is(s.holes, 1);
});

test("maxSpans caps live spans even with room left", () => {
  const s = spans(1024, 2);
  const a = s.alloc(8);
  s.alloc(8);
  assert.is(s.alloc(8), -1);
  s.free(a);
  assert.ok(s.alloc(8) >= 0);
  s.reset();
  assert.is(s.live, 0);
  assert.is(s.available, 1024);
});

test("property: random alloc and free never overlap and always add up", () => {
  const op = fc.oneof(
    fc.record({ alloc: fc.constant(true), n: fc.integer({ min: 0, max: 300 }) }),
    fc.record({ alloc: fc.constant(false), n: fc.nat(100) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
      const s = spans(1000, max);
      const live = new Map<number, number>();
      for (const o of ops) {
        if (o.alloc) {
          const at = s.alloc(o.n);
          const need = Math.ceil(o.n / 8) * 8;
          if (at < 0) {
            // Refused only when it really does not fit.
            if (o.n > 0 && live.size < max && s.largest >= need) return false;
            continue;
          }
          if (at < s.base || at + need > s.base + s.size || at % 8 !== 0) return false;
          for (const [b, l] of live) if (at < b + l && b < at + need) return false;
          live.set(at, need);
        } else if (live.size > 0) {
          const keys = [...live.keys()];
          const at = keys[o.n % keys.length];
          if (!s.free(at)) return false;
          live.delete(at);
        }
        let used = 0;
        for (const l of live.values()) used += l;
        if (s.available !== s.size - used || s.live !== live.size) return false;
        if (s.holes > live.size + 1) return false;
      }
      for (const at of live.keys()) s.free(at);
      return s.holes === 1 && s.largest === s.size;
    }),
    { numRuns: 300, seed: 9 },
  );
});

test("spare is the free bytes not promised to owners that have yet to take their span", () => {
  const s = spans(1024, 8);
  s.reserved = 512;
  assert.is(s.spare, 512);
  const a = s.alloc(256);
  assert.is(s.spare, 256, "alloc takes from what is free, promises or not");
  s.reserved -= 256;
  assert.is(s.spare, 512);
  assert.ok(s.free(a));
  assert.is(s.spare, 768);
  assert.is(s.available, 1024);
});

test.run();
