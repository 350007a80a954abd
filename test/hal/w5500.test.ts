// The W5500 driver over the strict chip simulator over a LinkPair, a second stack on the far end.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EAGAIN } from "../../src/errno.js";
import { FullAddress } from "../../src/wire/address.js";
import { endpoint, poolFull } from "../support/stacks.js";
import { rig, type Rig } from "./w5500-rig.js";

function clean(r: Rig): void {
  assert.equal(r.sim.violations, [], "no chip violations");
  assert.ok(poolFull(r.a) && poolFull(r.b), "pools whole");
}

test("begin() finds the chip, opens socket 0 in MACRAW with 16 KB buffers, link up", () => {
  const r = rig();
  assert.is(r.driver.linkUp, true);
  assert.is(r.sim.sockets[0x03], 0x42, "Sn_SR = MACRAW");
  assert.is(r.sim.sockets[0x1e], 16);
  assert.is(r.sim.sockets[0x30 + 0x1e], 0);
  assert.equal(Array.from(r.sim.common.subarray(9, 15)), [2, 0, 0, 0, 0x55, 0]);
  clean(r);
});

test("ARP and ping through the chip", () => {
  const r = rig();
  const ping = r.a.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  for (let i = 0; i < 5; i++) {
    request[7] = i;
    assert.is(ping.sendTo(request, 0, request.length, endpoint("192.0.2.2", 0)), request.length);
    assert.ok(r.net.runUntilIdle());
    const reply = new Uint8Array(64);
    assert.is(ping.recvFrom(reply, 0, 64, null, 0), request.length);
    assert.is(reply[0], 0);
    assert.is(reply[7], i);
  }
  assert.ok(r.a.iface!.arpStats.requestsOut >= 1);
  assert.is(r.b.iface!.icmpStats.echoRepliesOut, 5);
  clean(r);
});

test("UDP echo of 1..8000 bytes, fragmented both ways, byte-exact", () => {
  const r = rig();
  const server = r.b.openUdp() as UdpEndpoint;
  server.bind(null, 7);
  const client = r.a.openUdp() as UdpEndpoint;
  const buf = new Uint8Array(9000);
  const from = new FullAddress();
  for (const size of [1, 18, 1472, 1473, 2961, 5000, 8000]) {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 7 + size) & 255;
    assert.is(client.sendTo(data, 0, size, endpoint("192.0.2.2", 7)), size);
    r.net.runUntilIdle();
    const n = server.recvFrom(buf, 0, buf.length, from, 0);
    assert.is(n, size);
    assert.is(server.sendTo(buf, 0, n, from), n);
    r.net.runUntilIdle();
    const back = new Uint8Array(9000);
    assert.is(client.recvFrom(back, 0, back.length, null, 0), size);
    assert.equal(back.subarray(0, size), data, `size ${size}`);
  }
  assert.ok(r.a.iface!.ipStats.reassembled >= 4);
  clean(r);
});

test("pointers starting at 0xfff0 roll over mid-frame and mid-record, frames stay exact", () => {
  const r = rig({ sim: { pointerStart: 0xfff0 } });
  const server = r.b.openUdp() as UdpEndpoint;
  server.bind(null, 7);
  const client = r.a.openUdp() as UdpEndpoint;
  const buf = new Uint8Array(9000);
  for (let round = 0; round < 30; round++) {
    const size = 1000 + round * 97;
    const data = new Uint8Array(size).fill(round);
    client.sendTo(data, 0, size, endpoint("192.0.2.2", 7));
    r.net.runUntilIdle();
    assert.is(server.recvFrom(buf, 0, buf.length, null, 0), size);
    assert.ok(buf.subarray(0, size).every((x) => x === round));
    server.sendTo(data, 0, size, endpoint("192.0.2.1", client.localPort));
    r.net.runUntilIdle();
    assert.is(client.recvFrom(buf, 0, buf.length, null, 0), size);
  }
  clean(r);
});

