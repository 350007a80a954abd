// Steady-state allocation over the TAP, alone: the stack of the interop suites (tapStack) with its
// discard and chargen services and the bench's bulk sender, the kernel's tcp-load on the other
// side. A probe polled with the stack reads the V8 heap each time another `step` bytes have moved,
// so the growth per MB is taken between two points inside one transfer, apart from what the
// transfer costs once (the client's process, pipes, promises, the connection). The growth over
// the whole transfer is printed too, as bench/tcp-tap.ts measures it.
//
//   node --expose-gc .build/bench/tcp-steady.js [--mb 256] [--profile MB] [--series]
//        [--perf-event probe_node:NAME]
//
// --profile runs the sampling heap profiler (objects later collected included) over the middle
// half of one transfer each way and prints the allocation sites by bytes sampled; --series prints
// every reading, and the driver's polls and the TAP's addon calls per MB.
//
// What is left on Node 20 is Node's own: "(V8 API)" at the root is the empty object that
// Environment::RunAndClearNativeImmediates makes on every turn of the event loop (its check phase
// runs whether or not anything is queued), about 56 bytes a turn, so the figure per MB follows the
// loop turns per MB (fewer with bigger batches per poll), not the bytes. --perf-event counts the
// turns with `perf stat` over each measured transfer, given a uprobe on that function; make one
// with `perf probe -x $(which node) --add 0xOFFSET` (its file offset, from nm and readelf -l).

import { execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { Session } from "node:inspector";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { Lab } from "../hal/platform/node/lab.js";
import { tapStack, until, type TapStack } from "../test/support/tap-stack.js";
import { HeapProbe } from "./heap-probe.js";
import { BULK_PORT, BulkSource } from "./tcp-tap.js";

const MB = 1 << 20;

interface Direction {
  label: string;
  mode: "send" | "recv";
  port: number;
  /** Bytes the stack's side has moved so far. */
  moved(run: TapStack, bulk: BulkSource): number;
}

const DIRECTIONS: readonly Direction[] = [
  {
    label: "kernel -> stack discard",
    mode: "send",
    port: 9,
    moved: (run) => run.services.bytesIn,
  },
  {
    label: "stack bulk sender -> kernel",
    mode: "recv",
    port: BULK_PORT,
    moved: (_run, bulk) => bulk.bytesOut,
  },
  {
    label: "stack chargen -> kernel",
    mode: "recv",
    port: 19,
    moved: (run) => run.services.bytesOut,
  },
];

interface Run {
  bytes: number;
  seconds: number;
  collections: number;
  /** Heap growth over the whole transfer. */
  growth: number;
  /** Heap growth per MB between the first and the last reading inside it (readings' cost off). */
  perMb: number;
  /** The median of the same over each step between two readings. */
  medianPerMb: number;
  /** MB between those readings. */
  spanMb: number;
  /** The driver's polls and the TAP's calls and frames per MB. */
  events: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error("run with node --expose-gc");
  collect();
}

class Collections {
  count = 0;
  private readonly observer = new PerformanceObserver(
    (list) => (this.count += list.getEntries().length),
  );
  constructor() {
    this.observer.observe({ entryTypes: ["gc"] });
  }
  stop(): void {
    this.observer.disconnect();
  }
}

async function transfer(
  lab: Lab,
  tools: string,
  d: Direction,
  bytes: number,
): Promise<{ bytes: number; seconds: number }> {
  const r = await lab.run(
    `${tools}/tcp-load`,
    [d.mode, "192.0.2.2", String(d.port), String(bytes)],
    { timeoutMs: 300_000 },
  );
  const match = /bytes (\d+) seconds ([\d.]+)/.exec(r.stdout);
  if (r.status !== 0 || match === null)
    throw new Error(`${d.label}: ${r.stdout.trim()} ${r.stderr.trim()}`);
  return { bytes: Number(match[1]), seconds: Number(match[2]) };
}

interface Context {
  lab: Lab;
  tools: string;
  run: TapStack;
  bulk: BulkSource;
  probe: HeapProbe;
  counter: Collections;
  /** A perf event to count over each measured transfer ("" for none). */
  perfEvent: string;
}

/** Bytes of the empty object Node 20 makes per event-loop turn (v8::Object::New, 7 words). */
const NODE_TURN_OBJECT = 56;

/**
 * Counts `event` (perf's name for it) in this process until stop(): with a uprobe on Node's
 * Environment::RunAndClearNativeImmediates, the event loop's turns. NaN when perf cannot.
 */
async function perfCount(event: string): Promise<{ stop(): Promise<number> }> {
  const child = spawn("perf", ["stat", "-x", ",", "-e", event, "-p", String(process.pid)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let report = "";
  child.stderr.on("data", (chunk: Buffer) => (report += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  await sleep(300);
  return {
    async stop(): Promise<number> {
      child.kill("SIGINT");
      await exited;
      const match = /^(\d+),/m.exec(report);
      return match === null ? NaN : Number(match[1]);
    },
  };
}

async function measured(x: Context, d: Direction, bytes: number): Promise<Run> {
  await until(() => x.run.services.active === 0, 2000);
  gc();
  await sleep(50);
  x.counter.count = 0;
  x.probe.watch(() => d.moved(x.run, x.bulk), 16 * MB);
  // Marks for --trace-opt / --trace-deopt output, when the run is traced.
  if (process.env.STEADY_MARKS) console.error(`[steady] ${d.label}: start`);
  const tap = x.run.tap;
  const counts = (): number[] => [
    x.run.driver.polls,
    tap.batchesIn,
    tap.framesIn,
    tap.batchesOut,
    tap.framesOut,
  ];
  const turns = x.perfEvent === "" ? null : await perfCount(x.perfEvent);
  const countsBefore = counts();
  const before = getHeapStatistics().used_heap_size;
  const t = await transfer(x.lab, x.tools, d, bytes);
  const turnCount = turns === null ? NaN : await turns.stop();
  if (process.env.STEADY_MARKS) console.error(`[steady] ${d.label}: end`);
  const growth = getHeapStatistics().used_heap_size - before;
  x.probe.stop();
  await sleep(50);
  const { perMb, medianPerMb, spanMb } = x.probe.slope();
  const perMbOf = counts().map((c, i) => ((c - countsBefore[i]) / (t.bytes / MB)).toFixed(1));
  let events = `per MB: ${perMbOf[0]} polls, ${perMbOf[1]} read calls of ${perMbOf[2]} frames, ${perMbOf[3]} write calls of ${perMbOf[4]} frames`;
  if (turns !== null) {
    const turnsPerMb = turnCount / (t.bytes / MB);
    events += `, ${turnsPerMb.toFixed(1)} ${x.perfEvent} (x ${NODE_TURN_OBJECT} B: ${(turnsPerMb * NODE_TURN_OBJECT).toFixed(0)} B per MB)`;
  }
  return { ...t, collections: x.counter.count, growth, perMb, medianPerMb, spanMb, events };
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

function post<T>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) =>
      error !== null ? reject(error) : resolve(result as T),
    ),
  );
}

/** Allocation sites over the middle half of one transfer, by bytes sampled. */
async function profile(x: Context, d: Direction, bytes: number): Promise<string[]> {
  await until(() => x.run.services.active === 0, 2000);
  const session = new Session();
  session.connect();
  try {
    await post(session, "HeapProfiler.enable");
    let stopped: Promise<{ profile: { head: ProfileNode } }> | null = null;
    x.probe.watch(() => d.moved(x.run, x.bulk), 0);
    x.probe.at(bytes / 4, () => {
      void post(session, "HeapProfiler.startSampling", {
        samplingInterval: 256,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    });
    x.probe.at((bytes * 3) / 4, () => {
      stopped = post(session, "HeapProfiler.stopSampling");
    });
    await transfer(x.lab, x.tools, d, bytes);
    x.probe.stop();
    if (stopped === null) throw new Error("profile: the transfer ended early");
    const { profile } = await (stopped as Promise<{ profile: { head: ProfileNode } }>);
    const sites = new Map<string, number>();
    const walk = (node: ProfileNode, caller: string): void => {
      const f = node.callFrame;
      const file = f.url.replace(/^.*\/\.build\//, "");
      const site = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
      if (node.selfSize > 0) {
        const key = `${site}  <- ${caller}`;
        sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
      }
      for (const child of node.children) walk(child, site);
    };
    walk(profile.head, "");
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    const lines = [
      `${d.label}, the middle ${bytes / 2 / MB} MB of ${bytes / MB}: ${total.toLocaleString("en-US")} B sampled`,
    ];
    for (const [site, size] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 20))
      lines.push(`  ${size.toLocaleString("en-US").padStart(12)}  ${site}`);
    return lines;
  } finally {
    await post(session, "HeapProfiler.disable").catch(() => undefined);
    session.disconnect();
  }
}

export async function tcpSteady(
  bytes: number,
  profileBytes: number,
  series = false,
  perfEvent = "",
): Promise<string[]> {
  const script = fileURLToPath(new URL("../../bench/native/build.sh", import.meta.url));
  const tools = execFileSync("sh", [script], { encoding: "utf8" }).trim();
  const lab = await Lab.create();
  const counter = new Collections();
  const lines: string[] = [];
  try {
    const run = await tapStack(lab, "tap0");
    const bulk = new BulkSource(run.stack);
    const probe = new HeapProbe();
    run.driver.add(probe);
    const x: Context = { lab, tools, run, bulk, probe, counter, perfEvent };
    try {
      for (const d of DIRECTIONS) {
        // Warm-up: ARP, the optimizing compiler, the first connection's costs.
        await until(() => run.services.active === 0, 2000);
        await transfer(lab, tools, d, 32 * MB);
        const r = await measured(x, d, bytes);
        if (series) lines.push(`  ${r.events}`);
        if (series)
          lines.push(
            `  readings (MB moved: heap KB): ` +
              probe.bytes
                .map((m, i) => `${(m / MB).toFixed(0)}: ${(probe.heap[i] / 1024).toFixed(0)}`)
                .join(", "),
          );
        lines.push(
          `${d.label}, ${(r.bytes / MB).toFixed(0)} MB at ${((r.bytes * 8) / r.seconds / 1e9).toFixed(2)} Gbit/s: ` +
            `${r.collections} GCs, heap +${r.growth.toLocaleString("en-US")} B over the transfer, ` +
            `${r.perMb.toFixed(0)} B per MB over its last ${r.spanMb.toFixed(0)} MB ` +
            `(median of its 16 MB steps ${r.medianPerMb.toFixed(0)})`,
        );
      }
      if (profileBytes > 0)
        for (const d of DIRECTIONS) lines.push(...(await profile(x, d, profileBytes)));
    } finally {
      bulk.close();
      run.stop();
    }
  } finally {
    counter.stop();
    await lab.close();
    rmSync(tools, { recursive: true, force: true });
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = Lab.check();
  if (!check.ok) {
    console.log(`skipped: ${check.reason}`);
  } else {
    const argv = process.argv;
    const at = argv.indexOf("--mb");
    const bytes = Number(at >= 0 ? argv[at + 1] : "256") * MB;
    const p = argv.indexOf("--profile");
    const profileBytes = p >= 0 ? Number(argv[p + 1]) * MB : 0;
    const e = argv.indexOf("--perf-event");
    const perfEvent = e >= 0 ? argv[e + 1] : "";
    for (const line of await tcpSteady(bytes, profileBytes, argv.includes("--series"), perfEvent))
      console.log(line);
  }
}
