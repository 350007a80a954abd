// ByteRing against a plain array model: writes, reads, peeks, and bytes parked past the tail
// (TCP's out-of-order data) that commit() later makes readable, across every wrap position.

import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Memory } from "../../src/storage/memory.js";
import { ByteRing } from "../../src/storage/ring.js";

function ring(capacity: number): { r: ByteRing; memory: Memory } {
  const memory = new Memory(new Uint8Array(capacity + 4096));
  memory.take(5, 1); // the ring does not start at 0
  return { r: new ByteRing(memory, capacity), memory };
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

test("writeAt parks bytes past the tail; commit makes them readable in order", () => {
  const { r } = ring(16);
  const a = bytes(4, 1);
  const c = bytes(4, 2);
  assert.is(r.writeAt(4, c, 0, 4), 4, "parked after a 4-byte hole");
  assert.is(r.readable, 0);
  assert.is(r.writable, 16);
  assert.is(r.write(a, 0, 4), 4, "the hole filled");
  assert.is(r.commit(4), 4);
  const out = new Uint8Array(8);
  assert.is(r.read(out, 0, 8), 8);
  assert.equal(out, Uint8Array.of(...a, ...c));
});

test("an emptied ring keeps bytes parked past its tail (start is not reset)", () => {
  const { r } = ring(10);
  const out = new Uint8Array(10);
  r.write(bytes(6, 1), 0, 6);
  r.read(out, 0, 6); // the oldest byte is now at index 6
  r.write(bytes(5, 3), 0, 5); // indices 6..9, 0
  assert.is(r.writeAt(2, bytes(3, 4), 0, 3), 3, "indices 3..5, past a 2-byte hole");
  assert.is(r.read(out, 0, 10), 5);
  assert.is(r.readable, 0);
  assert.is(r.write(bytes(2, 5), 0, 2), 2);
  assert.is(r.commit(3), 3);
  assert.is(r.read(out, 0, 10), 5);
  assert.equal(out.slice(0, 5), Uint8Array.of(...bytes(2, 5), ...bytes(3, 4)));
});

test("emptied with nothing parked, a ring starts again at its base, so queues rarely wrap", () => {
  const { r } = ring(10);
  const out = new Uint8Array(10);
  r.write(bytes(6, 1), 0, 6);
  r.read(out, 0, 6);
  assert.is(r.offsetAt(0), r.base);
  assert.is(r.run(0), 0);
  r.write(bytes(8, 2), 0, 8);
  assert.is(r.run(0), 8, "one piece, no wrap");
  r.writeAt(0, bytes(1, 3), 0, 1); // parked, then made readable
  r.commit(1);
  r.read(out, 0, 9);
  assert.is(r.offsetAt(0), r.base);
});

test("writeAt and commit stop at capacity", () => {
  const { r } = ring(8);
  r.write(bytes(3, 1), 0, 3);
  assert.is(r.writeAt(2, bytes(8, 2), 0, 8), 3);
  assert.is(r.writeAt(5, bytes(1, 2), 0, 1), 0);
  assert.is(r.writeAt(-1, bytes(1, 2), 0, 1), 0);
  assert.is(r.commit(100), 5);
  assert.is(r.writable, 0);
  assert.is(r.commit(1), 0);
  assert.is(r.commit(-3), 0);
});

test("offsetAt and run give the contiguous pieces a retransmission reads", () => {
  const { r } = ring(10);
  const out = new Uint8Array(10);
  r.write(bytes(8, 1), 0, 8);
  r.read(out, 0, 6);
  const data = bytes(7, 9);
  r.write(data, 0, 7); // held: 2 old + 7 new, wrapping
  assert.is(r.readable, 9);
  let got: number[] = [];
  for (let skip = 2; skip < r.readable;) {
    const n = r.run(skip);
    assert.ok(n > 0);
    const at = r.offsetAt(skip);
    for (let i = 0; i < n; i++) got.push(r.bytes[at + i]);
    skip += n;
  }
  assert.equal(Uint8Array.from(got), data);
  assert.is(r.run(9), 0);
  assert.is(r.run(-1), 0);
  got = [];
  assert.is(r.peek(out, 0, 4, 3), 4);
  assert.equal(out.slice(0, 4), data.slice(1, 5));
});

test("place() moves a ring onto a span handed out at run time", () => {
  const memory = new Memory(new Uint8Array(256));
  const r = new ByteRing(memory, 0);
  assert.is(r.write(bytes(4, 1), 0, 4), 0, "a ring on nothing takes nothing");
  const span = memory.take(32);
  r.place(span, 32);
  assert.is(r.capacity, 32);
  assert.is(r.write(bytes(20, 2), 0, 20), 20);
  assert.equal(memory.bytes.slice(span, span + 20), bytes(20, 2));
  r.place(span + 8, 12);
  assert.is(r.readable, 0, "placing empties");
  assert.is(r.write(bytes(20, 3), 0, 20), 12);
});

test("property: writes, parks, commits, peeks and reads match a model", () => {
  type Op =
    | { k: "write"; n: number }
    | { k: "park"; skip: number; n: number }
    | { k: "commit"; n: number }
    | { k: "read"; n: number }
    | { k: "peek"; n: number; skip: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ k: fc.constant("write" as const), n: fc.nat(40) }),
    fc.record({ k: fc.constant("park" as const), skip: fc.nat(40), n: fc.nat(40) }),
    fc.record({ k: fc.constant("commit" as const), n: fc.nat(40) }),
    fc.record({ k: fc.constant("read" as const), n: fc.nat(40) }),
    fc.record({ k: fc.constant("peek" as const), n: fc.nat(40), skip: fc.nat(40) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 33 }), fc.array(op, { maxLength: 120 }), (cap, ops) => {
      const { r } = ring(cap);
      // The model: the stream from the oldest byte, readable first, then parked (-1: unknown).
      let model: number[] = [];
      let readable = 0;
      const out = new Uint8Array(64);
      let seed = 0;
      for (const o of ops) {
        seed++;
        if (o.k === "write" || o.k === "park") {
          const skip = o.k === "park" ? o.skip : 0;
          const data = bytes(o.n, seed);
          const n = o.k === "write" ? r.write(data, 0, o.n) : r.writeAt(skip, data, 0, o.n);
          const fit = Math.max(0, Math.min(o.n, cap - readable - skip));
          if (n !== fit) return false;
          while (model.length < readable + skip + n) model.push(-1);
          for (let i = 0; i < n; i++) model[readable + skip + i] = data[i];
          if (o.k === "write") readable += n;
        } else if (o.k === "commit") {
          const n = r.commit(o.n);
          if (n !== Math.min(o.n, cap - readable)) return false;
          readable += n;
          while (model.length < readable) model.push(-1);
        } else {
          const skip = o.k === "peek" ? o.skip : 0;
          const n = o.k === "peek" ? r.peek(out, 0, o.n, skip) : r.read(out, 0, o.n);
          const want = Math.max(0, Math.min(o.n, readable - skip));
          if (n !== want) return false;
          for (let i = 0; i < n; i++) {
            const m = model[skip + i];
            if (m >= 0 && out[i] !== m) return false;
          }
          if (o.k === "read") {
            model = model.slice(n);
            readable -= n;
          }
        }
        if (r.readable !== readable || r.writable !== cap - readable) return false;
      }
      return true;
    }),
    { numRuns: 400, seed: 3 },
  );
});

test.run();
