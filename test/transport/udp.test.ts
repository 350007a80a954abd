// UDP endpoints with Linux's socket semantics: bind rules, ephemeral ports, connect and
// disconnect, recvfrom flags, the receive-queue limit, demultiplexing, ICMP errors, sizes; and the
// ping endpoints (unprivileged ICMP sockets).

import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  EACCES,
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAGAIN,
  ECONNREFUSED,
  EDESTADDRREQ,
  EHOSTDOWN,
  EHOSTUNREACH,
  EINVAL,
  EMSGSIZE,
  ENETUNREACH,
  ENOPROTOOPT,
} from "../../src/errno.js";
import { EPHEMERAL_FIRST, EPHEMERAL_LAST } from "../../src/transport/ports.js";
import { MSG_PEEK, MSG_TRUNC } from "../../src/transport/datagram-queue.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { FullAddress, IpAddress } from "../../src/wire/address.js";
import { BROADCAST_MAC, icmp, ip, ipv4, pattern, udp } from "../support/frames.js";
import {
  OTHER_IP,
  PEER_IP,
  STACK_IP,
  SUBNET_BROADCAST,
  Solo,
  ipFrame,
  udpFrame,
} from "../support/harness.js";
import { duo, endpoint, poolFull } from "../support/stacks.js";

function address(text: string): IpAddress {
  const a = new IpAddress();
  if (!a.parse(text)) throw new Error(text);
  return a;
}

function to(v4: number, port: number): FullAddress {
  const full = new FullAddress();
  full.address.setV4(v4);
  full.port = port;
  return full;
}

const buffer = new Uint8Array(70000);

function recv(socket: UdpEndpoint, flags = 0, capacity = buffer.length, from?: FullAddress) {
  const n = socket.recvFrom(buffer, 0, capacity, from ?? null, flags);
  return n < 0 ? n : buffer.slice(0, Math.min(n, capacity));
}

function ready(options: ConstructorParameters<typeof Solo>[0] = {}) {
  return new Solo(options).warm();
}

// ---------------------------------------------------------------- bind

test("bind: twice is EINVAL, a port in use is EADDRINUSE, a foreign address EADDRNOTAVAIL", () => {
  const solo = ready({ stack: { udpSockets: 8 } });
  const s = solo.stack;
  const a = s.openUdp() as UdpEndpoint;
  assert.is(a.bind(null, 53), 0);
  assert.is(a.bind(null, 54), -EINVAL, "already bound");
  const b = s.openUdp() as UdpEndpoint;
  assert.is(b.bind(null, 53), -EADDRINUSE, "wildcard on wildcard");
  assert.is(b.bind(address("192.0.2.1"), 53), -EADDRINUSE, "specific on wildcard");
  assert.is(b.bind(address("192.0.2.77"), 60), -EADDRNOTAVAIL, "not our address");
  assert.is(b.bind(address("10.1.1.1"), 60), -EADDRNOTAVAIL);
  assert.is(b.bind(null, 65536), -EINVAL);
  assert.is(b.bind(null, -1), -EINVAL);
  assert.is(b.localPort, 0, "failed binds leave it unbound");
  a.close();
  assert.is(b.bind(null, 53), 0, "a closed socket frees its port");
  const c = s.openUdp() as UdpEndpoint;
  assert.is(c.bind(address("192.0.2.1"), 80), 0);
  const d = s.openUdp() as UdpEndpoint;
  assert.is(d.bind(null, 80), -EADDRINUSE, "wildcard on specific");
  assert.is(d.bind(address("192.0.2.1"), 80), -EADDRINUSE, "specific on the same specific");
  // Linux lets a socket bind the broadcast and multicast addresses (RTN_BROADCAST, RTN_MULTICAST),
  // and those are other addresses than ours on the same port.
  assert.is(d.bind(address("255.255.255.255"), 80), 0);
  const e = s.openUdp() as UdpEndpoint;
  assert.is(e.bind(address("224.0.0.251"), 80), 0);
  const f = s.openUdp() as UdpEndpoint;
  assert.is(f.bind(address("192.0.2.255"), 80), 0);
});

