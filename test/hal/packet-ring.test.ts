// The AF_PACKET ring device (hal/tap/packet-ring.ts) against the Linux kernel, in a namespace this
// suite makes: a veth pair whose one end the stack holds through the mapped rings and whose other
// end the kernel uses, with offloads off on both (ethtool, which CI installs). The kernel pings
// the stack and moves TCP through its echo service, SHA-256 equal, every pool buffer returned.

import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import type { Lab } from "../../hal/platform/node/lab.js";
import { NodeDriver } from "../../hal/platform/node/driver.js";
import { PacketRingDevice } from "../../hal/tap/packet-ring.js";
import { TcpServices } from "../../src/apps/tcp-services.js";
import { TX_TAKEN } from "../../src/device.js";
import { EMSGSIZE, ENETDOWN } from "../../src/errno.js";
import { Stack } from "../../src/stack.js";
import { kernelEcho } from "../support/kernel-echo.js";
import { labOrSkip } from "../support/lab.js";
import { until } from "../support/tap-stack.js";

const test = labOrSkip("hal/packet-ring");

interface RingStack {
  device: PacketRingDevice;
  stack: Stack;
  services: TcpServices;
  driver: NodeDriver;
  stop(): Promise<void>;
}

let pairs = 0;

/** A veth pair in the lab, the stack on one end (192.0.2.2), the kernel on the other (.1). */
async function ringStack(lab: Lab): Promise<RingStack> {
  const n = pairs++;
  const ours = `vs${n}`;
  const theirs = `vk${n}`;
  const setUp = await lab.run("sh", [
    "-c",
    [
      `ip link add ${ours} type veth peer name ${theirs}`,
      `echo 1 > /proc/sys/net/ipv6/conf/${ours}/disable_ipv6`,
      `echo 1 > /proc/sys/net/ipv6/conf/${theirs}/disable_ipv6`,
      `ethtool -K ${theirs} tx off sg off tso off gso off gro off`,
      `ethtool -K ${ours} tx off sg off tso off gso off gro off`,
      `ip addr add 192.0.2.1/24 dev ${theirs}`,
      `ip link set ${ours} up`,
      `ip link set ${theirs} up`,
    ].join(" && "),
  ]);
  assert.is(setUp.status, 0, `veth set-up (needs ethtool): ${setUp.stderr}`);
  const device = new PacketRingDevice({ name: ours, nsPid: lab.pid, rxFrames: 256, txFrames: 256 });
  const stack = new Stack({
    seed: 3,
    buffers: 128,
    appMemory: TcpServices.memoryNeeded({ sessions: 4, bufferSize: 16384 }),
    tcpSockets: 8,
    tcpSendBuffer: 65536,
    tcpReceiveBuffer: 65536,
  });
  stack.attach(device, { address: "192.0.2.2", prefix: 24 });
  const services = new TcpServices(stack, { sessions: 4, bufferSize: 16384 });
  const driver = new NodeDriver();
  driver.add(stack);
  driver.attach(device);
  return {
    device,
    stack,
    services,
    driver,
    async stop() {
      services.close();
      driver.stop();
      device.close();
      await lab.run("ip", ["link", "del", ours]);
    },
  };
}

test("ethtool is installed (the veth's offloads must go off)", () => {
  const found = spawnSync("ethtool", ["--version"], { stdio: "ignore" });
  assert.ok(found.error === undefined, "ethtool is missing: apt-get install ethtool");
});

test("the kernel pings the stack through the rings", async ({ lab }) => {
  const run = await ringStack(lab);
  try {
    const r = await lab.run("ping", ["-c", "20", "-i", "0.01", "-W", "2", "192.0.2.2"]);
    assert.match(r.stdout, /20 packets transmitted, 20 received/, r.stdout + r.stderr);
    // Echo requests and ARP came in through the receive ring, the answers went out through the
    // transmit ring in batches.
    assert.ok(run.device.framesIn >= 21, `frames in: ${run.device.framesIn}`);
    assert.ok(run.device.framesOut >= 21, `frames out: ${run.device.framesOut}`);
    assert.ok(run.device.sendsOut > 0 && run.device.sendsOut <= run.device.framesOut);
    assert.is(run.device.errorsOut, 0);
  } finally {
    await run.stop();
  }
});

test("TCP through the stack's echo over the rings: 8 MB, SHA-256 equal, pool back", async ({
  lab,
}) => {
  const run = await ringStack(lab);
  try {
    const size = 8 * 1024 * 1024;
    const r = await kernelEcho(lab, size, 120_000);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.count, size);
    assert.is(r.got, r.sent);
    assert.ok(await until(() => run.services.active === 0, 2000), "the session finished");
    assert.ok(run.device.framesIn > size / 1500, "the data came through the receive ring");
  } finally {
    await run.stop();
  }
  assert.is(run.stack.pool.available, run.stack.pool.count, "every pool buffer returned");
});

test("a frame longer than a slot is refused, and nothing is sent once closed", async ({ lab }) => {
  const run = await ringStack(lab);
  const frame = new Uint8Array(4096);
  try {
    assert.is(run.device.transmit(frame, 0, 2048 - 32 + 1), -EMSGSIZE);
    assert.is(run.device.transmit(frame, 0, 60), TX_TAKEN);
  } finally {
    await run.stop();
  }
  assert.is(run.device.transmit(frame, 0, 60), -ENETDOWN);
  assert.is(run.device.receive(frame, 0, frame.length), 0);
  assert.is(run.device.linkUp, false);
});

test.run();
