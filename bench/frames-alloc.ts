// Allocation per received frame, for every kind of frame the stack meets, malformed or not: one
// stack over a LinkPair (steps/frames.ts), fed a million frames of one kind after warm-up in a
// fresh process per kind, so the V8 state one kind leaves (inlining, feedback, a deoptimised
// function) cannot hide another's allocation; then once with every kind interleaved. The target is
// zero garbage collections for every kind. Optionally the same step under the XS engine: slots
// allocated per frame.
//
// Usage: node --expose-gc .build/bench/frames-alloc.js [frames] [--xs] [kind...]
//        node --expose-gc .build/bench/frames-alloc.js --child <kind> <frames> <warmup>
//        node .build/bench/frames-alloc.js --xs-child <kind> <steps>

import { execFile } from "node:child_process";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { counters, delta, type Counters } from "../test/support/harness.js";
import { FRAME_KINDS, FrameRig, type FrameKind } from "./steps/frames.js";

export interface FrameAllocFigure {
  kind: FrameKind;
  frames: number;
  /** Garbage collections during the measured frames (none forced). */
  garbageCollections: number;
  /** Of which scavenges: what allocation on the frame path would cause first. */
  minorCollections: number;
  /** Heap bytes gained over the run, with no collection forced in between. */
  heapGrowth: number;
  /** Heap bytes gained between forced collections before and after: what is kept. */
  heapRetained: number;
  framesPerSecond: number;
  /** Frames the stack sent back, datagrams and errors the application read. */
  sent: number;
  datagrams: number;
  errors: number;
  leakedBuffers: number;
  /** The counters the measured frames moved, so a kind is seen to take the path it names. */
  counters: Counters;
}

export interface XsFrameFigure {
  kind: FrameKind;
  steps: number;
  allocatedSlotsPerStep: number;
  retainedSlotsPerStep: number;
  computePerStep: number;
}

const self = fileURLToPath(import.meta.url);

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc");
  gc();
}

/** GC entries reach observers asynchronously; give them time to arrive. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

/** Measures `frames` frames of `kind` in this process, after `warmup` frames. */
export async function measureKind(
  kind: FrameKind,
  frames: number,
  warmup: number,
): Promise<FrameAllocFigure> {
  const rig = new FrameRig(kind);
  for (let i = 0; i < warmup; i++) rig.step(i);
  let collections = 0;
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      collections++;
      const detail = (entry as { detail?: { kind?: number } }).detail;
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const before = counters(rig.stack);
  const sent = rig.sent;
  const datagrams = rig.app.datagrams;
  const errors = rig.app.errors;
  collect();
  const retainedBefore = process.memoryUsage().heapUsed;
  await settle();
  collections = 0;
  minor = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = warmup; i < warmup + frames; i++) rig.step(i);
  const seconds = (performance.now() - started) / 1000;
  const heapAfter = process.memoryUsage().heapUsed;
  await settle();
  const gcs = collections;
  const minorGcs = minor;
  observer.disconnect();
  collect();
  const retainedAfter = process.memoryUsage().heapUsed;
  return {
    kind,
    frames,
    garbageCollections: gcs,
    minorCollections: minorGcs,
    heapGrowth: heapAfter - heapBefore,
    heapRetained: retainedAfter - retainedBefore,
    framesPerSecond: frames / seconds,
    sent: rig.sent - sent,
    datagrams: rig.app.datagrams - datagrams,
    errors: rig.app.errors - errors,
    leakedBuffers: rig.leaked(),
    counters: delta(before, counters(rig.stack)),
  };
}

