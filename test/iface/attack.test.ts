// Floods replayed against one stack on the virtual clock, each while a legitimate flow runs beside
// it: the stack sends a UDP datagram to a far host (through the gateway) and one to the peer every
// 100 ms, and the wire side plays the gateway and the peer, answering ARP. Each scenario prints how
// much of the legitimate flow got through and its longest outage, and asserts the target.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { StackOptions } from "../../src/config.js";
import { TX_TAKEN } from "../../src/device.js";
import { FullAddress } from "../../src/wire/address.js";
import {
  BROADCAST_MAC,
  ETH_ARP,
  ETH_IPV4,
  arp,
  ether,
  icmp,
  ip,
  ipv4,
  mac,
  pattern,
  u16,
  u32,
} from "../support/frames.js";
import {
  PEER_IP,
  PEER_MAC,
  PORT,
  STACK_IP,
  STACK_MAC,
  Solo,
  ipFrame,
  udpPacket,
} from "../support/harness.js";

const GATEWAY_IP = ip("192.0.2.254");
const GATEWAY_MAC = mac("02:00:00:00:00:fe");
/** Off-link: reached through the gateway. */
const FAR_IP = ip("198.51.100.7");
const FLOW_PORT = 9;
/** The legitimate flow: one datagram to each destination this often. */
const FLOW_INTERVAL = 100;

function to(address: number, port: number): FullAddress {
  const full = new FullAddress();
  full.address.setV4(address);
  full.port = port;
  return full;
}

/** On-link addresses that never answer ARP: 192.0.2.10 .. 192.0.2.249. */
const STRANGERS = 240;
function stranger(i: number): number {
  return (ip("192.0.2.10") + (i % STRANGERS)) | 0;
}
function strangerMac(i: number): Uint8Array {
  return Uint8Array.of(2, 0, 0, 1, (i >>> 8) & 0xff, i & 0xff);
}

/** An echo request from stranger i. */
function spoofedPing(i: number): Uint8Array {
  return ether(
    STACK_MAC,
    strangerMac(i),
    ETH_IPV4,
    ipv4({
      source: stranger(i),
      destination: STACK_IP,
      protocol: 1,
      payload: icmp({ type: 8, rest: i, payload: pattern(16) }),
    }),
  );
}

/** An ARP request for our address from stranger i. */
function arpRequest(i: number): Uint8Array {
  const senderMac = strangerMac(i);
  return ether(
    BROADCAST_MAC,
    senderMac,
    ETH_ARP,
    arp({ op: 1, senderMac, senderIp: stranger(i), targetIp: STACK_IP }),
  );
}

function arpReply(senderMac: Uint8Array, senderIp: number): Uint8Array {
  return ether(
    STACK_MAC,
    senderMac,
    ETH_ARP,
    arp({ op: 2, senderMac, senderIp, targetMac: STACK_MAC, targetIp: STACK_IP }),
  );
}

class Flow {
  attempted = 0;
  readonly times: number[] = [];

  /** The longest time without a delivery, from the first attempt to the end of the run. */
  outage(start: number, end: number): number {
    let longest = 0;
    let last = start;
    for (const t of this.times) {
      if (t - last > longest) longest = t - last;
      last = t;
    }
    return end - last > longest ? end - last : longest;
  }
}

/** One stack with a gateway, and the wire side that plays the gateway and the peer. */
class Lab {
  readonly solo: Solo;
  readonly gateway = new Flow();
  readonly peer = new Flow();
  /** Broadcast requests for the gateway after start(): its entry had to be resolved again. */
  gatewayResolutions = 0;
  /** Frames the flood could not put on the cable (it was full). */
  refused = 0;
  private started = false;
  private readonly socket;
  private readonly farAddress = to(FAR_IP, FLOW_PORT);
  private readonly peerAddress = to(PEER_IP, FLOW_PORT);
  private readonly buffer = new Uint8Array(1600);
  private readonly data = pattern(32);
  private readonly gatewayReply = arpReply(GATEWAY_MAC, GATEWAY_IP);
  private readonly peerReply = arpReply(PEER_MAC, PEER_IP);