test("link down: transmit refused, the stuck frame times out and reopens; link up again works", () => {
  const r = rig({ driver: { linkDeadline: true } });
  const ping = r.a.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1);
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.2", 0));
  r.net.advance(10);
  assert.ok(ping.recvFrom(new Uint8Array(16), 0, 16, null, 0) > 0);
  r.pair.setLink(false);
  r.net.advance(1000);
  assert.is(r.driver.linkUp, false, "the link poll saw LNK = 0");
  // A SEND issued with the link down never completes: the driver gives up and reopens.
  (r.driver as unknown as { linkUp: boolean }).linkUp = true;
  const frame = new Uint8Array(60).fill(0xff);
  assert.is(r.driver.transmit(frame, 0, 60), 1);
  r.net.advance(100);
  assert.is(r.driver.stats.txTimeouts, 1);
  assert.is(r.driver.linkUp, false);
  assert.ok(r.driver.transmit(frame, 0, 60) < 0, "refused while down");
  r.pair.setLink(true);
  r.net.advance(1000);
  assert.is(r.driver.linkUp, true);
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.2", 0));
  r.net.advance(10);
  assert.ok(ping.recvFrom(new Uint8Array(16), 0, 16, null, 0) > 0);
  clean(r);
});

/** Resolves ARP both ways, so later bursts are not held in the neighbor queues. */
function primeArp(r: Rig): void {
  const ping = r.a.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1);
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.2", 0));
  r.net.runUntilIdle();
  assert.ok(ping.recvFrom(new Uint8Array(16), 0, 16, null, 0) > 0);
  ping.close();
}

test("receive overflow: frames that do not fit are dropped whole; a corrupt header reopens", () => {
  const r = rig({ sim: { corruptAfterOverflow: true } });
  primeArp(r);
  const server = r.a.openUdp() as UdpEndpoint;
  server.bind(null, 9);
  const client = r.b.openUdp() as UdpEndpoint;
  const data = new Uint8Array(1400).fill(3);
  // Stop the driver from draining: 14 frames of 1442 bytes overrun 16 KB.
  r.sim.interrupt.onReadable = null;
  for (let i = 0; i < 16; i++) {
    client.sendTo(data, 0, data.length, endpoint("192.0.2.1", 9));
    r.b.poll(r.net.now);
  }
  r.sim.poll(r.net.now);
  assert.ok(r.sim.stats.rxOverflows >= 1, "the chip dropped what did not fit");
  // One more frame lands after the drop with a corrupt length header.
  r.sim.interrupt.onReadable = () => r.driver.onInterrupt();
  for (let i = 0; i < 20 && r.sim.stats.rxOverflows > 0; i++) {
    r.a.poll(r.net.now);
    if (r.driver.stats.rxBadLength > 0) break;
    client.sendTo(data, 0, data.length, endpoint("192.0.2.1", 9));
    r.net.runUntilIdle();
  }
  r.net.runUntilIdle();
  assert.ok(r.driver.stats.rxBadLength >= 1, "bad length seen");
  assert.ok(r.driver.stats.reopens >= 2, "socket reopened");
  let got = 0;
  const buf = new Uint8Array(2000);
  while (server.recvFrom(buf, 0, buf.length, null, 0) > 0) got++;
  assert.ok(got >= 10, `${got} datagrams before the overflow arrived`);
  // Traffic flows again after the reopen.
  client.sendTo(data, 0, data.length, endpoint("192.0.2.1", 9));
  r.net.runUntilIdle();
  assert.is(server.recvFrom(buf, 0, buf.length, null, 0), 1400);
  clean(r);
});