test("SO_REUSEADDR lets sockets share a port only when every one of them sets it", () => {
  const s = ready().stack;
  const a = s.openUdp() as UdpEndpoint;
  a.reuseAddress = true;
  assert.is(a.bind(null, 5353), 0);
  const b = s.openUdp() as UdpEndpoint;
  assert.is(b.bind(null, 5353), -EADDRINUSE, "b did not set it");
  b.reuseAddress = true;
  assert.is(b.bind(null, 5353), 0);
  const c = s.openUdp() as UdpEndpoint;
  c.reuseAddress = true;
  assert.is(c.bind(address("192.0.2.1"), 5353), 0);
});

test("ephemeral ports are in Linux's range, distinct, and not predictable", () => {
  const s = ready({ stack: { udpSockets: 8 } }).stack;
  const seen: number[] = [];
  for (let round = 0; round < 40; round++) {
    const sockets = [];
    for (let i = 0; i < 8; i++) {
      const u = s.openUdp() as UdpEndpoint;
      assert.is(u.bind(null, 0), 0);
      assert.ok(u.localPort >= EPHEMERAL_FIRST && u.localPort <= EPHEMERAL_LAST, `${u.localPort}`);
      sockets.push(u);
    }
    const ports = new Set(sockets.map((u) => u.localPort));
    assert.is(ports.size, 8, "distinct while bound");
    seen.push(sockets[0].localPort);
    for (const u of sockets) u.close();
  }
  // RFC 6056: the first port of each round starts at a random point, not after the last one.
  const steps = seen.slice(1).map((p, i) => p - seen[i]);
  assert.ok(new Set(seen).size > 35, "the starting port varies");
  assert.ok(steps.filter((d) => d === 1 || d === 8).length < 5, "not sequential");
  // Two stacks with different seeds choose differently.
  const other = new Solo({ stack: { seed: 99 } }).stack.openUdp() as UdpEndpoint;
  other.bind(null, 0);
  const mine = s.openUdp() as UdpEndpoint;
  mine.bind(null, 0);
  assert.is.not(other.localPort, mine.localPort);
});

test("an ephemeral port skips ports taken explicitly", () => {
  const s = ready({ stack: { udpSockets: 3, seed: 5 } }).stack;
  const probe = s.openUdp() as UdpEndpoint;
  probe.bind(null, 0);
  const first = probe.localPort;
  probe.close();
  // Same seed, same first choice: take it explicitly, then ask for an ephemeral one.
  const s2 = ready({ stack: { udpSockets: 3, seed: 5 } }).stack;
  const holder = s2.openUdp() as UdpEndpoint;
  assert.is(holder.bind(null, first), 0);
  const u = s2.openUdp() as UdpEndpoint;
  assert.is(u.bind(null, 0), 0);
  assert.is.not(u.localPort, first);
});

test("sending from an unbound socket binds it to an ephemeral port", () => {
  const solo = ready();
  const u = solo.stack.openUdp() as UdpEndpoint;
  assert.is(u.sendTo(pattern(4), 0, 4, to(PEER_IP, 9)), 4);
  assert.ok(u.localPort >= EPHEMERAL_FIRST);
  const sent = solo.take();
  assert.is((sent[0].ip!.payload[0] << 8) | sent[0].ip!.payload[1], u.localPort);
  assert.is(u.sendTo(pattern(4), 0, 4, null), -EDESTADDRREQ);
  assert.is(u.sendTo(pattern(4), 0, 4, to(PEER_IP, 0)), -EINVAL, "port 0 (Linux: EINVAL)");
});

test("a socket bound to a broadcast or multicast address sends from the interface address", () => {
  const solo = ready();
  const s = solo.stack;
  for (const [bound, port] of [
    ["255.255.255.255", 67],
    ["192.0.2.255", 68],
    ["224.0.0.251", 5353],
  ] as const) {
    const u = s.openUdp() as UdpEndpoint;
    assert.is(u.bind(address(bound), port), 0);
    assert.is(u.sendTo(pattern(2), 0, 2, to(PEER_IP, 9)), 2);
    const sent = solo.take();
    assert.is(sent.length, 1);
    assert.is(sent[0].ip!.source, STACK_IP, `bound to ${bound}`);
  }
});

