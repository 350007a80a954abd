// No frame the stack receives may allocate, whatever it carries: every kind of frame, valid or
// malformed (bench/steps/frames.ts), runs 200,000 times after warm-up in a fresh Node process of
// its own, so the V8 state one kind leaves cannot hide another's allocation, and must cause no
// garbage collection. At 16 bytes a frame, 200,000 frames are 3 MB: more than a young generation
// holds, so a single heap number per frame shows up as collections. Under XS the same step must
// take no slot per frame for UDP, echo, ARP and fragments.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { measureKindInChild, xsFrameSlots } from "../../bench/frames-alloc.js";
import { FRAME_KINDS, type FrameKind } from "../../bench/steps/frames.js";

const FRAMES = 200_000;
// The same warm-up as the benchmark: V8 keeps tiering up the stack's code for a while.
const WARMUP = 100_000;

/** A counter each kind must move, so the frames are seen to take the path they name. */
const PATH: Record<FrameKind, string> = {
  udp: "udp.datagramsIn",
  "udp-closed-port": "icmp.destUnreachableOut",
  "udp-bad-checksum": "udp.badChecksum",
  "echo-64": "icmp.echoRepliesOut",
  "echo-1400": "icmp.echoRepliesOut",
  "echo-checksum-edge": "icmp.echoRepliesOut",
  "icmp-error-ours": "icmp.errorsIn",
  "icmp-error-other": "icmp.errorsNotOurs",
  "arp-request": "arp.repliesOut",
  "arp-reply": "arp.repliesIn",
  "arp-other": "arp.notForUs",
  fragments: "ip.reassembled",
  "fragments-incomplete": "ip.reassemblyTimeouts",
  "ip-bad-checksum": "ip.badChecksum",
  "ip-bad-version": "ip.badVersion",
  truncated: "ip.truncated",
  runt: "link.runts",
  "unknown-ethertype": "link.unknownEtherType",
  "group-udp": "udp.datagramsIn",
  "ttl-0": "udp.datagramsIn",
  mixed: "ip.reassembled",
};

for (const kind of [...FRAME_KINDS, "mixed" as const]) {
  test(`${kind}: no garbage collection in ${FRAMES.toLocaleString("en-US")} frames`, async () => {
    const f = await measureKindInChild(kind, FRAMES, WARMUP);
    const summary = `${f.garbageCollections} GCs, heap +${f.heapGrowth} B, ${JSON.stringify(f.counters)}`;
    assert.ok((f.counters[PATH[kind]] ?? 0) > 0, `${kind} never reached ${PATH[kind]}: ${summary}`);
    assert.is(f.leakedBuffers, 0, `${kind} leaked pool buffers`);
    assert.is(f.garbageCollections, 0, `${kind} allocates: ${summary}`);
  });
}

test("under XS: no slot per frame of UDP, echo, ARP and fragments", async () => {
  for (const kind of ["udp", "echo-64", "arp-request", "fragments"] as const) {
    const f = await xsFrameSlots(kind, 100);
    assert.ok(f.computePerStep > 1000, `${kind}: the step did run`);
    assert.is(f.allocatedSlotsPerStep, 0, `${kind} under XS: ${JSON.stringify(f)}`);
  }
});

test.run();
