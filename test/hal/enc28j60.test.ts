// The ENC28J60 driver over the strict chip simulator, with a second stack on the far end of the
// wire: start-up, ARP, ping, UDP echo with fragments, link changes, overflow, backpressure and the
// multicast filter. Every test also asserts the simulator saw no driver violation.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { UdpEcho } from "../../src/apps/udp-echo.js";
import { FullAddress } from "../../src/wire/address.js";
import { hashIndex } from "../../hal/enc28j60/registers.js";
import { ip, pattern } from "../support/frames.js";
import { udpFrame } from "../support/harness.js";
import { endpoint, poolFull } from "../support/stacks.js";
import { type EncRig, started } from "./enc28j60-rig.js";

function clean(rig: EncRig): void {
  const v = rig.sim.violationCount;
  assert.is(v, 0, `simulator violations: ${v} (last: ${rig.sim.lastViolation})`);
  assert.ok(poolFull(rig.a), "every pool buffer of the chip's stack returned");
  assert.ok(poolFull(rig.b), "every pool buffer of the peer returned");
}

test("start-up: reset wait, revision, link up, no violation", () => {
  const rig = started();
  assert.is(rig.driver.revision, 6);
  assert.ok(rig.driver.linkUp);
  assert.is(rig.driver.miiTimeouts, 0);
  assert.ok(rig.sim.resets >= 1, "the driver reset the chip with SRC");
  clean(rig);
});

test("ARP and ping from the peer: answered through the chip", () => {
  const rig = started();
  const ping = rig.b.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  for (let i = 0; i < 5; i++) {
    request[7] = i;
    assert.is(ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0)), request.length);
    rig.net.advance(50);
    const reply = new Uint8Array(64);
    const n = ping.recvFrom(reply, 0, 64, null, 0);
    assert.is(n, request.length, `echo ${i}`);
    assert.is(reply[0], 0);
    assert.equal(Array.from(reply.subarray(8, n)), Array.from(request.subarray(8)));
  }
  assert.is(rig.a.iface!.icmpStats.echoRepliesOut, 5);
  assert.ok(rig.b.iface!.arpStats.requestsOut >= 1);
  assert.ok(rig.driver.rxFrames >= 6 && rig.driver.txFrames >= 6);
  clean(rig);
});

test("UDP echo of 1..8000 bytes through the chip, fragmented both ways, byte-exact", () => {
  const rig = started({
    stack: { udpReceiveBuffer: 20000, reassemblySize: 8192 + 64 },
    spare: 70000,
  });
  const echo = new UdpEcho(rig.a, 7);
  const client = rig.b.openUdp() as UdpEndpoint;
  const to = endpoint("192.0.2.1", 7);
  const buffer = new Uint8Array(9000);
  const from = new FullAddress();
  for (const size of [1, 18, 100, 1472, 1473, 2960, 4000, 6000, 8000]) {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 7 + size) & 255;
    assert.is(client.sendTo(data, 0, size, to), size);
    // Wire time both ways (8000 B: 6 frames of 1.2 ms each way) and SPI time: no stall allowed,
    // such as waiting for the watchdog after a frame that arrived while INT was already low.
    rig.net.advance(25);
    const n = client.recvFrom(buffer, 0, buffer.length, from, 0);
    assert.is(n, size, `echo of ${size}`);
    for (let i = 0; i < size; i++)
      if (buffer[i] !== data[i]) assert.unreachable(`byte ${i} of ${size}`);
  }
  assert.is(echo.echoed, 9);
  assert.ok(rig.a.iface!.ipStats.reassembled >= 4);
  assert.ok(rig.a.iface!.ipStats.fragmentsOut >= 4);
  clean(rig);
});

