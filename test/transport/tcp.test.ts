// TCP against a scripted peer: each state transition, resets, retransmission timing and backoff,
// delayed ACKs, Nagle, zero windows and persist probes, keepalive, TIME-WAIT, RFC 5961 challenge
// ACKs, PAWS, SACK blocks, and handles that go stale.

import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  EAGAIN,
  EBADF,
  ECONNREFUSED,
  ECONNRESET,
  EHOSTUNREACH,
  ENOTCONN,
  EPIPE,
  ETIMEDOUT,
} from "../../src/errno.js";
import {
  CLOSED,
  CLOSE_WAIT,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  MSG_MORE,
  MSG_PEEK,
  SHUT_WR,
  SYN_SENT,
} from "../../src/transport/tcp/constants.js";
import { EVENT_ERR, EVENT_IN, EVENT_OUT, WaiterEntry } from "../../src/transport/waiter.js";
import { FullAddress } from "../../src/wire/address.js";
import fc from "fast-check";
import { EADDRINUSE } from "../../src/errno.js";
import { ETH_IPV4, ether, icmp, ipv4, pattern, tcp } from "../support/frames.js";
import { OTHER_IP, PEER_IP, PEER_MAC, STACK_IP, STACK_MAC, ipFrame } from "../support/harness.js";
import { TcpScript, synOptions } from "../support/tcp-script.js";
import type { TcpEndpoint } from "../../src/transport/tcp/endpoint.js";

const buf = new Uint8Array(65536);

function read(conn: { recv(d: Uint8Array, o: number, c: number, f: number): number }, flags = 0) {
  const n = conn.recv(buf, 0, buf.length, flags);
  return n < 0 ? n : buf.slice(0, n);
}

test("passive open: SYN, SYN-ACK with our MSS, ACK; accept hands the connection out", () => {
  const s = new TcpScript();
  const listener = s.stack.openTcp() as TcpEndpoint;
  listener.bind(null, 80);
  listener.listen(2);
  assert.is(listener.accept(null), -EAGAIN);
  s.inject("S");
  const synAck = s.expect("S.", { ack: 1001 });
  assert.is(synAck.mss, 1460);
  // The peer offered nothing, so we answer with nothing but the MSS.
  assert.is(synAck.wscale, -1);
  assert.is(synAck.ts, null);
  assert.not.ok(synAck.sackPermitted);
  assert.is(listener.accept(null), -EAGAIN);
  s.peerSeq = 1001;
  s.stackSeq = synAck.seq + 1;
  s.inject(".");
  s.expectNone();
  const from = new FullAddress();
  const conn = listener.accept(from);
  if (typeof conn === "number") throw new Error(String(conn));
  assert.is(conn.state, ESTABLISHED);
  assert.is(from.port, 40000);
  // No MSS option from the peer: 536 (RFC 9293 §3.7.1).
  assert.is(conn.sendMss, 536);
});

test("active open offers MSS, SACK, timestamps and window scale; connect completes with EVENT_OUT", () => {
  const s = new TcpScript();
  const conn = s.stack.openTcp() as TcpEndpoint;
  const events: number[] = [];
  const entry = new WaiterEntry({ callback: (_e, ev) => events.push(ev) });
  conn.eventRegister(entry, EVENT_OUT | EVENT_ERR);
  const to = new FullAddress();
  to.address.parse("192.0.2.2");
  to.port = 40000;
  assert.is(conn.connect(to), -115);
  assert.is(conn.state, SYN_SENT);
  const syn = s.expect("S");
  assert.is(syn.mss, 1460);
  assert.ok(syn.sackPermitted);
  assert.ok(syn.ts !== null);
  assert.is(syn.wscale, 0);
  assert.ok(syn.sourcePort >= 32768 && syn.sourcePort <= 60999);
  s.stackPort = syn.sourcePort;
  s.stackSeq = syn.seq + 1;
  s.inject("S.", {
    options: synOptions({ mss: 1000, wscale: 2, sackOk: true, ts: [5, syn.ts![0]] }),
  });
  s.peerSeq = 1001;
  const ack = s.expect(".", { seq: s.stackSeq, ack: 1001 });
  assert.equal(ack.ts![1], 5);
  assert.is(conn.state, ESTABLISHED);
  assert.equal(events, [EVENT_OUT]);
  assert.is(conn.sendMss, 1000 - 12);
  assert.ok(conn.timestamps && conn.sack);
  assert.is(conn.sendWscale, 2);
});

test("connect refused by a reset: EVENT_ERR and ECONNREFUSED", () => {
  const s = new TcpScript();
  const conn = s.stack.openTcp() as TcpEndpoint;
  const to = new FullAddress();
  to.address.parse("192.0.2.2");
  to.port = 40000;
  conn.connect(to);
  const syn = s.expect("S");
  s.stackPort = syn.sourcePort;
  s.inject("R.", { seq: 0, ack: syn.seq + 1 });
  assert.is(conn.state, CLOSED);
  assert.ok(conn.readiness(EVENT_ERR) !== 0);
  assert.is(conn.takeError(), ECONNREFUSED);
  s.expectNone();
});

