// Edge cases Linux refuses, each found by attacking a stack over the pair: ICMP errors sent to a
// group, sends to 0.0.0.0, two echo services bouncing one spoofed datagram, and frames that moved
// no counter or the wrong one.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { UdpEcho } from "../../src/apps/udp-echo.js";
import { ECONNREFUSED } from "../../src/errno.js";
import { FullAddress } from "../../src/wire/address.js";
import {
  BROADCAST_MAC,
  ETH_IPV4,
  ether,
  icmp,
  ip,
  ipv4,
  mac,
  pattern,
  udp,
} from "../support/frames.js";
import {
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
  SUBNET_BROADCAST,
  Solo,
  ipFrame,
  measure,
} from "../support/harness.js";
import { duo, endpoint, poolFull } from "../support/stacks.js";

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** A connected UDP socket 192.0.2.1:4000 -> 192.0.2.2:5000 on the stack. */
function connected(solo: Solo) {
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, 4000), 0);
  assert.is(socket.connect(endpoint("192.0.2.2", 5000)), 0);
  return socket;
}

/** A port unreachable quoting a datagram from the stack (4000) to the peer (5000). */
function portUnreachable(destination: number): Uint8Array {
  const quoted = ipv4({
    source: STACK_IP,
    destination: PEER_IP,
    protocol: 17,
    payload: udp({
      source: STACK_IP,
      destination: PEER_IP,
      sourcePort: 4000,
      destinationPort: 5000,
      payload: pattern(4),
    }),
  });
  return ipv4({
    source: PEER_IP,
    destination,
    protocol: 1,
    payload: icmp({ type: 3, code: 3, payload: quoted.subarray(0, 28) }),
  });
}

test("the exact frame that made a connected socket see ECONNREFUSED from a broadcast error", () => {
  const solo = new Solo({ stack: {} });
  solo.warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  // The frame quotes a datagram 192.0.2.2:5000 -> 192.0.2.1:4000 ... from the stack at .2.
  const frame = hex(
    "ffffffffffff02000000000b080045000038123400004001a68fc0000202ffffffff0303d5920000000045000024123400004011e491c0000201c000020213880fa000100432",
  );
  socket.bind(null, 4000);
  socket.connect(endpoint("192.0.2.2", 5000));
  const moved = measure(solo.stack, () => solo.send(frame));
  assert.is(moved["icmp.groupDropped"], 1);
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, null), 1, "no error reported");
});

for (const [name, destination, dstMac] of [
  ["the limited broadcast", ip("255.255.255.255"), BROADCAST_MAC],
  ["the subnet broadcast", SUBNET_BROADCAST, BROADCAST_MAC],
  ["all-hosts", ip("224.0.0.1"), mac("01:00:5e:00:00:01")],
] as const) {
  test(`an ICMP error sent to ${name} is dropped, as Linux's icmp_rcv does`, () => {
    const solo = new Solo().warm();
    const socket = connected(solo);
    const moved = measure(solo.stack, () =>
      solo.send(ether(dstMac, PEER_MAC, ETH_IPV4, portUnreachable(destination))),
    );
    assert.is(moved["icmp.groupDropped"], 1);
    assert.is(moved["icmp.errorsIn"], undefined);
    assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, null), 1);
  });
}

test("the same error sent to our unicast address is reported (the test can fail)", () => {
  const solo = new Solo().warm();
  const socket = connected(solo);
  solo.send(ether(STACK_MAC, PEER_MAC, ETH_IPV4, portUnreachable(STACK_IP)));
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, null), -ECONNREFUSED);
});

test("a send to 0.0.0.0 means this host: it loops back and never reaches the wire", () => {
  const solo = new Solo().warm();
  const receiver = solo.stack.openUdp() as UdpEndpoint;
  receiver.bind(null, 7000);
  const sender = solo.stack.openUdp() as UdpEndpoint;
  assert.is(sender.sendTo(Uint8Array.of(5, 6), 0, 2, endpoint("0.0.0.0", 7000)), 2);
  solo.settle();
  assert.is(solo.take().length, 0, "nothing on the wire");
  const from = new FullAddress();
  const buffer = new Uint8Array(4);
  assert.is(receiver.recvFrom(buffer, 0, 4, from, 0), 2);
  assert.is(from.address.toString(), "192.0.2.1");
});

test("UDP from 0.0.0.0:68 to the echo service's broadcast gets no answer through the gateway", () => {
  const solo = new Solo();
  solo.stack.configure({ address: STACK_IP, prefix: 24, gateway: PEER_IP });
  solo.warm();
  const echo = new UdpEcho(solo.stack, 7, 2048);
  const frame = ether(
    BROADCAST_MAC,
    PEER_MAC,
    ETH_IPV4,
    ipv4({
      source: 0,
      destination: ip("255.255.255.255"),
      protocol: 17,
      payload: udp({
        source: 0,
        destination: ip("255.255.255.255"),
        sourcePort: 68,
        destinationPort: 7,
        payload: pattern(8),
      }),
    }),
  );
  solo.send(frame);
  assert.is(solo.take().length, 0);
  assert.is(echo.refused, 1);
  assert.is(echo.echoed, 0);
});

