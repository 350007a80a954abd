// Loss recovery against a scripted peer: spurious retransmissions found out by D-SACK (RFC 3708)
// or by timestamps (RFC 3522) and the reduction they caused undone as Linux does, a real loss kept,
// and RFC 6675's rescue retransmission of a loss at the tail of the window.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { pattern } from "../support/frames.js";
import { TcpScript, synOptions } from "../support/tcp-script.js";

const NO_SSTHRESH = 0x3fffffff;

/** ACK options: a timestamp and SACK blocks (absolute sequence numbers), either or both. */
function ackOptions(o: { ts?: [number, number]; sack?: [number, number][] }): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number) => out.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  if (o.ts) {
    out.push(1, 1, 8, 10);
    u32(o.ts[0]);
    u32(o.ts[1]);
  }
  if (o.sack) {
    out.push(1, 1, 5, 2 + 8 * o.sack.length);
    for (const [a, b] of o.sack) {
      u32(a >>> 0);
      u32(b >>> 0);
    }
  }
  return Uint8Array.from(out);
}

/** A connection with segments of 500 bytes and SACK (and timestamps when asked), `bytes` sent. */
function sending(bytes: number, timestamps = false) {
  const s = new TcpScript({ stack: { tcpSendBuffer: 8192 } });
  // The timestamp option takes 12 bytes of the peer's MSS.
  const { conn } = s.passiveOpen(
    synOptions(timestamps ? { mss: 512, sackOk: true, ts: [1, 0] } : { mss: 500, sackOk: true }),
  );
  assert.is(conn.sendMss, 500);
  assert.ok(conn.sack);
  assert.is(conn.timestamps, timestamps);
  conn.send(pattern(bytes), 0, bytes, 0);
  const first = s.segments();
  const base = s.stackSeq;
  /** An ACK at `ack` (relative) with SACK blocks relative to the first byte sent. */
  const ackWith = (ack: number, blocks: [number, number][] = [], ts?: [number, number]) =>
    s.inject(".", {
      ack: base + ack,
      options: ackOptions({ ts, sack: blocks.map(([a, b]) => [base + a, base + b]) }),
    });
  return { s, conn, first, base, ackWith, stats: s.stack.tcp.stats };
}

test("a spurious fast retransmit: the D-SACK of the retransmission restores cwnd and ssthresh", () => {
  const { s, conn, first, base, ackWith, stats } = sending(3000);
  assert.is(first.length, 6);
  const cwnd = conn.congestionWindow;
  assert.ok(cwnd >= 5000);
  // The first segment is held up in the network; three SACKs of the ones behind it.
  ackWith(0, [[500, 1000]]);
  ackWith(0, [[500, 1500]]);
  s.expectNone();
  ackWith(0, [[500, 2000]]);
  s.expect(".", { seq: base, len: 500 });
  assert.is(conn.slowStartThreshold, 1500);
  // The delayed original arrives: everything is acknowledged, recovery ends deflated.
  ackWith(3000);
  assert.is(conn.congestionWindow, 500);
  assert.is(stats.recoveryUndos, 0);
  // Then the retransmission arrives, a duplicate, reported below the ACK (RFC 2883).
  ackWith(3000, [[0, 500]]);
  assert.is(stats.dsacksReceived, 1);
  assert.is(conn.congestionWindow, cwnd);
  assert.is(conn.slowStartThreshold, NO_SSTHRESH);
  assert.is(stats.recoveryUndos, 1);
  assert.is(stats.dsackUndos, 1);
  assert.is(stats.timeoutUndos, 0);
  assert.is(conn.undos, 1);
  // The restored window lets ten segments go at once.
  conn.send(pattern(5000), 0, 5000, 0);
  assert.is(s.segments().length, 10);
});

