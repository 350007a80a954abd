// What a DNS query costs: the stub resolver asking a responder on another stack over the
// in-memory pair (no cache, so every query crosses the wire), beside the same question and
// answer through a bare UDP endpoint. Prints queries per second, V8 garbage collections and heap
// growth per query, and XS slots per query after a preload-like freeze.
// Usage: node --expose-gc .build/bench/dns.js [queries]

import { execFileSync } from "node:child_process";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as steps from "./steps/dns.js";

export interface DnsFigure {
  mode: steps.DnsMode;
  queries: number;
  perSecond: number;
  collections: number;
  heapGrowthPerQuery: number;
  leaked: number;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc");
  gc();
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

export async function dnsFigure(mode: steps.DnsMode, queries: number): Promise<DnsFigure> {
  steps.setup(mode);
  for (let i = 0; i < 5000; i++) steps.step(i);
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  collect();
  await settle();
  collections = 0;
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = 0; i < queries; i++) steps.step(i);
  const seconds = (performance.now() - started) / 1000;
  const after = process.memoryUsage().heapUsed;
  await settle();
  observer.disconnect();
  return {
    mode,
    queries,
    perSecond: queries / seconds,
    collections,
    heapGrowthPerQuery: (after - before) / queries,
    leaked: steps.leaked(),
  };
}

/** XS slots allocated per query (xs-alloc, after a preload-like freeze). */
export function xsSlotsPerQuery(mode: steps.DnsMode, count: number): number {
  const xsAlloc = fileURLToPath(new URL("./xs-alloc.js", import.meta.url));
  const name = mode === "udp" ? "dns-udp" : "dns";
  const entry = fileURLToPath(new URL(`./steps/${name}.js`, import.meta.url));
  const xs = JSON.parse(
    execFileSync(process.execPath, [xsAlloc, entry, String(count), "--freeze"], {
      encoding: "utf8",
    }),
  ) as { allocatedSlotsPerStep: number };
  return xs.allocatedSlotsPerStep;
}

export function describeDns(f: DnsFigure, xs: number | null): string {
  return (
    `DNS ${f.mode === "resolver" ? "resolver (A, no cache)" : "baseline (bare UDP)   "}: ` +
    `${Math.round(f.perSecond)} queries/s, ${f.collections} GCs over ${f.queries} queries, ` +
    `heap ${f.heapGrowthPerQuery.toFixed(1)} B/query` +
    (xs === null ? "" : `, XS ${xs} slots/query`) +
    `, ${f.leaked} buffers leaked`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const queries = Number(process.argv[2] ?? 100_000);
  for (const mode of ["udp", "resolver"] as const)
    console.log(describeDns(await dnsFigure(mode, queries), xsSlotsPerQuery(mode, 500)));
}
