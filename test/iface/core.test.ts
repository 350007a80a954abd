// The core's promises to the layers above: fresh time on every send, backpressure from a device that
// takes one frame at a time, errors from the protocol table, readiness after the input pass, the
// multicast filter, and handles that go stale when closed.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinkPair } from "../../hal/pair.js";
import { EAGAIN, EBADF, EINVAL } from "../../src/errno.js";
import { DELIVERED, Ipv4Info, ProtocolHandler } from "../../src/iface/protocols.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { EVENT_IN, EVENT_OUT, EntryCallback, WaiterEntry } from "../../src/transport/waiter.js";
import { FullAddress } from "../../src/wire/address.js";
import { ETH_ARP, ip } from "../support/frames.js";
import { PEER_IP, Solo, udpFrame } from "../support/harness.js";
import { duo, endpoint, poolFull } from "../support/stacks.js";
import { VirtualNet } from "../support/virtual.js";

test("a send after a long idle spell arms its ARP retry from the time of the send", () => {
  const solo = new Solo().warm(false);
  // Idle from here to t = 61000: nothing polls the stack.
  solo.net.now = 61_000;
  const socket = solo.stack.openUdp() as UdpEndpoint;
  const data = Uint8Array.of(1, 2, 3);
  assert.is(socket.sendTo(data, 0, 3, endpoint("192.0.2.9", 9)), 3);
  solo.settle();
  const first = solo.take().filter((s) => s.type === ETH_ARP);
  assert.is(first.length, 1, "one request on the first poll, not a retry at once");
  const deadline = solo.stack.nextDeadline();
  assert.is(deadline, 62_000, "the retry is a second after the send");
  solo.advance(999);
  assert.is(solo.take().filter((s) => s.type === ETH_ARP).length, 0, "no early retry");
  solo.advance(1);
  assert.is(solo.take().filter((s) => s.type === ETH_ARP).length, 1, "retry on time");
});

test("every layer's deadline reaches Stack.nextDeadline(), and idle is Infinity", () => {
  const solo = new Solo().warm();
  assert.is(solo.stack.nextDeadline() > solo.now, true);
  solo.advance(120_000);
  assert.is(solo.stack.nextDeadline(), Infinity);
});

/** Two stacks over a pair whose `a` end takes one frame at a time; each with its own memory. */
function slowDuo() {
  const pair = new LinkPair({ oneAtATime: "a", slots: 64 });
  const a = new Stack({ seed: 1 });
  const b = new Stack({ seed: 2, udpReceiveBuffer: 64 * 1024 });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(pair.a).attach(pair.b);
  return { pair, a, b, net };
}

class Counter implements EntryCallback {
  events = 0;
  calls = 0;
  callback(_entry: WaiterEntry, events: number): void {
    this.calls++;
    this.events |= events;
  }
}

for (const count of [10, 1000]) {
  test(`${count} back-to-back sends through a one-frame-at-a-time device all arrive, in order`, () => {
    const { pair, a, b, net } = slowDuo();
    net.runUntilIdle();
    const server = b.openUdp() as UdpEndpoint;
    server.bind(null, 9);
    const client = a.openUdp() as UdpEndpoint;
    const writable = new Counter();
    client.eventRegister(new WaiterEntry(writable), EVENT_OUT);
    const to = endpoint("192.0.2.2", 9);
    const data = new Uint8Array(100);
    const received: number[] = [];
    const buffer = new Uint8Array(200);
    let sent = 0;
    let refused = 0;
    for (let round = 0; round < 100_000 && received.length < count; round++) {
      while (sent < count) {
        data[0] = sent & 0xff;
        data[1] = sent >> 8;
        const result = client.sendTo(data, 0, 100, to);
        if (result === -EAGAIN) {
          refused++;
          break;
        }
        assert.is(result, 100);
        sent++;
      }
      net.poll();
      for (let n = server.recvFrom(buffer, 0, 200, null, 0); n > 0;) {
        received.push(buffer[0] | (buffer[1] << 8));
        n = server.recvFrom(buffer, 0, 200, null, 0);
      }
      net.runUntilIdle(100, 0);
    }
    assert.is(received.length, count);
    for (let i = 0; i < count; i++) assert.is(received[i], i, "in order");
    assert.ok(pair.a.txBusy > 0, "the device did say busy");
    assert.is(a.iface!.link.transmitErrors, 0, "nothing dropped at the device");
    if (count > 8) {
      assert.ok(refused > 0, "the sender was held back");
      assert.ok((writable.events & EVENT_OUT) !== 0, "and told when it could go on");
    }
    net.runUntilIdle();
    assert.ok(poolFull(a) && poolFull(b));
  });
}