test("one retransmission D-SACKed and one a real loss: the reduction stands", () => {
  const { s, conn, base, ackWith, stats } = sending(3000);
  // Segment 0 is delayed, segment 2 lost.
  ackWith(0, [[500, 1000]]);
  ackWith(0, [
    [1500, 2000],
    [500, 1000],
  ]);
  ackWith(0, [
    [1500, 2500],
    [500, 1000],
  ]);
  s.expect(".", { seq: base, len: 500 });
  ackWith(0, [
    [1500, 3000],
    [500, 1000],
  ]);
  s.expect(".", { seq: base + 1000, len: 500 });
  // Segment 0 first sent arrives, then its retransmission, reported duplicate.
  ackWith(1000, [[1500, 3000]]);
  ackWith(1000, [
    [0, 500],
    [1500, 3000],
  ]);
  assert.is(stats.dsacksReceived, 1);
  assert.is(stats.recoveryUndos, 0);
  // The retransmission of segment 2 fills the hole: recovery ends, still reduced.
  ackWith(3000);
  assert.is(stats.recoveryUndos, 0);
  assert.is(conn.undos, 0);
  assert.is(conn.slowStartThreshold, 1500);
  assert.ok(conn.congestionWindow <= 1500, `cwnd ${conn.congestionWindow}`);
  s.expectNone();
});

test("a D-SACK of a segment never retransmitted (the network duplicated it) is not believed", () => {
  const { s, conn, ackWith, stats } = sending(1000);
  ackWith(1000);
  ackWith(1000, [[0, 500]]);
  assert.is(stats.dsacksReceived, 0);
  assert.is(conn.undos, 0);
  s.expectNone();
});

test("a retransmission reported in two D-SACK pieces is credited once: the real loss beside it keeps the reduction", () => {
  const s = new TcpScript({ stack: { tcpSendBuffer: 8192 } });
  const { conn } = s.passiveOpen(synOptions({ mss: 500, sackOk: true }));
  const base = s.stackSeq;
  // A short first segment, so the retransmissions (MSS pieces from sndUna) straddle the originals:
  // A [0, 300), B [300, 800), then full segments to 4800 (the last 200 bytes wait for Nagle).
  conn.send(pattern(300), 0, 300, 0);
  s.wait(1);
  conn.send(pattern(4700), 0, 4700, 0);
  assert.equal(
    s.segments().map((g) => [g.seq - base, g.payload.length]),
    [[0, 300], ...Array.from({ length: 9 }, (_, i) => [300 + 500 * i, 500])],
  );
  const ackWith = (ack: number, blocks: [number, number][] = []) =>
    s.inject(".", {
      ack: base + ack,
      options: ackOptions({ sack: blocks.map(([a, b]) => [base + a, base + b]) }),
    });
  const stats = s.stack.tcp.stats;
  // A and B are delayed, E [1800, 2300) is lost.
  ackWith(0, [[800, 1300]]);
  ackWith(0, [[800, 1800]]);
  ackWith(0, [
    [2300, 2800],
    [800, 1800],
  ]);
  assert.equal(
    s.segments().map((g) => [g.seq - base, g.payload.length]),
    [[0, 500]],
  );
  ackWith(0, [
    [2300, 3300],
    [800, 1800],
  ]);
  ackWith(0, [
    [2300, 3800],
    [800, 1800],
  ]);
  assert.equal(
    s.segments().map((g) => [g.seq - base, g.payload.length]),
    [
      [500, 300],
      [1800, 500],
    ],
  );
  // [0, 500) arrives: a partial ACK, after which the tail beyond the SACKs is rescued.
  ackWith(500, [
    [800, 1800],
    [2300, 3800],
  ]);
  assert.equal(
    s.segments().map((g) => [g.seq - base, g.payload.length]),
    [[4300, 500]],
  );
  // Then A, a duplicate; then B, its first 200 bytes a duplicate; then the retransmitted
  // [500, 800), a duplicate of B's rest.
  ackWith(500, [
    [0, 300],
    [800, 1800],
    [2300, 3800],
  ]);
  ackWith(1800, [
    [300, 500],
    [2300, 3800],
  ]);
  ackWith(1800, [
    [500, 800],
    [2300, 3800],
  ]);
  assert.is(stats.dsacksReceived, 3);
  // E's retransmission fills the hole; the rescued segment's duplicate is reported last. Four
  // D-SACKs for four retransmissions, yet E's 500 bytes were never reported: no undo.
  ackWith(4800);
  ackWith(4800, [[4300, 4800]]);
  assert.is(stats.dsacksReceived, 4);
  assert.is(stats.recoveryUndos, 0);
  assert.is(conn.undos, 0);
  assert.is(conn.slowStartThreshold, 2400);
});