test("link down and up: the driver follows the PHY's link interrupt; traffic resumes", () => {
  const rig = started();
  const ping = rig.b.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 9, 9);
  const reply = new Uint8Array(64);
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0));
  rig.net.advance(20);
  assert.is(ping.recvFrom(reply, 0, 64, null, 0), request.length);
  const changes = rig.driver.linkChanges;
  rig.pair.setLink(false);
  rig.net.advance(5);
  assert.is(rig.driver.linkUp, false, "link down seen");
  assert.is(rig.driver.linkChanges, changes + 1);
  assert.ok(rig.driver.transmit(request, 0, 60) < 0, "transmit refused while down");
  rig.pair.setLink(true);
  rig.net.advance(5);
  assert.is(rig.driver.linkUp, true, "link up seen");
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0));
  rig.net.advance(20);
  assert.is(
    ping.recvFrom(reply, 0, 64, null, 0),
    request.length,
    "answered after the link returned",
  );
  clean(rig);
});

test("receive overflow: the full ring drops whole frames, the driver counts it and recovers", () => {
  const rig = started();
  const ping = rig.b.openPing() as PingEndpoint;
  const request = new Uint8Array(100);
  request[0] = 8;
  const reply = new Uint8Array(1500);
  ping.sendTo(request, 0, 64, endpoint("192.0.2.1", 0));
  rig.net.advance(20);
  assert.is(ping.recvFrom(reply, 0, reply.length, null, 0), 64);
  // Deaf driver: the INT edges go nowhere while the peer floods the chip.
  const handler = rig.sim.pin.onReadable;
  rig.sim.pin.onReadable = null;
  const wire = rig.pair.b;
  const frame = udpFrame(pattern(1400));
  for (let i = 0; i < 12; i++) assert.is(wire.transmit(frame, 0, frame.length), 1);
  rig.net.advance(30);
  assert.ok(rig.sim.rxNoRoom > 0, "frames that did not fit were dropped");
  assert.ok(rig.sim.packetCount >= 3, "the ring holds whole frames");
  rig.sim.pin.onReadable = handler;
  rig.driver.interrupt();
  rig.net.advance(30);
  assert.ok(rig.driver.rxOverflows >= 1, "RXERIF seen");
  assert.is(rig.sim.packetCount, 0, "the ring was drained");
  for (let i = 0; i < 3; i++) {
    request[7] = i + 1;
    ping.sendTo(request, 0, 100, endpoint("192.0.2.1", 0));
    rig.net.advance(20);
    assert.is(ping.recvFrom(reply, 0, reply.length, null, 0), 100, `ping ${i} after the overflow`);
  }
  clean(rig);
});

test("TX_BUSY backpressure: 1000 back-to-back datagrams leave one at a time, all in order", () => {
  const rig = started({ stack: { udpReceiveBuffer: 65536 } });
  const server = rig.b.openUdp() as UdpEndpoint;
  server.bind(null, 9);
  const client = rig.a.openUdp() as UdpEndpoint;
  const to = endpoint("192.0.2.2", 9);
  const data = new Uint8Array(200);
  const got = new Uint8Array(300);
  let sent = 0;
  let received = 0;
  let refusals = 0;
  for (let round = 0; round < 100_000 && received < 1000; round++) {
    while (sent < 1000) {
      data[0] = sent & 255;
      data[1] = sent >> 8;
      const r = client.sendTo(data, 0, data.length, to);
      if (r !== data.length) {
        refusals++;
        break;
      }
      sent++;
    }
    rig.net.advance(1);
    for (;;) {
      const n = server.recvFrom(got, 0, got.length, null, 0);
      if (n < 0) break;
      assert.is(n, 200);
      assert.is(got[0] | (got[1] << 8), received, "in order");
      received++;
    }
  }
  assert.is(received, 1000);
  assert.ok(rig.driver.txBusyAnswers > 0, "the chip answered busy");
  assert.ok(refusals > 0 || rig.driver.txBusyAnswers > 100);
  assert.is(rig.sim.txSent >= 1000, true);
  assert.is(rig.driver.txErrors, 0);
  clean(rig);
});