test("sending after disconnect keeps an address bind() fixed, with a new ephemeral port", () => {
  const solo = ready();
  const u = solo.stack.openUdp() as UdpEndpoint;
  assert.is(u.bind(address("192.0.2.1"), 0), 0);
  u.connect(to(PEER_IP, 4000));
  u.disconnect();
  assert.is(u.sendTo(pattern(2), 0, 2, to(PEER_IP, 9)), 2);
  const local = new FullAddress();
  u.getLocal(local);
  assert.is(local.address.v4, STACK_IP, "still bound to the address");
  assert.ok(local.port >= EPHEMERAL_FIRST);
  assert.is(solo.take()[0].ip!.source, STACK_IP);
  // Still deaf to a broadcast, as a socket bound to 192.0.2.1 is.
  solo.send(
    udpFrame(pattern(2), {
      port: local.port,
      destination: SUBNET_BROADCAST,
      dstMac: BROADCAST_MAC,
    }),
  );
  assert.is(recv(u), -EAGAIN);
});

// ---------------------------------------------------------------- connect

test("a connected socket receives only from its peer", () => {
  const solo = ready();
  const u = solo.stack.openUdp() as UdpEndpoint;
  assert.is(u.bind(null, 7), 0);
  assert.is(u.connect(to(PEER_IP, 4000)), 0);
  solo.send(udpFrame(pattern(3, 1)));
  solo.send(udpFrame(pattern(3, 2), { sourcePort: 4001 }));
  solo.send(udpFrame(pattern(3, 3), { source: OTHER_IP }));
  assert.equal(recv(u), pattern(3, 1));
  assert.is(recv(u), -EAGAIN, "the others were not for it");
  assert.is(solo.stack.udp.stats.noPort, 2);
  // Linux answers those with port unreachable, as for a closed port (the one to the other host
  // waits for its address to resolve).
  const sent = solo.take();
  const errors = sent.filter((s) => s.ip && s.ip.protocol === 1);
  assert.is(errors.length, 1);
  assert.is(errors[0].ip!.payload[1], 3);
  assert.is(sent.filter((s) => s.arp && s.arp.targetIp === OTHER_IP).length, 1);
});

test("connect fixes the source address; disconnect undoes what connect chose (Linux)", () => {
  const solo = ready();
  const s = solo.stack;
  const u = s.openUdp() as UdpEndpoint;
  assert.is(u.bind(null, 5000), 0);
  assert.is(u.connect(to(PEER_IP, 4000)), 0);
  const local = new FullAddress();
  u.getLocal(local);
  assert.is(local.address.v4, STACK_IP, "connect picks the source address");
  assert.is(u.disconnect(), 0);
  u.getLocal(local);
  assert.is(local.address.v4, 0, "back to the wildcard the socket was bound to");
  assert.is(local.port, 5000, "an explicitly bound port stays");
  // As a wildcard socket again, it hears broadcasts and anyone.
  solo.send(
    udpFrame(pattern(2, 1), { port: 5000, destination: SUBNET_BROADCAST, dstMac: BROADCAST_MAC }),
  );
  solo.send(udpFrame(pattern(2, 2), { port: 5000, source: OTHER_IP }));
  assert.equal(recv(u), pattern(2, 1));
  assert.equal(recv(u), pattern(2, 2));
  // A port that only connect (or a send) chose is given back by disconnect, as __udp_disconnect
  // does when SOCK_BINDPORT_LOCK is not set.
  const v = s.openUdp() as UdpEndpoint;
  assert.is(v.connect(to(PEER_IP, 4000)), 0);
  assert.ok(v.localPort !== 0);
  v.disconnect();
  v.getLocal(local);
  assert.is(local.port, 0);
  assert.is(local.address.v4, 0);
  assert.is(v.bind(null, 6000), 0, "and it can be bound again");
  // An explicitly bound address stays.
  const w = s.openUdp() as UdpEndpoint;
  assert.is(w.bind(address("192.0.2.1"), 0), 0);
  w.connect(to(PEER_IP, 4000));
  w.disconnect();
  w.getLocal(local);
  assert.is(local.address.v4, STACK_IP);
  // bind() with port 0 does not lock the port (inet_bind sets SOCK_BINDPORT_LOCK only for a
  // nonzero one), so Linux gives it back too.
  assert.is(local.port, 0);
});

