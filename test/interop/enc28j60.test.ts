// The stack through the ENC28J60 driver and the simulated chip, against the Linux kernel over a TAP
// in this suite's own namespace: arping, ping, and UDP datagrams of up to 8000 bytes echoed by
// socat. The chip's wire runs at 10 Mbit/s; the simulator must see no driver violation.

import type { UdpEndpoint } from "../../src/transport/udp-endpoint.js";
import * as assert from "uvu/assert";
import { Random } from "../../src/random.js";
import { labOrSkip } from "../support/lab.js";
import { endpoint } from "../support/stacks.js";
import { TapStack, sleep, tapStack, until } from "../support/tap-stack.js";

const test = labOrSkip("interop/enc28j60");
const STACK = "192.0.2.2";

let current: TapStack | null = null;

test.after.each(() => {
  if (current !== null) {
    const chip = current.chip!;
    assert.is(chip.violationCount, 0, `simulator violations (last: ${chip.lastViolation})`);
    assert.is(current.stack.pool.available, current.stack.pool.count, "every pool buffer returned");
    current.stop();
  }
  current = null;
});

async function chipStack(lab: Parameters<Parameters<typeof test>[1]>[0]["lab"]): Promise<TapStack> {
  const run = await tapStack(lab, "tap0", null, "enc28j60");
  // Start-up: reset wait, MAC and PHY set-up.
  assert.ok(await until(() => run.device.linkUp, 2000), "the chip came up with link");
  return run;
}

test("arping through the chip is answered", async ({ lab }) => {
  current = await chipStack(lab);
  const arping = await lab.run("arping", ["-c", "3", "-w", "5", "-I", "tap0", STACK], {
    timeoutMs: 10000,
  });
  assert.match(arping.stdout, /Received 3 response/);
  assert.match(arping.stdout.toLowerCase(), /02:54:41:50:00:02/);
});

test("ping -c 20 through the chip: 20 of 20 answered", async ({ lab }) => {
  current = await chipStack(lab);
  const ping = await lab.run("ping", ["-c", "20", "-i", "0.02", "-W", "2", STACK], {
    timeoutMs: 20000,
  });
  console.log(
    ping.stdout
      .split("\n")
      .filter((line) => /packets|rtt/.test(line))
      .join("\n"),
  );
  assert.match(ping.stdout, /20 packets transmitted, 20 received, 0% packet loss/);
  assert.is(current.stack.iface!.icmpStats.echoRepliesOut, 20);
});

test("UDP datagrams of 1..8000 bytes echoed byte-exact by socat through the chip", async ({
  lab,
}) => {
  const run = (current = await chipStack(lab));
  const socat = lab.spawn("socat", ["-b", "65536", "-T", "1", "UDP4-RECVFROM:9000,fork", "PIPE"], {
    stdio: "ignore",
  });
  try {
    await sleep(200);
    const socket = run.stack.openUdp() as UdpEndpoint;
    const random = new Random(4321);
    const to = endpoint("192.0.2.1", 9000);
    const reply = new Uint8Array(9000);
    const sizes = [1, 1472, 1473, 2960, 8000];
    for (let i = 0; i < 95; i++) sizes.push(1 + random.below(8000));
    for (let i = 0; i < sizes.length; i++) {
      const size = sizes[i];
      const data = new Uint8Array(size);
      for (let k = 0; k < size; k++) data[k] = random.next() & 255;
      assert.is(socket.sendTo(data, 0, size, to), size);
      let n = -1;
      await until(() => {
        n = socket.recvFrom(reply, 0, reply.length, null, 0);
        return n >= 0;
      }, 3000);
      assert.is(n, size, `datagram ${i} of ${size} bytes`);
      for (let k = 0; k < size; k++)
        if (reply[k] !== data[k]) assert.unreachable(`datagram ${i} differs at ${k}`);
    }
    const ip = run.stack.iface!.ipStats;
    assert.ok(ip.fragmentsOut > 100, "the stack fragmented");
    assert.ok(ip.reassembled > 50, "the stack reassembled the kernel's fragments");
    assert.ok(run.chip!.rxStored > 300 && run.chip!.txSent > 300, "frames crossed the chip");
  } finally {
    socat.kill("SIGKILL");
  }
});

test.run();