test("SYN retransmissions back off 1, 2, 4, 8... s, then ETIMEDOUT", () => {
  const s = new TcpScript({ stack: { tcpSynRetries: 3 } });
  const conn = s.stack.openTcp() as TcpEndpoint;
  const to = new FullAddress();
  to.address.parse("192.0.2.2");
  to.port = 40000;
  conn.connect(to);
  const t0 = s.now;
  const first = s.expect("S");
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    s.wait(20_000 >> (3 - i) > 0 ? 1 : 1);
    let got = s.segments();
    while (got.length === 0) {
      s.wait(100);
      got = s.segments();
    }
    assert.is(got.length, 1);
    assert.is(got[0].seq, first.seq);
    times.push(got[0].at - t0);
  }
  // Each retransmission within a poll of its deadline: 1000, 3000, 7000.
  assert.ok(Math.abs(times[0] - 1000) <= 100, `${times}`);
  assert.ok(Math.abs(times[1] - 3000) <= 100, `${times}`);
  assert.ok(Math.abs(times[2] - 7000) <= 100, `${times}`);
  s.wait(8000);
  assert.is(conn.state, CLOSED);
  assert.is(conn.takeError(), ETIMEDOUT);
});

test("segments for no connection are answered with a reset (RFC 9293 §3.10.7.1)", () => {
  const s = new TcpScript();
  s.inject("S", { seq: 5000 });
  s.expect("R.", { seq: 0, ack: 5001 });
  s.inject(".", { seq: 5000, ack: 777 });
  s.expect("R", { seq: 777 });
  s.inject("P.", { seq: 5000, ack: 9, payload: pattern(10) });
  s.expect("R", { seq: 9 });
  // A reset is never answered.
  s.inject("R", { seq: 5000 });
  s.expectNone();
  assert.is(s.stack.tcp.stats.noConnection, 4);
});

test("a bad checksum is dropped and counted, never answered", () => {
  const s = new TcpScript();
  s.inject("S", { checksum: 0x1234 });
  s.expectNone();
  assert.is(s.stack.tcp.stats.badChecksum, 1);
});

test("one segment is acknowledged after the delayed-ACK time; every second full one at once", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 1000 }));
  s.inject("P.", { payload: pattern(1000) });
  s.peerSeq += 1000;
  s.expectNone();
  s.wait(39);
  s.expectNone();
  s.wait(2);
  s.expect(".", { ack: s.peerSeq });
  s.inject(".", { payload: pattern(1000) });
  s.peerSeq += 1000;
  s.expectNone();
  s.inject(".", { payload: pattern(1000) });
  s.peerSeq += 1000;
  s.expect(".", { ack: s.peerSeq });
  assert.is((read(conn) as Uint8Array).length, 3000);
  assert.ok(s.stack.tcp.stats.delayedAcks >= 1);
});

test("data out, retransmitted on timeout with the RTO doubling each time (Karn)", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 1460 }));
  assert.is(conn.send(pattern(100), 0, 100, 0), 100);
  const first = s.expect("P.", { seq: s.stackSeq, len: 100 });
  const t0 = first.at;
  const at: number[] = [];
  while (at.length < 3) {
    s.wait(10);
    for (const g of s.segments()) {
      assert.is(g.seq, first.seq);
      at.push(g.at - t0);
    }
  }
  // Handshake RTT ~0 gives the floor of 200 ms; then 400, 800.
  const gaps = [at[0], at[1] - at[0], at[2] - at[1]];
  assert.ok(
    Math.abs(gaps[0] - 200) <= 10 && Math.abs(gaps[1] - 400) <= 10 && Math.abs(gaps[2] - 800) <= 10,
    `${gaps}`,
  );
  assert.is(conn.retransmits, 3);
  s.inject(".", { ack: s.stackSeq + 100 });
  assert.is(conn.unacknowledged, 0);
  s.wait(5000);
  s.expectNone();
});

test("data is retransmitted until tcpRetries, then the connection ends with ETIMEDOUT and a reset", () => {
  const s = new TcpScript({ stack: { tcpRetries: 3 } });
  const { conn } = s.passiveOpen();
  conn.send(pattern(10), 0, 10, 0);
  s.wait(200 + 400 + 800 + 1600 + 10);
  const got = s.segments();
  assert.is(got.filter((g) => g.payload.length === 10).length, 4);
  assert.is(got[got.length - 1].flags & 4, 4, "ends with a reset");
  assert.is(conn.takeError(), ETIMEDOUT);
  assert.is(conn.state, CLOSED);
});

test("Nagle holds a small segment while data is unacknowledged; TCP_NODELAY does not; MSG_MORE corks", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 1460 }));
  conn.send(pattern(10), 0, 10, 0);
  s.expect("P.", { len: 10 });
  conn.send(pattern(10), 0, 10, 0);
  s.expectNone();
  s.inject(".", { ack: s.stackSeq + 10 });
  s.expect("P.", { seq: s.stackSeq + 10, len: 10 });
  conn.noDelay = true;
  conn.send(pattern(5), 0, 5, 0);
  s.expect("P.", { seq: s.stackSeq + 20, len: 5 });
  s.inject(".", { ack: s.stackSeq + 25 });
  conn.send(pattern(5), 0, 5, MSG_MORE);
  s.expectNone();
  conn.send(pattern(5), 0, 5, 0);
  s.expect("P.", { seq: s.stackSeq + 25, len: 10 });
});

