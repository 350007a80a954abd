// The benchmarks, in one run: figures printed side by side with their baselines, never pass/fail.
//   npm run bench            (as root for the TAP figures)
// 1. Two stacks over the in-memory pair on V8: UDP echo round trips per second beside the pair's
//    own frame ceiling, and steady-state allocation over one million echoed datagrams.
// 2. The same step under the real XS engine: slots allocated and kept per echoed datagram; and
//    1 MB of TCP between two stacks over the pair: slots allocated and compute per megabyte.
// 3. The stack against the Linux kernel over the TAP: UDP echoes per second beside the raw TAP
//    frame ceiling; then TCP (into discard, out of a bulk sender and chargen, through echo), ping
//    and UDP echo beside lwIP on the same kind of TAP and the kernel over a veth, and allocation
//    during a 256 MB transfer (bench/tcp-tap.ts runs alone too).
// 4. Memory by profile: arena bytes by component and the V8 heap of a Stack (bench/memory.ts).
// 5. Allocation per received frame of every kind, valid or malformed, each kind in a fresh
//    process: garbage collections and heap growth per million frames, and XS slots per frame.
// 6. The ENC28J60 driver over its simulated chip: SPI transactions and bytes per frame, projected
//    throughput at 8 and 20 MHz, and slots per frame under XS (bench/enc28j60.ts runs alone too).
// 7. The W5500 driver over its simulated chip: SPI cost per frame and projected throughput.
// 8. The socket layer: GCs, heap growth and XS slots per MB through it, beside the endpoints.

import { tcpPairReport } from "./tcp-pair.js";
import { execFileSync } from "node:child_process";
import { cpus, release } from "node:os";
import { fileURLToPath } from "node:url";
import { Lab } from "../hal/platform/node/lab.js";
import { describeEcho, pairCeiling, pairEcho } from "./echo-pair.js";
import { describeFrames, framesAlloc, xsFrameSlots } from "./frames-alloc.js";
import { describeEnc28j60 } from "./enc28j60.js";
import { describeDns, dnsFigure, xsSlotsPerQuery } from "./dns.js";
import { describeSocket, socketFigure, xsSlotsPerMb } from "./epsocket.js";
import { tapEcho } from "./echo-tap.js";
import { describeProfileMemory } from "./memory.js";
import { tapCeiling } from "./tap-ceiling.js";
import { describeTcpTap, tcpTap, tcpTapOptions } from "./tcp-tap.js";
import { describeW5500 } from "./w5500.js";

const quick = process.argv.includes("--quick");
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

console.log(`netstack benchmarks, ${new Date().toISOString().slice(0, 10)}`);
console.log(
  `machine: ${cpus()[0]?.model ?? "?"} x${cpus().length}, Linux ${release()}, Node ${process.version}`,
);
console.log("");

console.log("1. In-memory pair, V8 (two stacks and the link in one arena)");
console.log(
  `   pair ceiling, no stack:   ${fmt(pairCeiling(60, 2_000_000))} frames/s of 60 B, ${fmt(pairCeiling(1514, 1_000_000))} frames/s of 1514 B`,
);
for (const [size, trips] of [
  [64, quick ? 100_000 : 1_000_000],
  [1472, quick ? 50_000 : 300_000],
  [8000, quick ? 10_000 : 50_000],
] as const) {
  for (const layout of ["shared", "own"] as const)
    console.log(`   ${describeEcho(await pairEcho(size, trips, layout))}`);
}
for (const line of await tcpPairReport(quick ? 32 : 256)) console.log(`   ${line}`);
console.log("");

console.log("2. XS engine (xsnap, XS 13.3), the 512-byte echo step after a preload-like freeze");
const xsAlloc = fileURLToPath(new URL("./xs-alloc.js", import.meta.url));
for (const [label, entry] of [
  ["one arena", "./steps/udp-echo.js"],
  ["own memory", "./steps/udp-echo-own.js"],
] as const) {
  const step = fileURLToPath(new URL(entry, import.meta.url));
  // In a child: the worker API locks down this process's intrinsics.
  const xs = JSON.parse(
    execFileSync(process.execPath, [xsAlloc, step, quick ? "200" : "1000", "--freeze"], {
      encoding: "utf8",
    }),
  ) as {
    steps: number;
    allocatedSlotsPerStep: number;
    retainedSlotsPerStep: number;
    computePerStep: number;
  };
  console.log(
    `   ${label}, per round trip (a datagram and its echo): ${xs.allocatedSlotsPerStep} slots allocated, ${xs.retainedSlotsPerStep} kept,` +
      ` ${fmt(xs.computePerStep)} compute units (over ${xs.steps} steps)`,
  );
}
{
  // 64 steps of 16 KB: each measured run moves 1 MB of TCP between two stacks with their own memory.
  const step = fileURLToPath(new URL("./steps/tcp-bulk.js", import.meta.url));
  const xs = JSON.parse(
    execFileSync(process.execPath, [xsAlloc, step, "64", "--freeze"], { encoding: "utf8" }),
  ) as {
    steps: number;
    allocatedSlotsPerStep: number;
    retainedSlotsPerStep: number;
    computePerStep: number;
  };
  const perMb = (xs.computePerStep * (1 << 20)) / 16384;
  console.log(
    `   TCP bulk, own memory, 1 MB in ${xs.steps} steps of 16 KB between two stacks over the pair:` +
      ` ${xs.allocatedSlotsPerStep * xs.steps} slots allocated, ${xs.retainedSlotsPerStep * xs.steps} kept,` +
      ` ${fmt(perMb)} compute units per MB`,
  );
}
console.log("");

