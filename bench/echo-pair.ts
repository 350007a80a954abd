// UDP echo between two stacks over the in-memory pair, in one process on V8: round trips per
// second, and what they allocate (garbage collections per million round trips, heap growth), with
// everything in one arena and with each stack, the pair and the application in its own memory.
// Beside it, the pair's own ceiling: frames per second through the link with no stack.
//
// Usage: node --expose-gc .build/bench/echo-pair.js [round trips per size]

import { PerformanceObserver } from "node:perf_hooks";
import { LinkPair } from "../hal/pair.js";
import { Memory } from "../src/storage/memory.js";
import { fileURLToPath } from "node:url";
import * as echo from "./steps/udp-echo.js";
import type { Layout } from "./steps/udp-echo.js";

export interface PairEchoFigure {
  size: number;
  layout: Layout;
  roundTrips: number;
  roundTripsPerSecond: number;
  garbageCollections: number;
  /** Garbage collections scaled to one million round trips. */
  collectionsPerMillion: number;
  /** Heap bytes gained over the run, with no collection forced in between. */
  heapGrowth: number;
  /** Heap bytes gained, measured after a forced collection at each end: what is kept. */
  heapRetained: number;
  leakedBuffers: number;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc");
  gc();
}

/** GC entries reach observers asynchronously; give them time to arrive. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

export async function pairEcho(
  size: number,
  roundTrips: number,
  layout: Layout = "shared",
): Promise<PairEchoFigure> {
  echo.setup(size, layout);
  for (let i = 0; i < 20000; i++) echo.step(i);
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  collect();
  await settle();
  collections = 0;
  const retainedBefore = process.memoryUsage().heapUsed;
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = 0; i < roundTrips; i++) echo.step(i);
  const seconds = (performance.now() - started) / 1000;
  const after = process.memoryUsage().heapUsed;
  await settle();
  const gcs = collections;
  collect();
  const retainedAfter = process.memoryUsage().heapUsed;
  observer.disconnect();
  return {
    size,
    layout,
    roundTrips,
    roundTripsPerSecond: roundTrips / seconds,
    garbageCollections: gcs,
    collectionsPerMillion: (gcs * 1_000_000) / roundTrips,
    heapGrowth: after - before,
    heapRetained: retainedAfter - retainedBefore,
    leakedBuffers: echo.leaked(),
  };
}

/** Frames per second through a LinkPair alone: transmit on one end, receive on the other. */
export function pairCeiling(frameLength: number, frames: number): number {
  const memory = new Memory(new Uint8Array(2 * 64 * 1600 + 8192));
  const pair = new LinkPair({ memory, slots: 64 });
  const at = memory.take(2048);
  const into = memory.take(2048);
  const bytes = memory.bytes;
  for (let i = 0; i < frameLength; i++) bytes[at + i] = i;
  const started = performance.now();
  for (let i = 0; i < frames; i++) {
    pair.a.transmit(bytes, at, frameLength);
    if (pair.b.receive(bytes, into, 2048) !== frameLength)
      throw new Error("pair ceiling: lost a frame");
  }
  return frames / ((performance.now() - started) / 1000);
}

/** One line per figure, as the benchmark prints it. */
export function describeEcho(f: PairEchoFigure): string {
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  return (
    `UDP echo ${String(f.size).padStart(4)} B, ${f.layout === "shared" ? "one arena " : "own memory"}: ` +
    `${fmt(f.roundTripsPerSecond)} round trips/s, ${f.collectionsPerMillion.toFixed(1)} GCs per 1M ` +
    `(${fmt(f.roundTrips)} round trips: ${f.garbageCollections} GCs, heap +${fmt(f.heapGrowth)} B,` +
    ` kept +${fmt(f.heapRetained)} B, ${f.leakedBuffers} buffers leaked)`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const trips = Number(process.argv[2] ?? 200_000);
  for (const size of [64, 1472, 8000])
    for (const layout of ["shared", "own"] as const)
      console.log(describeEcho(await pairEcho(size, size === 8000 ? trips >> 2 : trips, layout)));
}
