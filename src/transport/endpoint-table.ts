// What the UDP and ping tables share: a fixed set of endpoints made at start-up and recycled, the
// interface they send through, and arena scratch for an outgoing transport header and for the
// record header of a datagram being queued or read.

import type { Interface } from "../iface/interface.js";
import { Random } from "../random.js";
import { Memory } from "../storage/memory.js";
import { RECORD_HEADER } from "./datagram-queue.js";

export interface Recyclable {
  inUse: boolean;
  /** Back to the state of a fresh socket. */
  reset(): void;
}

export abstract class EndpointTable<E extends Recyclable> {
  readonly endpoints: E[] = [];
  readonly random: Random;
  readonly bytes: Uint8Array;
  readonly headerAt: number;
  readonly recordAt: number;
  readonly defaultTtl: number;
  iface: Interface | null = null;
  /** The time of the stack's latest poll, for sends made between polls. */
  now = 0;

  constructor(memory: Memory, headerLength: number, random: Random, ttl: number) {
    this.random = random;
    this.bytes = memory.bytes;
    this.defaultTtl = ttl;
    this.headerAt = memory.take(headerLength);
    this.recordAt = memory.take(RECORD_HEADER);
  }

  /** A fresh endpoint, or null when all are in use (the socket layer's ENFILE). */
  open(): E | null {
    const endpoints = this.endpoints;
    for (let i = 0; i < endpoints.length; i++) {
      const ep = endpoints[i];
      if (!ep.inUse) {
        ep.reset();
        ep.inUse = true;
        return ep;
      }
    }
    return null;
  }

  get openCount(): number {
    let n = 0;
    for (let i = 0; i < this.endpoints.length; i++) if (this.endpoints[i].inUse) n++;
    return n;
  }
}
