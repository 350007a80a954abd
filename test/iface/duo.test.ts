import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import type { PingEndpoint } from "../../src/transport/ping.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { EACCES, EAGAIN, ECONNREFUSED, EDESTADDRREQ } from "../../src/errno.js";
import { FullAddress } from "../../src/wire/address.js";
import { duo, endpoint, poolFull } from "../support/stacks.js";

test("ping across the pair: ARP resolves, the echo comes back byte-exact", () => {
  const { net, a, b } = duo();
  const ping = a.openPing() as PingEndpoint;
  const request = Uint8Array.of(8, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  assert.is(ping.sendTo(request, 0, request.length, endpoint("192.0.2.2", 0)), request.length);
  assert.ok(net.runUntilIdle());
  const reply = new Uint8Array(64);
  const from = new FullAddress();
  const n = ping.recvFrom(reply, 0, 64, from, 0);
  assert.is(n, request.length);
  assert.is(reply[0], 0, "echo reply type");
  assert.equal(Array.from(reply.subarray(8, n)), Array.from(request.subarray(8)));
  assert.is(from.address.toString(), "192.0.2.2");
  assert.is(a.iface!.arpStats.requestsOut >= 1, true);
  assert.is(b.iface!.icmpStats.echoRepliesOut, 1);
  assert.ok(poolFull(a) && poolFull(b));
});

test("UDP: bind, send, receive, echo back, with ephemeral ports", () => {
  const { net, a, b } = duo();
  const server = b.openUdp() as UdpEndpoint;
  assert.is(server.bind(null, 7), 0);
  const client = a.openUdp() as UdpEndpoint;
  const data = new TextEncoder().encode("hello over the pair");
  assert.is(client.sendTo(data, 0, data.length, endpoint("192.0.2.2", 7)), data.length);
  net.runUntilIdle();
  const buf = new Uint8Array(100);
  const from = new FullAddress();
  const n = server.recvFrom(buf, 0, 100, from, 0);
  assert.is(n, data.length);
  assert.is(new TextDecoder().decode(buf.subarray(0, n)), "hello over the pair");
  assert.is(from.address.toString(), "192.0.2.1");
  assert.ok(from.port >= 32768 && from.port <= 60999);
  assert.is(server.sendTo(buf, 0, n, from), n);
  net.runUntilIdle();
  const back = new Uint8Array(100);
  assert.is(client.recvFrom(back, 0, 100, null, 0), n);
  assert.is(client.recvFrom(back, 0, 100, null, 0), -EAGAIN);
  assert.ok(poolFull(a) && poolFull(b));
});

test("UDP datagrams larger than the MTU travel in fragments and reassemble byte-exact", () => {
  const { net, a, b } = duo({ udpReceiveBuffer: 20000, reassemblySize: 8192 + 64 });
  const server = b.openUdp() as UdpEndpoint;
  server.bind(null, 9);
  const client = a.openUdp() as UdpEndpoint;
  for (const size of [1472, 1473, 2960, 2961, 8000]) {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + size) & 255;
    assert.is(client.sendTo(data, 0, size, endpoint("192.0.2.2", 9)), size);
    net.runUntilIdle();
    const buf = new Uint8Array(9000);
    const n = server.recvFrom(buf, 0, buf.length, null, 0);
    assert.is(n, size);
    assert.equal(buf.subarray(0, n), data, `size ${size}`);
  }
  assert.is(b.iface!.ipStats.reassembled, 4);
  assert.ok(poolFull(a) && poolFull(b));
});

test("a connected UDP socket learns ECONNREFUSED from the peer's port unreachable", () => {
  const { net, a, b } = duo();
  const client = a.openUdp() as UdpEndpoint;
  assert.is(client.connect(endpoint("192.0.2.2", 4242)), 0);
  const data = Uint8Array.of(1, 2, 3);
  assert.is(client.sendTo(data, 0, 3, null), 3);
  net.runUntilIdle();
  assert.is(b.iface!.icmpStats.destUnreachableOut, 1);
  assert.is(client.recvFrom(new Uint8Array(8), 0, 8, null, 0), -ECONNREFUSED);
  assert.is(client.recvFrom(new Uint8Array(8), 0, 8, null, 0), -EAGAIN);
});

test("broadcast needs SO_BROADCAST and reaches a wildcard-bound socket", () => {
  const { net, a, b } = duo();
  const server = b.openUdp() as UdpEndpoint;
  server.bind(null, 5000);
  const client = a.openUdp() as UdpEndpoint;
  const data = Uint8Array.of(42);
  assert.is(client.sendTo(data, 0, 1, endpoint("255.255.255.255", 5000)), -EACCES);
  client.broadcast = true;
  assert.is(client.sendTo(data, 0, 1, endpoint("255.255.255.255", 5000)), 1);
  assert.is(client.sendTo(data, 0, 1, endpoint("192.0.2.255", 5000)), 1);
  net.runUntilIdle();
  assert.is(server.recvFrom(new Uint8Array(4), 0, 4, null, 0), 1);
  assert.is(server.recvFrom(new Uint8Array(4), 0, 4, null, 0), 1);
  assert.is(a.iface!.arpStats.requestsOut, 0, "broadcast needs no resolution");
  assert.is(client.sendTo(data, 0, 1, null), -EDESTADDRREQ);
});

test.run();