  constructor(options: StackOptions = {}) {
    this.solo = new Solo({ stack: options, configure: false, pair: { slots: 128 } });
    this.solo.stack.configure({ address: STACK_IP, prefix: 24, gateway: GATEWAY_IP });
    this.solo.warm(false);
    this.socket = this.solo.stack.openUdp() as UdpEndpoint;
    assert.is(this.socket.bind(null, 5555), 0);
  }

  /** Resolves the gateway and the peer, as a running stack would have. */
  start(): this {
    this.send();
    for (let i = 0; i < 10; i++) this.tick();
    this.gateway.attempted = this.peer.attempted = 0;
    this.gateway.times.length = this.peer.times.length = 0;
    this.started = true;
    return this;
  }

  inject(frame: Uint8Array): void {
    if (this.solo.pair.b.transmit(frame, 0, frame.length) !== TX_TAKEN) this.refused++;
  }

  /** One datagram to each destination. */
  send(): void {
    this.gateway.attempted++;
    this.peer.attempted++;
    assert.is(this.socket.sendTo(this.data, 0, this.data.length, this.farAddress), 32);
    assert.is(this.socket.sendTo(this.data, 0, this.data.length, this.peerAddress), 32);
  }

  /** One millisecond: the stack handles what came, then the wire side reads what it sent. */
  tick(): void {
    this.solo.advance(1);
    this.drain();
  }

  private drain(): void {
    const b = this.buffer;
    const end = this.solo.pair.b;
    const now = this.solo.now;
    for (;;) {
      const n = end.receive(b, 0, b.length);
      if (n === 0) break;
      const type = u16(b, 12);
      if (type === ETH_ARP) {
        if (u16(b, 14 + 6) !== 1) continue;
        const target = u32(b, 14 + 24);
        const broadcast = b[0] === 0xff;
        if (target === GATEWAY_IP) {
          if (broadcast && this.started) this.gatewayResolutions++;
          this.inject(this.gatewayReply);
        } else if (target === PEER_IP) this.inject(this.peerReply);
      } else if (type === ETH_IPV4 && b[14 + 9] === 17 && u16(b, 14 + 22) === FLOW_PORT) {
        const destination = u32(b, 14 + 16);
        if (destination === FAR_IP) {
          assert.ok(b[0] === GATEWAY_MAC[0] && b[5] === GATEWAY_MAC[5], "through the gateway");
          this.gateway.times.push(now);
        } else if (destination === PEER_IP) this.peer.times.push(now);
      }
    }
  }

  /**
   * Runs the legitimate flow for `ms`, calling `flood(t)` every millisecond before the stack
   * polls; returns the line to print.
   */
  run(ms: number, flood: (t: number) => void): string {
    const start = this.solo.now;
    for (let t = 0; t < ms; t++) {
      if (t % FLOW_INTERVAL === 0) this.send();
      flood(t);
      this.tick();
    }
    // The last datagrams have their time to arrive.
    for (let i = 0; i < 10; i++) this.tick();
    const end = this.solo.now;
    const g = this.gateway;
    const p = this.peer;
    return (
      `gateway ${g.times.length}/${g.attempted} (longest outage ${g.outage(start, end)} ms), ` +
      `peer ${p.times.length}/${p.attempted} (longest outage ${p.outage(start, end)} ms)`
    );
  }

  /** After the run: whatever was held is given back in time. */
  finish(): void {
    this.solo.advance(60_000);
    this.drain();
    assert.ok(this.solo.poolFull(), "no buffer leaked");
  }
}

/** How many of `perSecond` fall in millisecond t. */
function due(perSecond: number, t: number): number {
  return Math.floor((perSecond * (t + 1)) / 1000) - Math.floor((perSecond * t) / 1000);
}

const SECONDS = 60;

function allThrough(lab: Lab): void {
  assert.is(lab.gateway.times.length, lab.gateway.attempted, "every datagram to the gateway");
  assert.is(lab.peer.times.length, lab.peer.attempted, "every datagram to the peer");
  assert.is(lab.refused, 0);
}

