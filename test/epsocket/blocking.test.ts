// Callback-driven blocking in the socket layer, on two stacks over an in-memory cable and a
// virtual clock: a blocking call completes exactly once, never from inside the call, with the
// data, the timeout's errno (EAGAIN for SO_RCVTIMEO, ETIMEDOUT for a deadline) or EBADF when the
// socket is closed under it; the waiter queue hears readiness.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { EAGAIN, EALREADY, EBADF, ECONNREFUSED, EINPROGRESS, ETIMEDOUT } from "../../src/errno.js";
import { SocketLayer } from "../../src/epsocket/layer.js";
import {
  AF_INET,
  SHUT_RD,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_KEEPALIVE,
  SO_RCVTIMEO,
  SO_SNDTIMEO,
  SOL_TCP,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
} from "../../src/epsocket/linux.js";
import { type Completion, SocketOperations } from "../../src/epsocket/socket.js";
import { EVENT_IN, WaiterEntry } from "../../src/transport/waiter.js";
import { duo, poolFull } from "../support/stacks.js";

function sockaddr(a: number, b: number, c: number, d: number, port: number): Uint8Array {
  return Uint8Array.from([AF_INET, 0, port >> 8, port & 255, a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0]);
}

const PEER = sockaddr(192, 0, 2, 1, 7000);
const SELF = sockaddr(192, 0, 2, 2, 7000);

class Done implements Completion {
  results: number[] = [];
  at: number[] = [];
  sockets: SocketOperations[] = [];
  constructor(private readonly clock: { now: number }) {}
  complete(socket: SocketOperations, result: number): void {
    this.results.push(result);
    this.at.push(this.clock.now);
    this.sockets.push(socket);
  }
}

function setup() {
  const d = duo({ tcpSockets: 4, udpSockets: 4 });
  const peer = new SocketLayer(d.a);
  const subject = new SocketLayer(d.b);
  d.net.add(peer).add(subject);
  return { ...d, peer, subject };
}

function open(layer: SocketLayer, type: number): SocketOperations {
  const s = layer.socket(AF_INET, type, 0);
  if (typeof s === "number") throw new Error(`socket: ${s}`);
  return s;
}

function timeval(ms: number): Uint8Array {
  const b = new Uint8Array(16);
  const us = (ms % 1000) * 1000;
  b[0] = Math.floor(ms / 1000);
  b[8] = us & 255;
  b[9] = (us >> 8) & 255;
  b[10] = (us >> 16) & 255;
  return b;
}

test("blocking recv waits for a datagram and completes once, later", () => {
  const { net, peer, subject, a, b } = setup();
  const u = open(subject, SOCK_DGRAM);
  assert.is(u.bind(SELF, 0, 16), 0);
  const done = new Done(net);
  const buffer = new Uint8Array(32);
  assert.is(u.recvMsgBlocking(buffer, 0, 32, 0, null, 0, 0, done, 0), 0);
  net.runUntilIdle();
  assert.equal(done.results, [], "nothing yet");
  const p = open(peer, SOCK_DGRAM | SOCK_NONBLOCK);
  assert.is(p.sendMsg(Uint8Array.from([1, 2, 3]), 0, 3, 0, SELF, 0, 16), 3);
  assert.equal(done.results, [], "not from inside the peer's send");
  net.runUntilIdle();
  assert.equal(done.results, [3]);
  assert.equal(Array.from(buffer.subarray(0, 3)), [1, 2, 3]);
  net.runUntilIdle();
  assert.equal(done.results, [3], "exactly once");
  u.close();
  p.close();
  net.runUntilIdle();
  assert.ok(poolFull(a) && poolFull(b));
});

test("a result known at call time is delivered by the next poll, not inside the call", () => {
  const { net, peer, subject } = setup();
  const u = open(subject, SOCK_DGRAM);
  assert.is(u.bind(SELF, 0, 16), 0);
  const p = open(peer, SOCK_DGRAM | SOCK_NONBLOCK);
  p.sendMsg(Uint8Array.from([9]), 0, 1, 0, SELF, 0, 16);
  net.runUntilIdle();
  const done = new Done(net);
  assert.is(u.recvMsgBlocking(new Uint8Array(8), 0, 8, 0, null, 0, 0, done, 0), 0);
  assert.equal(done.results, []);
  net.runUntilIdle();
  assert.equal(done.results, [1]);
});