test("passive close: the peer's FIN gives CLOSE-WAIT and end of file; close sends our FIN; the slot frees on its ACK", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen();
  s.inject("F.");
  s.peerSeq += 1;
  s.expect(".", { ack: s.peerSeq });
  assert.is(conn.state, CLOSE_WAIT);
  assert.is(conn.recv(buf, 0, 10, 0), 0);
  // Half-closed: we may still send.
  assert.is(conn.send(pattern(3), 0, 3, 0), 3);
  s.expect("P.", { len: 3 });
  assert.is(conn.shutdown(SHUT_WR), 0);
  assert.is(conn.state, LAST_ACK);
  s.expect("F.", { seq: s.stackSeq + 3 });
  assert.is(conn.send(pattern(3), 0, 3, 0), -EPIPE);
  s.inject(".", { ack: s.stackSeq + 4 });
  assert.is(conn.state, CLOSED);
  assert.is(s.stack.tcp.timeWait.count, 0);
  conn.close();
  assert.is(s.stack.tcp.openCount, 1); // the listener
});

test("active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT for 2 MSL in the tuple table, holding no slot", () => {
  const s = new TcpScript({ stack: { msl: 1000 } });
  const { conn, listener } = s.passiveOpen();
  listener.close();
  assert.is(conn.close(), 0);
  assert.is(conn.state, CLOSED); // the handle is stale
  assert.is(conn.send(pattern(1), 0, 1, 0), -EBADF);
  const fin = s.expect("F.", { seq: s.stackSeq });
  assert.is(s.stack.tcp.slots.filter((c) => c.inUse)[0].state, FIN_WAIT_1);
  s.inject(".", { ack: fin.seq + 1 });
  assert.is(s.stack.tcp.slots.filter((c) => c.inUse)[0].state, FIN_WAIT_2);
  s.inject("F.", { ack: fin.seq + 1 });
  s.expect(".", { ack: s.peerSeq + 1 });
  assert.is(s.stack.tcp.openCount, 0);
  assert.is(s.stack.tcp.timeWait.count, 1);
  // A retransmitted FIN is acknowledged again.
  s.wait(500);
  s.inject("F.", { ack: fin.seq + 1 });
  s.expect(".", { ack: s.peerSeq + 1 });
  s.wait(1999);
  assert.is(s.stack.tcp.timeWait.count, 1);
  s.wait(2);
  assert.is(s.stack.tcp.timeWait.count, 0);
  assert.ok(s.solo.poolFull());
});

test("simultaneous close goes through CLOSING to TIME-WAIT", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen();
  conn.shutdown(SHUT_WR);
  assert.is(conn.state, FIN_WAIT_1);
  const fin = s.expect("F.");
  s.inject("F.", { ack: fin.seq }); // crosses ours: does not acknowledge it
  s.expect(".", { ack: s.peerSeq + 1 });
  s.inject(".", { seq: s.peerSeq + 1, ack: fin.seq + 1 });
  assert.is(conn.state, CLOSED);
  assert.is(s.stack.tcp.timeWait.count, 1);
});

test("half-close: after our FIN the peer's data still arrives", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen();
  conn.shutdown(SHUT_WR);
  const fin = s.expect("F.");
  s.inject(".", { ack: fin.seq + 1 });
  assert.is(conn.state, FIN_WAIT_2);
  s.inject("P.", { ack: fin.seq + 1, payload: pattern(50, 4) });
  assert.equal(read(conn), pattern(50, 4));
});

test("RFC 5961: an in-window reset gets a challenge ACK; only the exact one resets", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen();
  s.inject("R", { seq: s.peerSeq + 100 });
  s.expect(".", { ack: s.peerSeq });
  assert.is(conn.state, ESTABLISHED);
  s.inject("R", { seq: s.peerSeq + 1_000_000 });
  s.expectNone();
  s.inject("R", { seq: s.peerSeq });
  assert.is(conn.state, CLOSED);
  assert.is(conn.recv(buf, 0, 10, 0), -ECONNRESET);
  assert.is(s.stack.tcp.stats.challengeAcks, 1);
});

test("RFC 5961: a SYN on an established connection is challenged, not obeyed; one challenge per 500 ms", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen();
  s.inject("S", { seq: 77 });
  s.expect(".", { ack: s.peerSeq });
  assert.is(conn.state, ESTABLISHED);
  // An ACK for data never sent is challenged too, but within 500 ms of the last challenge the
  // connection stays silent, however many come.
  let answered = 0;
  for (let i = 0; i < 150; i++) {
    s.inject(".", { ack: s.stackSeq + 5000 });
    answered += s.segments().length;
  }
  assert.is(answered, 0);
  assert.is(s.stack.tcp.stats.challengeAcksLimited, 150);
  s.wait(500);
  s.inject(".", { ack: s.stackSeq + 5000 });
  s.expect(".");
  assert.is(s.stack.tcp.stats.challengeAcks, 2);
});

