// The storage layer's per-packet work as one step: take a pool buffer, queue it, write it through
// a ring and read it back, release it, draw a random number. None of it may allocate. Every copy
// stays inside the arena, as the stack's hot paths do (a copy out of it costs a view).

import { Memory } from "../../../src/storage/memory.js";
import { HandleList, PacketPool } from "../../../src/storage/pool.js";
import { ByteRing } from "../../../src/storage/ring.js";
import { Random } from "../../../src/random.js";

interface State {
  pool: PacketPool;
  list: HandleList;
  ring: ByteRing;
  random: Random;
  /** Arena offset where reads land. */
  out: number;
}

let state: State | null = null;

export function setup(): void {
  const memory = new Memory(new Uint8Array(16384));
  state = {
    pool: new PacketPool(memory, 8, 256),
    list: new HandleList(),
    ring: new ByteRing(memory, 1000),
    random: new Random(42),
    out: memory.take(256),
  };
}

export function step(i: number): void {
  const s = state as State;
  const h = s.pool.alloc();
  s.list.push(s.pool, h);
  const length = 1 + (s.random.next() % 200);
  s.pool.bytes[s.pool.offsetOf(h)] = i & 0xff;
  // Odd lengths walk the ring's wrap point through every position.
  s.ring.write(s.pool.bytes, s.pool.offsetOf(h), length);
  s.ring.read(s.pool.bytes, s.out, length);
  s.pool.free(s.list.shift(s.pool));
}
