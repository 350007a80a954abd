// ARP (RFC 826, RFC 5227 announcements) and the neighbor states Linux keeps for it: resolution
// and its retries, the waiting queue, learning, staleness and probing, recycling, conflicts.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FullAddress } from "../../src/wire/address.js";
import {
  NEIGHBOR_DELAY,
  NEIGHBOR_PROBE,
  NEIGHBOR_REACHABLE,
  NEIGHBOR_STALE,
} from "../../src/iface/neighbor.js";
import {
  BROADCAST_MAC,
  ETH_ARP,
  ETH_IPV4,
  Sent,
  arp,
  ether,
  icmp,
  ip,
  ipv4,
  mac,
  pattern,
} from "../support/frames.js";
import {
  OTHER_IP,
  OTHER_MAC,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
  Solo,
  SoloOptions,
  measure,
} from "../support/harness.js";

const NOBODY = ip("192.0.2.99");
const ZERO_MAC = new Uint8Array(6);

function to(address: number, port = 9): FullAddress {
  const full = new FullAddress();
  full.address.setV4(address);
  full.port = port;
  return full;
}

function sender(solo: Solo, port = 5555) {
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, port), 0);
  // Each send is followed by the poll a driver gives the stack when it wakes it.
  return (address: number, seq = 0) => {
    const data = Uint8Array.of(seq);
    assert.is(socket.sendTo(data, 0, 1, to(address)), 1);
    solo.settle();
  };
}

function arps(sent: Sent[]) {
  return sent.filter((s) => s.arp).map((s) => s);
}

function ips(sent: Sent[]) {
  return sent.filter((s) => s.ip);
}

function isRequestFor(s: Sent, target: number, dst: Uint8Array = BROADCAST_MAC): boolean {
  const a = s.arp!;
  return (
    a.op === 1 &&
    a.targetIp === target &&
    a.senderIp === STACK_IP &&
    a.senderMac.every((b, i) => b === STACK_MAC[i]) &&
    a.targetMac.every((b) => b === 0) &&
    s.dst.every((b, i) => b === dst[i]) &&
    s.src.every((b, i) => b === STACK_MAC[i])
  );
}

function reply(senderMac: Uint8Array, senderIp: number, dst = STACK_MAC): Uint8Array {
  return ether(
    dst,
    senderMac,
    ETH_ARP,
    arp({ op: 2, senderMac, senderIp, targetMac: STACK_MAC, targetIp: STACK_IP }),
  );
}

function request(senderMac: Uint8Array, senderIp: number, targetIp = STACK_IP): Uint8Array {
  return ether(BROADCAST_MAC, senderMac, ETH_ARP, arp({ op: 1, senderMac, senderIp, targetIp }));
}

test("requests go out every second, three in all; then the waiting frames are dropped", () => {
  const solo = new Solo().warm();
  const send = sender(solo);
  send(NOBODY, 1);
  send(NOBODY, 2);
  const times: number[] = [];
  let sent = solo.take();
  for (let t = 0; t < 5000; t++) {
    for (const s of sent) {
      assert.ok(s.arp && isRequestFor(s, NOBODY), "only broadcast requests for the address");
      times.push(t - 1);
    }
    solo.advance(1);
    sent = solo.take();
  }
  assert.equal(times, [-1, 999, 1999]);
  const stats = solo.iface.arpStats;
  assert.is(stats.requestsOut, 3);
  assert.is(stats.failures, 1);
  assert.is(stats.unresolvedDrops, 2, "both waiting datagrams counted");
  assert.is(solo.iface.neighbors.find(NOBODY), -1, "the entry is freed");
  assert.ok(solo.poolFull());
  // A later datagram starts over.
  send(NOBODY, 3);
  assert.ok(isRequestFor(solo.take()[0], NOBODY));
});

