// UDP echo against the Linux kernel over the TAP: the stack's echo service on port 7, loaded from
// the kernel side by a small C client that keeps a window of datagrams in flight.

import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PerformanceObserver } from "node:perf_hooks";
import { Lab } from "../hal/platform/node/lab.js";
import { tapStack } from "../test/support/tap-stack.js";

export interface TapEchoFigure {
  size: number;
  window: number;
  echoesPerSecond: number;
  /** Of one core, what this process used while the stack echoed. */
  cpu: number;
  /** Garbage collections in this process during the run (the Node driver's timers included). */
  garbageCollections: number;
  /** Frames per addon call each way (0 when the device does not batch). */
  framesPerRead: number;
  framesPerWrite: number;
}

function buildLoad(): string {
  const source = fileURLToPath(new URL("../../bench/native/udp-echo-load.c", import.meta.url));
  const binary = join(mkdtempSync(join(tmpdir(), "netstack-bench-")), "udp-echo-load");
  execFileSync("cc", ["-O2", "-o", binary, source]);
  return binary;
}

function perCall(frames: number, calls: number): number {
  return calls > 0 ? frames / calls : 0;
}

export async function tapEcho(
  sizes: readonly number[],
  seconds: number,
  window = 32,
): Promise<TapEchoFigure[]> {
  const load = buildLoad();
  const lab = await Lab.create();
  const figures: TapEchoFigure[] = [];
  try {
    const run = await tapStack(lab, "tap0");
    try {
      // Resolve ARP and warm up before measuring.
      await lab.run(load, ["192.0.2.2", "7", "64", "4", "0.3"], { timeoutMs: 5000 });
      let collections = 0;
      const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
      observer.observe({ entryTypes: ["gc"] });
      for (const size of sizes) {
        // Start from an empty young generation (the bench runs with --expose-gc), so a collection
        // the set-up left due is not counted against the echo path; the pause lets the observer
        // hear of this one before the count starts.
        const gc = (globalThis as { gc?: () => void }).gc;
        if (gc !== undefined) gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
        collections = 0;
        const tap = run.tap;
        const inBefore = tap.framesIn;
        const outBefore = tap.framesOut;
        const readsBefore = tap.batchesIn;
        const writesBefore = tap.batchesOut;
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        const result = await lab.run(
          load,
          ["192.0.2.2", "7", String(size), String(window), String(seconds)],
          {
            timeoutMs: seconds * 1000 + 10000,
          },
        );
        const elapsed = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        const match = /echoes (\d+) seconds ([\d.]+)/.exec(result.stdout);
        if (match === null) throw new Error(`load failed: ${result.stdout}${result.stderr}`);
        figures.push({
          size,
          window,
          echoesPerSecond: Number(match[1]) / Number(match[2]),
          cpu: (cpu.user + cpu.system) / 1e6 / elapsed,
          garbageCollections: collections,
          framesPerRead: perCall(tap.framesIn - inBefore, tap.batchesIn - readsBefore),
          framesPerWrite: perCall(tap.framesOut - outBefore, tap.batchesOut - writesBefore),
        });
      }
      observer.disconnect();
    } finally {
      run.stop();
    }
  } finally {
    await lab.close();
  }
  return figures;
}