test("RFC 5961: the stack-wide challenge budget is drawn anew each second, not a fixed count", () => {
  // Many connections each earn one challenge; the stack answers a random 50-149 of them a second,
  // so an off-path attacker cannot count the others' challenges against a known limit.
  const s = new TcpScript({ stack: { tcpSockets: 41 } });
  const listener = s.stack.openTcp() as TcpEndpoint;
  listener.bind(null, s.stackPort);
  listener.listen(40);
  const stackSeqs: number[] = [];
  for (let i = 0; i < 40; i++) {
    s.peerPort = 41000 + i;
    s.inject("S", { seq: 1000 });
    const synAck = s.expect("S.");
    s.inject(".", { seq: 1001, ack: synAck.seq + 1 });
    stackSeqs.push(synAck.seq + 1);
  }
  const budgets: number[] = [];
  for (let second = 0; second < 6; second++) {
    let answered = 0;
    // 40 connections, each challenged every 500 ms: 160 challenges asked per second.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 40; i++) {
        s.peerPort = 41000 + i;
        s.inject("S", { seq: 5 });
      }
      answered += s.segments().length;
      s.wait(250);
    }
    budgets.push(answered);
  }
  for (const b of budgets) assert.ok(b >= 50 && b < 150, `budget ${b}`);
  assert.ok(new Set(budgets).size > 1, `the same budget every second: ${budgets}`);
  assert.is(
    s.stack.tcp.stats.challengeAcks,
    budgets.reduce((a, b) => a + b, 0),
  );
});

test("PAWS: a segment with an older timestamp is dropped and answered with an ACK", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 1460, ts: [1000, 0] }));
  s.inject("P.", { payload: pattern(10), options: synOptions({ ts: [1001, 0] }) });
  s.peerSeq += 10;
  s.wait(50);
  s.segments();
  s.inject("P.", { payload: pattern(10), options: synOptions({ ts: [900, 0] }) });
  s.expect(".", { ack: s.peerSeq });
  assert.is((read(conn) as Uint8Array).length, 10);
  assert.is(s.stack.tcp.stats.pawsDropped, 1);
});

test("out-of-order data: an immediate duplicate ACK with a SACK block; the filled hole is acknowledged whole", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 500, sackOk: true }));
  const data = pattern(1500, 9);
  s.inject(".", { seq: s.peerSeq + 500, payload: data.slice(500, 1000) });
  const dup = s.expect(".", { ack: s.peerSeq });
  assert.equal(dup.sack, [[s.peerSeq + 500, s.peerSeq + 1000]]);
  s.inject(".", { seq: s.peerSeq + 1000, payload: data.slice(1000, 1500) });
  assert.equal(s.expect(".", { ack: s.peerSeq }).sack, [[s.peerSeq + 500, s.peerSeq + 1500]]);
  assert.is(read(conn), -EAGAIN as unknown as Uint8Array);
  s.inject(".", { payload: data.slice(0, 500) });
  s.expect(".", { ack: s.peerSeq + 1500 });
  assert.equal(read(conn), data);
});

test("D-SACK (RFC 2883): data received twice is reported in the first SACK block, at once", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 500, sackOk: true }));
  const data = pattern(700, 3);
  const base = s.peerSeq;
  s.inject(".", { payload: data.slice(0, 300) });
  s.wait(300);
  s.expect(".", { ack: base + 300 });
  // The whole segment again (its ACK was lost, say): answered at once with D-SACK.
  s.inject(".", { payload: data.slice(0, 300) });
  const whole = s.expect(".", { ack: base + 300 });
  assert.equal(whole.sack, [[base, base + 300]]);
  // Overlapping: the old part is reported, the new part taken, both in one ACK sent at once.
  s.inject(".", { seq: base + 200, payload: data.slice(200, 500) });
  const part = s.expect(".", { ack: base + 500 });
  assert.equal(part.sack, [[base + 200, base + 300]]);
  // The report is made once: the next ACK has no blocks.
  s.inject(".", { seq: base + 500, payload: data.slice(500, 700) });
  s.wait(300);
  assert.equal(s.expect(".", { ack: base + 700 }).sack, []);
  assert.equal(read(conn), data);
  assert.is(s.stack.tcp.stats.dsacksSent, 2);
});

test("D-SACK is not sent to a peer that did not offer SACK", () => {
  const s = new TcpScript();
  s.passiveOpen(synOptions({ mss: 500 }));
  s.inject(".", { payload: pattern(100) });
  s.wait(300);
  s.expect(".", { ack: s.peerSeq + 100 });
  s.inject(".", { payload: pattern(100) });
  assert.equal(s.expect(".", { ack: s.peerSeq + 100 }).sack, []);
});

test("bare segments out of the window are answered once per 500 ms, so no ACK loop forms", () => {
  const s = new TcpScript();
  s.passiveOpen(synOptions({ mss: 500 }));
  const far = s.peerSeq + 1_000_000;
  s.inject(".", { seq: far });
  s.expect(".", { ack: s.peerSeq });
  for (let i = 0; i < 5; i++) s.inject(".", { seq: far });
  s.expectNone();
  assert.is(s.stack.tcp.stats.outOfWindowLimited, 5);
  // Data out of the window is not part of a loop: still answered.
  s.inject(".", { seq: far, payload: pattern(10) });
  s.expect(".", { ack: s.peerSeq });
  s.wait(500);
  s.inject(".", { seq: far });
  s.expect(".", { ack: s.peerSeq });
});

test("three duplicate ACKs trigger a fast retransmit of the oldest segment", () => {
  const s = new TcpScript({ stack: { tcpSendBuffer: 8192 } });
  const { conn } = s.passiveOpen(synOptions({ mss: 500 }));
  conn.send(pattern(3000), 0, 3000, 0);
  const out = s.segments();
  assert.ok(out.length >= 4);
  for (let i = 0; i < 3; i++) s.inject(".", { ack: s.stackSeq });
  const re = s.segments();
  assert.is(re[0].seq, s.stackSeq >>> 0);
  assert.is(re[0].payload.length, 500);
  assert.is(s.stack.tcp.stats.fastRetransmits, 1);
});