test("ECONNREFUSED reaches a connected socket once, and never an unconnected one", () => {
  const { net, a, b } = duo();
  const unconnected = a.openUdp() as UdpEndpoint;
  assert.is(unconnected.sendTo(pattern(3), 0, 3, endpoint("192.0.2.2", 4242)), 3);
  net.runUntilIdle();
  assert.is(b.iface!.icmpStats.destUnreachableOut, 1);
  assert.is(unconnected.recvFrom(buffer, 0, 10, null, 0), -EAGAIN);
  assert.is(unconnected.sendTo(pattern(3), 0, 3, endpoint("192.0.2.2", 4242)), 3);

  const connected = a.openUdp() as UdpEndpoint;
  assert.is(connected.connect(endpoint("192.0.2.2", 4243)), 0);
  assert.is(connected.sendTo(pattern(3), 0, 3, null), 3);
  net.runUntilIdle();
  // The pending error comes out of the next call, send or receive, once (sock_error).
  assert.is(connected.sendTo(pattern(3), 0, 3, null), -ECONNREFUSED);
  assert.is(connected.sendTo(pattern(3), 0, 3, null), 3);
  net.runUntilIdle();
  assert.is(connected.recvFrom(buffer, 0, 10, null, 0), -ECONNREFUSED);
  assert.is(connected.recvFrom(buffer, 0, 10, null, 0), -EAGAIN);
  // An error about another connection of the same local port is not this socket's.
  assert.ok(poolFull(a) && poolFull(b));
});

test("an ICMP error is matched on the whole quoted 4-tuple", () => {
  const solo = ready();
  const u = solo.stack.openUdp() as UdpEndpoint;
  assert.is(u.bind(null, 5000), 0);
  assert.is(u.connect(to(PEER_IP, 4000)), 0);
  const quote = (sourcePort: number, destinationPort: number, destination = PEER_IP) =>
    ipv4({
      source: STACK_IP,
      destination,
      protocol: 17,
      payload: udp({
        source: STACK_IP,
        destination,
        sourcePort,
        destinationPort,
        payload: pattern(4),
      }),
    });
  for (const q of [quote(5000, 4001), quote(5001, 4000), quote(5000, 4000, OTHER_IP)])
    solo.send(ipFrame({ protocol: 1, payload: icmp({ type: 3, code: 3, payload: q }) }));
  assert.is(recv(u), -EAGAIN, "none of those were about this socket");
  solo.send(
    ipFrame({ protocol: 1, payload: icmp({ type: 3, code: 3, payload: quote(5000, 4000) }) }),
  );
  assert.is(recv(u), -ECONNREFUSED);
});

test("only hard ICMP errors reach a connected socket, with Linux's errno", () => {
  const solo = ready();
  const u = solo.stack.openUdp() as UdpEndpoint;
  assert.is(u.bind(null, 5000), 0);
  assert.is(u.connect(to(PEER_IP, 4000)), 0);
  const quoted = ipv4({
    source: STACK_IP,
    destination: PEER_IP,
    protocol: 17,
    payload: udp({
      source: STACK_IP,
      destination: PEER_IP,
      sourcePort: 5000,
      destinationPort: 4000,
      payload: pattern(4),
    }),
  });
  const expected: [number, number][] = [
    [0, -EAGAIN], // net unreachable: soft
    [1, -EAGAIN], // host unreachable: soft
    [2, -ENOPROTOOPT],
    [3, -ECONNREFUSED],
    [4, -EMSGSIZE],
    [5, -EAGAIN],
    [6, -ENETUNREACH],
    [7, -EHOSTDOWN],
    [9, -ENETUNREACH],
    [10, -EHOSTUNREACH],
    [11, -EAGAIN],
    [12, -EAGAIN],
    [13, -EHOSTUNREACH],
    [16, -EAGAIN], // past the table: soft
  ];
  for (const [code, result] of expected) {
    solo.send(ipFrame({ protocol: 1, payload: icmp({ type: 3, code, payload: quoted }) }));
    assert.is(u.recvFrom(buffer, 0, 10, null, 0), result, `code ${code}`);
  }
  // Time exceeded is soft too.
  solo.send(ipFrame({ protocol: 1, payload: icmp({ type: 11, payload: quoted }) }));
  assert.is(u.recvFrom(buffer, 0, 10, null, 0), -EAGAIN);
});

// ---------------------------------------------------------------- receive