test("the frames waiting for one neighbor are bounded; the oldest are dropped first", () => {
  const solo = new Solo({ stack: { arpQueue: 8 } }).warm(false);
  const send = sender(solo);
  for (let i = 0; i < 10; i++) send(PEER_IP, i);
  assert.is(solo.iface.arpStats.queueDrops, 2);
  assert.is(solo.stack.pool.count - solo.stack.pool.available, 8, "eight buffers wait");
  assert.is(arps(solo.take()).length, 1, "one request for all of them");
  solo.peerAnswers();
  const out = ips(solo.take()).map((s) => s.ip!.payload[8]);
  assert.equal(out, [2, 3, 4, 5, 6, 7, 8, 9], "the newest eight, in order");
  assert.ok(solo.poolFull());
});

test("the waiting bound is shared by every neighbor", () => {
  const solo = new Solo({ stack: { arpQueue: 4 } }).warm(false);
  const send = sender(solo);
  for (let i = 0; i < 3; i++) send(PEER_IP, i);
  send(OTHER_IP, 10);
  send(OTHER_IP, 11); // the bound is reached: OTHER's own oldest (10) makes room
  assert.is(solo.iface.arpStats.queueDrops, 1);
  send(NOBODY, 20); // a neighbor with nothing of its own to give up: the new frame goes
  assert.is(solo.iface.arpStats.queueDrops, 2);
  assert.is(solo.stack.pool.count - solo.stack.pool.available, 4);
  solo.peerAnswers();
  solo.peerAnswers(OTHER_MAC, OTHER_IP);
  const out = ips(solo.take()).map((s) => s.ip!.payload[8]);
  assert.equal(out, [0, 1, 2, 11]);
  solo.advance(5000);
  assert.ok(solo.poolFull());
});

test("a request for our address is answered, and teaches the sender's address (STALE)", () => {
  const solo = new Solo().warm(false);
  const moved = measure(solo.stack, () => solo.send(request(OTHER_MAC, OTHER_IP)));
  assert.is(moved["arp.requestsIn"], 1);
  assert.is(moved["arp.repliesOut"], 1);
  const sent = solo.take();
  assert.is(sent.length, 1);
  const a = sent[0].arp!;
  assert.equal(sent[0].dst, OTHER_MAC, "unicast to the asker");
  assert.is(a.op, 2);
  assert.equal(a.senderMac, STACK_MAC);
  assert.is(a.senderIp, STACK_IP);
  assert.equal(a.targetMac, OTHER_MAC);
  assert.is(a.targetIp, OTHER_IP);
  const cache = solo.iface.neighbors;
  const entry = cache.find(OTHER_IP);
  assert.ok(entry >= 0);
  // Linux (neigh_event_ns): a request tells the address but does not prove reachability.
  assert.is(cache.state[entry], NEIGHBOR_STALE);
  // So a datagram goes straight out, and the entry is probed once the delay is over.
  const send = sender(solo);
  send(OTHER_IP, 1);
  const direct = solo.take();
  assert.is(direct.length, 1);
  assert.equal(direct[0].dst, OTHER_MAC);
  assert.is(cache.state[entry], NEIGHBOR_DELAY);
  solo.advance(4999);
  assert.equal(solo.take(), []);
  solo.advance(1);
  const probe = solo.take();
  assert.is(probe.length, 1);
  assert.ok(isRequestFor(probe[0], OTHER_IP, OTHER_MAC), "a unicast probe");
  assert.is(cache.state[entry], NEIGHBOR_PROBE);
  solo.send(reply(OTHER_MAC, OTHER_IP));
  assert.is(cache.state[entry], NEIGHBOR_REACHABLE);
  solo.advance(3000);
  assert.equal(solo.take(), [], "no more probes once confirmed");
});