test("a zero window stops data; persist probes follow with backoff; an opening window resumes", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 1000 }));
  s.inject(".", { window: 0 });
  conn.send(pattern(100), 0, 100, 0);
  s.expectNone();
  s.wait(210);
  const probe = s.expect(".", { seq: s.stackSeq - 1, len: 0 });
  s.inject(".", { window: 0 });
  s.wait(210);
  s.expectNone();
  s.wait(200);
  s.expect(".", { seq: s.stackSeq - 1 });
  assert.ok(probe);
  s.inject(".", { window: 1000 });
  s.expect("P.", { seq: s.stackSeq, len: 100 });
  assert.ok(s.stack.tcp.stats.persistProbes >= 2);
});

test("our window closes as the ring fills and reopens with an update when the application reads", () => {
  const s = new TcpScript({ stack: { tcpReceiveBuffer: 2000 } });
  const { conn } = s.passiveOpen(synOptions({ mss: 1000 }));
  s.inject(".", { payload: pattern(1000) });
  s.inject(".", { payload: pattern(1000), seq: s.peerSeq + 1000 });
  s.peerSeq += 2000;
  s.expect(".", { ack: s.peerSeq, window: 0 });
  s.inject(".", { payload: pattern(10) });
  s.expect(".", { ack: s.peerSeq, window: 0 });
  read(conn);
  s.expect(".", { ack: s.peerSeq, window: 2000 });
});

test("keepalive: probes after idle, at the interval, then ETIMEDOUT after the count", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen();
  assert.is(conn.setKeepalive(true, 10_000, 1000, 3), 0);
  s.wait(9_990);
  s.expectNone();
  s.wait(20);
  s.expect(".", { seq: s.stackSeq - 1 });
  s.inject(".");
  s.wait(9_990);
  s.expectNone();
  s.wait(20);
  s.expect(".", { seq: s.stackSeq - 1 });
  s.wait(1000);
  s.expect(".");
  s.wait(1000);
  s.expect(".");
  s.wait(1000);
  s.expect("R");
  assert.is(conn.takeError(), ETIMEDOUT);
});

test("SO_LINGER 0 and unread data make close() reset", () => {
  const s = new TcpScript();
  const { conn, listener } = s.passiveOpen();
  conn.lingerZero = true;
  conn.close();
  s.expect("R", { seq: s.stackSeq });
  s.peerPort++;
  s.peerSeq = 5000;
  s.inject("S");
  const synAck = s.expect("S.");
  s.stackSeq = synAck.seq + 1;
  s.peerSeq++;
  s.inject(".");
  const c2 = listener.accept(null);
  if (typeof c2 === "number") throw new Error();
  s.inject("P.", { payload: pattern(5) });
  c2.close();
  s.expect("R");
});

test("simultaneous open: SYN crosses SYN, both answer SYN-ACK", () => {
  const s = new TcpScript();
  const conn = s.stack.openTcp() as TcpEndpoint;
  const to = new FullAddress();
  to.address.parse("192.0.2.2");
  to.port = 40000;
  conn.connect(to);
  const syn = s.expect("S");
  s.stackPort = syn.sourcePort;
  s.inject("S");
  const synAck = s.expect("S.", { seq: syn.seq, ack: s.peerSeq + 1 });
  s.peerSeq++;
  s.stackSeq = synAck.seq + 1;
  s.inject(".");
  assert.is(conn.state, ESTABLISHED);
});

test("connect to an address that never answers ARP fails with EHOSTUNREACH", () => {
  const s = new TcpScript();
  const conn = s.stack.openTcp() as TcpEndpoint;
  const to = new FullAddress();
  to.address.setV4(OTHER_IP);
  to.port = 80;
  conn.connect(to);
  s.wait(10_000);
  assert.is(conn.takeError(), EHOSTUNREACH);
});

test("recv flags and errors: MSG_PEEK, ENOTCONN before connect, EBADF after close", () => {
  const s = new TcpScript();
  const fresh = s.stack.openTcp() as TcpEndpoint;
  assert.is(fresh.recv(buf, 0, 10, 0), -ENOTCONN);
  assert.is(fresh.send(buf, 0, 10, 0), -EPIPE);
  fresh.close();
  assert.is(fresh.recv(buf, 0, 10, 0), -EBADF);
  const { conn } = s.passiveOpen();
  s.inject("P.", { payload: pattern(20) });
  assert.equal(read(conn, MSG_PEEK), pattern(20));
  assert.ok(conn.readiness(EVENT_IN) !== 0);
  assert.equal(read(conn), pattern(20));
  assert.is(conn.recv(buf, 0, 10, 0), -EAGAIN);
});

test("a SYN takes a SYN-queue entry, no connection slot; its SYN-ACK is resent with backoff, then dropped", () => {
  const s = new TcpScript({ stack: { tcpSynRetries: 2 } });
  const listener = s.stack.openTcp() as TcpEndpoint;
  listener.bind(null, 80);
  listener.listen(4);
  s.inject("S");
  const first = s.expect("S.");
  assert.is(s.stack.tcp.openCount, 1);
  assert.is(s.stack.tcp.synQ.count, 1);
  s.wait(1001);
  s.expect("S.", { seq: first.seq });
  s.wait(2000);
  s.expect("S.", { seq: first.seq });
  s.wait(4000);
  s.expectNone();
  assert.is(s.stack.tcp.synQ.count, 0);
  assert.is(s.stack.tcp.stats.synQueueTimeouts, 1);
});