test("MSG_PEEK leaves the datagram; MSG_TRUNC reports its real length", () => {
  const solo = ready();
  const u = solo.stack.openUdp() as UdpEndpoint;
  u.bind(null, 7);
  solo.send(udpFrame(pattern(100, 1)));
  solo.send(udpFrame(pattern(50, 2)));
  const from = new FullAddress();
  assert.equal(recv(u, MSG_PEEK, buffer.length, from), pattern(100, 1));
  assert.is(from.address.v4, PEER_IP);
  assert.is(from.port, 4000);
  assert.equal(recv(u, MSG_PEEK), pattern(100, 1), "still there");
  assert.is(u.recvFrom(buffer, 0, 10, null, MSG_PEEK | MSG_TRUNC), 100);
  assert.is(u.recvFrom(buffer, 0, 10, null, MSG_TRUNC), 100, "full length, 10 bytes copied");
  assert.equal(buffer.slice(0, 10), pattern(100, 1).slice(0, 10));
  assert.equal(recv(u), pattern(50, 2), "the truncated rest is gone with its datagram");
  assert.is(recv(u), -EAGAIN);
});

test("a long datagram read into a short buffer is truncated and the rest discarded", () => {
  const solo = ready();
  const u = solo.stack.openUdp() as UdpEndpoint;
  u.bind(null, 7);
  solo.send(udpFrame(pattern(1000, 1)));
  solo.send(udpFrame(pattern(10, 2)));
  buffer.fill(0xee);
  assert.is(u.recvFrom(buffer, 5, 20, null, 0), 20);
  assert.equal(buffer.slice(5, 25), pattern(1000, 1).slice(0, 20));
  assert.is(buffer[4], 0xee, "nothing before the offset");
  assert.is(buffer[25], 0xee, "nothing past the capacity");
  assert.equal(recv(u), pattern(10, 2));
  // A zero-length datagram is a datagram.
  solo.send(udpFrame(new Uint8Array(0)));
  assert.is(u.recvFrom(buffer, 0, 100, null, 0), 0);
  assert.is(u.recvFrom(buffer, 0, 100, null, 0), -EAGAIN);
});

test("a full receive queue drops whole datagrams and counts receiveBufferErrors", () => {
  // 48 bytes of bookkeeping each: exactly three 1000-byte datagrams fit.
  const solo = ready({ stack: { udpReceiveBuffer: 3 * 1048 } });
  const u = solo.stack.openUdp() as UdpEndpoint;
  u.bind(null, 7);
  for (let i = 0; i < 5; i++) solo.send(udpFrame(pattern(1000, i)));
  assert.is(solo.stack.udp.stats.receiveBufferErrors, 2);
  for (let i = 0; i < 3; i++) assert.equal(recv(u), pattern(1000, i));
  assert.is(recv(u), -EAGAIN);
  // Room again once read.
  solo.send(udpFrame(pattern(1000, 9)));
  assert.equal(recv(u), pattern(1000, 9));
  // One byte over what is left is refused whole, never cut.
  solo.send(udpFrame(pattern(1000, 1)));
  solo.send(udpFrame(pattern(1000, 2)));
  solo.send(udpFrame(pattern(1001, 3)));
  assert.is(solo.stack.udp.stats.receiveBufferErrors, 3);
  solo.send(udpFrame(pattern(1000, 4)));
  assert.equal(recv(u), pattern(1000, 1));
  assert.equal(recv(u), pattern(1000, 2));
  assert.equal(recv(u), pattern(1000, 4));
  assert.ok(solo.poolFull());
});

test("demultiplexing picks the best match: connected, then bound address, then wildcard", () => {
  const solo = ready();
  const s = solo.stack;
  const wildcard = s.openUdp() as UdpEndpoint;
  const specific = s.openUdp() as UdpEndpoint;
  const connected = s.openUdp() as UdpEndpoint;
  for (const u of [wildcard, specific, connected]) u.reuseAddress = true;
  assert.is(wildcard.bind(null, 7), 0);
  assert.is(specific.bind(address("192.0.2.1"), 7), 0);
  assert.is(connected.bind(null, 7), 0);
  assert.is(connected.connect(to(PEER_IP, 4000)), 0);
  solo.send(udpFrame(pattern(2, 1))); // from the connected peer
  solo.send(udpFrame(pattern(2, 2), { source: OTHER_IP })); // unicast from someone else
  solo.send(udpFrame(pattern(2, 3), { destination: SUBNET_BROADCAST, dstMac: BROADCAST_MAC }));
  assert.equal(recv(connected), pattern(2, 1));
  assert.equal(recv(specific), pattern(2, 2));
  assert.is(recv(specific), -EAGAIN, "a broadcast does not match a socket bound to 192.0.2.1");
  assert.equal(recv(wildcard), pattern(2, 3));
  assert.is(recv(wildcard), -EAGAIN);
  assert.is(recv(connected), -EAGAIN);
});