test("a unicast reply confirms a resolving entry; a broadcast one only makes it STALE", () => {
  const solo = new Solo().warm(false);
  const send = sender(solo);
  send(PEER_IP);
  solo.take();
  solo.send(reply(PEER_MAC, PEER_IP));
  const cache = solo.iface.neighbors;
  assert.is(cache.state[cache.find(PEER_IP)], NEIGHBOR_REACHABLE);
  assert.is(ips(solo.take()).length, 1);

  send(OTHER_IP);
  solo.take();
  solo.send(reply(OTHER_MAC, OTHER_IP, BROADCAST_MAC));
  const entry = cache.find(OTHER_IP);
  assert.equal(ips(solo.take())[0].dst, OTHER_MAC, "the waiting frame leaves");
  // Sending on an unconfirmed address is a use of a stale entry: DELAY, then a probe.
  assert.is(cache.state[entry], NEIGHBOR_DELAY);
});

test("a reply nobody asked for creates no entry (Linux without arp_accept, not RFC 826)", () => {
  const solo = new Solo().warm(false);
  const moved = measure(solo.stack, () => solo.send(reply(OTHER_MAC, OTHER_IP)));
  assert.equal(moved, { "link.framesIn": 1, "arp.repliesIn": 1, "arp.unsolicited": 1 });
  assert.is(solo.iface.neighbors.find(OTHER_IP), -1);
  assert.equal(solo.take(), []);
});

test("a known neighbor's new MAC replaces the old one", () => {
  const solo = new Solo().warm();
  const send = sender(solo);
  const moved = "02:00:00:00:00:77".split(":").map((h) => parseInt(h, 16));
  const newMac = Uint8Array.from(moved);
  solo.send(request(newMac, PEER_IP));
  solo.take();
  send(PEER_IP);
  assert.equal(solo.take()[0].dst, newMac);
});

test("a gratuitous ARP refreshes a known neighbor and is ignored for strangers", () => {
  const solo = new Solo().warm();
  const newMac = Uint8Array.of(2, 0, 0, 0, 0, 0x55);
  const garp = (mac: Uint8Array, address: number) =>
    ether(
      BROADCAST_MAC,
      mac,
      ETH_ARP,
      arp({ op: 1, senderMac: mac, senderIp: address, targetIp: address }),
    );
  solo.send(garp(newMac, PEER_IP));
  const cache = solo.iface.neighbors;
  assert.equal(cache.mac.slice(cache.find(PEER_IP) * 6, cache.find(PEER_IP) * 6 + 6), newMac);
  const moved = measure(solo.stack, () => solo.send(garp(OTHER_MAC, OTHER_IP)));
  assert.is(moved["arp.notForUs"], 1);
  assert.is(cache.find(OTHER_IP), -1);
  assert.equal(solo.take(), [], "announcements are not answered");
});

test("a neighbor stays reachable at least 15 s; after 45 s a use leads to a unicast probe", () => {
  const solo = new Solo().warm();
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  const entry = cache.find(PEER_IP);
  solo.advance(15_000 - 1);
  assert.is(cache.state[entry], NEIGHBOR_REACHABLE, "reachable time is at least half of 30 s");
  send(PEER_IP);
  solo.advance(10_000);
  assert.is(arps(solo.take()).length, 0);
  solo.advance(21_000);
  assert.is(cache.state[entry], NEIGHBOR_STALE, "reachable time is under 1.5 x 30 s");
  solo.advance(100_000);
  assert.equal(solo.take(), [], "a stale entry nobody uses costs nothing");
  send(PEER_IP, 7);
  const now = solo.take();
  assert.is(now.length, 1, "the datagram goes out at once on the stale address");
  assert.equal(now[0].dst, PEER_MAC);
  solo.advance(5000);
  const probe = solo.take();
  assert.is(probe.length, 1);
  assert.ok(isRequestFor(probe[0], PEER_IP, PEER_MAC));
  solo.send(reply(PEER_MAC, PEER_IP));
  assert.is(cache.state[entry], NEIGHBOR_REACHABLE);
});