test("SO_RCVTIMEO ends a blocking recv with EAGAIN at its time; a deadline with ETIMEDOUT", () => {
  const { net, subject } = setup();
  const u = open(subject, SOCK_DGRAM);
  assert.is(u.bind(SELF, 0, 16), 0);
  assert.is(u.setSockOpt(SOL_SOCKET, SO_RCVTIMEO, timeval(250), 0, 16), 0);
  const done = new Done(net);
  const start = net.now;
  u.recvMsgBlocking(new Uint8Array(8), 0, 8, 0, null, 0, 0, done, 0);
  net.advance(249);
  assert.equal(done.results, [], "not before its time");
  net.advance(2);
  assert.equal(done.results, [-EAGAIN]);
  assert.ok(done.at[0] - start >= 250);
  // An explicit deadline earlier than SO_RCVTIMEO wins, with ETIMEDOUT.
  const second = new Done(net);
  u.recvMsgBlocking(new Uint8Array(8), 0, 8, 0, null, 0, 0, second, net.now + 100);
  net.advance(150);
  assert.equal(second.results, [-ETIMEDOUT]);
});

test("closing a socket under a blocked call completes it with EBADF, later, once", () => {
  const { net, subject } = setup();
  const u = open(subject, SOCK_DGRAM);
  assert.is(u.bind(SELF, 0, 16), 0);
  const done = new Done(net);
  u.recvMsgBlocking(new Uint8Array(8), 0, 8, 0, null, 0, 0, done, 0);
  assert.is(u.close(), 0);
  assert.equal(done.results, [], "not from inside close()");
  // The slot is not handed out while its completion is owed.
  const other = open(subject, SOCK_DGRAM);
  assert.is.not(other, u);
  net.runUntilIdle();
  assert.equal(done.results, [-EBADF]);
  net.runUntilIdle();
  assert.equal(done.results, [-EBADF]);
  assert.is(u.close(), -EBADF);
});

test("a second blocking call while one waits is refused", () => {
  const { net, subject } = setup();
  const u = open(subject, SOCK_DGRAM);
  u.bind(SELF, 0, 16);
  const done = new Done(net);
  u.recvMsgBlocking(new Uint8Array(8), 0, 8, 0, null, 0, 0, done, 0);
  assert.is(u.recvMsgBlocking(new Uint8Array(8), 0, 8, 0, null, 0, 0, done, 0), -EALREADY);
});

test("shutdown(SHUT_RD) ends a blocked datagram recv with 0", () => {
  const { net, subject } = setup();
  const u = open(subject, SOCK_DGRAM);
  u.bind(SELF, 0, 16);
  const done = new Done(net);
  u.recvMsgBlocking(new Uint8Array(8), 0, 8, 0, null, 0, 0, done, 0);
  u.shutdown(SHUT_RD);
  assert.equal(done.results, []);
  net.runUntilIdle();
  assert.equal(done.results, [0]);
});

test("blocking connect, accept, send and recv over TCP", () => {
  const { net, peer, subject, a, b } = setup();
  const l = open(peer, SOCK_STREAM);
  assert.is(l.bind(PEER, 0, 16), 0);
  assert.is(l.listen(4), 0);
  const accepted = new Done(net);
  const from = new Uint8Array(16);
  assert.is(l.acceptBlocking(0, from, 0, 16, accepted, 0), 0);
  const c = open(subject, SOCK_STREAM);
  const connected = new Done(net);
  assert.is(c.connectBlocking(PEER, 0, 16, connected, 0), 0);
  assert.equal(connected.results, []);
  net.runUntilIdle();
  assert.equal(connected.results, [0]);
  assert.is(accepted.results.length, 1);
  const server = peer.get(accepted.results[0]) as SocketOperations;
  assert.ok(server !== null && server === l.accepted);
  assert.equal(Array.from(from.subarray(0, 8)), [AF_INET, 0, ...from.subarray(2, 4), 192, 0, 2, 2]);
  // More than the subject's send ring: the send completes once every byte is queued.
  const data = new Uint8Array(20000);
  for (let i = 0; i < data.length; i++) data[i] = i * 7;
  const sent = new Done(net);
  assert.is(c.sendMsgBlocking(data, 0, data.length, 0, null, 0, 0, sent, 0), 0);
  const got = new Uint8Array(data.length);
  let have = 0;
  const reads = new Done(net);
  for (let round = 0; round < 200 && have < data.length; round++) {
    reads.results.length = 0;
    server.recvMsgBlocking(got, have, got.length - have, 0, null, 0, 0, reads, 0);
    net.runUntilIdle();
    assert.is(reads.results.length, 1);
    assert.ok(reads.results[0] > 0);
    have += reads.results[0];
  }
  assert.is(have, data.length);
  assert.equal(got, data);
  assert.equal(sent.results, [data.length]);
  c.close();
  server.close();
  l.close();
  net.advance(300_000);
  assert.ok(poolFull(a) && poolFull(b));
});

