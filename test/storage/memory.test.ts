import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { PerformanceObserver } from "node:perf_hooks";
import { copy, Memory } from "../../src/storage/memory.js";

// What copy() must leave behind: a plain byte-by-byte memmove, clamped to both arrays.
function expected(
  dst: Uint8Array,
  dstOffset: number,
  src: Uint8Array,
  srcOffset: number,
  length: number,
): Uint8Array {
  const out = Uint8Array.from(dst);
  const n = Math.min(length, dst.length - dstOffset, src.length - srcOffset);
  const taken = Array.from(src.slice(srcOffset, srcOffset + Math.max(n, 0)));
  for (let i = 0; i < n; i++) out[dstOffset + i] = taken[i];
  return out;
}

function filled(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

test("across arrays: every relative alignment, offset and length copies exactly", () => {
  const src = filled(9000, 7);
  for (const length of [0, 1, 3, 31, 32, 33, 64, 100, 1472, 8000]) {
    for (let srcOffset = 0; srcOffset < 8; srcOffset++) {
      for (let dstOffset = 0; dstOffset < 8; dstOffset++) {
        const dst = filled(8100, 200);
        const want = expected(dst, dstOffset, src, srcOffset, length);
        copy(dst, dstOffset, src, srcOffset, length);
        assert.equal(dst, want, `length ${length} src+${srcOffset} dst+${dstOffset}`);
      }
    }
  }
});

test("windows on larger buffers: nothing outside the destination window changes", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 0, max: 15 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: -5, max: 400 }),
      fc.boolean(),
      (dstStart, srcStart, dstOffset, srcOffset, length, oneBuffer) => {
        const whole = filled(2048, 3);
        const other = oneBuffer ? whole : filled(2048, 99);
        const dst = whole.subarray(dstStart + 600, dstStart + 900);
        const src = other.subarray(srcStart, srcStart + 310);
        const before = Uint8Array.from(whole);
        const want = expected(dst, dstOffset, src, srcOffset, length);
        copy(dst, dstOffset, src, srcOffset, length);
        assert.equal(Uint8Array.from(dst), want);
        for (let i = 0; i < whole.length; i++)
          if (i < dst.byteOffset || i >= dst.byteOffset + dst.length)
            assert.is(whole[i], before[i], `byte ${i} outside the window`);
        return true;
      },
    ),
    { numRuns: 3000 },
  );
});

test("overlapping spans of one array and of two views on one buffer move like memmove", () => {
  const memory = new Memory(filled(4096, 1));
  const bytes = memory.bytes;
  const view = new Uint8Array(bytes.buffer, 100, 2000);
  for (const [to, from, n] of [
    [10, 12, 500],
    [12, 10, 500],
    [0, 1, 1999],
    [1, 0, 1999],
    [3, 5, 20],
    [5, 3, 20],
  ]) {
    const want = expected(bytes, 100 + to, bytes, 100 + from, n);
    copy(view, to, bytes, 100 + from, n);
    assert.equal(bytes, want, `view ${to} <- arena ${100 + from}, ${n}`);
    const again = expected(bytes, to, bytes, from, n);
    copy(bytes, to, bytes, from, n);
    assert.equal(bytes, again, `arena ${to} <- ${from}, ${n}`);
  }
});

test("frozen or otherwise unextensible buffers are copied too, byte by byte", () => {
  const src = filled(256, 5);
  Object.preventExtensions(src.buffer);
  const dst = new Uint8Array(256);
  copy(dst, 2, src, 6, 200);
  assert.equal(dst, expected(new Uint8Array(256), 2, src, 6, 200));
});

test("copies across arrays make no new view after the first: no V8 collection in 400,000", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc");
  const a = filled(4096, 1);
  const b = new Uint8Array(4096);
  const round = () => {
    for (let i = 0; i < 100_000; i++) {
      copy(b, i & 7, a, 42 + (i & 3), 1472);
      copy(a, 3000, b, 2, 64);
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
  round();
  // GC entries reach observers asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  // A view per copy would be some 40 MB of garbage: many scavenges.
  assert.is(collections, 0);
});

test.run();
