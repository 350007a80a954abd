// The ARP neighbor cache (RFC 826, with the reachability states of RFC 4861 §7.3.2 that Linux
// applies to ARP too). A fixed table: entries are recycled least-recently-used first, and frames
// waiting for an address sit in per-entry lists threaded through the packet pool.

import { HandleList, PacketPool } from "../storage/pool.js";

/** Entry states. */
export const NEIGHBOR_FREE = 0;
/** Requests sent, no answer yet; frames queue. */
export const NEIGHBOR_INCOMPLETE = 1;
/** Confirmed recently. */
export const NEIGHBOR_REACHABLE = 2;
/** Confirmed long ago: still used, but the next use starts a probe. */
export const NEIGHBOR_STALE = 3;
/** Unicast requests sent to confirm a stale entry; still used meanwhile. */
export const NEIGHBOR_PROBE = 4;
/** A stale entry was used: still used, and probed unless confirmed before the delay ends. */
export const NEIGHBOR_DELAY = 5;

/** Linux's defaults: retrans_time, mcast/ucast_solicit, base_reachable_time, delay_first_probe_time. */
export const ARP_RETRANSMIT_MS = 1000;
export const ARP_SOLICITS = 3;
export const ARP_REACHABLE_MS = 30000;
export const ARP_DELAY_MS = 5000;

export class NeighborCache {
  readonly capacity: number;
  readonly address: Int32Array;
  readonly state: Uint8Array;
  /** Six bytes per entry. */
  readonly mac: Uint8Array;
  /** When the entry next needs attention: a retransmission, or the end of reachability. */
  readonly deadline: Float64Array;
  readonly lastUsed: Float64Array;
  readonly solicits: Uint8Array;
  readonly waiting: HandleList[];
  /** Frames waiting over all entries, and the most allowed. */
  queued = 0;
  readonly queueLimit: number;

  constructor(capacity: number, queueLimit: number) {
    this.capacity = capacity;
    this.queueLimit = queueLimit;
    this.address = new Int32Array(capacity);
    this.state = new Uint8Array(capacity);
    this.mac = new Uint8Array(capacity * 6);
    this.deadline = new Float64Array(capacity).fill(Infinity);
    this.lastUsed = new Float64Array(capacity);
    this.solicits = new Uint8Array(capacity);
    this.waiting = [];
    for (let i = 0; i < capacity; i++) this.waiting.push(new HandleList());
  }

  find(address: number): number {
    for (let i = 0; i < this.capacity; i++)
      if (this.state[i] !== NEIGHBOR_FREE && this.address[i] === address) return i;
    return -1;
  }

  /** Whether the entry has a link address frames can go to. */
  hasMac(index: number): boolean {
    return this.state[index] >= NEIGHBOR_REACHABLE;
  }

  /**
   * A fresh INCOMPLETE entry for `address`, recycling the least recently used entry that has no
   * frames waiting. -1 when every entry is busy resolving.
   */
  create(pool: PacketPool, address: number, now: number): number {
    let victim = -1;
    for (let i = 0; i < this.capacity; i++) {
      if (this.state[i] === NEIGHBOR_FREE) {
        victim = i;
        break;
      }
      if (this.waiting[i].length === 0 && (victim < 0 || this.lastUsed[i] < this.lastUsed[victim]))
        victim = i;
    }
    if (victim < 0) return -1;
    this.release(pool, victim);
    this.state[victim] = NEIGHBOR_INCOMPLETE;
    this.address[victim] = address;
    this.solicits[victim] = 0;
    this.lastUsed[victim] = now;
    this.deadline[victim] = now;
    return victim;
  }

  /** Records a confirmed link address; returns the entry's previous state. */
  confirm(index: number, mac: Uint8Array, macAt: number, now: number, reachableMs: number): number {
    const previous = this.state[index];
    for (let i = 0; i < 6; i++) this.mac[index * 6 + i] = mac[macAt + i];
    this.state[index] = NEIGHBOR_REACHABLE;
    this.solicits[index] = 0;
    this.deadline[index] = now + reachableMs;
    return previous;
  }

  /**
   * Records a link address heard but not confirmed (a request, a broadcast reply): the entry
   * becomes STALE. Returns the previous state.
   */
  stale(index: number, mac: Uint8Array, macAt: number): number {
    const previous = this.state[index];
    for (let i = 0; i < 6; i++) this.mac[index * 6 + i] = mac[macAt + i];
    this.state[index] = NEIGHBOR_STALE;
    this.solicits[index] = 0;
    this.deadline[index] = Infinity;
    return previous;
  }

  /** Whether the entry holds the link address `mac[macAt ..+ 6)`. */
  sameMac(index: number, mac: Uint8Array, macAt: number): boolean {
    for (let i = 0; i < 6; i++) if (this.mac[index * 6 + i] !== mac[macAt + i]) return false;
    return true;
  }

  /** Queues a frame for an INCOMPLETE entry; when the queue is full the entry's oldest frame goes. */
  enqueue(pool: PacketPool, index: number, handle: number): boolean {
    const list = this.waiting[index];
    if (this.queued >= this.queueLimit) {
      const oldest = list.shift(pool);
      if (oldest < 0) {
        pool.free(handle);
        return false;
      }
      pool.free(oldest);
      this.queued--;
      list.push(pool, handle);
      this.queued++;
      return false;
    }
    list.push(pool, handle);
    this.queued++;
    return true;
  }

  /** Next waiting frame of an entry, or -1. */
  dequeue(pool: PacketPool, index: number): number {
    const handle = this.waiting[index].shift(pool);
    if (handle >= 0) this.queued--;
    return handle;
  }

  /** Frees an entry and drops whatever waits on it; returns the number of frames dropped. */
  release(pool: PacketPool, index: number): number {
    const dropped = this.waiting[index].length;
    this.queued -= dropped;
    this.waiting[index].freeAll(pool);
    this.state[index] = NEIGHBOR_FREE;
    this.deadline[index] = Infinity;
    return dropped;
  }

  nextDeadline(): number {
    let earliest = Infinity;
    for (let i = 0; i < this.capacity; i++)
      if (this.deadline[i] < earliest) earliest = this.deadline[i];
    return earliest;
  }
}