test("blocking connect refused; SO_SNDTIMEO ends a connect that hears nothing", () => {
  const { net, subject } = setup();
  const c = open(subject, SOCK_STREAM);
  const refused = new Done(net);
  c.connectBlocking(PEER, 0, 16, refused, 0);
  net.runUntilIdle();
  assert.equal(refused.results, [-ECONNREFUSED]);
  // A host that never answers ARP: Linux gives EINPROGRESS when SO_SNDTIMEO runs out first.
  const d = open(subject, SOCK_STREAM);
  d.setSockOpt(SOL_SOCKET, SO_SNDTIMEO, timeval(500), 0, 16);
  const waiting = new Done(net);
  d.connectBlocking(sockaddr(192, 0, 2, 9, 80), 0, 16, waiting, 0);
  net.advance(499);
  assert.equal(waiting.results, []);
  net.advance(2);
  assert.equal(waiting.results, [-EINPROGRESS]);
});

test("SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT ends a silent connection with ETIMEDOUT", () => {
  const { net, peer, subject, pair } = setup();
  const l = open(peer, SOCK_STREAM | SOCK_NONBLOCK);
  l.bind(PEER, 0, 16);
  l.listen(1);
  const c = open(subject, SOCK_STREAM | SOCK_NONBLOCK);
  assert.is(c.connect(PEER, 0, 16), -EINPROGRESS);
  net.runUntilIdle();
  const int = (v: number) => Uint8Array.from([v, 0, 0, 0]);
  assert.is(c.setSockOpt(SOL_TCP, TCP_KEEPIDLE, int(5), 0, 4), 0);
  assert.is(c.setSockOpt(SOL_TCP, TCP_KEEPINTVL, int(1), 0, 4), 0);
  assert.is(c.setSockOpt(SOL_TCP, TCP_KEEPCNT, int(2), 0, 4), 0);
  assert.is(c.setSockOpt(SOL_SOCKET, SO_KEEPALIVE, int(1), 0, 4), 0);
  // The peer answers probes: an idle minute leaves the connection up.
  net.advance(60_000);
  assert.is(c.recvMsg(new Uint8Array(4), 0, 4, 0, null, 0, 0), -EAGAIN);
  // The link goes silent: idle 5 s, then 2 probes 1 s apart, and the connection is over.
  pair.setLink(false);
  const start = net.now;
  const done = new Done(net);
  c.nonblocking = false;
  c.recvMsgBlocking(new Uint8Array(4), 0, 4, 0, null, 0, 0, done, 0);
  net.advance(20_000);
  assert.equal(done.results, [-ETIMEDOUT]);
  assert.ok(done.at[0] - start <= 8_000, `after ${done.at[0] - start} ms`);
});

test("the waiter queue hears EVENT_IN after the input pass", () => {
  const { net, peer, subject } = setup();
  const u = open(subject, SOCK_DGRAM | SOCK_NONBLOCK);
  u.bind(SELF, 0, 16);
  const heard: number[] = [];
  const entry = new WaiterEntry({ callback: (_e, events) => heard.push(events) });
  assert.is(u.eventRegister(entry, EVENT_IN), 0);
  const p = open(peer, SOCK_DGRAM | SOCK_NONBLOCK);
  p.sendMsg(Uint8Array.from([5]), 0, 1, 0, SELF, 0, 16);
  net.runUntilIdle();
  assert.equal(heard, [EVENT_IN]);
  assert.is(u.readiness(EVENT_IN), EVENT_IN);
  u.eventUnregister(entry);
  p.sendMsg(Uint8Array.from([6]), 0, 1, 0, SELF, 0, 16);
  net.runUntilIdle();
  assert.equal(heard, [EVENT_IN]);
});

test.run();