console.log("3. Against the Linux kernel over the TAP");
const check = Lab.check();
if (!check.ok) {
  console.log(`   skipped: ${check.reason}`);
} else {
  const ceiling = await tapCeiling(quick ? 1 : 2);
  // Payload a 1514-byte frame carries as TCP (1460 B), at the ceiling's frame rates.
  const gbps = (fps: number): string => ((fps * 1460 * 8) / 1e9).toFixed(2);
  console.log(
    `   TAP ceiling, no stack:    ${fmt(ceiling.txFps)} frames/s out, ${fmt(ceiling.rxFps)} frames/s in (1514 B;` +
      ` as TCP payload ${gbps(ceiling.txFps)} Gbit/s out, ${gbps(ceiling.rxFps)} in)`,
  );
  for (const f of await tapEcho([64, 1472, 8000], quick ? 1 : 3)) {
    console.log(
      `   UDP echo ${String(f.size).padStart(4)} B: ${fmt(f.echoesPerSecond)} echoes/s` +
        ` (window ${f.window}, stack process at ${(f.cpu * 100).toFixed(0)}% of a core, ${f.garbageCollections} GCs,` +
        ` ${f.framesPerRead.toFixed(1)} frames per read call, ${f.framesPerWrite.toFixed(1)} per write call)`,
    );
  }
  console.log("   TCP, ping and UDP echo beside lwIP on a TAP and the kernel over a veth:");
  for (const line of describeTcpTap(await tcpTap(tcpTapOptions(quick), quick ? 1 : 3)))
    console.log(`   ${line}`);
}
console.log("");

console.log("4. Memory by profile (arena bytes; V8 heap of the Stack objects beyond the arena)");
for (const line of describeProfileMemory()) console.log(`   ${line}`);
console.log("");

console.log(
  "5. Allocation per received frame, by kind: one stack, each kind in a fresh process (V8)",
);
const xsKinds = ["udp", "echo-64", "arp-request", "fragments"];
for (const f of await framesAlloc(quick ? 200_000 : 1_000_000)) {
  const xs = xsKinds.includes(f.kind) ? await xsFrameSlots(f.kind, quick ? 200 : 500) : undefined;
  console.log(`   ${describeFrames(f, xs)}`);
}
console.log("");

console.log(
  "6. ENC28J60: the driver over the simulated chip (SPI traffic per frame, projected throughput)",
);
for (const line of describeEnc28j60()) console.log(`   ${line}`);
{
  const step = fileURLToPath(new URL("./steps/enc28j60.js", import.meta.url));
  const xs = JSON.parse(
    execFileSync(process.execPath, [xsAlloc, step, quick ? "100" : "500", "--freeze"], {
      encoding: "utf8",
    }),
  ) as { steps: number; allocatedSlotsPerStep: number; retainedSlotsPerStep: number };
  console.log(
    `   under XS, per frame of 64..1514 B received and sent back through driver and chip: ${xs.allocatedSlotsPerStep} slots allocated,` +
      ` ${xs.retainedSlotsPerStep} kept (over ${xs.steps} steps)`,
  );
}
console.log("");

console.log(
  "7. W5500 through the driver and the simulated chip (SPI cost per frame, projected throughput)",
);
for (const line of describeW5500()) console.log(`   ${line}`);
console.log("");

console.log(
  "8. The socket layer on the data paths: 1 KB steps through sendMsg/recvMsg beside the endpoints",
);
for (const protocol of ["udp", "tcp"] as const)
  for (const mode of ["endpoint", "socket", "blocking", "ecma419"] as const)
    console.log(
      `   ${describeSocket(await socketFigure(protocol, mode, quick ? 4 : 16), xsSlotsPerMb(protocol, mode, quick ? 100 : 200))}`,
    );
console.log("");

console.log(
  "9. DNS: one A query per step to a responder on the other stack, beside the same bytes over bare UDP",
);
for (const mode of ["udp", "resolver"] as const)
  console.log(
    `   ${describeDns(await dnsFigure(mode, quick ? 20_000 : 100_000), xsSlotsPerQuery(mode, quick ? 200 : 500))}`,
  );
