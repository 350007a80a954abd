// The socket layer's finer Linux semantics, on two stacks over an in-memory cable and a virtual
// clock: SO_TIMESTAMP's arrival times, SO_RCVBUF / SO_SNDBUF sizing a stream socket's rings and
// window, IPV6_V6ONLY keeping IPv4 out, urgent data both ways, and TCP_INFO's figures.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { EADDRINUSE, EAGAIN, EINVAL } from "../../src/errno.js";
import { SocketLayer } from "../../src/epsocket/layer.js";
import {
  AF_INET,
  AF_INET6,
  IPV6_V6ONLY,
  MSG_OOB,
  MSG_PEEK,
  SIOCATMARK,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_IPV6,
  SOL_SOCKET,
  SOL_TCP,
  SO_OOBINLINE,
  SO_RCVBUF,
  SO_SNDBUF,
  SO_TIMESTAMP,
  TCP_INFO,
  TCP_INFO_SIZE,
  TIOCINQ,
} from "../../src/epsocket/linux.js";
import { SocketOperations } from "../../src/epsocket/socket.js";
import { EVENT_IN, EVENT_PRI } from "../../src/transport/waiter.js";
import { duo, poolFull } from "../support/stacks.js";

function sockaddr(a: number, b: number, c: number, d: number, port: number): Uint8Array {
  return Uint8Array.from([AF_INET, 0, port >> 8, port & 255, a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0]);
}

function sockaddr6Any(port: number): Uint8Array {
  const b = new Uint8Array(28);
  b[0] = AF_INET6;
  b[2] = port >> 8;
  b[3] = port & 255;
  return b;
}

const PEER = sockaddr(192, 0, 2, 1, 7000);
const SELF = sockaddr(192, 0, 2, 2, 7000);
const ANY = sockaddr(0, 0, 0, 0, 7000);

function int(v: number): Uint8Array {
  return Uint8Array.from([v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24]);
}

function readInt(b: Uint8Array, at = 0): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function setup(options = {}) {
  const d = duo({
    tcpSockets: 4,
    udpSockets: 4,
    tcpSendBuffer: 8192,
    tcpReceiveBuffer: 8192,
    socketBufferHeadroom: 65536,
    receiveBufferMax: 65536,
    sendBufferMax: 65536,
    ...options,
  });
  const peer = new SocketLayer(d.a);
  const subject = new SocketLayer(d.b);
  d.net.add(peer).add(subject);
  return { ...d, peer, subject };
}

function open(layer: SocketLayer, type: number, family = AF_INET): SocketOperations {
  const s = layer.socket(family, type | SOCK_NONBLOCK, 0);
  if (typeof s === "number") throw new Error(`socket: ${s}`);
  return s;
}

function getInt(s: SocketOperations, level: number, name: number): number {
  const out = new Uint8Array(4);
  assert.is(s.getSockOpt(level, name, out, 0, 4), 4);
  return readInt(out);
}

/** A subject connection "c" to a peer listener, accepted there as "a". */
function connection(t: ReturnType<typeof setup>, before?: (c: SocketOperations) => void) {
  const l = open(t.peer, SOCK_STREAM);
  assert.is(l.bind(PEER, 0, 16), 0);
  assert.is(l.listen(4), 0);
  const c = open(t.subject, SOCK_STREAM);
  if (before !== undefined) before(c);
  c.connect(PEER, 0, 16);
  t.net.runUntilIdle();
  const a = l.accept(SOCK_NONBLOCK, null, 0, 0);
  if (typeof a === "number") throw new Error(`accept: ${a}`);
  return { l, c, a };
}

// ---------------------------------------------------------------- SO_TIMESTAMP

