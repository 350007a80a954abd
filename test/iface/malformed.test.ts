// Malformed and hostile input, one broken thing per frame: each must be dropped and counted under
// exactly the reason named here, nothing may throw, nothing may be sent back, and every pool
// buffer must be free afterwards. Then property tests throw random and mutated frames at a stack.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import type { NetDevice } from "../../src/device.js";
import { FullAddress } from "../../src/wire/address.js";
import {
  BROADCAST_MAC,
  ETH_ARP,
  ETH_IPV4,
  arp,
  concat,
  ether,
  icmp,
  ip,
  ipv4,
  mac,
  pattern,
  udp,
} from "../support/frames.js";
import {
  Counters,
  OTHER_IP,
  OTHER_MAC,
  PEER_IP,
  PEER_MAC,
  PORT,
  STACK_IP,
  STACK_MAC,
  SUBNET_BROADCAST,
  Solo,
  counters,
  delta,
  ipFrame,
  measure,
  udpFrame,
  udpPacket,
} from "../support/harness.js";

/** A stack that has finished its announcements, knows the peer, and listens on UDP port 7. */
function ready(options: ConstructorParameters<typeof Solo>[0] = {}) {
  const solo = new Solo(options).warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, PORT), 0);
  return { solo, socket };
}

const LINK = { "link.framesIn": 1 };
const IP = { ...LINK, "ip.packetsIn": 1 };
const DELIVERED = { ...IP, "ip.delivered": 1 };
const UDP = { ...DELIVERED, "udp.datagramsIn": 1 };

interface Case {
  name: string;
  frame: () => Uint8Array;
  expect: Counters;
  /** Bypass the cable (for frames it refuses). */
  push?: boolean;
  /** The datagram reaches the socket on port 7, with this payload. */
  received?: Uint8Array;
  options?: ConstructorParameters<typeof Solo>[0];
}

