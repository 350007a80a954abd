// The stack through the W5500 driver and the simulated chip, against the Linux kernel over the TAP
// in this suite's own namespace: arping, ping, and UDP echo of datagrams up to 8000 bytes by socat.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import * as assert from "uvu/assert";
import { Random } from "../../src/random.js";
import { labOrSkip } from "../support/lab.js";
import { endpoint } from "../support/stacks.js";
import { TapStack, sleep, tapStack, until } from "../support/tap-stack.js";

const test = labOrSkip("interop/w5500");
const STACK = "192.0.2.2";

let current: TapStack | null = null;

test.after.each(() => {
  if (current !== null) {
    assert.is(current.stack.pool.available, current.stack.pool.count, "every pool buffer returned");
    assert.equal(current.simulator!.violations, [], "no chip violations");
    current.stop();
  }
  current = null;
});

test("arping through the chip is answered", async ({ lab }) => {
  current = await tapStack(lab, "tap0", null, "w5500");
  const arping = await lab.run("arping", ["-c", "3", "-w", "5", "-I", "tap0", STACK], {
    timeoutMs: 10000,
  });
  assert.match(arping.stdout, /Received 3 response/);
});

test("ping -c 20 through the chip: 20 of 20 answered", async ({ lab }) => {
  current = await tapStack(lab, "tap0", null, "w5500");
  const ping = await lab.run("ping", ["-c", "20", "-i", "0.02", "-W", "2", STACK], {
    timeoutMs: 20000,
  });
  assert.match(ping.stdout, /20 packets transmitted, 20 received, 0% packet loss/);
  assert.ok(current.simulator!.stats.rxFrames >= 20 && current.simulator!.stats.txFrames >= 20);
});

test("UDP datagrams of 1..8000 bytes echoed byte-exact by socat through the chip", async ({
  lab,
}) => {
  const run = (current = await tapStack(lab, "tap0", null, "w5500"));
  const socat = lab.spawn("socat", ["-b", "65536", "-T", "1", "UDP4-RECVFROM:9000,fork", "PIPE"], {
    stdio: "ignore",
  });
  try {
    await sleep(200);
    const socket = run.stack.openUdp() as UdpEndpoint;
    const random = new Random(77);
    const to = endpoint("192.0.2.1", 9000);
    const reply = new Uint8Array(9000);
    for (let i = 0; i < 100; i++) {
      const size = i === 0 ? 8000 : 1 + random.below(8000);
      const data = new Uint8Array(size);
      for (let k = 0; k < size; k++) data[k] = random.next() & 255;
      assert.is(socket.sendTo(data, 0, size, to), size);
      let n = -1;
      await until(() => {
        n = socket.recvFrom(reply, 0, reply.length, null, 0);
        return n >= 0;
      }, 2000);
      assert.is(n, size, `datagram ${i} of ${size} bytes`);
      for (let k = 0; k < size; k++)
        if (reply[k] !== data[k]) assert.unreachable(`datagram ${i} differs at ${k}`);
    }
    assert.ok(run.stack.iface!.ipStats.fragmentsOut > 50);
  } finally {
    socat.kill("SIGKILL");
  }
});

test.run();