for (const rate of [3, 100, 10_000]) {
  test(`spoofed pings from ${STRANGERS} unanswered neighbors at ${rate}/s`, () => {
    const pings: Uint8Array[] = [];
    for (let i = 0; i < STRANGERS; i++) pings.push(spoofedPing(i));
    const lab = new Lab().start();
    let next = 0;
    const line = lab.run(SECONDS * 1000, (t) => {
      for (let n = due(rate, t); n > 0; n--) lab.inject(pings[next++ % STRANGERS]);
    });
    console.log(`  spoofed pings ${rate}/s for ${SECONDS} s: ${line}`);
    allThrough(lab);
    assert.is(lab.gatewayResolutions, 0, "the gateway's entry held");
    lab.finish();
  });
}

test(`ARP requests aimed at us from ${STRANGERS} addresses at 10000/s`, () => {
  const requests: Uint8Array[] = [];
  for (let i = 0; i < STRANGERS; i++) requests.push(arpRequest(i));
  const lab = new Lab().start();
  const stats = lab.solo.iface.arpStats;
  const answered = stats.repliesOut;
  let next = 0;
  const line = lab.run(SECONDS * 1000, (t) => {
    for (let n = due(10_000, t); n > 0; n--) lab.inject(requests[next++ % STRANGERS]);
  });
  console.log(
    `  ARP requests 10000/s for ${SECONDS} s: ${line}; gateway resolved again ` +
      `${lab.gatewayResolutions} times; ${stats.repliesOut - answered} requests answered`,
  );
  allThrough(lab);
  assert.is(lab.gatewayResolutions, 0, "the gateway's entry never needs resolving again");
  lab.finish();
});

// ---------------------------------------------------------------- the neighbor table's bounds

test("fill the table: strangers learned from requests and spoofed pings, 1 each per ms", () => {
  const lab = new Lab().start();
  const requests: Uint8Array[] = [];
  const pings: Uint8Array[] = [];
  for (let i = 0; i < STRANGERS; i++) {
    requests.push(arpRequest(i));
    pings.push(spoofedPing((i + 120) % STRANGERS));
  }
  const line = lab.run(10_000, (t) => {
    lab.inject(requests[t % STRANGERS]);
    lab.inject(pings[t % STRANGERS]);
  });
  console.log(`  table filled by strangers for 10 s: ${line}`);
  const cache = lab.solo.iface.neighbors;
  let used = 0;
  for (let i = 0; i < cache.capacity; i++) if (cache.state[i] !== 0) used++;
  assert.is(used, cache.capacity, "the table is full");
  allThrough(lab);
  assert.is(lab.gatewayResolutions, 0);
  lab.finish();
});

test("churn the table: our own sends to a new unresolved host every 10 ms", () => {
  const lab = new Lab().start();
  const socket = lab.solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, 5556), 0);
  const data = pattern(8);
  const address = to(0, 9);
  let next = 0;
  const line = lab.run(30_000, (t) => {
    if (t % 10 !== 0) return;
    address.address.setV4(stranger(next++));
    assert.is(socket.sendTo(data, 0, data.length, address), data.length);
  });
  console.log(`  table churned by sends to ${next} unresolved hosts over 30 s: ${line}`);
  allThrough(lab);
  assert.is(lab.gatewayResolutions, 0);
  lab.finish();
});

test("starve the table and the ARP queue: bursts to unresolved hosts, strangers' pings", () => {
  const lab = new Lab({ neighbors: 4, arpQueue: 4 }).start();
  const socket = lab.solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, 5556), 0);
  const data = pattern(8);
  const address = to(0, 9);
  const pings: Uint8Array[] = [];
  for (let i = 0; i < STRANGERS; i++) pings.push(spoofedPing(i));
  let next = 0;
  const line = lab.run(30_000, (t) => {
    lab.inject(pings[t % STRANGERS]);
    if (t % 50 !== 0) return;
    for (let i = 0; i < 4; i++) {
      address.address.setV4(stranger(next++));
      socket.sendTo(data, 0, data.length, address);
    }
  });
  console.log(`  4 entries, 4 queued: starved by bursts and pings over 30 s: ${line}`);
  allThrough(lab);
  assert.is(lab.gatewayResolutions, 0);
  lab.finish();
});

// ---------------------------------------------------------------- fragments

const FRAGMENT = 1480;