const cases: Case[] = [
  {
    name: "runt: 10 bytes",
    push: true,
    frame: () => pattern(10),
    expect: { ...LINK, "link.runts": 1 },
  },
  {
    name: "runt: 13 bytes",
    push: true,
    frame: () => pattern(13),
    expect: { ...LINK, "link.runts": 1 },
  },
  {
    name: "truncated IPv4 header",
    frame: () => ipFrame({}).subarray(0, 14 + 19),
    expect: { ...IP, "ip.truncated": 1 },
  },
  {
    name: "empty IPv4 payload of the frame",
    frame: () => ether(STACK_MAC, PEER_MAC, ETH_IPV4, new Uint8Array(0)),
    expect: { ...IP, "ip.truncated": 1 },
  },
  {
    name: "truncated ARP",
    frame: () =>
      ether(
        STACK_MAC,
        PEER_MAC,
        ETH_ARP,
        arp({ op: 1, senderMac: PEER_MAC, senderIp: PEER_IP, targetIp: STACK_IP }).subarray(0, 27),
      ),
    expect: { ...LINK, "arp.malformed": 1 },
  },
  {
    name: "truncated ICMP header",
    frame: () => ipFrame({ protocol: 1, payload: Uint8Array.of(8, 0, 0xf7, 0xff) }),
    expect: { ...DELIVERED, "icmp.in": 1, "icmp.truncated": 1 },
  },
  {
    name: "truncated UDP header",
    frame: () => ipFrame({ protocol: 17, payload: udpPacket(new Uint8Array(0)).subarray(0, 7) }),
    expect: { ...UDP, "udp.badLength": 1 },
  },
  {
    name: "bad IP header checksum",
    frame: () => ipFrame({ checksum: 0x1234 }),
    expect: { ...IP, "ip.badChecksum": 1 },
  },
  {
    name: "bad UDP checksum",
    frame: () => {
      const f = udpFrame(pattern(32));
      f[14 + 20 + 8 + 3] ^= 0x40;
      return f;
    },
    expect: { ...UDP, "udp.badChecksum": 1 },
  },
  {
    name: "bad ICMP checksum",
    frame: () =>
      ipFrame({
        protocol: 1,
        payload: icmp({ type: 8, rest: 0x10001, payload: pattern(8), checksum: 1 }),
      }),
    expect: { ...DELIVERED, "icmp.in": 1, "icmp.badChecksum": 1 },
  },
  {
    name: "UDP checksum 0 (none) is accepted (RFC 768)",
    frame: () =>
      ipFrame({
        payload: udp({
          source: PEER_IP,
          destination: STACK_IP,
          sourcePort: 4000,
          destinationPort: PORT,
          payload: pattern(20, 3),
          checksum: "none",
        }),
      }),
    expect: UDP,
    received: pattern(20, 3),
  },
  {
    name: "total length larger than the frame",
    frame: () => ipFrame({ totalLength: 20 + 8 + 16 + 1 }),
    expect: { ...IP, "ip.badLength": 1 },
  },
  {
    name: "total length smaller than the header",
    frame: () => ipFrame({ totalLength: 19 }),
    expect: { ...IP, "ip.badLength": 1 },
  },
  {
    name: "total length smaller than the header with options",
    frame: () => ipFrame({ options: Uint8Array.of(1, 1, 1, 1), totalLength: 20 }),
    expect: { ...IP, "ip.badLength": 1 },
  },
  {
    name: "IHL under 5",
    frame: () => ipFrame({ ihl: 4 }),
    expect: { ...IP, "ip.badHeaderLength": 1 },
  },
  {
    name: "IHL 0",
    frame: () => ipFrame({ ihl: 0 }),
    expect: { ...IP, "ip.badHeaderLength": 1 },
  },
  {
    name: "IHL past the end of the frame",
    frame: () => ipFrame({ ihl: 15, payload: pattern(12) }),
    expect: { ...IP, "ip.badHeaderLength": 1 },
  },
  {
    name: "version 6 under the IPv4 EtherType",
    frame: () => ipFrame({ version: 6 }),
    expect: { ...IP, "ip.badVersion": 1 },
  },
  {
    name: "version 0",
    frame: () => ipFrame({ version: 0 }),
    expect: { ...IP, "ip.badVersion": 1 },
  },
  {
    // RFC 791 says a datagram with TTL 0 "must be destroyed", but RFC 1122 §3.2.1.7 forbids a host
    // to discard a datagram just because its TTL is below 2, and Linux delivers it (ip_rcv checks
    // no TTL; only forwarding does). Linux wins: TTL 0 is accepted.
    name: "TTL 0 is delivered, as on Linux",
    frame: () => ipFrame({ ttl: 0, payload: udpPacket(pattern(5, 9)) }),
    expect: UDP,
    received: pattern(5, 9),
  },
  ...[
    ["multicast", "224.0.0.5"],
    ["limited broadcast", "255.255.255.255"],
    ["subnet broadcast", "192.0.2.255"],
    ["loopback", "127.0.0.1"],
    ["loopback net", "127.9.8.7"],
    ["our own address", "192.0.2.1"],
    ["0.0.0.0 to a unicast address", "0.0.0.0"],
    ["this-network 0/8", "0.1.2.3"],
    ["administratively scoped multicast", "239.255.255.250"],
  ].map(([what, source]): Case => ({
    name: `martian source: ${what}`,
    frame: () => udpFrame(pattern(8), { source: ip(source) }),
    expect: { ...IP, "ip.badSource": 1 },
  })),
  {
    name: "source 0.0.0.0 to the limited broadcast is delivered (a host without an address yet)",
    frame: () =>
      udpFrame(pattern(4, 1), { source: 0, destination: 0xffffffff, dstMac: BROADCAST_MAC }),
    expect: UDP,
    received: pattern(4, 1),
  },
  {
    // Linux accepts any 0.0.0.0/8 source when the destination is the limited broadcast.
    name: "source in 0/8 to the limited broadcast is delivered, as on Linux",
    frame: () =>
      udpFrame(pattern(4, 2), {
        source: ip("0.0.0.9"),
        destination: 0xffffffff,
        dstMac: BROADCAST_MAC,
      }),
    expect: UDP,
    received: pattern(4, 2),
  },
  {
    name: "unicast IP in a link-layer broadcast (RFC 1122 §3.3.6)",
    frame: () => udpFrame(pattern(8), { dstMac: BROADCAST_MAC }),
    expect: { ...IP, "ip.linkBroadcastUnicast": 1 },
  },
  {
    name: "unicast IP in a link-layer multicast",
    frame: () => udpFrame(pattern(8), { dstMac: mac("01:00:5e:00:00:01") }),
    expect: { ...IP, "ip.linkBroadcastUnicast": 1 },
  },
  {
    name: "IP for another host",
    frame: () => udpFrame(pattern(8), { destination: OTHER_IP }),
    expect: { ...IP, "ip.notForUs": 1 },
  },
  {
    name: "multicast group we have not joined",
    frame: () =>
      udpFrame(pattern(8), { destination: ip("239.1.2.3"), dstMac: mac("01:00:5e:01:02:03") }),
    expect: { ...IP, "ip.notForUs": 1 },
  },
  {
    name: "frame to another station's MAC",
    frame: () => udpFrame(pattern(8), { dstMac: OTHER_MAC }),
    expect: { "link.framesIn": 1, "link.notForUs": 1 },
  },
  {
    name: "ARP request for another host",
    frame: () =>
      ether(
        BROADCAST_MAC,
        PEER_MAC,
        ETH_ARP,
        arp({ op: 1, senderMac: PEER_MAC, senderIp: PEER_IP, targetIp: OTHER_IP }),
      ),
    expect: { ...LINK, "arp.requestsIn": 1, "arp.notForUs": 1 },
  },
  {
    name: "ARP reply for another host",
    frame: () =>
      ether(
        STACK_MAC,
        OTHER_MAC,
        ETH_ARP,
        arp({
          op: 2,
          senderMac: OTHER_MAC,
          senderIp: ip("192.0.2.4"),
          targetMac: PEER_MAC,
          targetIp: PEER_IP,
        }),
      ),
    expect: { ...LINK, "arp.repliesIn": 1, "arp.notForUs": 1 },
  },
  ...(
    [
      ["hardware type 6 (IEEE 802)", { hardwareType: 6 }],
      ["protocol type IPv6", { protocolType: 0x86dd }],
      ["hardware length 8", { hardwareLength: 8 }],
      ["protocol length 16", { protocolLength: 16 }],
    ] as const
  ).map(([what, fields]): Case => ({
    name: `ARP with ${what}`,
    frame: () =>
      ether(
        BROADCAST_MAC,
        PEER_MAC,
        ETH_ARP,
        arp({ op: 1, senderMac: PEER_MAC, senderIp: PEER_IP, targetIp: STACK_IP, ...fields }),
      ),
    expect: { ...LINK, "arp.malformed": 1 },
  })),
  {
    name: "ARP with an unknown operation",
    frame: () =>
      ether(
        BROADCAST_MAC,
        PEER_MAC,
        ETH_ARP,
        arp({ op: 9, senderMac: PEER_MAC, senderIp: PEER_IP, targetIp: STACK_IP }),
      ),
    expect: { ...LINK, "arp.malformed": 1 },
  },
  {
    name: "ARP from a multicast sender MAC",
    frame: () =>
      ether(
        BROADCAST_MAC,
        PEER_MAC,
        ETH_ARP,
        arp({ op: 1, senderMac: mac("01:00:5e:00:00:01"), senderIp: PEER_IP, targetIp: STACK_IP }),
      ),
    expect: { ...LINK, "arp.malformed": 1 },
  },
  {
    name: "ARP from a broadcast sender IP",
    frame: () =>
      ether(
        BROADCAST_MAC,
        PEER_MAC,
        ETH_ARP,
        arp({ op: 1, senderMac: PEER_MAC, senderIp: 0xffffffff, targetIp: STACK_IP }),
      ),
    expect: { ...LINK, "arp.malformed": 1 },
  },
  ...[0x86dd, 0x88b5, 0x8100, 0x0600].map((type): Case => ({
    name: `unknown EtherType 0x${type.toString(16)}`,
    frame: () => ether(STACK_MAC, PEER_MAC, type, pattern(46)),
    expect: { ...LINK, "link.unknownEtherType": 1 },
  })),
  {
    name: "UDP length longer than the IP payload",
    frame: () =>
      ipFrame({
        payload: udp({
          source: PEER_IP,
          destination: STACK_IP,
          sourcePort: 4000,
          destinationPort: PORT,
          payload: pattern(16),
          length: 8 + 17,
        }),
      }),
    expect: { ...UDP, "udp.badLength": 1 },
  },
  {
    name: "UDP length under the UDP header",
    frame: () =>
      ipFrame({
        payload: udp({
          source: PEER_IP,
          destination: STACK_IP,
          sourcePort: 4000,
          destinationPort: PORT,
          payload: pattern(16),
          length: 7,
        }),
      }),
    expect: { ...UDP, "udp.badLength": 1 },
  },
  {
    // Linux trims the datagram to the UDP length (pskb_trim_rcsum) and checks the checksum over
    // what is left: bytes past it are not part of the datagram.
    name: "UDP length shorter than the IP payload: trimmed and delivered",
    frame: () => {
      const inner = udpPacket(pattern(10, 4));
      return ipFrame({ payload: concat(inner, pattern(6, 99)) });
    },
    expect: UDP,
    received: pattern(10, 4),
  },
  {
    name: "UDP length shorter than the IP payload, checksum over the whole payload: bad checksum",
    frame: () => {
      const inner = udpPacket(pattern(16, 4));
      inner[5] = 8 + 10; // claim 10 bytes; the checksum covered 16
      return ipFrame({ payload: inner });
    },
    expect: { ...UDP, "udp.badChecksum": 1 },
  },
  {
    name: "IP options are skipped (record route, padding)",
    frame: () =>
      ipFrame({
        options: Uint8Array.of(7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1),
        payload: udpPacket(pattern(33, 5)),
      }),
    expect: UDP,
    received: pattern(33, 5),
  },
  {
    name: "40 bytes of IP options (IHL 15)",
    frame: () =>
      ipFrame({ options: new Uint8Array(40).fill(1), payload: udpPacket(pattern(3, 6)) }),
    expect: UDP,
    received: pattern(3, 6),
  },
  {
    name: "Ethernet padding after a short datagram is ignored",
    frame: () => concat(udpFrame(pattern(1, 7)), new Uint8Array(60 - 43).fill(0xa5)),
    expect: UDP,
    received: pattern(1, 7),
  },
  {
    name: "datagram to the subnet broadcast in a link broadcast is delivered",
    frame: () => udpFrame(pattern(4, 8), { destination: SUBNET_BROADCAST, dstMac: BROADCAST_MAC }),
    expect: UDP,
    received: pattern(4, 8),
  },
];

