// Spurious retransmissions against the Linux kernel over a TAP, in a namespace this suite makes:
// the stack sends 16 MB to a kernel server through a link that delays some of its frames by a
// millisecond, so later ones overtake them and the stack takes the reordering for loss. The
// kernel reports every needless retransmission in a D-SACK block (RFC 2883); with its timestamps
// off those alone must undo the stack's reductions (RFC 3708), with them on the echoed timestamps
// may do it first (RFC 3522). The bytes arrive intact either way (SHA-256 on the kernel's side).

import * as assert from "uvu/assert";
import type { Lab } from "../../hal/platform/node/lab.js";
import { labOrSkip } from "../support/lab.js";
import { stopAfterEach, tapStack } from "../support/tap-stack.js";
import { stackClient } from "./tcp-peers.js";

const test = labOrSkip("interop/tcp-undo");
const MB = 1024 * 1024;

const stacks = stopAfterEach(test);

async function kernelTimestamps(lab: Lab, on: boolean): Promise<void> {
  const r = await lab.run("sysctl", ["-w", `net.ipv4.tcp_timestamps=${Number(on)}`]);
  assert.is(r.status, 0, r.stderr);
}

/** The kernel's count of D-SACK blocks sent, for old data and for out-of-order data. */
async function kernelDsacks(lab: Lab): Promise<number> {
  const r = await lab.run("nstat", ["-asz", "TcpExtTCPDSACKOldSent", "TcpExtTCPDSACKOfoSent"]);
  assert.is(r.status, 0, r.stderr);
  let n = 0;
  for (const line of r.stdout.split("\n")) {
    const m = /^TcpExtTCPDSACK(Old|Ofo)Sent\s+(\d+)/.exec(line);
    if (m !== null) n += Number(m[2]);
  }
  return n;
}

/** 16 MB from the stack to the kernel, the stack's frames reordered; returns the stack's stats. */
async function reorderedUpload(lab: Lab, timestamps: boolean) {
  await kernelTimestamps(lab, timestamps);
  const dsacksBefore = await kernelDsacks(lab);
  // A quarter of the frames the stack sends wait 1 ms; the rest pass at once. Nothing is lost.
  const run = (stacks.current = await tapStack(lab, "tap0", {
    tx: { jitter: 1 },
    slots: 1024,
    seed: 11,
  }));
  const started = performance.now();
  const negotiated = await stackClient(run, lab, 16 * MB, 0);
  const seconds = (performance.now() - started) / 1000;
  assert.is(negotiated.sack, true);
  assert.is(negotiated.ts, timestamps);
  const stats = run.stack.tcp.stats;
  const lane = run.impaired!.tx;
  const dsacks = (await kernelDsacks(lab)) - dsacksBefore;
  console.log(
    `  timestamps ${timestamps ? "on" : "off"}: 16 MB in ${seconds.toFixed(1)} s; ` +
      `${lane.delayed} of ${lane.frames} frames held back, ${lane.overflow} dropped; ` +
      `${stats.fastRetransmits} fast retransmits, ${stats.timeouts} timeouts, ` +
      `${stats.retransmits} retransmitted segments, ${stats.rescueRetransmits} rescues; ` +
      `${dsacks} D-SACKs sent by the kernel, ${stats.dsacksReceived} believed; ` +
      `undone: ${stats.recoveryUndos} recoveries, ` +
      `${stats.timeoutUndos} timeouts (${stats.dsackUndos} by D-SACK)`,
  );
  assert.is(lane.overflow, 0, "the link only reorders");
  assert.ok(stats.fastRetransmits > 0, "the reordering was taken for loss");
  // Nothing is lost or duplicated on the way: every D-SACK is about a needless retransmission
  // of ours, and is believed; only those that land after our side has closed go unread, at most
  // one per segment of the 64 KB send ring that can be outstanding then.
  assert.ok(stats.dsacksReceived <= dsacks, "no D-SACK the kernel did not send");
  assert.ok(
    dsacks - stats.dsacksReceived <= Math.ceil((64 * 1024) / 1448),
    `the kernel's D-SACKs believed (${stats.dsacksReceived} of ${dsacks})`,
  );
  return stats;
}

test("16 MB through reordering, kernel timestamps off: its D-SACKs undo the spurious recoveries", async ({
  lab,
}) => {
  const stats = await reorderedUpload(lab, false);
  assert.ok(stats.dsacksReceived > 0, "the kernel reported duplicates");
  assert.ok(stats.dsackUndos > 0, "D-SACKs undid reductions");
  assert.ok(stats.recoveryUndos + stats.timeoutUndos >= stats.dsackUndos);
});

test("16 MB through reordering, kernel timestamps on: undone by timestamps or D-SACKs", async ({
  lab,
}) => {
  const stats = await reorderedUpload(lab, true);
  assert.ok(stats.recoveryUndos + stats.timeoutUndos > 0, "reductions undone");
});

test.run();
