// Two stacks joined by an in-memory cable, all in one arena, driven by a virtual clock.

import { LinkPair } from "../../hal/pair.js";
import { StackOptions } from "../../src/config.js";
import { Stack } from "../../src/stack.js";
import { Memory } from "../../src/storage/memory.js";
import { FullAddress } from "../../src/wire/address.js";
import { VirtualNet } from "./virtual.js";

export interface Duo {
  net: VirtualNet;
  pair: LinkPair;
  a: Stack;
  b: Stack;
  memory: Memory;
}

/** `spare`: arena bytes left over for the test's own buffers (`memory.take`). */
export function duo(options: StackOptions = {}, slots = 64, spare = 0): Duo {
  const bytes = 2 * Stack.memoryNeeded(options) + slots * 2 * 1600 + 4096 + spare;
  const memory = new Memory(new Uint8Array(bytes));
  const pair = new LinkPair({ memory, slots });
  const a = new Stack({ ...options, memory, seed: 11 });
  const b = new Stack({ ...options, memory, seed: 22 });
  a.attach(pair.a, { address: "192.0.2.1", prefix: 24 });
  b.attach(pair.b, { address: "192.0.2.2", prefix: 24 });
  const net = new VirtualNet().add(a).add(b).attach(pair.a).attach(pair.b);
  return { net, pair, a, b, memory };
}

export function endpoint(address: string, port: number): FullAddress {
  const full = new FullAddress();
  if (!full.address.parse(address)) throw new Error(`bad address ${address}`);
  full.port = port;
  return full;
}

/** Asserts every pool buffer is back. */
export function poolFull(stack: Stack): boolean {
  return stack.pool.available === stack.pool.count && stack.pool.badFrees === 0;
}