for (const c of cases) {
  test(c.name, () => {
    const { solo, socket } = ready(c.options);
    const frame = c.frame();
    const moved = measure(solo.stack, () => (c.push ? solo.push(frame) : solo.send(frame)));
    assert.equal(moved, c.expect);
    assert.equal(solo.take().length, 0, "nothing is sent back");
    const buffer = new Uint8Array(2000);
    const n = socket.recvFrom(buffer, 0, buffer.length, null, 0);
    if (c.received) assert.equal(buffer.slice(0, n), c.received, "the payload arrives intact");
    else assert.ok(n < 0, "nothing reaches the socket");
    assert.ok(solo.poolFull(), "every buffer is back");
  });
}

/** Reports a smaller MTU than the cable carries, so frames the cable passes are oversized. */
class MtuShim implements NetDevice {
  constructor(
    readonly inner: NetDevice,
    readonly mtu: number,
  ) {}
  get mac() {
    return this.inner.mac;
  }
  get linkUp() {
    return this.inner.linkUp;
  }
  get onEvent() {
    return this.inner.onEvent;
  }
  set onEvent(f) {
    this.inner.onEvent = f;
  }
  setMulticastFilter(macs: Uint8Array, count: number) {
    this.inner.setMulticastFilter(macs, count);
  }
  transmit(frame: Uint8Array, offset: number, length: number) {
    return this.inner.transmit(frame, offset, length);
  }
  receive(frame: Uint8Array, offset: number, capacity: number) {
    return this.inner.receive(frame, offset, capacity);
  }
  poll(now: number) {
    this.inner.poll(now);
  }
  nextDeadline() {
    return this.inner.nextDeadline();
  }
}