test("TX_BUSY backpressure: 1000 back-to-back datagrams at 10 Mbit/s all arrive, in order", () => {
  const r = rig({
    sim: { linkMbps: 10 },
    stack: { sendQueue: 64, udpReceiveBuffer: 256 * 1024 },
  });
  primeArp(r);
  const server = r.b.openUdp() as UdpEndpoint;
  server.bind(null, 9);
  const client = r.a.openUdp() as UdpEndpoint;
  const data = new Uint8Array(1400);
  const buf = new Uint8Array(2000);
  let next = 0;
  let sent = 0;
  while (sent < 1000) {
    data[0] = sent >> 8;
    data[1] = sent & 255;
    const n = client.sendTo(data, 0, data.length, endpoint("192.0.2.2", 9));
    if (n === -EAGAIN) {
      r.net.runUntilIdle();
      for (;;) {
        const m = server.recvFrom(buf, 0, buf.length, null, 0);
        if (m < 0) break;
        assert.is((buf[0] << 8) | buf[1], next++, "in order");
      }
      continue;
    }
    assert.is(n, data.length);
    sent++;
  }
  r.net.runUntilIdle();
  for (;;) {
    const m = server.recvFrom(buf, 0, buf.length, null, 0);
    if (m < 0) break;
    assert.is((buf[0] << 8) | buf[1], next++, "in order");
  }
  assert.is(next, 1000);
  assert.ok(r.driver.stats.txBusy > 0, "the chip pushed back");
  assert.is(r.sim.stats.txFrames, r.driver.stats.txFrames);
  clean(r);
});

test("multicast: blocked by the chip until a group is joined; other groups dropped", () => {
  const r = rig();
  primeArp(r);
  // Only all-hosts (224.0.0.1) joined; first with no group at all, where the chip's MMB blocks.
  r.driver.setMulticastFilter(new Uint8Array(0), 0);
  const server = r.a.openUdp() as UdpEndpoint;
  server.bind(null, 5000);
  const sender = r.b.openUdp() as UdpEndpoint;
  const data = Uint8Array.of(1, 2, 3);
  sender.sendTo(data, 0, 3, endpoint("239.1.2.3", 5000));
  r.net.runUntilIdle();
  const buf = new Uint8Array(16);
  assert.is(server.recvFrom(buf, 0, 16, null, 0), -EAGAIN);
  assert.is(r.sim.stats.rxFiltered, 1, "MMB blocked it in the chip");
  assert.is(r.driver.stats.rxMulticastDropped, 0);
  assert.ok(r.a.iface!.joinGroup(0xef010203 | 0));
  sender.sendTo(data, 0, 3, endpoint("239.1.2.3", 5000));
  sender.sendTo(data, 0, 3, endpoint("239.9.9.9", 5000));
  r.net.runUntilIdle();
  assert.is(server.recvFrom(buf, 0, 16, null, 0), 3, "the joined group passes");
  assert.is(server.recvFrom(buf, 0, 16, null, 0), -EAGAIN);
  assert.is(r.driver.stats.rxMulticastDropped, 1, "the other group dropped by the driver");
  clean(r);
});

test("polling mode (no INTn): frames still flow", () => {
  const r = rig({ driver: { interrupt: null } });
  const ping = r.a.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1);
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.2", 0));
  r.net.advance(50);
  assert.ok(ping.recvFrom(new Uint8Array(16), 0, 16, null, 0) > 0);
  clean(r);
});

test("the simulator counts SPI transactions and bytes per frame", () => {
  const r = rig();
  const frame = new Uint8Array(1514).fill(0xff);
  const before = r.sim.stats.transactions;
  const bytes = r.sim.stats.bytes;
  for (let i = 0; i < 10; i++) {
    while (r.driver.transmit(frame, 0, 1514) === 0) r.net.advance(1);
  }
  const perFrame = (r.sim.stats.transactions - before) / 10;
  assert.ok(perFrame >= 5 && perFrame < 20, `${perFrame} transactions per frame`);
  assert.ok((r.sim.stats.bytes - bytes) / 10 >= 1514 + 3);
  r.net.runUntilIdle();
  clean(r);
});

test.run();