test("multicast: a joined group's frames pass the chip's hash filter, others are dropped", () => {
  const rig = started();
  const joined = ip("239.1.2.3");
  const other = ip("239.9.9.9");
  const joinedMac = Uint8Array.of(1, 0, 0x5e, 1, 2, 3);
  const otherMac = Uint8Array.of(1, 0, 0x5e, 9, 9, 9);
  assert.not.equal(hashIndex(joinedMac, 0), hashIndex(otherMac, 0), "distinct hash bits");
  assert.ok(rig.a.iface!.joinGroup(joined));
  rig.net.advance(1);
  const socket = rig.a.openUdp() as UdpEndpoint;
  socket.reuseAddress = true;
  socket.bind(null, 5353);
  const buffer = new Uint8Array(100);
  const wire = rig.pair.b;
  const pass = udpFrame(pattern(10), { port: 5353, destination: joined, dstMac: joinedMac });
  const filtered = rig.sim.rxFiltered;
  assert.is(wire.transmit(pass, 0, pass.length), 1);
  rig.net.advance(5);
  assert.is(socket.recvFrom(buffer, 0, 100, null, 0), 10, "the joined group's datagram arrived");
  const drop = udpFrame(pattern(10), { port: 5353, destination: other, dstMac: otherMac });
  const framesIn = rig.a.iface!.link.framesIn;
  assert.is(wire.transmit(drop, 0, drop.length), 1);
  rig.net.advance(5);
  assert.is(rig.sim.rxFiltered, filtered + 1, "dropped by the chip's filter");
  assert.is(rig.a.iface!.link.framesIn, framesIn, "never reached the stack");
  assert.ok(socket.recvFrom(buffer, 0, 100, null, 0) < 0);
  // Leaving the group clears its bit.
  rig.a.iface!.leaveGroup(joined);
  rig.net.advance(1);
  assert.is(wire.transmit(pass, 0, pass.length), 1);
  rig.net.advance(5);
  assert.is(rig.sim.rxFiltered, filtered + 2, "dropped after leaving");
  clean(rig);
});

test("polling mode (no INT pin): ping answered", () => {
  const rig = started({ polling: true });
  const ping = rig.b.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 9, 9);
  const reply = new Uint8Array(64);
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0));
  rig.net.advance(20);
  assert.is(ping.recvFrom(reply, 0, 64, null, 0), request.length);
  clean(rig);
});

test("full duplex as an option: MAC and PHY agree, traffic flows", () => {
  const rig = started({ fullDuplex: true });
  const ping = rig.b.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 9, 9);
  const reply = new Uint8Array(64);
  ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0));
  rig.net.advance(20);
  assert.is(ping.recvFrom(reply, 0, 64, null, 0), request.length);
  clean(rig);
});

test("late collisions are retried, a stalled transmitter is reset, nothing is lost", () => {
  const rig = started({ sim: { lateCollisionEvery: 3, txStallEvery: 7 } });
  const ping = rig.b.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 9, 9);
  const reply = new Uint8Array(64);
  for (let i = 0; i < 20; i++) {
    request[7] = i;
    ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0));
    rig.net.advance(50);
    assert.is(ping.recvFrom(reply, 0, 64, null, 0), request.length, `ping ${i}`);
  }
  assert.ok(rig.driver.txRetries > 0, "late collisions retried");
  assert.ok(rig.driver.txTimeouts > 0, "stalls reset");
  assert.is(rig.driver.txErrors, 0);
  clean(rig);
});

test("PKTIF errata: frames whose PKTIF never rose are still received", () => {
  const rig = started({ sim: { pktifMissRate: 0.5 } });
  const ping = rig.b.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 9, 9);
  const reply = new Uint8Array(64);
  let answered = 0;
  for (let i = 0; i < 20; i++) {
    request[7] = i;
    ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0));
    rig.net.advance(1100);
    while (ping.recvFrom(reply, 0, 64, null, 0) > 0) answered++;
  }
  assert.is(answered, 20);
  clean(rig);
});

test.run();