test("frames larger than the MTU are counted oversized and dropped", () => {
  const { solo, socket } = ready({ wrap: (end) => new MtuShim(end, 1400) });
  assert.is(solo.iface.mtu, 1400);
  const moved = measure(solo.stack, () => solo.send(udpFrame(pattern(1400 - 28 + 1))));
  assert.equal(moved, { "link.oversized": 1 });
  // One that fits exactly still goes through.
  const fits = measure(solo.stack, () => solo.send(udpFrame(pattern(1400 - 28))));
  assert.equal(fits, UDP);
  assert.is(socket.recvFrom(new Uint8Array(2000), 0, 2000, null, 0), 1400 - 28);
  assert.equal(solo.take().length, 0);
  assert.ok(solo.poolFull());
});

test("a device MTU larger than a pool buffer is clamped, never overrun", () => {
  // 1600-byte MTU on the cable, 1536-byte buffers in the stack: frames must never be built or
  // received past the end of a buffer.
  const { solo, socket } = ready({ pair: { mtu: 1600 } });
  assert.is(solo.iface.mtu, 1536 - 14, "the MTU is what a buffer holds");
  const moved = measure(solo.stack, () => solo.send(udpFrame(pattern(1600 - 28))));
  assert.equal(moved, { "link.oversized": 1 });
  assert.ok(socket.recvFrom(new Uint8Array(2000), 0, 2000, null, 0) < 0);
  // Sending a big datagram: every fragment fits a buffer.
  const to = new FullAddress();
  to.address.setV4(PEER_IP);
  to.port = 9;
  const data = pattern(3000);
  assert.is(socket.sendTo(data, 0, data.length, to), 3000);
  solo.settle();
  const sent = solo.take();
  assert.ok(sent.length >= 2);
  for (const s of sent) assert.ok(s.bytes.length <= 1536, `frame of ${s.bytes.length} bytes`);
  assert.ok(solo.poolFull());
});