test("with the SYN queue full, SYN cookies answer; an ACK bearing a valid one makes the connection", () => {
  const s = new TcpScript({ stack: { tcpSynQueue: 1 } });
  const listener = s.stack.openTcp() as TcpEndpoint;
  listener.bind(null, 80);
  listener.listen(4);
  s.inject("S", { options: synOptions({ mss: 1460 }) });
  s.expect("S.");
  s.peerPort = 40001;
  s.inject("S", { options: synOptions({ mss: 1460, wscale: 7, sackOk: true }) });
  const cookie = s.expect("S.", { ack: 1001 });
  // Without timestamps to carry them, only the MSS survives a cookie.
  assert.is(cookie.wscale, -1);
  assert.is(cookie.ts, null);
  assert.not.ok(cookie.sackPermitted);
  assert.is(s.stack.tcp.stats.synCookiesSent, 1);
  s.peerSeq = 1001;
  s.stackSeq = cookie.seq + 1;
  s.inject(".", { payload: pattern(30) });
  const conn = listener.accept(null);
  if (typeof conn === "number") throw new Error(String(conn));
  assert.is(conn.sendMss, 1460);
  assert.equal(read(conn), pattern(30));
  assert.is(s.stack.tcp.stats.synCookiesValid, 1);
  // A forged cookie is answered with a reset.
  s.segments();
  s.peerPort = 40002;
  s.inject(".", { ack: cookie.seq + 12345 });
  s.expect("R");
  assert.is(s.stack.tcp.stats.synCookiesFailed, 1);
});

test("a SYN cookie keeps window scale and SACK in its timestamp when the peer offers timestamps", () => {
  const s = new TcpScript({ stack: { tcpSynQueue: 1, tcpReceiveBuffer: 262144 } });
  const listener = s.stack.openTcp() as TcpEndpoint;
  listener.bind(null, 80);
  listener.listen(4);
  s.inject("S", { options: synOptions({ mss: 1460 }) });
  s.expect("S.");
  s.peerPort = 40001;
  s.at(5000);
  s.segments(); // the first SYN-ACK's retransmissions
  s.inject("S", { options: synOptions({ mss: 1460, wscale: 7, ts: [77, 0], sackOk: true }) });
  const cookie = s.expect("S.", { ack: 1001 });
  assert.is(s.stack.tcp.stats.synCookiesSent, 1);
  assert.ok(cookie.sackPermitted);
  assert.is(cookie.wscale, 3, "our shift for a 256 KB ring");
  const [tsVal, tsEcr] = cookie.ts!;
  assert.is(tsEcr, 77);
  assert.is(tsVal & 63, 7 | 16, "the peer's shift and SACK in the low bits");
  assert.ok(tsVal <= s.solo.now && tsVal > s.solo.now - 64, "never ahead of the clock");
  s.peerSeq = 1001;
  s.stackSeq = cookie.seq + 1;
  s.at(5010);
  // The ACK echoes the timestamp and offers a window of 1000 << 7.
  s.inject(".", { window: 1000, options: synOptions({ ts: [78, tsVal] }) });
  const conn = listener.accept(null);
  if (typeof conn === "number") throw new Error(String(conn));
  assert.is(s.stack.tcp.stats.synCookiesValid, 1);
  assert.ok(conn.timestamps);
  assert.ok(conn.sack);
  assert.is(conn.sendWscale, 7);
  assert.is(conn.receiveWscale, 3);
  assert.is(conn.sendMss, 1460 - 12);
  assert.is(conn.peerWindow, 1000 << 7);
  // A forged echo (a timestamp from the future) brings no options back.
  s.peerPort = 40002;
  s.at(5020);
  s.segments();
  s.inject("S", {
    seq: 5000,
    options: synOptions({ mss: 1460, wscale: 7, ts: [90, 0], sackOk: true }),
  });
  const second = s.expect("S.");
  s.peerSeq = 5001;
  s.stackSeq = second.seq + 1;
  s.inject(".", { options: synOptions({ ts: [91, (s.solo.now + 100000) | 0] }) });
  const plain = listener.accept(null);
  if (typeof plain === "number") throw new Error(String(plain));
  assert.not.ok(plain.timestamps);
  assert.is(plain.sendWscale, -1);
});

/** A SACK option with the blocks given as absolute sequence numbers. */
function sackOption(blocks: [number, number][]): Uint8Array {
  const out = [1, 1, 5, 2 + 8 * blocks.length];
  for (const [a, b] of blocks)
    for (const v of [a >>> 0, b >>> 0])
      out.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  return Uint8Array.from(out);
}