test("an unanswered probe ends the entry after three; the next use resolves by broadcast", () => {
  const solo = new Solo().warm();
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  solo.advance(46_000);
  send(PEER_IP);
  solo.take();
  solo.advance(5000 + 2999);
  const probes = solo.take();
  assert.is(probes.length, 3);
  for (const p of probes) assert.ok(isRequestFor(p, PEER_IP, PEER_MAC));
  assert.ok(cache.find(PEER_IP) >= 0);
  solo.advance(1);
  assert.is(cache.find(PEER_IP), -1);
  assert.is(solo.iface.arpStats.failures, 1);
  assert.is(solo.iface.arpStats.unresolvedDrops, 0, "nothing waited: frames went out meanwhile");
  send(PEER_IP);
  assert.ok(isRequestFor(solo.take()[0], PEER_IP));
  assert.is(solo.stack.pool.count - solo.stack.pool.available, 1);
});

test("a confirmation during the delay cancels the probe", () => {
  const solo = new Solo().warm();
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  solo.advance(46_000);
  send(PEER_IP);
  solo.take();
  assert.is(cache.state[cache.find(PEER_IP)], NEIGHBOR_DELAY);
  solo.advance(2000);
  solo.send(reply(PEER_MAC, PEER_IP));
  solo.advance(10_000);
  assert.equal(arps(solo.take()), []);
  assert.is(cache.state[cache.find(PEER_IP)], NEIGHBOR_REACHABLE);
});

test("a full cache recycles the least recently used entry", () => {
  const solo = new Solo({ stack: { neighbors: 2 } }).warm(false);
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  send(PEER_IP);
  solo.peerAnswers();
  solo.advance(10);
  send(OTHER_IP);
  solo.peerAnswers(OTHER_MAC, OTHER_IP);
  solo.advance(10);
  send(PEER_IP); // the peer is now the more recently used
  solo.take();
  const third = ip("192.0.2.4");
  send(third);
  assert.ok(isRequestFor(solo.take()[0], third));
  assert.ok(cache.find(PEER_IP) >= 0, "the recently used entry stays");
  assert.is(cache.find(OTHER_IP), -1, "the least recently used one went");
  assert.ok(cache.find(third) >= 0);
});

test("when every entry is resolving, a frame for yet another host is dropped and counted", () => {
  const solo = new Solo({ stack: { neighbors: 2 } }).warm(false);
  const send = sender(solo);
  send(PEER_IP);
  send(OTHER_IP);
  const moved = measure(solo.stack, () => send(NOBODY));
  // Dropped before it left, so IP does not count it as sent.
  assert.equal(moved, { "arp.queueDrops": 1, "udp.datagramsOut": 1 });
  solo.advance(5000);
  assert.ok(solo.poolFull());
});

function isAnnouncement(s: Sent): boolean {
  return isRequestFor(s, STACK_IP);
}

test("configuring an address announces it twice, 2 s apart (RFC 5227 §2.3)", () => {
  const solo = new Solo({ configure: false });
  solo.settle();
  solo.advance(10_000);
  assert.equal(solo.take(), [], "no address, no announcement");
  solo.stack.configure({ address: STACK_IP, prefix: 24 });
  const times: number[] = [];
  for (let t = 0; t < 10_000; t += 1) {
    solo.settle();
    for (const s of solo.take()) {
      assert.ok(isAnnouncement(s), "sender and target are our address, target MAC zero");
      assert.equal(s.arp!.targetMac, ZERO_MAC);
      times.push(t);
    }
    solo.advance(1);
  }
  assert.equal(times, [0, 2000]);
  assert.is(solo.iface.arpStats.announcementsOut, 2);
});

test("the link coming up announces again; a link that is down announces nothing", () => {
  const solo = new Solo().warm();
  solo.pair.setLink(false);
  solo.advance(1000);
  solo.stack.configure({ address: STACK_IP, prefix: 24 });
  solo.advance(5000);
  assert.equal(solo.take(), []);
  solo.pair.setLink(true);
  // The device has no link-change signal: the stack notices at its next poll.
  solo.advance(0);
  solo.advance(10_000);
  const sent = solo.take();
  assert.is(sent.length, 2);
  assert.ok(sent.every(isAnnouncement));
});