// ---------------------------------------------------------------- properties

/** Valid frames of every kind the stack handles, to mutate. */
function corpus(): Uint8Array[] {
  const echo = icmp({ type: 8, rest: 0x00420001, payload: pattern(24) });
  const fragments = (() => {
    const data = udpPacket(pattern(100, 2));
    return [
      ipFrame({ payload: data.subarray(0, 56), fragment: 0x2000, id: 77 }),
      ipFrame({ payload: data.subarray(56), fragment: 7, id: 77 }),
    ];
  })();
  return [
    udpFrame(pattern(40)),
    udpFrame(pattern(3), { destination: SUBNET_BROADCAST, dstMac: BROADCAST_MAC }),
    ipFrame({ payload: udpPacket(pattern(12), { port: 9999 }) }),
    ipFrame({ protocol: 1, payload: echo }),
    ipFrame({ protocol: 1, payload: echo, options: Uint8Array.of(1, 1, 1, 0) }),
    ipFrame({
      protocol: 1,
      payload: icmp({
        type: 3,
        code: 3,
        payload: ipv4({
          source: STACK_IP,
          destination: PEER_IP,
          protocol: 17,
          payload: udp({
            source: STACK_IP,
            destination: PEER_IP,
            sourcePort: PORT,
            destinationPort: 4000,
            payload: pattern(4),
          }),
        }),
      }),
    }),
    ipFrame({ protocol: 99, payload: pattern(30) }),
    ether(
      BROADCAST_MAC,
      PEER_MAC,
      ETH_ARP,
      arp({ op: 1, senderMac: PEER_MAC, senderIp: PEER_IP, targetIp: STACK_IP }),
    ),
    ether(
      STACK_MAC,
      OTHER_MAC,
      ETH_ARP,
      arp({
        op: 2,
        senderMac: OTHER_MAC,
        senderIp: OTHER_IP,
        targetMac: STACK_MAC,
        targetIp: STACK_IP,
      }),
    ),
    ...fragments,
  ];
}

const CORPUS = corpus();

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; to: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "set16"; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(200), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("truncate" as const), to: fc.nat(200) }),
  fc.record({
    kind: fc.constant("set" as const),
    at: fc.nat(80),
    value: fc.constantFrom(0, 1, 4, 5, 0x45, 0x7f, 0x80, 0xff),
  }),
  fc.record({
    kind: fc.constant("set16" as const),
    // Header fields that matter: EtherType, IP length, flags/offset, UDP ports and length.
    at: fc.constantFrom(12, 16, 20, 34, 36, 38, 40, 18, 20, 24),
    value: fc.constantFrom(0, 1, 7, 8, 19, 20, 21, 0x2000, 0x1fff, 0x3fff, 0xffff, 1500, 1515),
  }),
);