test("SACK recovery: after the fast retransmit, each duplicate ACK resends the next hole, not SACKed data", () => {
  const s = new TcpScript({ stack: { tcpSendBuffer: 8192 } });
  const { conn } = s.passiveOpen(synOptions({ mss: 500, sackOk: true }));
  assert.ok(conn.sack);
  conn.send(pattern(3000), 0, 3000, 0);
  assert.is(s.segments().length, 6);
  const base = s.stackSeq;
  const dup = (blocks: [number, number][]) =>
    s.inject(".", { ack: base, options: sackOption(blocks.map(([a, b]) => [base + a, base + b])) });
  dup([[500, 1000]]);
  dup([[500, 1500]]);
  s.expectNone();
  dup([
    [2000, 2500],
    [500, 1500],
  ]);
  s.expect(".", { seq: base, len: 500 });
  dup([
    [2000, 3000],
    [500, 1500],
  ]);
  const hole = s.segments();
  assert.ok(hole.length >= 1);
  assert.is(hole[0].seq, (base + 1500) >>> 0);
  assert.is(hole[0].payload.length, 500);
  dup([
    [2000, 3000],
    [500, 1500],
  ]);
  assert.not.ok(s.segments().some((g) => g.payload.length > 0 && g.seq !== (base + 3000) >>> 0));
  s.inject(".", { ack: base + 3000 });
  assert.is(conn.unacknowledged, 0);
});

test("SACK recovery is paced by the pipe (RFC 6675): lost holes first, then new data as far as cwnd - pipe", () => {
  const s = new TcpScript({ stack: { tcpSendBuffer: 8192 } });
  const { conn } = s.passiveOpen(synOptions({ mss: 500, sackOk: true }));
  conn.send(pattern(8000), 0, 8000, 0);
  assert.is(s.segments().length, 10, "the initial window, 10 segments");
  const base = s.stackSeq;
  const dup = (blocks: [number, number][]) =>
    s.inject(".", { ack: base, options: sackOption(blocks.map(([a, b]) => [base + a, base + b])) });
  // Segments 0 and 4 are lost. Two duplicates each let one new segment out (RFC 3042).
  dup([[500, 1000]]);
  assert.equal(
    s.segments().map((g) => g.seq - base),
    [5000],
  );
  dup([[500, 1500]]);
  assert.equal(
    s.segments().map((g) => g.seq - base),
    [5500],
  );
  // The third: recovery, ssthresh = cwnd = half of 6000 in flight; the head goes again, and the
  // pipe (500 retransmitted + 4000 not SACKed past the highest block) leaves no room for more.
  dup([[500, 2000]]);
  assert.equal(
    s.segments().map((g) => g.seq - base),
    [0],
  );
  assert.is(conn.slowStartThreshold, 3000);
  assert.is(conn.congestionWindow, 3000);
  // Everything past the second loss arrives: the pipe falls to the one retransmission, so the
  // lost hole goes, then new data until the pipe is back at cwnd (NewReno's inflation would have
  // sent the hole alone).
  dup([
    [2500, 6000],
    [500, 2000],
  ]);
  const out = s.segments();
  assert.equal(
    out.map((g) => [g.seq - base, g.payload.length]),
    [
      [2000, 500],
      [6000, 500],
      [6500, 500],
      [7000, 500],
      [7500, 500],
    ],
  );
  s.inject(".", { ack: base + 8000 });
  assert.is(conn.unacknowledged, 0);
  assert.is(s.stack.tcp.stats.fastRetransmits, 1);
});

test("an ICMP port unreachable while connecting ends it with ECONNREFUSED", () => {
  const s = new TcpScript();
  const conn = s.stack.openTcp() as TcpEndpoint;
  const to = new FullAddress();
  to.address.setV4(PEER_IP);
  to.port = 40000;
  conn.connect(to);
  const syn = s.expect("S");
  // The quoted datagram: our IP header and the first 8 bytes of the SYN.
  const quoted = ipv4({
    source: STACK_IP,
    destination: PEER_IP,
    protocol: 6,
    payload: tcp({
      source: STACK_IP,
      destination: PEER_IP,
      sourcePort: syn.sourcePort,
      destinationPort: 40000,
      seq: syn.seq,
      flags: 2,
    }).slice(0, 8),
  });
  s.solo.send(ipFrame({ protocol: 1, payload: icmp({ type: 3, code: 3, payload: quoted }) }));
  assert.is(conn.state, CLOSED);
  assert.is(conn.takeError(), ECONNREFUSED);
});

test("bind: a port held by a listener is EADDRINUSE; SO_REUSEADDR lets bound sockets share", () => {
  const s = new TcpScript();
  const a = s.stack.openTcp() as TcpEndpoint;
  assert.is(a.bind(null, 80), 0);
  assert.is(a.listen(1), 0);
  const b = s.stack.openTcp() as TcpEndpoint;
  assert.is(b.bind(null, 80), -EADDRINUSE);
  b.reuseAddress = true;
  assert.is(b.bind(null, 80), -EADDRINUSE);
  const c = s.stack.openTcp() as TcpEndpoint;
  c.reuseAddress = true;
  assert.is(c.bind(null, 81), 0);
  assert.is(b.bind(null, 81), 0);
  a.close();
  const d = s.stack.openTcp() as TcpEndpoint;
  assert.is(d.bind(null, 80), 0);
});

test("with every slot in use, a completed handshake is dropped and counted, never crashes", () => {
  const s = new TcpScript({ stack: { tcpSockets: 2 } });
  const { listener } = s.passiveOpen();
  assert.is(s.stack.tcp.openCount, 2);
  s.peerPort = 40001;
  s.inject("S", { seq: 7000 });
  const synAck = s.expect("S.");
  s.inject(".", { seq: 7001, ack: synAck.seq + 1 });
  s.expectNone();
  assert.is(s.stack.tcp.stats.listenDrops, 1);
  assert.is(listener.accept(null), -EAGAIN);
});

