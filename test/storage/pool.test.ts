import { test } from "uvu";
import * as assert from "uvu/assert";
import { Memory } from "../../src/storage/memory.js";
import { HandleList, PacketPool } from "../../src/storage/pool.js";

function pool(count: number, size: number): PacketPool {
  return new PacketPool(new Memory(new Uint8Array(count * size + 64)), count, size);
}

test("hands out every buffer once, then reports exhaustion", () => {
  const p = pool(4, 64);
  const seen = new Set<number>();
  for (let i = 0; i < 4; i++) seen.add(p.alloc());
  assert.is(seen.size, 4);
  assert.is(p.available, 0);
  assert.is(p.alloc(), -1);
  assert.is(p.exhausted, 1);
  for (const h of seen) p.free(h);
  assert.is(p.available, 4);
});

test("buffers do not overlap, start 8-aligned and stay inside the arena span", () => {
  const p = pool(3, 100);
  const offsets = [p.alloc(), p.alloc(), p.alloc()].map((h) => p.offsetOf(h)).sort((a, b) => a - b);
  // 100 bytes each, laid out every 104 so each starts on an 8-byte boundary.
  assert.is(p.stride, 104);
  assert.is(offsets[1] - offsets[0], 104);
  assert.is(offsets[2] - offsets[1], 104);
  for (const at of offsets) assert.is(at & 7, 0);
  assert.ok(offsets[2] + 100 <= p.bytes.length);
});

test("a double free is refused and counted, never thrown, and the pool stays whole", () => {
  const p = pool(2, 64);
  const h = p.alloc();
  p.free(h);
  p.free(h);
  p.free(-1);
  p.free(2);
  assert.is(p.badFrees, 3);
  assert.is(p.available, 2);
  // Still one owner per buffer: two allocations give two different handles, then none.
  const x = p.alloc();
  const y = p.alloc();
  assert.ok(x >= 0 && y >= 0 && x !== y);
  assert.is(p.alloc(), -1);
});

test("HandleList is FIFO and returns everything on freeAll", () => {
  const p = pool(5, 64);
  const list = new HandleList();
  const hs = [p.alloc(), p.alloc(), p.alloc()];
  for (const h of hs) list.push(p, h);
  assert.is(list.length, 3);
  assert.is(list.shift(p), hs[0]);
  assert.is(list.length, 2);
  list.freeAll(p);
  assert.is(list.length, 0);
  assert.is(list.shift(p), -1);
  assert.is(p.available, 4);
});

test.run();
