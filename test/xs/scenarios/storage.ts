// The storage layer and the generator under XS: pool exhaustion and recovery, handle lists, ring
// wrap-around, every branch of copy(), and xoshiro128** output (which must match V8 bit for bit).

import { Memory, copy } from "../../../src/storage/memory.js";
import { HandleList, PacketPool } from "../../../src/storage/pool.js";
import { ByteRing } from "../../../src/storage/ring.js";
import { Random } from "../../../src/random.js";
import { check, hex, same, value } from "../report.js";

function pool(): void {
  const memory = new Memory(new Uint8Array(4096), 3);
  const p = new PacketPool(memory, 8, 96);
  same("pool.base-aligned", p.base % 8, 0);
  const handles: number[] = [];
  for (let h = p.alloc(); h >= 0; h = p.alloc()) handles.push(h);
  same("pool.allocated", handles.length, 8);
  same("pool.available-empty", p.available, 0);
  same("pool.exhausted", p.exhausted, 1);
  same("pool.distinct", new Set(handles).size, 8);
  value("pool.order", handles.join(","));
  let disjoint = true;
  for (const h of handles) {
    const at = p.offsetOf(h);
    if (at < p.base || at + p.size > p.base + p.count * p.size) disjoint = false;
    p.bytes.fill(h + 1, at, at + p.size);
  }
  for (const h of handles) if (p.bytes[p.offsetOf(h) + p.size - 1] !== h + 1) disjoint = false;
  check("pool.spans-disjoint", disjoint);
  for (let i = handles.length - 1; i >= 0; i -= 2) p.free(handles[i]);
  same("pool.available-half", p.available, 4);
  let thrown = "";
  try {
    p.free(handles[7]);
  } catch (error) {
    thrown = (error as Error).message;
  }
  check("pool.double-free-refused", thrown === "" && p.badFrees === 1, thrown);
  same("pool.available-after-bad-free", p.available, 4);
  for (let i = handles.length - 2; i >= 0; i -= 2) p.free(handles[i]);
  same("pool.available-full", p.available, 8);
  const again: number[] = [];
  for (let h = p.alloc(); h >= 0; h = p.alloc()) again.push(h);
  value("pool.reuse-order", again.join(","));
  same("pool.exhausted-twice", p.exhausted, 2);

  const list = new HandleList();
  for (const h of again.slice(0, 5)) list.push(p, h);
  same("list.length", list.length, 5);
  same("list.fifo", list.shift(p), again[0]);
  list.freeAll(p);
  same("list.empty", list.shift(p), -1);
  same("list.freed", p.available, 4);
}

function ring(): void {
  const memory = new Memory(new Uint8Array(256));
  const r = new ByteRing(memory, 10);
  const src = new Uint8Array(64);
  for (let i = 0; i < src.length; i++) src[i] = (i * 7 + 3) & 0xff;
  const dst = new Uint8Array(64);
  same("ring.write-7", r.write(src, 0, 7), 7);
  same("ring.read-5", r.read(dst, 0, 5), 5);
  // 2 held at [5,7); 8 more fit and wrap past the end.
  same("ring.write-wraps", r.write(src, 7, 20), 8);
  same("ring.full", r.writable, 0);
  same("ring.peek-byte", r.peekByte(4), src[9]);
  same("ring.peek-skip", r.peek(dst, 40, 6, 3), 6);
  same("ring.peek-bytes", hex(dst, 40, 6), hex(src, 8, 6));
  same("ring.read-all", r.read(dst, 5, 64), 10);
  same("ring.read-bytes", hex(dst, 0, 15), hex(src, 0, 15));
  same("ring.empty", r.readable, 0);
  same("ring.peek-past-end", r.peek(dst, 0, 4, 0), 0);
  // Many uneven writes and reads wrap the ring over and over; a plain array is the model.
  const model: number[] = [];
  let good = true;
  let drained = 0;
  for (let round = 0; round < 200; round++) {
    const n = 1 + (round % 9);
    for (let i = 0; i < n; i++) src[i] = (round * 13 + i) & 0xff;
    const wrote = r.write(src, 0, n);
    for (let i = 0; i < wrote; i++) model.push(src[i]);
    if (wrote !== Math.min(n, r.capacity - (model.length - wrote))) good = false;
    const got = r.read(dst, 0, 1 + ((round * 5) % 10));
    for (let i = 0; i < got; i++) if (dst[i] !== model.shift()) good = false;
    if (r.readable !== model.length) good = false;
    drained += got;
  }
  check("ring.rounds", good);
  value("ring.rounds-drained", drained);
  same("ring.discard", r.discard(1000), r.capacity - r.writable);
}

function copies(): void {
  const arena = new Uint8Array(128);
  for (let i = 0; i < arena.length; i++) arena[i] = i;
  copy(arena, 10, arena, 0, 20); // overlapping memmove within one array
  same(
    "copy.memmove",
    hex(arena, 10, 20),
    hex(
      Uint8Array.from({ length: 20 }, (_, i) => i),
      0,
      20,
    ),
  );
  const whole = Uint8Array.of(9, 8, 7);
  copy(arena, 100, whole, 0, 3); // whole source
  same("copy.whole", hex(arena, 100, 3), "090807");
  const other = new Uint8Array(80);
  for (let i = 0; i < other.length; i++) other[i] = 255 - i;
  copy(arena, 0, other, 5, 8); // short: byte loop
  same("copy.short", hex(arena, 0, 8), hex(other, 5, 8));
  copy(arena, 40, other, 10, 60); // long: view
  same("copy.long", hex(arena, 40, 60), hex(other, 10, 60));
  copy(arena, 0, other, 0, 0);
  same("copy.nothing", arena[0], other[5]);
}

function random(): void {
  const a = new Random(1);
  const b = new Random(1);
  const first: number[] = [];
  for (let i = 0; i < 8; i++) first.push(a.next());
  value("random.seed1", first.join(","));
  let equal = true;
  for (let i = 0; i < 8; i++) if (b.next() !== first[i]) equal = false;
  check("random.reproducible", equal);
  const c = new Random(0xdeadbeef);
  let inRange = true;
  let sum = 0;
  for (let i = 0; i < 1000; i++) {
    const k = c.below(6);
    const f = c.float();
    if (k < 0 || k > 5 || k !== Math.floor(k) || f < 0 || f >= 1) inRange = false;
    sum += k;
  }
  check("random.in-range", inRange);
  value("random.sum-below6", sum);
  c.reseed(7);
  value("random.seed7", c.next());
}

export function main(): void {
  pool();
  ring();
  copies();
  random();
}