test("a broadcast reaches every matching socket; a unicast only one", () => {
  const solo = ready();
  const s = solo.stack;
  const sockets = [
    s.openUdp() as UdpEndpoint,
    s.openUdp() as UdpEndpoint,
    s.openUdp() as UdpEndpoint,
  ];
  for (const u of sockets) {
    u.reuseAddress = true;
    assert.is(u.bind(null, 67), 0);
  }
  const onBroadcast = s.openUdp() as UdpEndpoint;
  onBroadcast.reuseAddress = true;
  assert.is(onBroadcast.bind(address("255.255.255.255"), 67), 0);
  solo.send(udpFrame(pattern(2, 1), { port: 67, destination: 0xffffffff, dstMac: BROADCAST_MAC }));
  for (const u of sockets) assert.equal(recv(u), pattern(2, 1));
  assert.equal(recv(onBroadcast), pattern(2, 1), "bound to the broadcast address");
  solo.send(udpFrame(pattern(2, 2), { port: 67 }));
  // A unicast goes to one of the equal matches: the one bound last, as on Linux.
  assert.equal(recv(sockets[2]), pattern(2, 2));
  assert.is(recv(sockets[0]), -EAGAIN);
  assert.is(recv(sockets[1]), -EAGAIN);
  assert.is(recv(onBroadcast), -EAGAIN);
  sockets[2].close();
  solo.send(udpFrame(pattern(2, 3), { port: 67 }));
  assert.equal(recv(sockets[1]), pattern(2, 3));
  // A received broadcast is marked as such in the queue record.
  assert.equal(solo.take(), []);
});

test("a datagram to a joined multicast group reaches every socket on the port", () => {
  const solo = ready();
  const s = solo.stack;
  const group = ip("239.1.2.3");
  assert.ok(solo.iface.joinGroup(group));
  const a = s.openUdp() as UdpEndpoint;
  const b = s.openUdp() as UdpEndpoint;
  a.reuseAddress = b.reuseAddress = true;
  a.bind(null, 5353);
  b.bind(address("239.1.2.3"), 5353);
  solo.send(
    udpFrame(pattern(3), {
      port: 5353,
      destination: group,
      dstMac: Uint8Array.of(1, 0, 0x5e, 1, 2, 3),
    }),
  );
  assert.equal(recv(a), pattern(3));
  assert.equal(recv(b), pattern(3));
});

// ---------------------------------------------------------------- sizes

test("EMSGSIZE past 65507 bytes; 65507 goes out in fragments when the pool allows", () => {
  const { net, a, b } = duo({ buffers: 64, udpReceiveBuffer: 66000, reassemblySize: 65535 }, 128);
  const server = b.openUdp() as UdpEndpoint;
  server.bind(null, 9);
  const client = a.openUdp() as UdpEndpoint;
  const big = pattern(65508);
  // Resolve the peer first: 45 fragments would not all fit the ARP queue (8 by default).
  client.sendTo(big, 0, 1, endpoint("192.0.2.2", 9));
  net.runUntilIdle();
  assert.is(server.recvFrom(buffer, 0, buffer.length, null, 0), 1);
  assert.is(client.sendTo(big, 0, 65508, endpoint("192.0.2.2", 9)), -EMSGSIZE);
  assert.is(client.sendTo(big, 0, 65507, endpoint("192.0.2.2", 9)), 65507);
  net.runUntilIdle();
  assert.is(server.recvFrom(buffer, 0, buffer.length, null, 0), 65507);
  assert.equal(buffer.slice(0, 65507), big.slice(0, 65507));
  assert.ok(poolFull(a) && poolFull(b));
});

// ---------------------------------------------------------------- ping endpoints

