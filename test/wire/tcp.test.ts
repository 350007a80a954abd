// The TCP header view and option codec: fields read back as written, options round-trip, sequence
// comparisons wrap, and no option bytes whatever make the parser throw or read past its span.

import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import {
  TCP_ACK,
  TCP_SYN,
  TcpOptions,
  TcpSegment,
  seqDiff,
  seqLe,
  seqLt,
  writeMss,
  writeNops,
  writeSack,
  writeSackPermitted,
  writeTimestamp,
  writeWscale,
} from "../../src/wire/tcp.js";

test("header fields read back as written", () => {
  const b = new Uint8Array(40);
  const s = new TcpSegment().wrap(b, 4);
  s.writeHeader(7, 40000, 0xfffffff0 | 0, 0x80000001 | 0, 32, TCP_SYN | TCP_ACK, 65535);
  assert.is(s.sourcePort, 7);
  assert.is(s.destinationPort, 40000);
  assert.is(s.seq, 0xfffffff0 | 0);
  assert.is(s.ack, 0x80000001 | 0);
  assert.is(s.headerLength, 32);
  assert.is(s.flags, TCP_SYN | TCP_ACK);
  assert.is(s.window, 65535);
  assert.is(s.checksum, 0);
  assert.is(s.urgent, 0);
});

test("sequence comparisons wrap around 2^32", () => {
  assert.ok(seqLt(0xfffffff0 | 0, 5));
  assert.not.ok(seqLt(5, 0xfffffff0 | 0));
  assert.ok(seqLe(5, 5));
  assert.is(seqDiff(5, 0xfffffff0 | 0), 21);
  assert.is(seqDiff(0xfffffff0 | 0, 5), -21);
});

test("a SYN's options round-trip: MSS, SACK-permitted, timestamps, window scale", () => {
  const b = new Uint8Array(20);
  let n = writeMss(b, 0, 1460);
  n += writeSackPermitted(b, n, false);
  n += writeTimestamp(b, n, 123456, 0);
  n += writeWscale(b, n, 7);
  assert.is(n, 20);
  const o = new TcpOptions();
  assert.ok(o.parse(b, 0, n));
  assert.is(o.mss, 1460);
  assert.ok(o.sackPermitted);
  assert.ok(o.hasTimestamp);
  assert.is(o.tsVal, 123456);
  assert.is(o.tsEcr, 0);
  assert.is(o.wscale, 7);
});

test("SACK blocks round-trip; a window scale above 14 counts as 14", () => {
  const b = new Uint8Array(40);
  const starts = Int32Array.of(1000, -5, 7);
  const ends = Int32Array.of(2000, 3, 9);
  let n = writeNops(b, 0);
  n += writeTimestamp(b, n, -1, 77);
  n += writeSack(b, n, starts, ends, 3);
  const o = new TcpOptions();
  assert.ok(o.parse(b, 0, n));
  assert.is(o.sackCount, 3);
  assert.equal(Array.from(o.sackStart.subarray(0, 3)), [1000, -5, 7]);
  assert.equal(Array.from(o.sackEnd.subarray(0, 3)), [2000, 3, 9]);
  assert.is(o.tsVal, -1);
  assert.is(o.tsEcr, 77);
  const w = Uint8Array.of(3, 3, 20, 0);
  assert.ok(o.parse(w, 0, 4));
  assert.is(o.wscale, 14);
  assert.is(o.sackCount, 0);
});

test("malformed options stop the parse: zero length, overrun, wrong size", () => {
  const o = new TcpOptions();
  assert.not.ok(o.parse(Uint8Array.of(2, 4, 5, 180, 99, 0), 0, 6)); // unknown kind cut short
  assert.is(o.mss, 1460); // what came first is kept
  assert.not.ok(o.parse(Uint8Array.of(30, 0, 2, 4), 0, 4)); // length 0 would loop forever
  assert.not.ok(o.parse(Uint8Array.of(2, 4, 5), 0, 3)); // runs past the end
  assert.not.ok(o.parse(Uint8Array.of(2, 3, 5, 1), 0, 4)); // MSS of the wrong size
  assert.is(o.mss, 0);
  assert.ok(o.parse(Uint8Array.of(1, 1, 0, 2), 0, 4)); // END stops before the junk
});

test("property: any option bytes parse without throwing or reading outside their span", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(8), (opts, pad) => {
      // Guard bytes on both sides that would be parsed as a valid MSS if read.
      const b = new Uint8Array(pad + opts.length + 8).fill(0xee);
      b.set(opts, pad);
      const o = new TcpOptions();
      const ok = o.parse(b, pad, opts.length);
      assert.type(ok, "boolean");
      assert.ok(o.sackCount >= 0 && o.sackCount <= 4);
      assert.ok(o.wscale >= -1 && o.wscale <= 14);
      assert.ok(o.mss >= 0 && o.mss <= 0xffff);
    }),
    { numRuns: 3000 },
  );
});

test("property: options written by the writers parse back", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 14 }),
      fc.integer(),
      fc.integer(),
      (mss, ws, tsv, tse) => {
        const b = new Uint8Array(24);
        let n = writeMss(b, 0, mss);
        n += writeSackPermitted(b, n, false);
        n += writeTimestamp(b, n, tsv, tse);
        n += writeWscale(b, n, ws);
        const o = new TcpOptions();
        assert.ok(o.parse(b, 0, n));
        assert.is(o.mss, mss);
        assert.is(o.wscale, ws);
        assert.is(o.tsVal, tsv | 0);
        assert.is(o.tsEcr, tse | 0);
        assert.ok(o.sackPermitted);
      },
    ),
  );
});

test.run();