test("another station claiming our address is counted as a conflict and not answered", () => {
  const solo = new Solo().warm();
  const moved = measure(solo.stack, () => {
    solo.send(request(OTHER_MAC, STACK_IP, STACK_IP));
    solo.send(request(OTHER_MAC, STACK_IP, PEER_IP));
    solo.send(reply(OTHER_MAC, STACK_IP));
  });
  assert.is(moved["arp.conflicts"], 3);
  assert.equal(solo.take(), []);
  // Our own announcement heard back (a hub, a loop) is no conflict.
  const own = measure(solo.stack, () => solo.send(request(STACK_MAC, STACK_IP, STACK_IP)));
  assert.is(own["arp.conflicts"] ?? 0, 0);
  // The cache does not take our own address from anyone.
  assert.is(solo.iface.neighbors.find(STACK_IP), -1);
});

test("only requests for our own address are answered", () => {
  const solo = new Solo().warm();
  for (const target of [OTHER_IP, ip("192.0.2.255"), 0, ip("255.255.255.255"), ip("10.0.0.1")]) {
    const moved = measure(solo.stack, () => solo.send(request(PEER_MAC, PEER_IP, target)));
    assert.is(moved["arp.notForUs"], 1);
  }
  assert.equal(solo.take(), []);
  solo.send(request(PEER_MAC, PEER_IP, STACK_IP));
  assert.is(solo.take().length, 1);
});

test("an ARP probe (sender 0.0.0.0) for our address is answered, and learns nothing", () => {
  const solo = new Solo().warm();
  solo.send(request(OTHER_MAC, 0, STACK_IP));
  const sent = solo.take();
  assert.is(sent.length, 1);
  assert.equal(sent[0].dst, OTHER_MAC);
  assert.is(sent[0].arp!.op, 2);
  assert.is(sent[0].arp!.targetIp, 0);
  assert.is(solo.iface.neighbors.find(0), -1);
});

test("without an address, requests are not answered", () => {
  const solo = new Solo({ configure: false });
  solo.settle();
  const moved = measure(solo.stack, () => solo.send(request(PEER_MAC, PEER_IP, STACK_IP)));
  assert.is(moved["arp.notForUs"], 1);
  assert.equal(solo.take(), []);
});

test("frames waiting for ARP never take the last buffer: the reply can still be received", () => {
  // Four buffers and the default queue of eight: the queue must stop short of the whole pool,
  // or the reply that would release the frames could not be received.
  const solo = new Solo({ stack: { buffers: 4 } }).warm(false);
  const send = sender(solo);
  for (let i = 0; i < 6; i++) send(PEER_IP, i);
  assert.ok(solo.stack.pool.available >= 1, "a buffer is left for receiving");
  solo.take();
  solo.peerAnswers();
  const out = ips(solo.take()).map((s) => s.ip!.payload[8]);
  assert.equal(out, [3, 4, 5], "the newest that fit, delivered once the reply is in");
  assert.is(solo.iface.link.noBuffer, 0);
  assert.ok(solo.poolFull());
});

// ---------------------------------------------------------------- under pressure

const GATEWAY_IP = ip("192.0.2.254");
const GATEWAY_MAC = mac("02:00:00:00:00:fe");
/** Off-link: reached through the gateway. */
const FAR_IP = ip("198.51.100.7");

/** A stack with a default gateway, the gateway and the peer resolved and in use. */
function withGateway(options: SoloOptions["stack"] = {}, resolve = true): Solo {
  const solo = new Solo({ stack: options, configure: false });
  solo.stack.configure({ address: STACK_IP, prefix: 24, gateway: GATEWAY_IP });
  solo.warm(resolve);
  if (resolve) {
    const send = sender(solo, 5556);
    send(FAR_IP);
    solo.take();
    solo.peerAnswers(GATEWAY_MAC, GATEWAY_IP);
    send(PEER_IP);
    assert.equal(
      solo.take().map((s) => s.dst),
      [GATEWAY_MAC, PEER_MAC],
    );
  }
  return solo;
}

