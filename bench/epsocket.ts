// What the socket layer adds to the data paths: 1 KB steps through SocketOperations (sendMsg /
// recvMsg with sockaddrs in the caller's bytes) beside the same transfer through the transport
// endpoints, UDP and TCP, two stacks over the in-memory pair in one arena with the application's
// buffers. Prints garbage collections and heap growth per MB on V8, and XS slots per MB.
// Usage: node --expose-gc .build/bench/epsocket.js [MB]

import { execFileSync } from "node:child_process";
import { PerformanceObserver } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as steps from "./steps/epsocket.js";

export interface SocketFigure {
  protocol: steps.Protocol;
  mode: steps.Mode;
  megabytes: number;
  mbPerSecond: number;
  collections: number;
  heapGrowthPerMb: number;
  leaked: number;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc");
  gc();
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

export async function socketFigure(
  protocol: steps.Protocol,
  mode: steps.Mode,
  megabytes: number,
): Promise<SocketFigure> {
  steps.setup(protocol, mode);
  for (let i = 0; i < 5000; i++) steps.step(i);
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ["gc"] });
  collect();
  await settle();
  collections = 0;
  const count = megabytes * 1024;
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = 0; i < count; i++) steps.step(i);
  const seconds = (performance.now() - started) / 1000;
  const after = process.memoryUsage().heapUsed;
  await settle();
  observer.disconnect();
  return {
    protocol,
    mode,
    megabytes,
    mbPerSecond: megabytes / seconds,
    collections,
    heapGrowthPerMb: (after - before) / megabytes,
    leaked: steps.leaked(),
  };
}

/** XS slots allocated per MB for one protocol and mode (xs-alloc, after a preload-like freeze). */
export function xsSlotsPerMb(protocol: steps.Protocol, mode: steps.Mode, count: number): number {
  const xsAlloc = fileURLToPath(new URL("./xs-alloc.js", import.meta.url));
  const entry = fileURLToPath(new URL(`./steps/epsocket-${protocol}-${mode}.js`, import.meta.url));
  const xs = JSON.parse(
    execFileSync(process.execPath, [xsAlloc, entry, String(count), "--freeze"], {
      encoding: "utf8",
    }),
  ) as { allocatedSlotsPerStep: number };
  return xs.allocatedSlotsPerStep * 1024;
}

export function describeSocket(f: SocketFigure, xs: number | null): string {
  return (
    `${f.protocol.toUpperCase()} through ${f.mode === "socket" ? "the socket layer " : f.mode === "blocking" ? "blocking calls   " : f.mode === "ecma419" ? "ECMA-419 classes " : "the endpoints    "}: ` +
    `${f.mbPerSecond.toFixed(1)} MB/s, ${f.collections} GCs over ${f.megabytes} MB, heap ${Math.round(f.heapGrowthPerMb)} B/MB` +
    (xs === null ? "" : `, XS ${xs} slots/MB`) +
    `, ${f.leaked} buffers leaked`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mb = Number(process.argv[2] ?? 16);
  for (const protocol of ["udp", "tcp"] as const)
    for (const mode of ["endpoint", "socket", "blocking", "ecma419"] as const)
      console.log(
        describeSocket(await socketFigure(protocol, mode, mb), xsSlotsPerMb(protocol, mode, 200)),
      );
}