test("property: arbitrary segments to a listener and a connection never throw or leak a buffer", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen(synOptions({ mss: 1000, sackOk: true, ts: [1, 0], wscale: 3 }));
  conn.send(pattern(2000), 0, 2000, 0);
  const base = s.stackSeq;
  const peer = s.peerSeq;
  fc.assert(
    fc.property(
      fc.record({
        flags: fc.integer({ min: 0, max: 255 }),
        seqDelta: fc.integer({ min: -70000, max: 70000 }),
        ackDelta: fc.integer({ min: -70000, max: 70000 }),
        window: fc.integer({ min: 0, max: 0xffff }),
        options: fc.uint8Array({ maxLength: 40 }),
        payload: fc.uint8Array({ maxLength: 600 }),
        port: fc.constantFrom(40000, 40001, 80, 81),
        to: fc.constantFrom(80, 81),
        dataOffset: fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }),
      }),
      (f) => {
        const segment = tcp({
          source: PEER_IP,
          destination: STACK_IP,
          sourcePort: f.port,
          destinationPort: f.to,
          seq: (peer + f.seqDelta) | 0,
          ack: (base + f.ackDelta) | 0,
          flags: f.flags,
          window: f.window,
          options: f.options,
          payload: f.payload,
          dataOffset: f.dataOffset,
        });
        s.solo.send(
          ether(
            STACK_MAC,
            PEER_MAC,
            ETH_IPV4,
            ipv4({ source: PEER_IP, destination: STACK_IP, protocol: 6, payload: segment }),
          ),
        );
        s.segments();
      },
    ),
    { numRuns: 2000, seed: 42 },
  );
  s.wait(300_000);
  s.segments();
  for (const c of s.stack.tcp.slots) if (c.inUse && c.state !== 1) c.abort(0, false);
  s.wait(1000);
  assert.ok(s.solo.poolFull());
});

test("CUBIC: a loss sets ssthresh to 0.7 cwnd, where NewReno halves the flight", () => {
  for (const cubic of [false, true]) {
    const s = new TcpScript({ stack: { tcpSendBuffer: 8192 } });
    const { conn } = s.passiveOpen(synOptions({ mss: 500 }));
    conn.cubic = cubic;
    assert.is(conn.cubic, cubic);
    conn.send(pattern(3000), 0, 3000, 0);
    s.segments();
    const cwnd = conn.congestionWindow;
    for (let i = 0; i < 3; i++) s.inject(".", { ack: s.stackSeq });
    assert.is(conn.slowStartThreshold, cubic ? Math.floor(cwnd * 0.7) : 1500);
  }
});

test("resets in other states: ignored by a listener and by TIME-WAIT (RFC 1337), fatal in SYN-SENT only with a good ACK", () => {
  const s = new TcpScript({ stack: { msl: 1000 } });
  const { conn, listener } = s.passiveOpen();
  s.inject("R", { seq: 1 });
  assert.is(listener.state, 1);
  s.expectNone();
  // Into TIME-WAIT, then a reset there changes nothing.
  conn.shutdown(SHUT_WR);
  const fin = s.expect("F.");
  s.inject("F.", { ack: fin.seq + 1 });
  s.expect(".");
  assert.is(s.stack.tcp.timeWait.count, 1);
  s.inject("R", { seq: s.peerSeq + 1 });
  assert.is(s.stack.tcp.timeWait.count, 1);
  // A new SYN with a higher sequence number reuses the tuple at once.
  s.inject("S", { seq: s.peerSeq + 100_000 });
  s.expect("S.", { ack: s.peerSeq + 100_001 });
  assert.is(s.stack.tcp.timeWait.count, 0);
  assert.is(s.stack.tcp.stats.timeWaitReused, 1);
  // SYN-SENT: a reset whose ACK is not for our SYN is ignored.
  const c = s.stack.openTcp() as TcpEndpoint;
  const to = new FullAddress();
  to.address.setV4(PEER_IP);
  to.port = 5555;
  c.connect(to);
  const syn = s.expect("S");
  s.inject("R.", { port: 5555, to: syn.sourcePort, seq: 0, ack: syn.seq + 7 });
  assert.is(c.state, SYN_SENT);
});

test("a reset to a connection waiting to be accepted frees it quietly", () => {
  const s = new TcpScript();
  const listener = s.stack.openTcp() as TcpEndpoint;
  listener.bind(null, 80);
  listener.listen(4);
  s.inject("S");
  const synAck = s.expect("S.");
  s.inject(".", { seq: 1001, ack: synAck.seq + 1 });
  assert.is(s.stack.tcp.openCount, 2);
  s.inject("R", { seq: 1001 });
  assert.is(s.stack.tcp.openCount, 1);
  assert.is(listener.accept(null), -EAGAIN);
});

test("data arriving after close() resets the connection", () => {
  const s = new TcpScript();
  const { conn } = s.passiveOpen();
  conn.close();
  const fin = s.expect("F.");
  s.inject("P.", { ack: fin.seq + 1, payload: pattern(10) });
  s.expect("R");
  assert.is(s.stack.tcp.openCount, 1);
});

test.run();