test("SO_TIMESTAMP on a datagram: its arrival time, not the read's", () => {
  const t = setup();
  const u = open(t.subject, SOCK_DGRAM);
  assert.is(u.bind(SELF, 0, 16), 0);
  assert.is(u.setSockOpt(SOL_SOCKET, SO_TIMESTAMP, int(1), 0, 4), 0);
  const p = open(t.peer, SOCK_DGRAM);
  t.net.runUntilIdle(100_000, 10);
  const base = Math.ceil(t.net.now / 1000) * 1000;
  t.net.advance(base + 100 - t.net.now);
  assert.is(p.sendMsg(Uint8Array.from([1]), 0, 1, 0, SELF, 0, 16), 1);
  t.net.runUntilIdle(100_000, 10);
  t.net.advance(base + 300 - t.net.now);
  assert.is(p.sendMsg(Uint8Array.from([2]), 0, 1, 0, SELF, 0, 16), 1);
  t.net.runUntilIdle(100_000, 10);
  t.net.advance(base + 500 - t.net.now);
  const buffer = new Uint8Array(8);
  // MSG_PEEK tells the time of the datagram it looks at, too.
  assert.is(u.recvMsg(buffer, 0, 8, MSG_PEEK, null, 0, 0), 1);
  assert.is(u.receivedAt, base + 100);
  assert.is(u.recvMsg(buffer, 0, 8, 0, null, 0, 0), 1);
  assert.is(u.receivedAt, base + 100, "arrived at 100, read at 500");
  assert.is(u.recvMsg(buffer, 0, 8, 0, null, 0, 0), 1);
  assert.is(u.receivedAt, base + 300);
  assert.is(buffer[0], 2);
  // Without the option nothing is reported.
  assert.is(u.setSockOpt(SOL_SOCKET, SO_TIMESTAMP, int(0), 0, 4), 0);
  assert.is(p.sendMsg(Uint8Array.from([3]), 0, 1, 0, SELF, 0, 16), 1);
  t.net.runUntilIdle(100_000, 10);
  u.receivedAt = -1;
  assert.is(u.recvMsg(buffer, 0, 8, 0, null, 0, 0), 1);
  assert.is(u.receivedAt, -1);
});

test("SO_TIMESTAMP on a stream: the arrival of the last segment read", () => {
  const t = setup();
  const { c, a } = connection(t);
  assert.is(c.setSockOpt(SOL_SOCKET, SO_TIMESTAMP, int(1), 0, 4), 0);
  const base = Math.ceil(t.net.now / 1000) * 1000;
  t.net.advance(base + 100 - t.net.now);
  assert.is(a.sendMsg(Uint8Array.from([1, 2]), 0, 2, 0, null, 0, 0), 2);
  t.net.runUntilIdle(100_000, 10);
  t.net.advance(base + 500 - t.net.now);
  const buffer = new Uint8Array(8);
  assert.is(c.recvMsg(buffer, 0, 1, 0, null, 0, 0), 1);
  assert.is(c.receivedAt, base + 100);
  // A later segment: its time is the one the next read reports.
  assert.is(a.sendMsg(Uint8Array.from([3]), 0, 1, 0, null, 0, 0), 1);
  t.net.runUntilIdle(100_000, 10);
  t.net.advance(base + 900 - t.net.now);
  assert.is(c.recvMsg(buffer, 0, 8, 0, null, 0, 0), 2);
  assert.is(c.receivedAt, base + 500);
});

// ---------------------------------------------------------------- SO_RCVBUF / SO_SNDBUF

