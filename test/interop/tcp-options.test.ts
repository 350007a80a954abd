// Interop with the kernel with window scaling, timestamps and SACK each turned off on the kernel's
// side (sysctl inside the lab's namespace), then all three: 8 MB through the echo service (a
// transfer each way) and the stack as a client, 4 MB each way, byte-exact, with the options each
// connection negotiated checked against what the kernel allows.

import * as assert from "uvu/assert";
import type { Lab } from "../../hal/platform/node/lab.js";
import { kernelEcho } from "../support/kernel-echo.js";
import { labOrSkip } from "../support/lab.js";
import { stopAfterEach, tapStack, until } from "../support/tap-stack.js";
import { stackClient } from "./tcp-peers.js";

const test = labOrSkip("interop/tcp-options");
const MB = 1024 * 1024;

const stacks = stopAfterEach(test);

interface Kernel {
  windowScaling: boolean;
  timestamps: boolean;
  sack: boolean;
}

async function setKernel(lab: Lab, k: Kernel): Promise<void> {
  const r = await lab.run("sysctl", [
    "-w",
    `net.ipv4.tcp_window_scaling=${Number(k.windowScaling)}`,
    `net.ipv4.tcp_timestamps=${Number(k.timestamps)}`,
    `net.ipv4.tcp_sack=${Number(k.sack)}`,
  ]);
  assert.is(r.status, 0, r.stderr);
  const read = await lab.run("sysctl", [
    "-n",
    "net.ipv4.tcp_window_scaling",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_sack",
  ]);
  assert.is(
    read.stdout.split("\n").join(" ").trim(),
    `${Number(k.windowScaling)} ${Number(k.timestamps)} ${Number(k.sack)}`,
  );
}

async function transfer(lab: Lab, k: Kernel): Promise<void> {
  await setKernel(lab, k);
  const run = (stacks.current = await tapStack(lab, "tap0"));
  let seen: { ws: boolean; ts: boolean; sack: boolean } | null = null;
  const watch = setInterval(() => {
    for (const c of run.stack.tcp.slots)
      if (c.inUse && c.localPort === 7 && c.remotePort !== 0 && seen === null)
        seen = { ws: c.wsOk, ts: c.tsOk, sack: c.sackOk };
  }, 1);
  const started = performance.now();
  const r = await kernelEcho(lab, 8 * MB, 120_000, 7, 4);
  clearInterval(watch);
  const seconds = (performance.now() - started) / 1000;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.count, 8 * MB);
  assert.is(r.got, r.sent);
  assert.ok(seen !== null, "the connection was seen");
  const negotiated = seen as { ws: boolean; ts: boolean; sack: boolean };
  console.log(
    `  kernel ws=${Number(k.windowScaling)} ts=${Number(k.timestamps)} sack=${Number(k.sack)}: ` +
      `negotiated ws=${Number(negotiated.ws)} ts=${Number(negotiated.ts)} sack=${Number(negotiated.sack)}, ` +
      `8 MB each way in ${seconds.toFixed(1)} s`,
  );
  assert.is(negotiated.ws, k.windowScaling, "window scaling");
  assert.is(negotiated.ts, k.timestamps, "timestamps");
  assert.is(negotiated.sack, k.sack, "SACK");
  assert.ok(await until(() => run.services.active === 0, 2000));
  // The stack as the client: its SYN offers everything, the kernel's SYN-ACK answers.
  const asClient = await stackClient(run, lab, 4 * MB, 4 * MB);
  assert.equal(asClient, { ws: k.windowScaling, ts: k.timestamps, sack: k.sack }, "as a client");
}

test("all on (the kernel's defaults): every option negotiated", async ({ lab }) => {
  await transfer(lab, { windowScaling: true, timestamps: true, sack: true });
});

test("window scaling off on the kernel", async ({ lab }) => {
  await transfer(lab, { windowScaling: false, timestamps: true, sack: true });
});

test("timestamps off on the kernel", async ({ lab }) => {
  await transfer(lab, { windowScaling: true, timestamps: false, sack: true });
});

test("SACK off on the kernel", async ({ lab }) => {
  await transfer(lab, { windowScaling: true, timestamps: true, sack: false });
});

test("all three off on the kernel", async ({ lab }) => {
  await transfer(lab, { windowScaling: false, timestamps: false, sack: false });
});

test.run();
