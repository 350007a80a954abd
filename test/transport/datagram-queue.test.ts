// Socket buffers on the region reserved at start-up: SO_RCVBUF / SO_SNDBUF as Linux sets them
// (doubled, clamped), queues resized at run time with their datagrams kept, spans given back on
// close, and the defaults of closed sockets never eaten by sockets that grew.

import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EBADF } from "../../src/errno.js";
import { socketBufferSize } from "../../src/transport/datagram-queue.js";
import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { StackOptions } from "../../src/config.js";
import { icmp } from "../support/frames.js";
import { PORT, Solo, ipFrame, udpFrame } from "../support/harness.js";

function pattern(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 13 + seed) & 255);
}

/** A stack with one UDP socket bound to PORT. */
function bound(stack: StackOptions = {}) {
  const solo = new Solo({ stack }).warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.bind(null, PORT), 0);
  return { solo, socket, spans: solo.stack.socketBuffers };
}

const out = new Uint8Array(70000);

function read(socket: UdpEndpoint): Uint8Array | null {
  const n = socket.recvFrom(out, 0, out.length, null, 0);
  return n < 0 ? null : out.slice(0, n);
}

test("socketBufferSize follows Linux's sock_setsockopt: doubled, clamped to the maximum, at least the minimum", () => {
  assert.is(socketBufferSize(3000, 16384, 512), 6000);
  assert.is(socketBufferSize(16384, 16384, 512), 32768);
  assert.is(socketBufferSize(100000, 16384, 512), 32768, "clamped to the maximum first");
  assert.is(socketBufferSize(100, 16384, 512), 512, "never below the minimum");
  assert.is(socketBufferSize(0, 16384, 512), 512);
  // An int compared as unsigned with rmem_max: a negative value asks for the most.
  assert.is(socketBufferSize(-1, 16384, 512), 32768);
});

test("a socket starts with the configured buffers; SO_RCVBUF and SO_SNDBUF read back doubled", () => {
  const { socket } = bound({
    udpReceiveBuffer: 2048,
    udpSendBuffer: 4096,
    socketBufferHeadroom: 65536,
    receiveBufferMax: 16384,
    sendBufferMax: 8192,
  });
  assert.is(socket.receiveBuffer, 2048);
  assert.is(socket.sendBuffer, 4096);
  assert.is(socket.setReceiveBuffer(3000), 0);
  assert.is(socket.receiveBuffer, 6000);
  assert.is(socket.setReceiveBuffer(1 << 20), 0);
  assert.is(socket.receiveBuffer, 32768);
  assert.is(socket.setReceiveBuffer(10), 0);
  assert.is(socket.receiveBuffer, 512);
  assert.is(socket.setSendBuffer(5000), 0);
  assert.is(socket.sendBuffer, 10000);
  assert.is(socket.setSendBuffer(-1), 0);
  assert.is(socket.sendBuffer, 16384);
  assert.is(socket.close(), 0);
  assert.is(socket.setReceiveBuffer(4096), -EBADF);
  assert.is(socket.setSendBuffer(4096), -EBADF);
  assert.is(socket.receiveBuffer, 0);
  assert.is(socket.sendBuffer, 0);
});

test("a bigger queue holds more datagrams, and a smaller one fewer", () => {
  const { solo, socket } = bound({ udpReceiveBuffer: 2048, socketBufferHeadroom: 16384 });
  const fill = (): number => {
    let n = 0;
    for (let i = 0; i < 40; i++) solo.send(udpFrame(pattern(452, i)));
    while (read(socket) !== null) n++;
    return n;
  };
  assert.is(fill(), 4, "2048 bytes: four records of 48 + 452");
  socket.setReceiveBuffer(4000);
  assert.is(socket.receiveBuffer, 8000);
  assert.is(fill(), 16);
  socket.setReceiveBuffer(500);
  assert.is(fill(), 2);
  assert.ok(solo.poolFull());
});

test("growing a queue that holds datagrams moves them, intact and in order", () => {
  const { solo, socket, spans } = bound({ udpReceiveBuffer: 2048, socketBufferHeadroom: 16384 });
  const sent = [pattern(700, 1), pattern(900, 2)];
  for (const d of sent) solo.send(udpFrame(d));
  // Read one and queue another, so the ring has wrapped before it moves.
  assert.equal(read(socket), sent[0]);
  sent.push(pattern(800, 3));
  solo.send(udpFrame(sent[2]));
  assert.is(socket.queuedDatagrams, 2);
  const before = spans.live;
  socket.setReceiveBuffer(4096);
  assert.is(socket.receiveBuffer, 8192);
  assert.is(spans.live, before, "the old span was given back");
  for (let i = 4; i < 10; i++) {
    sent.push(pattern(800, i));
    solo.send(udpFrame(sent[sent.length - 1]));
  }
  assert.is(socket.queuedDatagrams, 8, "room for more after the move");
  for (let i = 1; i < sent.length; i++) assert.equal(read(socket), sent[i], `datagram ${i}`);
  assert.is(read(socket), null);
});

