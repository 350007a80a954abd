// Allocation on the real XS engine, through @agoric/xsnap's worker: a bundle defines a step
// function, the worker runs it many times, and the meters it returns after every evaluation say
// how many slots the steps took.
//
// What the meters are (xsnap-worker.c fxWriteOkay, xsnapPlatform.c, xsMemory.c):
// - currentHeapCount: slots in use. fxNewSlot adds one for every slot taken from the free list,
//   garbage included; a collection resets it to the live count. So right after gc() it is the
//   live heap, and between two collections it grows by every slot allocated.
// - compute: the crank's meter index, reset at the start of each evaluation: one per bytecode
//   executed plus one per property get/set/define/delete/has done from C. Deterministic.
// - allocate: bytes the machine has taken from the system for slot and chunk blocks
//   (adjustSpaceMeter). It only grows when a heap grows, so it shows allocation that outruns
//   the free lists, not each allocation.
// A slot is 16 bytes on a 32-bit device (32 on this 64-bit host). Chunk memory (ArrayBuffer
// contents, strings, array storage) is not in currentHeapCount.
//
// Usage: node .build/bench/xs-alloc.js <compiled entry .js | bundle .js> [steps] [--freeze]
// An entry module exports `step(i)` and optionally `setup()`; a ready bundle (a script) must set
// `globalThis.step` itself.

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { readFileSync } from "node:fs";
import { type } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleScript, compiledModule, freezePrologue } from "../test/support/xs.js";

export interface XsSlotFigures {
  /** Steps in each measured run. */
  steps: number;
  /** Live slots (after gc) gained per step: what the steps keep. 0 for a steady-state path. */
  retainedSlotsPerStep: number;
  /** Slots taken per step, garbage included, measured with no collection in between. */
  allocatedSlotsPerStep: number;
  /** Meter units per step (bytecodes plus property operations). */
  computePerStep: number;
  /** Live slots each evaluation itself leaves behind, subtracted from the figures above. */
  evaluationDrift: number;
  /** Live slots after warm-up, after one more run, after another. */
  liveSlots: readonly [number, number, number];
  /** The `allocate` meter, in bytes, before and after the measured runs. */
  allocateBytes: readonly [number, number];
}

export interface XsSlotOptions {
  /** Steps per measured run (default 1000). Lowered when the steps would outgrow the free heap. */
  steps?: number;
  /** Steps run first, to reach steady state (default: as many as `steps`). */
  warmup?: number;
  /** Freeze every portable module, as preload would, before setup() (entry modules only). */
  freeze?: boolean;
}

interface MeterUsage {
  currentHeapCount: number | null;
  compute: number | null;
  allocate: number | null;
}

interface Worker {
  evaluate(code: string): Promise<{ reply: Uint8Array; meterUsage: MeterUsage }>;
  execute(fileName: string): Promise<void>;
  close(): Promise<void>;
  terminate(): Promise<void>;
}

interface XsnapModule {
  xsnap(options: Record<string, unknown>): Promise<Worker>;
}

/** Slots the free list can surely give between two collections (the worker starts with 256 K). */
const freeSlotBudget = 200_000;

async function loadWorkerApi(): Promise<XsnapModule> {
  // The worker's dependencies need HardenedJS: this locks down the intrinsics of this process.
  const init = "@endo/init";
  await import(init);
  const api = "@agoric/xsnap";
  return (await import(api)) as XsnapModule;
}

function isModule(file: string): boolean {
  return /^\s*export\s/m.test(readFileSync(file, "utf8"));
}