/**
 * Real datagrams of 3 fragments from the peer, one fragment a millisecond, for `ms`; after the
 * real fragments, `junk` first fragments a second with fresh identifications from `sources` other
 * hosts (0: from the peer itself). Returns the line to print; asserts the legitimate flow.
 */
function fragments(
  options: StackOptions,
  ms: number,
  junk: number,
  sources: number,
): { line: string; received: number; sent: number } {
  const lab = new Lab({ udpReceiveBuffer: 20_000, ...options }).start();
  const socket = lab.solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, PORT), 0);
  const buffer = new Uint8Array(8000);
  const junkPayload = pattern(FRAGMENT, 0xee);
  let junkId = 0x8000;
  let sent = 0;
  let received = 0;
  let pieces: Uint8Array[] = [];
  const take = (): number => {
    let n = 0;
    while (socket.recvFrom(buffer, 0, buffer.length, null, 0) === 4000 - 8) n++;
    return n;
  };
  const line = lab.run(ms, (t) => {
    if (t % 3 === 0) {
      const id = (sent++ & 0x7fff) + 1;
      const payload = udpPacket(pattern(4000 - 8, id & 255));
      pieces = [];
      for (let offset = 0; offset < payload.length; offset += FRAGMENT) {
        const more = offset + FRAGMENT < payload.length;
        pieces.push(
          ipFrame({
            payload: payload.slice(offset, offset + FRAGMENT),
            id,
            fragment: (more ? 0x2000 : 0) | (offset >>> 3),
          }),
        );
      }
    }
    lab.inject(pieces[t % 3]);
    for (let j = due(junk, t); j > 0; j--) {
      const source = sources === 0 ? PEER_IP : (ip("198.51.100.20") + (j % sources)) | 0;
      lab.inject(
        ipFrame({ payload: junkPayload, id: junkId++ & 0xffff, fragment: 0x2000, source }),
      );
    }
    received += take();
  });
  received += take();
  allThrough(lab);
  lab.finish();
  return { line, received, sent };
}

test("junk first fragments while real fragmented datagrams arrive 1 ms apart", () => {
  const ms = 9999;
  const print = (name: string, r: { line: string; received: number; sent: number }) =>
    console.log(`  fragments, ${name}: real datagrams ${r.received}/${r.sent}; ${r.line}`);
  const quiet = fragments({}, ms, 0, 0);
  print("no flood", quiet);
  const one = fragments({}, ms, 1000, 0);
  print("1 junk first fragment from the peer after each real one", one);
  // Linux's defaults (4 MB, 30 s) hold about 1,700 queues: 50 junk a second never fill them.
  const slow = fragments({}, ms, 50, 3);
  print("50 junk/s from 3 other hosts, defaults", slow);
  const slowCapped = fragments({ reassemblyPerSource: 1 }, ms, 50, 3);
  print("50 junk/s from 3 other hosts, reassemblyPerSource 1", slowCapped);
  const wide = fragments({}, ms, 1000, 100);
  print("1000 junk/s from 100 other hosts, defaults", wide);
  // Two junk first fragments between real ones from hosts too many to cap take both default
  // slots each time; Linux's 4 MB fill within a second at this rate, and it drops all too.
  const wider = fragments({}, ms, 2000, 100);
  print("2000 junk/s from 100 other hosts, defaults", wider);
  // 3,000 a second fill Linux's 4 MB in under a second; then it drops every fragment, the real
  // ones too, until queues expire: Linux gets next to nothing through either.
  const heavy = fragments({}, ms, 3000, 3);
  print("3 junk from 3 other hosts after each real one, defaults", heavy);
  const heavyCapped = fragments({ reassemblySlots: 4, reassemblyPerSource: 1 }, ms, 3000, 3);
  print("the same, 4 slots and reassemblyPerSource 1", heavyCapped);
  assert.is(quiet.received, quiet.sent);
  assert.is(one.received, one.sent);
  assert.is(slow.received, slow.sent);
  assert.is(slowCapped.received, slowCapped.sent);
  assert.is(wide.received, wide.sent);
  assert.is(heavyCapped.received, heavyCapped.sent);
});

test.run();
