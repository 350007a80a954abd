// The stack after 24.8 days of uptime. Past 2^31 ms the driver's clock is no longer a small integer
// on V8 (the timer fields turn double), and past 2^32 the 32-bit timestamp clock wraps; the timers
// must still behave exactly as they do at 0: RTO and its backoff, delayed ACKs, persist probes,
// keepalive, TIME-WAIT, and ARP's resolution and aging. Each scenario starts shortly before the
// boundary it crosses, so the crossing happens while its timers run.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { ETIMEDOUT } from "../../src/errno.js";
import { NEIGHBOR_REACHABLE, NEIGHBOR_STALE } from "../../src/iface/neighbor.js";
import { CLOSED, FIN_WAIT_1, FIN_WAIT_2 } from "../../src/transport/tcp/constants.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress } from "../../src/wire/address.js";
import { BROADCAST_MAC, Sent, ip, pattern } from "../support/frames.js";
import { PEER_IP, PEER_MAC, STACK_IP, Solo } from "../support/harness.js";
import { TcpScript, synOptions } from "../support/tcp-script.js";

/** Solo.warm() takes 3 s: the scenarios begin 100 ms before each boundary. */
const WARM = 3000;
const BOUNDARIES: readonly [string, number][] = [
  ["2^31", 2 ** 31],
  ["2^32", 2 ** 32],
  ["2^45", 2 ** 45],
];

const NOBODY = ip("192.0.2.99");

function script(start: number, stack = {}): TcpScript {
  const s = new TcpScript({ start, stack });
  assert.ok(s.solo.now < start + WARM + 100, "the script begins before the boundary");
  return s;
}

function udpSender(solo: Solo): (address: number) => void {
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, 5555), 0);
  const to = new FullAddress();
  to.port = 9;
  return (address) => {
    to.address.setV4(address);
    assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, to), 1);
    solo.settle();
  };
}

function isRequest(s: Sent, target: number, dst: Uint8Array): boolean {
  const a = s.arp;
  return (
    a !== undefined &&
    a.op === 1 &&
    a.targetIp === target &&
    a.senderIp === STACK_IP &&
    s.dst.every((b, i) => b === dst[i])
  );
}

