// ARP (RFC 826, RFC 5227 announcements) and the neighbor states Linux keeps for it: resolution
// and its retries, the waiting queue, learning, staleness and probing, recycling, conflicts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { FullAddress } from "../../src/wire/address.js";
import {
  NEIGHBOR_DELAY,
  NEIGHBOR_PROBE,
  NEIGHBOR_REACHABLE,
  NEIGHBOR_STALE,
} from "../../src/iface/neighbor.js";
import { BROADCAST_MAC, ETH_ARP, Sent, arp, ether, ip } from "../support/frames.js";
import {
  OTHER_IP,
  OTHER_MAC,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
  Solo,
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

function sender(solo: Solo) {
  const socket = solo.stack.openUdp()!;
  assert.is(socket.bind(null, 5555), 0);
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
test.run();