test("ACKs that only report a duplicate (D-SACK) are not duplicate ACKs: no fast retransmit", () => {
  const { s, conn, ackWith, stats } = sending(500);
  ackWith(500);
  conn.send(pattern(3000), 0, 3000, 0);
  assert.is(s.segments().length, 6);
  for (let i = 0; i < 3; i++) ackWith(500, [[0, 500]]);
  s.expectNone();
  assert.is(stats.fastRetransmits, 0);
  // Never retransmitted, so not believed either: the network duplicated that segment.
  assert.is(stats.dsacksReceived, 0);
});

test("a spurious timeout: an ACK echoing the first transmission's timestamp undoes it and stops the go-back-N (RFC 3522)", () => {
  for (const spurious of [true, false]) {
    const { s, conn, first, base, ackWith, stats } = sending(1000, true);
    assert.is(first.length, 2);
    const sent = first[0].ts![0];
    const cwnd = conn.congestionWindow;
    s.wait(250);
    const again = s.expect(".", { seq: base, len: 500 });
    const resent = again.ts![0];
    assert.ok(resent > sent);
    assert.is(stats.timeouts, 1);
    assert.is(conn.congestionWindow, 500);
    // The first segment is acknowledged, echoing the original's timestamp or the retransmission's.
    ackWith(500, [], [2, spurious ? sent : resent]);
    if (spurious) {
      assert.is(stats.timeoutUndos, 1);
      assert.is(stats.dsackUndos, 0);
      assert.ok(conn.congestionWindow >= cwnd, `cwnd ${conn.congestionWindow}`);
      assert.is(conn.slowStartThreshold, NO_SSTHRESH);
      // The second segment's original is trusted to be on its way: not sent again.
      s.expectNone();
    } else {
      assert.is(stats.timeoutUndos, 0);
      s.expect("P.", { seq: base + 500, len: 500 });
      assert.ok(conn.slowStartThreshold < NO_SSTHRESH);
    }
    ackWith(1000, [], [3, resent]);
    assert.is(conn.unacknowledged, 0);
    assert.is(conn.undos, spurious ? 1 : 0);
  }
});

test("a spurious timeout without timestamps: undone once its retransmission is D-SACKed", () => {
  const { s, conn, base, ackWith, stats } = sending(500);
  const cwnd = conn.congestionWindow;
  s.wait(250);
  s.expect("P.", { seq: base, len: 500 });
  ackWith(500);
  assert.is(conn.congestionWindow, 1000);
  assert.is(stats.timeoutUndos, 0);
  ackWith(500, [[0, 500]]);
  assert.is(stats.timeoutUndos, 1);
  assert.is(stats.dsackUndos, 1);
  assert.is(conn.congestionWindow, cwnd);
  assert.is(conn.slowStartThreshold, NO_SSTHRESH);
});

test("RFC 6675 rescue retransmission: the lost last segment goes again during recovery, once, no timeout", () => {
  const { s, conn, first, base, ackWith, stats } = sending(5000);
  assert.is(first.length, 10);
  // Segments 0 and 9 are lost; 1 to 8 arrive and are SACKed one by one.
  ackWith(0, [[500, 1000]]);
  ackWith(0, [[500, 1500]]);
  s.expectNone();
  ackWith(0, [[500, 2000]]);
  s.expect(".", { seq: base, len: 500 });
  ackWith(0, [[500, 2500]]);
  ackWith(0, [[500, 3000]]);
  s.expectNone();
  // The pipe leaves room for a segment and nothing is deemed lost, nor new: the rescue.
  ackWith(0, [[500, 3500]]);
  s.expect("P.", { seq: base + 4500, len: 500 });
  assert.is(stats.rescueRetransmits, 1);
  ackWith(0, [[500, 4000]]);
  ackWith(0, [[500, 4500]]);
  s.expectNone();
  // Both retransmissions arrive: all acknowledged within the first RTO.
  ackWith(5000);
  assert.is(conn.unacknowledged, 0);
  assert.is(stats.timeouts, 0);
  assert.is(stats.rescueRetransmits, 1);
  s.wait(3000);
  s.expectNone();
});

test.run();
