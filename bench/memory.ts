// Memory each profile takes: arena bytes by component (exact: Stack.memoryNeeded), and the V8 heap
// the Stack object graph itself takes (typed arrays for the tables, endpoint objects), measured as
// the growth of heapUsed across gc() with a few stacks kept alive. On an ESP32 the arena and the
// typed arrays' contents come from the XS chunk heap, the objects from its slot heap.
//
// Alone: node --expose-gc .build/bench/memory.js   (bench/main.ts prints it as a section)

import { fileURLToPath } from "node:url";
import { PROFILES, StackConfig, type Profile } from "../src/config.js";
import { Stack } from "../src/stack.js";

export interface ProfileMemory {
  profile: Profile;
  pool: number;
  reassembly: number;
  socketBuffers: number;
  scratch: number;
  total: number;
  /** Arena bytes one more UDP socket costs (its default receive queue). */
  perUdpSocket: number;
  /** V8 heap per Stack beyond its arena, in bytes, or -1 without gc(). */
  v8Heap: number;
}

function heapPerStack(profile: Profile): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return -1;
  const count = profile === "simulator" ? 4 : 32;
  const memory = Stack.memoryNeeded({ profile });
  const kept: Stack[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) kept.push(new Stack({ profile }));
  gc();
  const after = process.memoryUsage().heapUsed;
  // The arena is an ArrayBuffer outside the V8 heap; small typed arrays' contents are inside it.
  if (kept.length !== count || kept[0].memory.bytes.length !== memory)
    throw new Error("unreachable");
  return Math.round((after - before) / count);
}

export function profileMemory(): ProfileMemory[] {
  const figures: ProfileMemory[] = [];
  for (const profile of Object.keys(PROFILES) as Profile[]) {
    const c = new StackConfig({ profile });
    figures.push({
      profile,
      pool: c.poolBytes,
      reassembly: c.reassemblyBytes,
      socketBuffers: c.socketBufferBytes,
      scratch: c.scratchBytes,
      total: c.memoryBytes,
      perUdpSocket:
        new StackConfig({ profile, udpSockets: c.udpSockets + 1 }).memoryBytes - c.memoryBytes,
      v8Heap: heapPerStack(profile),
    });
  }
  return figures;
}

export function describeProfileMemory(): string[] {
  const fmt = (n: number): string => n.toLocaleString("en-US");
  const lines = [
    "profile     pool       reassembly  socket bufs  scratch  arena total  per UDP socket  V8 heap/stack",
  ];
  for (const f of profileMemory())
    lines.push(
      `${f.profile.padEnd(10)}  ${fmt(f.pool).padStart(9)}  ${fmt(f.reassembly).padStart(10)}  ` +
        `${fmt(f.socketBuffers).padStart(11)}  ${fmt(f.scratch).padStart(7)}  ${fmt(f.total).padStart(11)}  ` +
        `${fmt(f.perUdpSocket).padStart(14)}  ${f.v8Heap < 0 ? "(no gc)" : fmt(f.v8Heap).padStart(13)}`,
    );
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log("Memory by profile (arena bytes; V8 heap of the Stack objects beyond the arena)");
  for (const line of describeProfileMemory()) console.log(`   ${line}`);
}