/** An echo request from `source` (a host that will never answer ARP). */
function ping(source: number, seq = 0): Uint8Array {
  const from = Uint8Array.of(2, 0, 0, 0, 1, source & 0xff);
  return ether(
    STACK_MAC,
    from,
    ETH_IPV4,
    ipv4({
      source,
      destination: STACK_IP,
      protocol: 1,
      payload: icmp({ type: 8, rest: seq, payload: pattern(8) }),
    }),
  );
}

/** 192.0.2.100 + i */
function stranger(i: number): number {
  return (ip("192.0.2.100") + i) | 0;
}

test("eight spoofed pings leave the gateway's and the peer's entries alone", () => {
  const solo = withGateway();
  const send = sender(solo);
  for (let i = 0; i < 8; i++) solo.send(ping(stranger(i)));
  solo.take();
  send(FAR_IP, 1);
  send(PEER_IP, 2);
  const out = solo.take();
  assert.equal(
    out.map((s) => s.dst),
    [GATEWAY_MAC, PEER_MAC],
    "both go out at once, no resolution needed",
  );
  assert.ok(solo.iface.arpStats.replyDrops > 0, "replies beyond the strangers' share dropped");
  solo.advance(10_000);
  assert.ok(solo.poolFull());
});

test("the gateway can always be resolved, whatever waits on ARP", () => {
  const solo = withGateway({}, false);
  const send = sender(solo);
  // Strangers and our own sends to hosts that never answer fill every entry.
  for (let i = 0; i < 8; i++) solo.send(ping(stranger(i)));
  for (let i = 0; i < 8; i++) send(stranger(20 + i));
  solo.take();
  send(FAR_IP, 9);
  const asked = arps(solo.take());
  assert.ok(
    asked.some((s) => isRequestFor(s, GATEWAY_IP)),
    "the gateway is asked for at once",
  );
  solo.peerAnswers(GATEWAY_MAC, GATEWAY_IP);
  const out = ips(solo.take());
  assert.is(out.length, 1);
  assert.equal(out[0].dst, GATEWAY_MAC);
  assert.is(out[0].ip!.payload[8], 9);
  solo.advance(10_000);
  assert.ok(solo.poolFull());
});

test("replies to strangers take at most a quarter of the table and of the ARP queue", () => {
  const solo = withGateway();
  const cache = solo.iface.neighbors;
  const stats = solo.iface.arpStats;
  for (let i = 0; i < 50; i++) solo.send(ping(stranger(i)));
  assert.is(cache.replyEntryLimit, 2);
  assert.is(cache.replyEntries, 2);
  let held = 0;
  for (let i = 0; i < cache.capacity; i++) if (cache.forReply[i]) held++;
  assert.is(held, 2);
  assert.ok(cache.replyQueued <= 2 && cache.queued <= 2);
  assert.is(stats.replyDrops, 48);
  assert.is(arps(solo.take()).length, 2, "one request per stranger's entry, not one per ping");
  // A second later the unanswered ones make room for newer strangers, oldest first.
  solo.advance(1000);
  solo.take();
  const before = stats.evictedDrops;
  solo.send(ping(stranger(60)));
  assert.ok(cache.find(stranger(60)) >= 0);
  assert.is(cache.find(stranger(0)), -1);
  assert.ok(cache.find(stranger(1)) >= 0);
  assert.is(stats.evictedDrops, before + 1);
  // A stranger answering ARP gets its reply.
  solo.send(reply(OTHER_MAC, stranger(60)));
  const out = ips(solo.take());
  assert.is(out.length, 1);
  assert.equal(out[0].dst, OTHER_MAC);
  assert.is(cache.replyEntries, 1, "resolved, it no longer counts against the share");
  solo.advance(10_000);
  assert.ok(solo.poolFull());
});

