// UDP echo between two stacks over the in-memory pair, in one process on V8: round trips per
// second, and what one million of them allocate (garbage collections, heap growth). Beside it, the
// pair's own ceiling: frames per second through the link with no stack.

import { PerformanceObserver } from "node:perf_hooks";
import { LinkPair } from "../hal/pair.js";
import { Memory } from "../src/storage/memory.js";
import * as echo from "./steps/udp-echo.js";

export interface PairEchoFigure {
  size: number;
  roundTrips: number;
  roundTripsPerSecond: number;
  garbageCollections: number;
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

export async function pairEcho(size: number, roundTrips: number): Promise<PairEchoFigure> {
  echo.setup(size);
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
    roundTrips,
    roundTripsPerSecond: roundTrips / seconds,
    garbageCollections: gcs,
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