for (const [boundary, edge] of BOUNDARIES) {
  const start = edge - WARM - 100;

  test(`past ${boundary} ms: retransmission timeouts back off 200, 400, 800 ms; an ACK ends them`, () => {
    const s = script(start);
    const { conn } = s.passiveOpen(synOptions({ mss: 1460 }));
    assert.is(conn.send(pattern(100), 0, 100, 0), 100);
    const first = s.expect("P.", { seq: s.stackSeq, len: 100 });
    const at: number[] = [];
    while (at.length < 3) {
      s.wait(10);
      for (const g of s.segments()) {
        assert.is(g.seq, first.seq);
        at.push(g.at - first.at);
      }
    }
    assert.ok(s.solo.now > edge, "the clock crossed the boundary");
    const gaps = [at[0], at[1] - at[0], at[2] - at[1]];
    assert.ok(
      Math.abs(gaps[0] - 200) <= 10 &&
        Math.abs(gaps[1] - 400) <= 10 &&
        Math.abs(gaps[2] - 800) <= 10,
      `${gaps}`,
    );
    s.inject(".", { ack: s.stackSeq + 100 });
    assert.is(conn.unacknowledged, 0);
    s.wait(5000);
    s.expectNone();
  });

  test(`past ${boundary} ms: retransmissions end with ETIMEDOUT after tcpRetries`, () => {
    const s = script(start, { tcpRetries: 3 });
    const { conn } = s.passiveOpen();
    conn.send(pattern(10), 0, 10, 0);
    s.wait(200 + 400 + 800 + 1600 - 10);
    assert.is(conn.takeError(), 0, "not before the last timeout");
    s.wait(20);
    const got = s.segments();
    assert.is(got.filter((g) => g.payload.length === 10).length, 4);
    assert.is(got[got.length - 1].flags & 4, 4, "ends with a reset");
    assert.is(conn.takeError(), ETIMEDOUT);
    assert.is(conn.state, CLOSED);
    assert.ok(s.solo.now > edge);
  });

  test(`past ${boundary} ms: a lone segment is acknowledged after the delayed-ACK time`, () => {
    const s = script(start);
    s.passiveOpen(synOptions({ mss: 1000 }));
    s.wait(100);
    s.inject("P.", { payload: pattern(1000) });
    s.peerSeq += 1000;
    s.expectNone();
    s.wait(39);
    s.expectNone();
    s.wait(2);
    s.expect(".", { ack: s.peerSeq });
    assert.ok(s.solo.now > edge);
  });

  test(`past ${boundary} ms: a zero window gets persist probes with backoff`, () => {
    const s = script(start);
    const { conn } = s.passiveOpen(synOptions({ mss: 1000 }));
    s.inject(".", { window: 0 });
    conn.send(pattern(100), 0, 100, 0);
    s.expectNone();
    s.wait(210);
    s.expect(".", { seq: s.stackSeq - 1, len: 0 });
    s.inject(".", { window: 0 });
    s.wait(210);
    s.expectNone();
    s.wait(200);
    s.expect(".", { seq: s.stackSeq - 1 });
    s.inject(".", { window: 1000 });
    s.expect("P.", { seq: s.stackSeq, len: 100 });
    assert.ok(s.solo.now > edge);
  });

  test(`past ${boundary} ms: keepalive probes after idle, at the interval, then ETIMEDOUT`, () => {
    const s = script(start);
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
    assert.ok(s.solo.now > edge);
  });

  test(`past ${boundary} ms: TIME-WAIT lasts 2 MSL, then the tuple is gone`, () => {
    const s = script(start, { msl: 1000 });
    const { conn, listener } = s.passiveOpen();
    listener.close();
    assert.is(conn.close(), 0);
    const fin = s.expect("F.", { seq: s.stackSeq });
    assert.is(s.stack.tcp.slots.filter((c) => c.inUse)[0].state, FIN_WAIT_1);
    s.inject(".", { ack: fin.seq + 1 });
    assert.is(s.stack.tcp.slots.filter((c) => c.inUse)[0].state, FIN_WAIT_2);
    s.inject("F.", { ack: fin.seq + 1 });
    s.expect(".", { ack: s.peerSeq + 1 });
    assert.is(s.stack.tcp.timeWait.count, 1);
    const entered = s.solo.now;
    assert.is(s.stack.nextDeadline(), entered + 2000, "the stack asks to be polled when it ends");
    s.wait(1999);
    assert.is(s.stack.tcp.timeWait.count, 1);
    s.wait(2);
    assert.is(s.stack.tcp.timeWait.count, 0);
    assert.ok(s.solo.now > edge);
    assert.ok(s.solo.poolFull());
  });

  test(`past ${boundary} ms: ARP resolution retries each second, three times, then gives up`, () => {
    const solo = new Solo({ start }).warm();
    const send = udpSender(solo);
    send(NOBODY);
    const times: number[] = [];
    for (let t = 0; t < 5000; t++) {
      for (const s of solo.take()) {
        assert.ok(isRequest(s, NOBODY, BROADCAST_MAC), "only broadcast requests for the address");
        times.push(t);
      }
      solo.advance(1);
    }
    assert.ok(solo.now > edge);
    assert.equal(times, [0, 1000, 2000]);
    assert.is(solo.iface.arpStats.failures, 1);
    assert.is(solo.iface.arpStats.unresolvedDrops, 1);
    assert.is(solo.iface.neighbors.find(NOBODY), -1);
  });

  test(`past ${boundary} ms: a neighbor goes stale within 15-45 s; a use then probes it by unicast`, () => {
    const solo = new Solo({ start }).warm();
    const send = udpSender(solo);
    const cache = solo.iface.neighbors;
    const entry = cache.find(PEER_IP);
    assert.is(cache.state[entry], NEIGHBOR_REACHABLE);
    solo.advance(15_000 - 1);
    assert.is(cache.state[entry], NEIGHBOR_REACHABLE, "reachable for at least 15 s");
    solo.advance(31_000);
    assert.is(cache.state[entry], NEIGHBOR_STALE, "stale within 45 s");
    assert.equal(solo.take(), [], "aging sends nothing");
    send(PEER_IP);
    assert.is(solo.take().length, 1, "the datagram goes out at once on the stale address");
    solo.advance(4_999);
    assert.equal(solo.take(), [], "no probe during the 5 s delay");
    solo.advance(2);
    const probe = solo.take();
    assert.is(probe.length, 1);
    assert.ok(isRequest(probe[0], PEER_IP, PEER_MAC), "a unicast probe");
    assert.ok(solo.now > edge);
  });
}

test.run();