/** A script for the worker: the entry's step (and setup) installed as globals, or the bundle. */
async function scriptFor(bundleOrEntry: string, freeze: boolean): Promise<string> {
  if (!isModule(bundleOrEntry)) return bundleOrEntry;
  const entry = compiledModule(bundleOrEntry);
  // Which hooks it exports decides the imports (rollup refuses a missing one).
  const exported = Object.keys((await import(pathToFileURL(entry).href)) as object);
  if (!exported.includes("step")) throw new TypeError(`${bundleOrEntry} exports no step()`);
  const prologue = freeze ? freezePrologue() : { imports: "", run: "" };
  const setup = exported.includes("setup");
  const source = `import { step${setup ? ", setup" : ""} } from ${JSON.stringify(entry)};
${prologue.imports}
${prologue.run}
${setup ? "setup();" : ""}
globalThis.step = step;
`;
  const name = `alloc_${entry
    .replace(/.*\.build\//, "")
    .replace(/[/\\]/g, "_")
    .replace(/\.js$/, "")}`;
  return bundleScript(source, name + (freeze ? ".frozen" : ""));
}

function meter(usage: MeterUsage, field: keyof MeterUsage): number {
  const value = usage[field];
  if (typeof value !== "number") throw new Error(`xsnap: no ${field} meter in the reply`);
  return value;
}

/**
 * Runs a step function under XS and reports its slot use: live-heap growth per step across
 * collections (retention) and slots taken per step between collections (allocation).
 */
export async function measureXsSlots(
  bundleOrEntry: string,
  options: XsSlotOptions = {},
): Promise<XsSlotFigures> {
  const script = await scriptFor(bundleOrEntry, options.freeze ?? false);
  const { xsnap } = await loadWorkerApi();
  const worker = await xsnap({
    os: type(),
    spawn,
    fs: { ...fs, ...fs.promises },
    name: "xs-alloc",
    stdout: "inherit",
    stderr: "inherit",
    meteringLimit: 0,
  });
  try {
    await worker.execute(script);
    await worker.evaluate(
      `globalThis.__run = function (n) { const s = step; for (let i = 0; i < n; i++) s(i); };` +
        `typeof step === "function" ? 0 : (() => { throw new TypeError("no global step()"); })()`,
    );
    // Every measuring evaluation has the same text apart from one number, so the evaluation's
    // own cost (parsing it, calling __run) cancels out of each difference.
    const fresh = async (n: number) => (await worker.evaluate(`gc(); __run(${n}); 0`)).meterUsage;
    const kept = async (n: number) => (await worker.evaluate(`__run(${n}); gc(); 0`)).meterUsage;

    let steps = options.steps ?? 1000;
    // Estimate first, so the measured run never needs a collection to continue.
    const probeSteps = 16;
    const base = await fresh(0);
    const probe = await fresh(probeSteps);
    const probePerStep =
      (meter(probe, "currentHeapCount") - meter(base, "currentHeapCount")) / probeSteps;
    // (The drift below is too small to matter for this estimate.)
    if (probePerStep * steps > freeSlotBudget)
      steps = Math.max(1, Math.floor(freeSlotBudget / probePerStep));

    const warm = await kept(options.warmup ?? steps);
    const allocateBefore = meter(warm, "allocate");
    // Each evaluation itself leaves a slot or so behind; two empty runs measure that drift.
    const idle = meter(await kept(0), "currentHeapCount");
    const drift = meter(await kept(0), "currentHeapCount") - idle;
    const zero = await fresh(0);
    const some = await fresh(steps);
    const first = await kept(steps);
    const second = await kept(steps);
    const live = (usage: MeterUsage) => meter(usage, "currentHeapCount");
    return {
      steps,
      retainedSlotsPerStep: (live(second) - live(first) - drift) / steps,
      allocatedSlotsPerStep: (live(some) - live(zero) - drift) / steps,
      computePerStep: (meter(some, "compute") - meter(zero, "compute")) / steps,
      evaluationDrift: drift,
      liveSlots: [live(warm), live(first), live(second)],
      allocateBytes: [allocateBefore, meter(second, "allocate")],
    };
  } finally {
    await worker.close().catch(() => worker.terminate());
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [target, stepsText] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
  if (target === undefined) {
    console.error("usage: node .build/bench/xs-alloc.js <entry.js | bundle.js> [steps] [--freeze]");
    process.exit(2);
  }
  const figures = await measureXsSlots(target, {
    steps: stepsText === undefined ? undefined : Number(stepsText),
    freeze: process.argv.includes("--freeze"),
  });
  console.log(JSON.stringify(figures, null, 2));
}