test("shrinking below what is queued waits until the queue drains; nothing queued is lost", () => {
  const { solo, socket } = bound({ udpReceiveBuffer: 4096, socketBufferHeadroom: 0 });
  const sent = [pattern(1000, 1), pattern(1000, 2), pattern(1000, 3)];
  for (const d of sent) solo.send(udpFrame(d));
  assert.is(socket.queuedDatagrams, 3);
  socket.setReceiveBuffer(600);
  assert.is(socket.receiveBuffer, 1200, "reported at once, as Linux does");
  for (const d of sent) assert.equal(read(socket), d);
  // Drained: now the queue is 1200 bytes, room for one 1000-byte datagram.
  solo.send(udpFrame(pattern(1000, 4)));
  solo.send(udpFrame(pattern(1000, 5)));
  assert.is(socket.queuedDatagrams, 1);
  assert.equal(read(socket), pattern(1000, 4));
});

test("closing gives the span back; a socket reopened in the slot starts with the default again", () => {
  const { solo, socket, spans } = bound({ udpReceiveBuffer: 2048, socketBufferHeadroom: 8192 });
  const free = spans.available;
  socket.setReceiveBuffer(3000);
  assert.is(spans.available, free + 2048 - 6000);
  solo.send(udpFrame(pattern(100, 1)));
  assert.is(socket.close(), 0);
  assert.is(spans.available, free + 2048, "the queue's span is free again");
  const again = solo.stack.openUdp() as UdpEndpoint;
  assert.is(again.receiveBuffer, 2048);
  assert.is(spans.available, free);
  assert.is(again.queuedDatagrams, 0);
});

test("a socket grows only into the headroom: every closed socket can still open with its default", () => {
  const { solo, socket, spans } = bound({
    udpSockets: 4,
    udpReceiveBuffer: 2048,
    pingSockets: 1,
    pingReceiveBuffer: 1024,
    tcpSockets: 1,
    tcpSendBuffer: 2048,
    tcpReceiveBuffer: 2048,
    socketBufferHeadroom: 3000,
    receiveBufferMax: 1 << 20,
  });
  assert.is(socket.setReceiveBuffer(1 << 20), 0);
  // Its own 2048 plus the headroom (rounded down to the span alignment): no more.
  assert.is(socket.receiveBuffer, 2048 + 3000 - (3000 % 8));
  assert.is(spans.spare, 0);
  const others = [solo.stack.openUdp(), solo.stack.openUdp(), solo.stack.openUdp()];
  for (const o of others) assert.ok(typeof o !== "number" && o.receiveBuffer === 2048);
  const ping = solo.stack.openPing() as PingEndpoint;
  assert.is(ping.receiveBuffer, 1024);
  assert.is(spans.available, 2048 + 2048, "the TCP connection's rings are still free");
  // Asking for more now changes nothing, and fails nothing.
  assert.is((others[0] as UdpEndpoint).setReceiveBuffer(8192), 0);
  assert.is((others[0] as UdpEndpoint).receiveBuffer, 2048);
});

test("ping endpoints resize their queues the same way", () => {
  const solo = new Solo({
    stack: { pingReceiveBuffer: 256, socketBufferMin: 256, socketBufferHeadroom: 4096 },
  }).warm();
  const ping = solo.stack.openPing() as PingEndpoint;
  assert.is(ping.bind(null, 0x4242), 0);
  assert.is(ping.receiveBuffer, 256);
  assert.is(ping.sendBuffer, solo.stack.config.udpSendBuffer);
  const reply = () =>
    solo.send(
      ipFrame({
        protocol: 1,
        payload: icmp({ type: 0, rest: (0x4242 << 16) | 1, payload: pattern(92, 1) }),
      }),
    );
  const count = (): number => {
    for (let i = 0; i < 10; i++) reply();
    let n = 0;
    while (ping.recvFrom(out, 0, out.length, null, 0) >= 0) n++;
    return n;
  };
  assert.is(count(), 1, "256 bytes: one reply of 48 + 100");
  assert.is(ping.setReceiveBuffer(700), 0);
  assert.is(ping.receiveBuffer, 1400);
  assert.is(count(), 9);
  assert.is(ping.setSendBuffer(1000), 0);
  assert.is(ping.sendBuffer, 2000);
  assert.is(ping.close(), 0);
  assert.is(ping.setReceiveBuffer(700), -EBADF);
  assert.is(ping.receiveBuffer, 0);
});

test.run();
