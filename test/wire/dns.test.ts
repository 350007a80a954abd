// DNS names in wire form: encodeName against a model (labels joined by dots, lower-cased), and
// the readers of compressed names (skipName, nameEquals, copyName) on names built with pointers
// and on arbitrary bytes, where they must stay in bounds and answer -1 or false, never throw.

import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { copyName, encodeName, nameEquals, nameLength, skipName } from "../../src/wire/dns.js";

const labelChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
);
const label = fc.array(labelChar, { minLength: 1, maxLength: 63 }).map((a) => a.join(""));
const name = fc.array(label, { minLength: 1, maxLength: 8 }).map((l) => l.join("."));

/** The model: the wire form of a dotted name, lower-cased. */
function model(text: string): number[] {
  const out: number[] = [];
  for (const l of text.replace(/\.$/, "").split(".")) {
    out.push(l.length);
    for (const c of l.toLowerCase()) out.push(c.charCodeAt(0));
  }
  out.push(0);
  return out;
}

test("encodeName matches the model for every valid name, with or without the final dot", () => {
  fc.assert(
    fc.property(name, fc.boolean(), (text, dot) => {
      const out = new Uint8Array(300);
      const end = encodeName(dot ? `${text}.` : text, out, 7);
      const expected = model(text);
      if (expected.length > 255) return end === -1;
      return (
        end === 7 + expected.length &&
        Array.from(out.subarray(7, end)).join() === expected.join() &&
        nameLength(out, 7) === expected.length
      );
    }),
  );
});

test("encodeName refuses empty labels, long labels, long names and bytes outside printable ASCII", () => {
  const out = new Uint8Array(300);
  for (const bad of [
    "",
    ".",
    "..",
    "a..b",
    ".a",
    "a".repeat(64),
    "a b",
    "a\u0000b",
    "ü.test",
    "a\tb",
  ])
    assert.is(encodeName(bad, out, 0), -1, JSON.stringify(bad));
  assert.is(
    encodeName(`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, out, 0),
    255,
  );
  assert.is(
    encodeName(`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, out, 0),
    -1,
  );
  assert.is(encodeName("a.b", new Uint8Array(10), 0), -1, "no room for the longest name");
});

test("a name compressed against an earlier one reads back equal, in any case, and copies out whole", () => {
  fc.assert(
    fc.property(name, name, fc.boolean(), (first, prefix, upper) => {
      // A message: 12 header bytes, `first` in wire form, then `prefix`'s labels ending in a
      // pointer to `first`.
      const a = model(first);
      const p = model(prefix).slice(0, -1);
      const m = Uint8Array.from([...new Array(12).fill(0), ...a, ...p, 0xc0, 12]);
      const at = 12 + a.length;
      if (upper) for (let i = at; i < m.length - 2; i++) if (m[i] >= 97 && m[i] <= 122) m[i] -= 32;
      const whole = [...p, ...a];
      const ref = Uint8Array.from(whole);
      const copied = new Uint8Array(300);
      const n = copyName(m, at, m.length, copied, 0);
      if (whole.length > 255) return n === -1 && !nameEquals(m, at, m.length, ref, 0);
      return (
        skipName(m, at, m.length) === m.length &&
        nameEquals(m, at, m.length, ref, 0) &&
        n === whole.length &&
        Array.from(copied.subarray(0, n)).join() === whole.join()
      );
    }),
  );
});

test("on arbitrary bytes the readers stay in bounds and never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, start) => {
      const at = start % (bytes.length + 1);
      const s = skipName(bytes, at, bytes.length);
      const out = new Uint8Array(256);
      const n = copyName(bytes, at, bytes.length, out, 0);
      nameEquals(bytes, at, bytes.length, Uint8Array.of(1, 97, 0), 0);
      return (s === -1 || (s > at && s <= bytes.length)) && n <= 255;
    }),
    { numRuns: 5000 },
  );
});

test("pointer loops and forward pointers are refused", () => {
  const loop = Uint8Array.of(...new Array(12).fill(0), 0xc0, 12);
  assert.is(copyName(loop, 12, loop.length, new Uint8Array(256), 0), -1);
  assert.not.ok(nameEquals(loop, 12, loop.length, Uint8Array.of(0), 0));
  const forward = Uint8Array.of(...new Array(12).fill(0), 0xc0, 14, 0);
  assert.is(copyName(forward, 12, forward.length, new Uint8Array(256), 0), -1);
  assert.is(skipName(forward, 12, forward.length), 14, "skipping needs no target");
  const reserved = Uint8Array.of(0x40, 1, 0);
  assert.is(skipName(reserved, 0, reserved.length), -1);
});

test.run();
