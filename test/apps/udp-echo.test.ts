import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LinkPair } from "../../hal/pair.js";
import { UdpEcho } from "../../src/apps/udp-echo.js";
import { Stack } from "../../src/stack.js";
import { endpoint, poolFull } from "../support/stacks.js";
import { VirtualNet } from "../support/virtual.js";

test("echoes every datagram to its sender, fragmented ones included", () => {
  const pair = new LinkPair();
  const a = new Stack({ seed: 1, udpReceiveBuffer: 20000, reassemblySize: 8192 + 64 });
  const b = new Stack({
    seed: 2,
    udpReceiveBuffer: 20000,
    reassemblySize: 8192 + 64,
    appMemory: 65536,
  });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const echo = new UdpEcho(b, 7);
  const net = new VirtualNet().add(a).add(b).attach(pair.a).attach(pair.b);
  const client = a.openUdp() as UdpEndpoint;
  const reply = new Uint8Array(9000);
  for (const size of [0, 1, 100, 1472, 5000, 8000]) {
    const data = new Uint8Array(size).map((_, i) => (i * 7 + size) & 255);
    assert.is(client.sendTo(data, 0, size, endpoint("192.0.2.2", 7)), size);
    net.runUntilIdle();
    assert.is(client.recvFrom(reply, 0, reply.length, null, 0), size, `size ${size}`);
    assert.equal(reply.subarray(0, size), data);
  }
  assert.is(echo.echoed, 6);
  assert.is(echo.failed, 0);
  assert.ok(poolFull(a) && poolFull(b));
});

test.run();
