// The 4-tuple table for TIME-WAIT and SYN-RECEIVED: lookups, both full policies, deadlines, and
// churn against a Map model (insert, find, remove, evict, over and over, so backward-shift deletion
// is exercised in every probe pattern).

import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { EEXIST, ENOBUFS } from "../../src/errno.js";
import { OFF } from "../../src/time.js";
import {
  TUPLE_FULL_EVICT_OLDEST,
  TUPLE_FULL_FAIL,
  TupleTable,
} from "../../src/storage/tuple-table.js";

const L = 0xc0000201 | 0; // 192.0.2.1
const R = 0xc0000202 | 0;

test("finds what was inserted, by all four fields, and nothing else", () => {
  const t = new TupleTable(8, 2, 1, 1234);
  const e = t.insert(L, 80, R, 40000, 100, TUPLE_FULL_FAIL);
  assert.ok(e >= 0);
  assert.is(t.find(L, 80, R, 40000), e);
  assert.is(t.find(L, 80, R, 40001), -1);
  assert.is(t.find(L, 81, R, 40000), -1);
  assert.is(t.find(L, 80, R + 1, 40000), -1);
  assert.is(t.find(L + 1, 80, R, 40000), -1);
  assert.is(t.insert(L, 80, R, 40000, 100, TUPLE_FULL_FAIL), -EEXIST);
  t.ints[1][e] = 77;
  t.floats[0][e] = 1.5;
  assert.is(t.ints.length, 2);
  assert.is(t.floats.length, 1);
  assert.is(t.ints[1][t.find(L, 80, R, 40000)], 77);
  assert.ok(t.remove(e));
  assert.not.ok(t.remove(e));
  assert.is(t.find(L, 80, R, 40000), -1);
  assert.is(t.count, 0);
});

test("full: fail refuses with -ENOBUFS; evict-oldest replaces the first inserted", () => {
  const t = new TupleTable(3, 0, 0, 1);
  for (let p = 1; p <= 3; p++) assert.ok(t.insert(L, 80, R, p, p, TUPLE_FULL_FAIL) >= 0);
  assert.is(t.insert(L, 80, R, 4, 4, TUPLE_FULL_FAIL), -ENOBUFS);
  assert.is(t.refused, 1);
  const e = t.insert(L, 80, R, 4, 4, TUPLE_FULL_EVICT_OLDEST);
  assert.ok(e >= 0);
  assert.is(t.evictions, 1);
  assert.is(t.find(L, 80, R, 1), -1, "the oldest went");
  assert.ok(t.find(L, 80, R, 2) >= 0);
  t.remove(t.find(L, 80, R, 2));
  t.insert(L, 80, R, 5, 5, TUPLE_FULL_EVICT_OLDEST);
  t.insert(L, 80, R, 6, 6, TUPLE_FULL_EVICT_OLDEST);
  assert.is(t.find(L, 80, R, 3), -1, "then the next oldest");
  assert.is(t.count, 3);
  assert.is(t.oldest, t.find(L, 80, R, 4));
});

test("nextDeadline follows inserts, changes and removals; expired entries are walked", () => {
  const t = new TupleTable(8, 0, 0, 7);
  assert.is(t.nextDeadline(), OFF, "empty: none");
  const a = t.insert(L, 1, R, 1, 500, TUPLE_FULL_FAIL);
  const b = t.insert(L, 1, R, 2, 200, TUPLE_FULL_FAIL);
  const c = t.insert(L, 1, R, 3, 300, TUPLE_FULL_FAIL);
  assert.is(t.nextDeadline(), 200);
  t.setDeadline(b, 1000);
  assert.is(t.nextDeadline(), 300);
  t.remove(c);
  assert.is(t.nextDeadline(), 500);
  t.setDeadline(a, 100);
  assert.is(t.nextDeadline(), 100);
  t.insert(L, 1, R, 4, 50, TUPLE_FULL_FAIL);
  const due: number[] = [];
  for (let i = t.nextExpired(600, 0); i >= 0; i = t.nextExpired(600, i + 1)) {
    due.push(t.remotePort[i]);
    t.remove(i);
  }
  assert.equal(due.sort(), [1, 4]);
  assert.is(t.nextDeadline(), 1000);
  t.clear();
  assert.is(t.count, 0);
  assert.is(t.nextDeadline(), OFF);
  assert.is(t.find(L, 1, R, 2), -1);
});

test("churn: a long random workload matches a Map model", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(
        fc.record({
          op: fc.integer({ min: 0, max: 3 }),
          port: fc.integer({ min: 0, max: 60 }),
          address: fc.integer({ min: 0, max: 3 }),
        }),
        { maxLength: 600 },
      ),
      fc.integer(),
      (capacity, ops, secret) => {
        const t = new TupleTable(capacity, 1, 0, secret);
        const model = new Map<string, number>(); // key -> value; insertion order = age
        let clock = 0;
        for (const o of ops) {
          const key = `${o.address}:${o.port}`;
          const ra = (R + o.address) | 0;
          clock++;
          if (o.op <= 1) {
            const policy = o.op === 0 ? TUPLE_FULL_FAIL : TUPLE_FULL_EVICT_OLDEST;
            const e = t.insert(L, 443, ra, o.port, clock, policy);
            if (model.has(key)) {
              if (e !== -EEXIST) return false;
            } else if (model.size === capacity && policy === TUPLE_FULL_FAIL) {
              if (e !== -ENOBUFS) return false;
            } else {
              if (e < 0) return false;
              if (model.size === capacity) model.delete(model.keys().next().value!);
              model.set(key, clock);
              t.ints[0][e] = clock;
            }
          } else if (o.op === 2) {
            const e = t.find(L, 443, ra, o.port);
            if (e >= 0 !== model.has(key)) return false;
            if (e >= 0 && !t.remove(e)) return false;
            model.delete(key);
          } else {
            const e = t.find(L, 443, ra, o.port);
            if (e >= 0 !== model.has(key)) return false;
            if (e >= 0 && t.ints[0][e] !== model.get(key)) return false;
          }
          if (t.count !== model.size) return false;
        }
        for (const [key, value] of model) {
          const [a, p] = key.split(":").map(Number);
          const e = t.find(L, 443, (R + a) | 0, p);
          if (e < 0 || t.ints[0][e] !== value || t.deadline[e] !== value) return false;
        }
        let earliest = OFF;
        for (const v of model.values()) earliest = earliest < 0 ? v : Math.min(earliest, v);
        return t.nextDeadline() === earliest;
      },
    ),
    { numRuns: 300, seed: 13 },
  );
});

test("a full table of colliding homes still finds everything after removals", () => {
  const t = new TupleTable(64, 0, 0, 99);
  for (let p = 0; p < 64; p++) t.insert(L, 443, R, p, 0, TUPLE_FULL_FAIL);
  for (let p = 0; p < 64; p += 3) t.remove(t.find(L, 443, R, p));
  for (let p = 0; p < 64; p++) assert.is(t.find(L, 443, R, p) >= 0, p % 3 !== 0, `port ${p}`);
});

test.run();