test("ping endpoints: identifiers, replies routed by identifier, connect filtering", () => {
  const { net, a, b } = duo({ pingSockets: 2 });
  const p1 = a.openPing() as PingEndpoint;
  const p2 = a.openPing() as PingEndpoint;
  assert.is(p1.bind(null, 0x1111), 0);
  assert.is(p2.bind(null, 0x1111), -EADDRINUSE);
  assert.is(p2.bind(null, 0x2222), 0);
  assert.is(p2.bind(null, 0x3333), -EINVAL, "bound twice");
  const request = (seq: number) => Uint8Array.of(8, 0, 0, 0, 0, 0, 0, seq, 0xaa, 0xbb, seq);
  assert.is(p1.sendTo(request(1), 0, 11, endpoint("192.0.2.2", 0)), 11);
  assert.is(p2.sendTo(request(2), 0, 11, endpoint("192.0.2.2", 0)), 11);
  net.runUntilIdle();
  const from = new FullAddress();
  assert.is(p1.recvFrom(buffer, 0, 100, from, 0), 11);
  assert.is(buffer[0], 0, "echo reply, header included");
  assert.is((buffer[4] << 8) | buffer[5], 0x1111, "the stack put the identifier in");
  assert.is(buffer[7], 1);
  assert.is(from.address.v4, PEER_IP);
  assert.is(from.port, 0);
  assert.is(p1.recvFrom(buffer, 0, 100, null, 0), -EAGAIN);
  assert.is(p2.recvFrom(buffer, 0, 100, null, 0), 11);
  assert.is(buffer[7], 2);
  // Only echo requests, code 0, are accepted (Linux: EINVAL).
  assert.is(
    p1.sendTo(Uint8Array.of(13, 0, 0, 0, 0, 0, 0, 0), 0, 8, endpoint("192.0.2.2", 0)),
    -EINVAL,
  );
  assert.is(
    p1.sendTo(Uint8Array.of(8, 1, 0, 0, 0, 0, 0, 0), 0, 8, endpoint("192.0.2.2", 0)),
    -EINVAL,
  );
  assert.is(p1.sendTo(Uint8Array.of(8, 0, 0), 0, 3, endpoint("192.0.2.2", 0)), -EINVAL);
  assert.is(p1.sendTo(request(3), 0, 11, null), -EDESTADDRREQ);
  assert.is(
    p1.sendTo(new Uint8Array(65508).fill(8, 0, 1), 0, 65508, endpoint("192.0.2.2", 0)),
    -EMSGSIZE,
  );
  assert.ok(poolFull(a) && poolFull(b));
});

test("ping endpoints: bind only to our addresses; broadcast pings need SO_BROADCAST", () => {
  const solo = ready();
  const ping = solo.stack.openPing() as PingEndpoint;
  assert.is(ping.bind(address("192.0.2.77"), 5), -EADDRNOTAVAIL);
  assert.is(ping.bind(address("192.0.2.1"), 5), 0);
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1);
  assert.is(ping.sendTo(request, 0, 8, to(0xffffffff, 0)), -EACCES);
  assert.is(ping.sendTo(request, 0, 8, to(SUBNET_BROADCAST, 0)), -EACCES);
  assert.equal(solo.take(), []);
  ping.broadcast = true;
  assert.is(ping.sendTo(request, 0, 8, to(SUBNET_BROADCAST, 0)), 8);
  const sent = solo.take();
  assert.is(sent.length, 1);
  assert.equal([...sent[0].dst], [...BROADCAST_MAC]);
});

test("a connected ping endpoint ignores replies from other hosts", () => {
  const solo = ready();
  const ping = solo.stack.openPing() as PingEndpoint;
  assert.is(ping.connect(to(PEER_IP, 0)), 0);
  const id = ping.identifier;
  assert.ok(id !== 0, "connect binds an identifier");
  const reply = (source: number, seq: number) =>
    ipFrame({
      source,
      protocol: 1,
      payload: icmp({ type: 0, rest: (id << 16) | seq, payload: pattern(4) }),
    });
  solo.send(reply(OTHER_IP, 1));
  solo.send(reply(PEER_IP, 2));
  assert.is(ping.recvFrom(buffer, 0, 100, null, 0), 12);
  assert.is(buffer[7], 2);
  assert.is(ping.recvFrom(buffer, 0, 100, null, 0), -EAGAIN);
});

test.run();