test("our own send adopts a stranger's entry: it no longer counts against the share", () => {
  const solo = withGateway();
  const cache = solo.iface.neighbors;
  const send = sender(solo);
  solo.send(ping(stranger(0)));
  assert.is(cache.replyEntries, 1);
  send(stranger(0), 1);
  assert.is(cache.replyEntries, 0);
  assert.is(cache.replyQueued, 0);
  assert.is(cache.queued, 2);
  solo.send(reply(OTHER_MAC, stranger(0)));
  assert.is(ips(solo.take()).length, 2);
  assert.ok(solo.poolFull());
});

test("a resolution unanswered for a second is recycled, oldest first", () => {
  const solo = new Solo({ stack: { neighbors: 2 } }).warm(false);
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  send(PEER_IP, 1);
  solo.advance(10);
  send(OTHER_IP, 2);
  solo.advance(989);
  const third = ip("192.0.2.4");
  // Less than a second: the table holds.
  const early = measure(solo.stack, () => send(third, 3));
  assert.is(early["arp.queueDrops"], 1);
  solo.advance(1);
  solo.take();
  const late = measure(solo.stack, () => send(third, 4));
  assert.is(late["arp.evictedDrops"], 1, "the peer's waiting datagram goes with its entry");
  assert.is(cache.find(PEER_IP), -1);
  assert.ok(cache.find(OTHER_IP) >= 0);
  assert.ok(isRequestFor(solo.take()[0], third));
  solo.advance(5000);
  assert.ok(solo.poolFull());
});

test("unresolved addresses never push a resolved one out", () => {
  const solo = withGateway({ neighbors: 4 });
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  const gateway = cache.find(GATEWAY_IP);
  const peer = cache.find(PEER_IP);
  // Our own sends to many hosts that never answer, the gateway and peer used beside them.
  for (let t = 0; t < 30_000; t += 100) {
    send(stranger((t / 100) % 100), t & 255);
    send(FAR_IP, 1);
    send(PEER_IP, 2);
    solo.advance(100);
    solo.take();
    if ((t / 100) % 50 === 0) {
      solo.peerAnswers(GATEWAY_MAC, GATEWAY_IP);
      solo.peerAnswers();
    }
    assert.is(cache.find(GATEWAY_IP), gateway);
    assert.is(cache.find(PEER_IP), peer);
  }
  solo.advance(10_000);
  assert.ok(solo.poolFull());
});

test("ARP from a sender no host on the link may have is neither learned nor answered", () => {
  const solo = new Solo().warm();
  const senders = ["192.0.2.255", "192.0.2.0", "0.0.0.2", "240.0.0.1", "10.0.0.1", "127.0.0.1"];
  for (const text of senders) {
    const sender = ip(text);
    const moved = measure(solo.stack, () => solo.send(request(OTHER_MAC, sender)));
    assert.is(moved["arp.badSender"], 1, text);
    assert.is(moved["arp.repliesOut"], undefined, text);
    assert.is(solo.iface.neighbors.find(sender), -1, text);
    const again = measure(solo.stack, () => solo.send(reply(OTHER_MAC, sender)));
    assert.is(again["arp.badSender"], 1, text);
  }
  assert.equal(solo.take(), []);
  // On a /31 both addresses are hosts.
  const pair = new Solo({ configure: false });
  pair.stack.configure({ address: STACK_IP, prefix: 31 });
  pair.warm(false);
  pair.send(request(OTHER_MAC, ip("192.0.2.0")));
  assert.is(pair.take().length, 1);
  assert.ok(pair.iface.neighbors.find(ip("192.0.2.0")) >= 0);
});

test("an ARP probe for our address is a conflict; other probes and zero-sender replies are not learned", () => {
  const solo = new Solo().warm();
  const ours = measure(solo.stack, () => solo.send(request(OTHER_MAC, 0, STACK_IP)));
  assert.is(ours["arp.conflicts"], 1);
  assert.is(solo.take().length, 1, "answered, which defends the address");
  const other = measure(solo.stack, () => solo.send(request(OTHER_MAC, 0, OTHER_IP)));
  assert.is(other["arp.notForUs"], 1);
  const zero = measure(solo.stack, () => solo.send(reply(OTHER_MAC, 0)));
  assert.is(zero["arp.badSender"], 1);
  assert.equal(solo.take(), []);
  assert.is(solo.iface.neighbors.find(0), -1);
});