test("a datagram in more fragments than the pool could ever hold is refused with ENOBUFS, not EAGAIN forever", () => {
  const { a, net } = slowDuo();
  net.runUntilIdle();
  const client = a.openUdp() as UdpEndpoint;
  const big = new Uint8Array(30_000);
  assert.is(client.sendTo(big, 0, big.length, endpoint("192.0.2.2", 9)), -105);
});

class Recorder implements ProtocolHandler {
  readonly errors: number[][] = [];
  input(_info: Ipv4Info, _bytes: Uint8Array, _at: number, _length: number): number {
    return DELIVERED;
  }
  error(type: number, code: number, bytes: Uint8Array, at: number, _length: number): void {
    this.errors.push([type, code, bytes[at + 9]]);
  }
}

test("failed address resolution is reported to the sending protocol as host unreachable", () => {
  const solo = new Solo().warm();
  const recorder = new Recorder();
  const iface = solo.iface;
  assert.ok(iface.ip.protocols.register(253, recorder));
  assert.not.ok(iface.ip.protocols.register(253, recorder), "one handler per protocol");
  const header = solo.stack.memory.take(8);
  for (let i = 0; i < 2; i++)
    assert.is(
      iface.ip.sendDatagram(
        253,
        iface.address,
        ip("192.0.2.77"),
        64,
        0,
        header,
        8,
        new Uint8Array(4),
        0,
        4,
        -1,
        false,
      ),
      0,
    );
  solo.advance(5000);
  assert.equal(recorder.errors, [
    [3, 1, 253],
    [3, 1, 253],
  ]);
  assert.is(iface.arpStats.failures, 1);
  assert.ok(solo.poolFull());
});

test("UDP keeps Linux's silence about a soft host unreachable from failed resolution", () => {
  // Linux (udp_err, without IP_RECVERR) reports only hard errors to a connected socket; a host
  // unreachable from arp_error_report is soft, so the next send succeeds.
  const solo = new Solo().warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  assert.is(socket.connect(endpoint("192.0.2.77", 9)), 0);
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, null), 1);
  solo.advance(5000);
  assert.is(solo.iface.arpStats.failures, 1);
  assert.is(socket.sendTo(Uint8Array.of(1), 0, 1, null), 1);
});

test("readiness is delivered after the input pass: one callback for a burst, sends and close from it are safe", () => {
  const solo = new Solo().warm();
  const socket = solo.stack.openUdp() as UdpEndpoint;
  socket.bind(null, 7);
  const other = solo.stack.openUdp() as UdpEndpoint;
  other.bind(null, 8);
  const buffer = new Uint8Array(64);
  const from = new FullAddress();
  let calls = 0;
  let queuedAtCall = 0;
  let rxHandleAtCall = 0;
  const entry = new WaiterEntry({
    callback(_e: WaiterEntry, events: number) {
      calls++;
      assert.ok((events & EVENT_IN) !== 0);
      rxHandleAtCall = solo.iface.rxHandle;
      while (socket.recvFrom(buffer, 0, 64, from, 0) >= 0) queuedAtCall++;
      // Answer, then close the other socket, from inside the callback.
      assert.is(socket.sendTo(buffer, 0, 4, from), 4);
      assert.is(other.close(), 0);
    },
  });
  socket.eventRegister(entry, EVENT_IN);
  // Three datagrams in one poll.
  for (let i = 0; i < 3; i++) {
    const frame = udpFrame(Uint8Array.of(i, 1, 2, 3));
    solo.pair.b.transmit(frame, 0, frame.length);
  }
  solo.send(udpFrame(Uint8Array.of(9, 9, 9, 9), { port: 8 }));
  assert.is(calls, 1, "one callback after the whole burst");
  assert.is(queuedAtCall, 3, "all three were queued before it ran");
  assert.is(rxHandleAtCall, -1, "no frame was being received");
  const replies = solo.take().filter((s) => s.ip?.destination === PEER_IP);
  assert.is(replies.length, 1, "the answer went out in the same poll");
  assert.is(other.bind(null, 8), -EBADF);
  assert.ok(solo.poolFull());
});