test("a sent datagram to 127.0.0.1 or 0.1.2.3 is refused: no loopback interface, no zero-net route", () => {
  const solo = new Solo().warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, endpoint("127.0.0.1", 9)), -101);
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, endpoint("0.1.2.3", 9)), -101);
  solo.settle();
  assert.is(solo.take().length, 0);
});

test("one spoofed datagram B:7 -> A:7 between two echo services does not bounce", () => {
  const { net, a, b } = duo({}, 64, 0);
  const echoA = new UdpEcho(a, 7, 256);
  const echoB = new UdpEcho(b, 7, 256);
  net.runUntilIdle();
  const spoofer = b.openUdp() as UdpEndpoint;
  // The spoofed datagram: source port 7 on B, to A's echo. Bound with SO_REUSEADDR beside B's echo.
  echoB.endpoint.reuseAddress = true;
  spoofer.reuseAddress = true;
  assert.is(spoofer.bind(null, 7), 0);
  assert.is(spoofer.sendTo(pattern(8), 0, 8, endpoint("192.0.2.1", 7)), 8);
  // Gone before any answer comes back: an answer to B:7 would reach B's echo.
  assert.is(spoofer.close(), 0);
  assert.ok(net.runUntilIdle(10_000), "the exchange ends");
  assert.is(echoA.echoed, 0);
  assert.is(echoA.refused, 1);
  assert.is(echoB.echoed, 0);
  assert.ok(poolFull(a) && poolFull(b));
});

test("an echo reply with a full ping queue, one nobody wants, and a redirect each move their own counter", () => {
  const solo = new Solo({ stack: { pingReceiveBuffer: 128 } }).warm();
  const ping = solo.stack.openPing() as PingEndpoint;
  assert.is(ping.bind(null, 0x4242), 0);
  const reply = (id: number) =>
    ipFrame({
      protocol: 1,
      payload: icmp({ type: 0, rest: (id << 16) | 1, payload: pattern(40) }),
    });
  let moved = measure(solo.stack, () => solo.send(reply(0x4242)));
  assert.is(moved["icmp.echoRepliesIn"], 1);
  moved = measure(solo.stack, () => {
    for (let i = 0; i < 4; i++) solo.send(reply(0x4242));
  });
  assert.ok(moved["icmp.echoRepliesQueueFull"] >= 1, "a full queue is counted");
  moved = measure(solo.stack, () => solo.send(reply(0x9999)));
  assert.is(moved["icmp.echoRepliesUnwanted"], 1);
  moved = measure(solo.stack, () =>
    solo.send(ipFrame({ protocol: 1, payload: icmp({ type: 5, payload: pattern(28) }) })),
  );
  assert.is(moved["icmp.ignoredType"], 1);
  moved = measure(solo.stack, () =>
    solo.send(ipFrame({ protocol: 1, payload: icmp({ type: 13, payload: pattern(12) }) })),
  );
  assert.is(moved["icmp.ignoredType"], 1);
});

test("an ICMP error quoting a datagram that was not ours says so, not 'truncated'", () => {
  const solo = new Solo().warm();
  const quoted = ipv4({
    source: PEER_IP,
    destination: ip("192.0.2.3"),
    protocol: 17,
    payload: udp({
      source: PEER_IP,
      destination: ip("192.0.2.3"),
      sourcePort: 1,
      destinationPort: 2,
      payload: pattern(4),
    }),
  });
  const moved = measure(solo.stack, () =>
    solo.send(
      ipFrame({
        protocol: 1,
        payload: icmp({ type: 3, code: 3, payload: quoted.subarray(0, 28) }),
      }),
    ),
  );
  assert.is(moved["icmp.errorsNotOurs"], 1);
  assert.is(moved["icmp.truncated"], undefined);
});

test("echo replies dropped from the ARP queue are not counted as sent", () => {
  const solo = new Solo({ stack: { arpQueue: 2 } }).warm(false);
  // Pings from an address the stack has not resolved: the replies wait for ARP, which never answers.
  for (let i = 0; i < 5; i++)
    solo.send(
      ether(
        STACK_MAC,
        mac("02:00:00:00:00:77"),
        ETH_IPV4,
        ipv4({
          source: ip("192.0.2.77"),
          destination: STACK_IP,
          protocol: 1,
          payload: icmp({ type: 8, rest: i, payload: pattern(8) }),
        }),
      ),
    );
  solo.advance(5000);
  const iface = solo.iface;
  assert.is(iface.icmpStats.echoRequestsIn, 5);
  assert.is(iface.icmpStats.echoRepliesOut, 0, "none left");
  assert.is(iface.arpStats.queueDrops + iface.arpStats.unresolvedDrops, 5);
  assert.ok(solo.poolFull());
});

test.run();