test("a reply changing a neighbor's MAC within a second of its last change is ignored", () => {
  const solo = new Solo().warm(false);
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  send(PEER_IP);
  solo.peerAnswers();
  solo.take();
  const entry = cache.find(PEER_IP);
  const spoof = mac("02:00:00:00:00:66");
  const macOf = () => cache.mac.slice(entry * 6, entry * 6 + 6);
  solo.advance(999);
  const moved = measure(solo.stack, () => solo.send(reply(spoof, PEER_IP)));
  assert.is(moved["arp.locked"], 1);
  assert.equal(macOf(), PEER_MAC, "the first answer stays");
  // The same address again confirms, as any reply does.
  solo.send(reply(PEER_MAC, PEER_IP));
  assert.is(cache.state[entry], NEIGHBOR_REACHABLE);
  solo.advance(1);
  solo.send(reply(spoof, PEER_IP));
  assert.equal(macOf(), spoof, "a second after the last change a new address is taken");
  // A gratuitous announcement and a request aimed at us override the lock, as in Linux.
  const garp = ether(
    BROADCAST_MAC,
    PEER_MAC,
    ETH_ARP,
    arp({ op: 1, senderMac: PEER_MAC, senderIp: PEER_IP, targetIp: PEER_IP }),
  );
  solo.send(garp);
  assert.equal(macOf(), PEER_MAC);
  solo.send(request(spoof, PEER_IP));
  assert.equal(macOf(), spoof);
});

test("a flood of requests aimed at us never evicts an entry in use", () => {
  const solo = withGateway();
  const send = sender(solo);
  const cache = solo.iface.neighbors;
  const gateway = cache.find(GATEWAY_IP);
  const peer = cache.find(PEER_IP);
  let replies = 0;
  // One request a millisecond from 200 addresses; the gateway and the peer used every 100 ms.
  for (let i = 0; i < 2000; i++) {
    const from = (ip("192.0.2.10") + (i % 200)) | 0;
    solo.send(request(Uint8Array.of(2, 0, 0, 0, 2, i & 0xff), from));
    if (i % 100 === 0) {
      send(FAR_IP, 1);
      send(PEER_IP, 2);
    }
    for (const s of solo.take()) {
      if (s.arp) {
        assert.is(s.arp.op, 2, "no request: nothing needs resolving again");
        replies++;
      } else {
        const to = s.ip!.destination === PEER_IP ? PEER_MAC : GATEWAY_MAC;
        assert.equal(s.dst, to);
      }
    }
    assert.is(cache.find(GATEWAY_IP), gateway);
    assert.is(cache.find(PEER_IP), peer);
    solo.advance(1);
  }
  assert.is(replies, 2000, "every request answered");
});

test("when every entry is in use, a request is answered without learning its sender", () => {
  const solo = withGateway({ neighbors: 2 });
  const moved = measure(solo.stack, () => solo.send(request(OTHER_MAC, OTHER_IP)));
  assert.is(moved["arp.notLearned"], 1);
  assert.is(moved["arp.repliesOut"], 1);
  assert.is(solo.iface.neighbors.find(OTHER_IP), -1);
  assert.ok(solo.iface.neighbors.find(PEER_IP) >= 0);
  // Once the peer has gone unused long enough, it can be replaced.
  solo.advance(60_000);
  solo.take();
  solo.send(request(OTHER_MAC, OTHER_IP));
  assert.ok(solo.iface.neighbors.find(OTHER_IP) >= 0);
  assert.ok(solo.iface.neighbors.find(GATEWAY_IP) >= 0, "never the gateway's");
});

test.run();
