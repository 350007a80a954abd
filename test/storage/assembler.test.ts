// The Assembler against a bitmap model: every insert, advance and clear must leave the same set of
// bytes, as the fewest sorted disjoint ranges, with the front and the most recent range right.

import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { Assembler } from "../../src/storage/assembler.js";

function ranges(a: Assembler): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < a.count; i++) out.push([a.start(i), a.end(i)]);
  return out;
}

/** The ranges a bitmap holds, as maximal runs. */
function runs(bits: boolean[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < bits.length; i++) {
    if (!bits[i]) continue;
    const s = i;
    while (i < bits.length && bits[i]) i++;
    out.push([s, i]);
  }
  return out;
}

test("merges overlapping and adjacent ranges; front grows from the origin", () => {
  const a = new Assembler(4);
  assert.ok(a.insert(10, 5));
  assert.ok(a.insert(20, 5));
  assert.equal(ranges(a), [
    [10, 15],
    [20, 25],
  ]);
  assert.is(a.front, 0);
  assert.ok(a.insert(15, 5)); // touches both: one range
  assert.equal(ranges(a), [[10, 25]]);
  assert.ok(a.insert(0, 10));
  assert.is(a.front, 25);
  assert.is(a.count, 1);
});

test("refuses, changing nothing, when it would need more ranges than its capacity", () => {
  const a = new Assembler(2);
  assert.ok(a.insert(10, 2));
  assert.ok(a.insert(20, 2));
  assert.not.ok(a.insert(30, 2));
  assert.not.ok(a.insert(0, 2));
  assert.equal(ranges(a), [
    [10, 12],
    [20, 22],
  ]);
  assert.ok(a.insert(12, 8), "a merge needs no new range");
  assert.equal(ranges(a), [[10, 22]]);
});

test("advance consumes the front and shifts what is left", () => {
  const a = new Assembler(4);
  a.insert(0, 10);
  a.insert(15, 5);
  a.advance(a.front);
  assert.equal(ranges(a), [[5, 10]]);
  assert.is(a.recent, 0);
  a.insert(0, 3);
  assert.is(a.recent, 0);
  a.advance(7); // cuts into [5, 10)
  assert.equal(ranges(a), [[0, 3]]);
  assert.is(a.front, 3);
  a.insert(-5, 10); // bytes before the origin are ignored
  assert.equal(ranges(a), [[0, 5]]);
  a.clear();
  assert.is(a.count, 0);
  assert.is(a.recent, -1);
});

test("recent names the range the latest insert landed in, for SACK's first block", () => {
  const a = new Assembler(4);
  a.insert(30, 5);
  a.insert(10, 5);
  assert.equal([a.start(a.recent), a.end(a.recent)], [10, 15]);
  a.insert(35, 5);
  assert.equal([a.start(a.recent), a.end(a.recent)], [30, 40]);
  a.insert(0, 5);
  a.advance(5);
  assert.is(a.recent, -1, "the latest range was consumed");
  a.insert(45, 5);
  a.advance(10); // consumes [5, 10); the index of the latest moves down with it
  assert.equal(ranges(a), [
    [15, 25],
    [35, 40],
  ]);
  assert.is(a.recent, 1);
});

test("find and overlaps", () => {
  const a = new Assembler(4);
  a.insert(10, 10);
  a.insert(30, 10);
  assert.is(a.find(9), -1);
  assert.is(a.find(10), 0);
  assert.is(a.find(19), 0);
  assert.is(a.find(20), -1);
  assert.is(a.find(35), 1);
  assert.not.ok(a.overlaps(20, 10), "touching is not overlapping");
  assert.ok(a.overlaps(19, 1));
  assert.ok(a.overlaps(0, 100));
  assert.not.ok(a.overlaps(0, 10));
});

test("property: matches a bitmap model under inserts and advances", () => {
  const op = fc.oneof(
    fc.record({
      advance: fc.constant(false),
      start: fc.integer({ min: -8, max: 120 }),
      length: fc.nat(24),
    }),
    fc.record({ advance: fc.constant(true), start: fc.constant(0), length: fc.nat(30) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 80 }), (cap, ops) => {
      const a = new Assembler(cap);
      let bits: boolean[] = new Array(200).fill(false);
      for (const o of ops) {
        if (o.advance) {
          a.advance(o.length);
          bits = bits.slice(o.length).concat(new Array(o.length).fill(false));
        } else {
          const next = bits.slice();
          for (let i = Math.max(0, o.start); i < o.start + o.length; i++) next[i] = true;
          const fits = runs(next).length <= cap;
          if (a.insert(o.start, o.length) !== fits) return false;
          if (fits) {
            bits = next;
            if (o.length > 0 && o.start + o.length > 0) {
              const r = a.recent;
              const s = Math.max(0, o.start);
              if (r < 0 || a.start(r) > s || a.end(r) < o.start + o.length) return false;
            }
          }
        }
        const want = runs(bits);
        if (JSON.stringify(ranges(a)) !== JSON.stringify(want)) return false;
        if (a.front !== (want.length > 0 && want[0][0] === 0 ? want[0][1] : 0)) return false;
        for (let probe = 0; probe < 150; probe += 7) {
          const inRange = a.find(probe) >= 0;
          if (inRange !== bits[probe]) return false;
        }
      }
      return true;
    }),
    { numRuns: 500, seed: 5 },
  );
});

test.run();