test("joining a multicast group reaches the device's receive filter", () => {
  const solo = new Solo();
  const end = solo.pair.a;
  assert.is(end.multicastCount, 1, "all-hosts from the start");
  assert.ok(solo.iface.joinGroup(ip("239.1.2.3")));
  assert.is(end.multicastCount, 2);
  assert.equal(Array.from(end.multicast.subarray(6, 12)), [0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]);
  solo.iface.leaveGroup(ip("239.1.2.3"));
  assert.is(end.multicastCount, 1);
});

test("a closed endpoint answers EBADF to everything, and its slot's next owner is out of its reach", () => {
  const memory = new Memory(new Uint8Array(Stack.memoryNeeded({ udpSockets: 1, pingSockets: 1 })));
  const stack = new Stack({ udpSockets: 1, pingSockets: 1, memory });
  const pair = new LinkPair();
  stack.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  const first = stack.openUdp() as UdpEndpoint;
  assert.is(first.bind(null, 5000), 0);
  assert.is(first.close(), 0);
  assert.is(first.close(), -EBADF);
  const second = stack.openUdp() as UdpEndpoint;
  assert.ok(second !== first, "a new handle");
  const data = Uint8Array.of(1, 2, 3, 4);
  assert.is(first.sendTo(data, 0, 4, endpoint("192.0.2.2", 9)), -EBADF);
  assert.is(first.bind(null, 6000), -EBADF);
  assert.is(first.connect(endpoint("192.0.2.2", 9)), -EBADF);
  assert.is(first.recvFrom(data, 0, 4, null, 0), -EBADF);
  assert.is(first.getLocal(new FullAddress()), -EBADF);
  first.broadcast = true;
  assert.is(second.broadcast, false, "an option set through the old handle does not land");
  assert.is(second.bind(null, 5000), 0);
  assert.is(first.close(), -EBADF, "closing the old handle leaves the new socket alone");
  assert.is(second.bind(null, 1), -EINVAL, "still bound");
  const ping = stack.openPing() as PingEndpoint;
  assert.is(ping.close(), 0);
  assert.is(
    ping.sendTo(Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 0), 0, 8, endpoint("192.0.2.2", 0)),
    -EBADF,
  );
  assert.ok(typeof stack.openPing() !== "number");
});

test("sends between polls wait for the next poll, which sends them in order with fresh time", () => {
  const { net, a, b } = duo();
  net.runUntilIdle();
  const server = b.openUdp() as UdpEndpoint;
  server.bind(null, 9);
  const client = a.openUdp() as UdpEndpoint;
  const data = new Uint8Array(8);
  const framesOut = a.iface!.link.framesOut;
  for (let i = 0; i < 5; i++) {
    data[0] = i;
    assert.is(client.sendTo(data, 0, 8, endpoint("192.0.2.2", 9)), 8);
  }
  assert.is(a.iface!.link.framesOut, framesOut, "nothing touched the device outside a poll");
  assert.is(a.nextDeadline(), 0, "the stack asks for a poll at once");
  net.runUntilIdle();
  const buffer = new Uint8Array(8);
  for (let i = 0; i < 5; i++) {
    assert.is(server.recvFrom(buffer, 0, 8, null, 0), 8);
    assert.is(buffer[0], i);
  }
  assert.ok(poolFull(a) && poolFull(b));
});

test.run();
