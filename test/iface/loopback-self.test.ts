// Datagrams a stack sends to its own address, or to a broadcast or a group it has joined, come
// back to its own sockets, as Linux delivers them through its loopback device.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ECONNREFUSED } from "../../src/errno.js";
import { FullAddress } from "../../src/wire/address.js";
import { duo, endpoint, poolFull } from "../support/stacks.js";

test("UDP to our own address reaches our own socket without touching the link", () => {
  const { net, a, pair } = duo();
  const server = a.openUdp() as UdpEndpoint;
  server.bind(null, 5353);
  const client = a.openUdp() as UdpEndpoint;
  const data = Uint8Array.of(1, 2, 3, 4);
  assert.is(client.sendTo(data, 0, 4, endpoint("192.0.2.1", 5353)), 4);
  net.runUntilIdle();
  const from = new FullAddress();
  const buf = new Uint8Array(8);
  assert.is(server.recvFrom(buf, 0, 8, from, 0), 4);
  assert.equal(buf.subarray(0, 4), data);
  assert.is(from.address.toString(), "192.0.2.1");
  assert.is(pair.a.txFrames, 2, "only the two address announcements went out");
  assert.is(a.iface!.arpStats.requestsOut, 0, "no resolution of our own address");
  assert.ok(poolFull(a));
});

test("a ping to our own address is answered", () => {
  const { net, a } = duo();
  const ping = a.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 3, 42);
  assert.is(ping.sendTo(request, 0, request.length, endpoint("192.0.2.1", 0)), request.length);
  net.runUntilIdle();
  const reply = new Uint8Array(16);
  assert.is(ping.recvFrom(reply, 0, 16, null, 0), request.length);
  assert.is(reply[0], 0);
  assert.is(reply[8], 42);
  assert.ok(poolFull(a));
});

test("a connected socket aimed at our own closed port gets ECONNREFUSED", () => {
  const { net, a } = duo();
  const client = a.openUdp() as UdpEndpoint;
  assert.is(client.connect(endpoint("192.0.2.1", 4000)), 0);
  assert.is(client.sendTo(Uint8Array.of(9), 0, 1, null), 1);
  net.runUntilIdle();
  assert.is(client.recvFrom(new Uint8Array(4), 0, 4, null, 0), -ECONNREFUSED);
  assert.ok(poolFull(a));
});

test("our own broadcast reaches our own socket and the link alike", () => {
  const { net, a, b } = duo();
  const local = a.openUdp() as UdpEndpoint;
  local.bind(null, 6000);
  const remote = b.openUdp() as UdpEndpoint;
  remote.bind(null, 6000);
  const client = a.openUdp() as UdpEndpoint;
  client.broadcast = true;
  assert.is(client.sendTo(Uint8Array.of(7), 0, 1, endpoint("255.255.255.255", 6000)), 1);
  net.runUntilIdle();
  assert.is(local.recvFrom(new Uint8Array(4), 0, 4, null, 0), 1, "looped back");
  assert.is(remote.recvFrom(new Uint8Array(4), 0, 4, null, 0), 1, "sent on the link");
  assert.ok(poolFull(a) && poolFull(b));
});

test("a multicast to a group we joined loops back; to one we did not, it does not", () => {
  const { net, a } = duo();
  const local = a.openUdp() as UdpEndpoint;
  local.bind(null, 7000);
  const client = a.openUdp() as UdpEndpoint;
  assert.is(client.sendTo(Uint8Array.of(1), 0, 1, endpoint("224.0.0.251", 7000)), 1);
  net.runUntilIdle();
  assert.is(local.recvFrom(new Uint8Array(4), 0, 4, null, 0) < 0, true, "not a member yet");
  assert.ok(a.iface!.joinGroup(0xe00000fb));
  assert.is(client.sendTo(Uint8Array.of(2), 0, 1, endpoint("224.0.0.251", 7000)), 1);
  net.runUntilIdle();
  const buf = new Uint8Array(4);
  assert.is(local.recvFrom(buf, 0, 4, null, 0), 1);
  assert.is(buf[0], 2);
  assert.ok(poolFull(a));
});

test.run();