function runChild(args: string[], nodeFlags: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeFlags, self, ...args],
      { encoding: "utf8", maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${args.join(" ")}: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * One kind in a fresh `node --expose-gc` process. Without V8's memory reducer: the collection
 * forced before measuring arms it, and 8 s later it starts an incremental mark-compact whatever
 * the program allocates, which a slow run (a loaded machine) would count against the stack.
 */
export async function measureKindInChild(
  kind: FrameKind,
  frames: number,
  warmup = 100_000,
): Promise<FrameAllocFigure> {
  const out = await runChild(
    ["--child", kind, String(frames), String(warmup)],
    ["--expose-gc", "--no-memory-reducer"],
  );
  return JSON.parse(out) as FrameAllocFigure;
}

/** Every kind, each in its own process, one after the other, then all of them mixed. */
export async function framesAlloc(
  frames: number,
  kinds: readonly FrameKind[] = [...FRAME_KINDS, "mixed"],
  warmup = 100_000,
): Promise<FrameAllocFigure[]> {
  const out: FrameAllocFigure[] = [];
  for (const kind of kinds) out.push(await measureKindInChild(kind, frames, warmup));
  return out;
}

/** Slots allocated per frame of `kind` under XS (in a child: the worker locks this process down). */
export async function xsFrameSlots(kind: FrameKind, steps: number): Promise<XsFrameFigure> {
  const out = await runChild(["--xs-child", kind, String(steps)], []);
  return JSON.parse(out) as XsFrameFigure;
}

async function xsChild(kind: FrameKind, steps: number): Promise<XsFrameFigure> {
  const { bundleScript, freezePrologue } = await import("../test/support/xs.js");
  const { measureXsSlots } = await import("./xs-alloc.js");
  const entry = fileURLToPath(new URL("./steps/frames.js", import.meta.url));
  const prologue = freezePrologue();
  const source = `import { setup, step } from ${JSON.stringify(entry)};
${prologue.imports}
${prologue.run}
setup(${JSON.stringify(kind)});
globalThis.step = step;
`;
  const bundle = await bundleScript(source, `frames_alloc_${kind}`);
  const f = await measureXsSlots(bundle, { steps });
  return {
    kind,
    steps: f.steps,
    allocatedSlotsPerStep: f.allocatedSlotsPerStep,
    retainedSlotsPerStep: f.retainedSlotsPerStep,
    computePerStep: f.computePerStep,
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/** One line per kind, as the benchmark prints it. */
export function describeFrames(f: FrameAllocFigure, xs?: XsFrameFigure): string {
  return (
    `${f.kind.padEnd(21)} ${fmt(f.frames).padStart(9)} frames: ${String(f.garbageCollections).padStart(3)} GCs (${f.minorCollections} minor), ` +
    `heap ${f.heapGrowth >= 0 ? "+" : ""}${fmt(f.heapGrowth)} B, kept ${f.heapRetained >= 0 ? "+" : ""}${fmt(f.heapRetained)} B, ` +
    `${fmt(f.framesPerSecond)} frames/s, ${fmt(f.sent)} sent back, ${f.leakedBuffers} leaked` +
    (xs === undefined ? "" : `; XS ${xs.allocatedSlotsPerStep.toFixed(2)} slots/frame`)
  );
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "--child") {
    const figure = await measureKind(argv[1] as FrameKind, Number(argv[2]), Number(argv[3]));
    process.stdout.write(JSON.stringify(figure) + "\n");
    return;
  }
  if (argv[0] === "--xs-child") {
    process.stdout.write(
      JSON.stringify(await xsChild(argv[1] as FrameKind, Number(argv[2]))) + "\n",
    );
    // The worker API leaves handles behind.
    process.exit(0);
  }
  const xs = argv.includes("--xs");
  const rest = argv.filter((a) => !a.startsWith("--"));
  const frames = rest.length > 0 && /^\d+$/.test(rest[0]) ? Number(rest.shift()) : 1_000_000;
  const kinds = rest.length > 0 ? (rest as FrameKind[]) : [...FRAME_KINDS, "mixed" as const];
  for (const kind of kinds) {
    const f = await measureKindInChild(kind, frames);
    const x = xs ? await xsFrameSlots(kind, 500) : undefined;
    console.log(describeFrames(f, x));
    if (f.garbageCollections > 0 || process.argv.includes("--counters"))
      console.log(`   ${JSON.stringify(f.counters)}`);
  }
}

if (process.argv[1] === self) await main(process.argv.slice(2));