test("SO_RCVBUF before connect sizes the ring and the window the peer sees", () => {
  const t = setup();
  const { c, a } = connection(t, (c) => {
    assert.is(c.setSockOpt(SOL_SOCKET, SO_RCVBUF, int(3000), 0, 4), 0);
    assert.is(c.setSockOpt(SOL_SOCKET, SO_SNDBUF, int(2500), 0, 4), 0);
  });
  assert.is(getInt(c, SOL_SOCKET, SO_RCVBUF), 6000, "doubled, as Linux reports it");
  assert.is(getInt(c, SOL_SOCKET, SO_SNDBUF), 5000);
  const tcp = c.tcp;
  const peerTcp = a.tcp;
  if (tcp === null || peerTcp === null) throw new Error("no endpoints");
  assert.is(tcp.receiveCapacity, 3000);
  assert.is(tcp.sendCapacity, 2500);
  assert.is(peerTcp.peerWindow, 3000, "the window our SYN offered");
  // The peer fills the window and no more; the send ring takes 2500 bytes.
  const big = new Uint8Array(20000);
  assert.is(a.sendMsg(big, 0, big.length, 0, null, 0, 0) > 3000, true);
  t.net.runUntilIdle();
  const inq = new Uint8Array(4);
  assert.is(c.ioctl(TIOCINQ, inq, 0, 4, null), 0);
  assert.is(readInt(inq), 3000);
  assert.is(peerTcp.peerWindow, 0);
  assert.is(c.sendMsg(big, 0, big.length, 0, null, 0, 0), 2500);
  // Beyond receiveBufferMax the value is clamped before it is doubled, as rmem_max clamps it.
  const other = open(t.subject, SOCK_STREAM);
  assert.is(other.setSockOpt(SOL_SOCKET, SO_RCVBUF, int(1 << 20), 0, 4), 0);
  assert.is(getInt(other, SOL_SOCKET, SO_RCVBUF), 2 * 65536);
  assert.is(other.tcp?.receiveCapacity, 65536);
  assert.is(other.setSockOpt(SOL_SOCKET, SO_SNDBUF, int(1), 0, 4), 0);
  assert.is(
    getInt(other, SOL_SOCKET, SO_SNDBUF),
    2 * t.b.config.socketBufferMin,
    "at least SO_SNDBUF's minimum, twice SO_RCVBUF's as on Linux",
  );
  other.close();
  // After connect the ring keeps its size; the value is recorded as Linux reports it.
  assert.is(c.setSockOpt(SOL_SOCKET, SO_RCVBUF, int(8000), 0, 4), 0);
  assert.is(getInt(c, SOL_SOCKET, SO_RCVBUF), 16000);
  assert.is(tcp.receiveCapacity, 3000);
});

test("an accepted socket takes the listener's buffer sizes, and its SYN-ACK offers them", () => {
  const t = setup();
  const l = open(t.subject, SOCK_STREAM);
  assert.is(l.setSockOpt(SOL_SOCKET, SO_RCVBUF, int(2000), 0, 4), 0);
  assert.is(l.setSockOpt(SOL_SOCKET, SO_SNDBUF, int(7000), 0, 4), 0);
  assert.is(l.bind(SELF, 0, 16), 0);
  assert.is(l.listen(4), 0);
  const p = open(t.peer, SOCK_STREAM);
  p.connect(SELF, 0, 16);
  t.net.runUntilIdle();
  const a = l.accept(SOCK_NONBLOCK, null, 0, 0);
  if (typeof a === "number") throw new Error(`accept: ${a}`);
  assert.is(getInt(a, SOL_SOCKET, SO_RCVBUF), 4000);
  assert.is(getInt(a, SOL_SOCKET, SO_SNDBUF), 14000);
  assert.is(a.tcp?.receiveCapacity, 2000);
  assert.is(a.tcp?.sendCapacity, 7000);
  assert.is(p.tcp?.peerWindow, 2000);
});

test("SO_RCVBUF grows a ring only into the region's headroom, and every span comes back", () => {
  const t = setup({ socketBufferHeadroom: 4096, receiveBufferMax: 1 << 20 });
  const spans = t.b.socketBuffers;
  const free = spans.available;
  const c = open(t.subject, SOCK_STREAM);
  const defaultRing = c.tcp?.receiveCapacity ?? 0;
  // Far more than the headroom: the ring gets what is there, the value reads back as set.
  assert.is(c.setSockOpt(SOL_SOCKET, SO_RCVBUF, int(1 << 20), 0, 4), 0);
  const got = c.tcp?.receiveCapacity ?? 0;
  assert.ok(got > defaultRing && got <= defaultRing + 4096, `ring of ${got}`);
  // Every other socket still opens with its default.
  const others: SocketOperations[] = [];
  for (let i = 0; i < 3; i++) others.push(open(t.subject, SOCK_STREAM));
  for (const o of others) assert.is(o.tcp?.receiveCapacity, defaultRing);
  for (const o of others) o.close();
  // Shrinking always works.
  assert.is(c.setSockOpt(SOL_SOCKET, SO_RCVBUF, int(1000), 0, 4), 0);
  assert.is(c.tcp?.receiveCapacity, 1000);
  c.close();
  t.net.runUntilIdle();
  assert.is(spans.available, free);
  assert.ok(poolFull(t.a) && poolFull(t.b));
});