function mutate(frame: Uint8Array, mutations: Mutation[]): Uint8Array {
  let f = frame.slice();
  for (const m of mutations) {
    if (m.kind === "truncate") f = f.slice(0, Math.min(m.to, f.length));
    else if (f.length === 0) continue;
    else if (m.kind === "flip") f[m.at % f.length] ^= 1 << m.bit;
    else if (m.kind === "set") f[m.at % f.length] = m.value;
    else if (m.at + 1 < f.length) {
      f[m.at] = m.value >>> 8;
      f[m.at + 1] = m.value & 0xff;
    }
  }
  return f;
}

const frameArbitrary: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 1514 }) },
  {
    // Random bytes behind a header aimed at the stack, so they reach the IP and ARP parsers.
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(ETH_IPV4, ETH_ARP), fc.uint8Array({ minLength: 0, maxLength: 200 }))
      .map(([type, body]) => ether(STACK_MAC, PEER_MAC, type, body)),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.nat(CORPUS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([i, ms]) => mutate(CORPUS[i], ms)),
  },
);

/**
 * Checks that one frame's counters tell one consistent story, layer by layer: it entered exactly
 * once, and at every layer it reached it ended in exactly one place.
 */
function accountFor(d: Counters, queued: number): string | null {
  const g = (k: string) => d[k] ?? 0;
  if (g("link.framesIn") + g("link.oversized") !== 1) return "not counted at the link";
  if (g("link.oversized") === 1) return null;
  const arpIn = g("arp.malformed") + g("arp.requestsIn") + g("arp.repliesIn");
  const link =
    g("link.runts") + g("link.notForUs") + g("link.unknownEtherType") + g("ip.packetsIn") + arpIn;
  if (link !== 1) return `link outcome ${link}`;
  if (g("ip.packetsIn") === 0) return null;
  const fragment = g("ip.fragmentsIn");
  const header =
    g("ip.truncated") +
    g("ip.badVersion") +
    g("ip.badHeaderLength") +
    g("ip.badChecksum") +
    g("ip.badSource") +
    g("ip.notForUs") +
    g("ip.linkBroadcastUnicast") +
    (fragment === 0 ? g("ip.badLength") : 0);
  const ipOutcome = header + fragment + (fragment === 0 ? g("ip.delivered") : 0);
  if (ipOutcome !== 1) return `IP outcome ${ipOutcome}`;
  const delivered = g("ip.delivered");
  if (g("udp.datagramsIn") + g("icmp.in") + g("ip.unknownProtocol") !== delivered)
    return "delivered datagram not taken by a protocol";
  const udpOutcome =
    g("udp.badLength") + g("udp.badChecksum") + g("udp.noPort") + g("udp.receiveBufferErrors");
  if (udpOutcome + queued !== g("udp.datagramsIn")) return `UDP outcome ${udpOutcome + queued}`;
  return null;
}

test("property: arbitrary and mutated frames never throw, are all counted, leak nothing", () => {
  const buffer = new Uint8Array(70000);
  fc.assert(
    fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 25 }), (frames) => {
      const { solo, socket } = ready();
      for (const frame of frames) {
        const before = counters(solo.stack);
        const queuedBefore = socket.queuedDatagrams;
        // A device has no way to hand over an empty frame: receive() returning 0 means none.
        if (frame.length === 0) continue;
        if (frame.length >= 14) solo.send(frame);
        else solo.push(frame);
        const d = delta(before, counters(solo.stack));
        const problem = accountFor(d, socket.queuedDatagrams - queuedBefore);
        if (problem !== null) throw new Error(`${problem}: ${JSON.stringify(d)}`);
        while (socket.recvFrom(buffer, 0, buffer.length, null, 0) >= 0);
        solo.take();
      }
      // Let reassembly and ARP give up on whatever they hold, then every buffer must be back.
      solo.advance(60_000);
      solo.take();
      return solo.poolFull();
    }),
    { numRuns: 300, seed: 0x5eed },
  );
});

test("property: frames into a stack with a tiny pool never leak or throw", () => {
  fc.assert(
    fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 40 }), (frames) => {
      const { solo } = ready({ stack: { buffers: 3, reassemblySlots: 1 } });
      for (const frame of frames) {
        if (frame.length >= 14) solo.send(frame);
        else if (frame.length > 0) solo.push(frame);
      }
      solo.advance(60_000);
      solo.take();
      return solo.poolFull();
    }),
    { numRuns: 150, seed: 0xfee1 },
  );
});

test.run();