// ---------------------------------------------------------------- IPV6_V6ONLY

test("IPV6_V6ONLY on [::]: no IPv4 datagram reaches it, and 0.0.0.0 of the port is free", () => {
  const t = setup();
  const u6 = open(t.subject, SOCK_DGRAM, AF_INET6);
  assert.is(u6.setSockOpt(SOL_IPV6, IPV6_V6ONLY, int(1), 0, 4), 0);
  assert.is(u6.bind(sockaddr6Any(7000), 0, 28), 0);
  const p = open(t.peer, SOCK_DGRAM);
  assert.is(p.sendMsg(Uint8Array.from([1]), 0, 1, 0, SELF, 0, 16), 1);
  t.net.runUntilIdle();
  const buffer = new Uint8Array(8);
  assert.is(u6.recvMsg(buffer, 0, 8, 0, null, 0, 0), -EAGAIN);
  assert.is(t.b.udp.stats.noPort, 1, "answered port unreachable");
  const u4 = open(t.subject, SOCK_DGRAM);
  assert.is(u4.bind(ANY, 0, 16), 0);
  assert.is(p.sendMsg(Uint8Array.from([2]), 0, 1, 0, SELF, 0, 16), 1);
  t.net.runUntilIdle();
  assert.is(u4.recvMsg(buffer, 0, 8, 0, null, 0, 0), 1);
  assert.is(u6.recvMsg(buffer, 0, 8, 0, null, 0, 0), -EAGAIN);
  // A dual-stack [::] clashes with both.
  const dual = open(t.subject, SOCK_DGRAM, AF_INET6);
  assert.is(dual.bind(sockaddr6Any(7000), 0, 28), -EADDRINUSE);
  // A V6ONLY stream listener refuses an IPv4 connection with a reset.
  const l = open(t.subject, SOCK_STREAM, AF_INET6);
  assert.is(l.setSockOpt(SOL_IPV6, IPV6_V6ONLY, int(1), 0, 4), 0);
  assert.is(l.bind(sockaddr6Any(7001), 0, 28), 0);
  assert.is(l.listen(4), 0);
  const pc = open(t.peer, SOCK_STREAM);
  pc.connect(sockaddr(192, 0, 2, 2, 7001), 0, 16);
  t.net.runUntilIdle();
  assert.is(l.readiness(EVENT_IN), 0);
  assert.is(pc.takeError(), 111, "ECONNREFUSED");
});

// ---------------------------------------------------------------- urgent data

test("MSG_OOB between two stacks: the URG segment, the mark, the byte out of line", () => {
  const t = setup();
  const { c, a } = connection(t);
  assert.is(c.sendMsg(Uint8Array.from([97, 98, 99]), 0, 3, MSG_OOB, null, 0, 0), 3);
  t.net.runUntilIdle();
  // The kernel reading what the stack sends is the differential suite's; here both ends agree
  // that the last byte sent is the urgent one.
  const buffer = new Uint8Array(8);
  assert.is(a.readiness(EVENT_IN | EVENT_PRI), EVENT_IN | EVENT_PRI);
  const mark = new Uint8Array(4);
  assert.is(a.ioctl(SIOCATMARK, mark, 0, 4, null), 0);
  assert.is(readInt(mark), 0);
  assert.is(a.recvMsg(buffer, 0, 8, 0, null, 0, 0), 2, "stops at the mark");
  assert.is(a.ioctl(SIOCATMARK, mark, 0, 4, null), 0);
  assert.is(readInt(mark), 1);
  assert.is(a.readiness(EVENT_IN | EVENT_PRI), EVENT_PRI, "the urgent byte is not in line");
  assert.is(a.recvMsg(buffer, 0, 8, MSG_OOB, null, 0, 0), 1);
  assert.is(buffer[0], 99);
  assert.is(a.messageFlags, MSG_OOB);
  assert.is(a.recvMsg(buffer, 0, 8, MSG_OOB, null, 0, 0), -EINVAL);
  assert.is(a.recvMsg(buffer, 0, 8, 0, null, 0, 0), -EAGAIN, "the byte is stepped over");
  // In line: the byte stays in the stream.
  assert.is(a.setSockOpt(SOL_SOCKET, SO_OOBINLINE, int(1), 0, 4), 0);
  assert.is(c.sendMsg(Uint8Array.from([1, 2]), 0, 2, MSG_OOB, null, 0, 0), 2);
  t.net.runUntilIdle();
  assert.is(a.recvMsg(buffer, 0, 8, 0, null, 0, 0), 1);
  assert.is(a.recvMsg(buffer, 0, 8, MSG_OOB, null, 0, 0), -EINVAL);
  assert.is(a.recvMsg(buffer, 0, 8, 0, null, 0, 0), 1);
  assert.is(buffer[0], 2);
});

// ---------------------------------------------------------------- TCP_INFO

test("TCP_INFO: the whole struct, filled from the connection's figures", () => {
  const t = setup();
  const { c, a } = connection(t);
  const data = new Uint8Array(5000);
  assert.is(c.sendMsg(data, 0, data.length, 0, null, 0, 0), 5000);
  t.net.runUntilIdle();
  const buffer = new Uint8Array(8192);
  assert.is(a.recvMsg(buffer, 0, buffer.length, 0, null, 0, 0), 5000);
  t.net.advance(300);
  // A poll at the end of the span, so the stack's clock is read's time.
  t.net.poll();
  const info = new Uint8Array(512);
  assert.is(c.getSockOpt(SOL_TCP, TCP_INFO, info, 0, 512), TCP_INFO_SIZE);
  assert.is(c.getSockOpt(SOL_TCP, TCP_INFO, info, 0, 60), 60);
  assert.is(c.getSockOpt(SOL_TCP, TCP_INFO, info, 0, 512), TCP_INFO_SIZE);
  assert.is(info[0], 1, "ESTABLISHED");
  const long = (at: number) => readInt(info, at) + readInt(info, at + 4) * 2 ** 32;
  assert.is(long(120), 5001, "tcpi_bytes_acked: the SYN and the data");
  assert.is(readInt(info, 156), 4, "tcpi_data_segs_out: 5000 bytes in MSS-sized segments");
  assert.is(long(200), 5000, "tcpi_bytes_sent");
  assert.is(readInt(info, 144), 0, "tcpi_notsent_bytes");
  assert.is(readInt(info, 24), 0, "tcpi_unacked");
  assert.ok(readInt(info, 136) >= 5, "tcpi_segs_out");
  assert.ok(readInt(info, 140) >= 3, "tcpi_segs_in");
  assert.is(readInt(info, 16), 1460 - 12, "tcpi_snd_mss");
  assert.ok(readInt(info, 44) >= 300, "tcpi_last_data_sent, ms ago");
  assert.ok(readInt(info, 148) !== 0xffffffff, "tcpi_min_rtt sampled");
  assert.ok(readInt(info, 228) > 0, "tcpi_snd_wnd");
  const peerInfo = new Uint8Array(512);
  assert.is(a.getSockOpt(SOL_TCP, TCP_INFO, peerInfo, 0, 512), TCP_INFO_SIZE);
  const peerLong = (at: number) => readInt(peerInfo, at) + readInt(peerInfo, at + 4) * 2 ** 32;
  assert.is(peerLong(128), 5000, "tcpi_bytes_received");
  assert.is(readInt(peerInfo, 152), 4, "tcpi_data_segs_in");
  assert.is(readInt(peerInfo, 20), 1448, "tcpi_rcv_mss");
});

test.run();
