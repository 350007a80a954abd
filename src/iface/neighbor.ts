// The ARP neighbor cache (RFC 826, with the reachability states of RFC 4861 §7.3.2 that Linux
// applies to ARP too). A fixed table, and frames waiting for an address sit in per-entry lists
// threaded through the packet pool.
//
// A small table is easy to flood, so who may take an entry is ruled by why it is wanted. Entries
// in use (the gateway's, REACHABLE ones, ones used in the last NEIGHBOR_IN_USE_MS, ones with frames
// waiting) are never given up to learning or to strangers; replies to neighbors we hold no entry
// for (an echo reply to a spoofed ping) may hold only a quarter of the table and of the queue; a
// resolution that has gone unanswered for a retransmission is recycled, oldest first, as lwIP
// does, so our own traffic and above all the gateway can always be resolved.

import { OFF } from "../time.js";
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
/**
 * Linux's locktime: a reply that changes an entry's link address within this long of its last
 * change is ignored, so when proxies or a spoofer answer back to back the first answer stays.
 */
export const ARP_LOCKTIME_MS = 1000;

/**
 * Used more recently than this, a resolved entry is in use and is not recycled for learning or
 * for strangers (Linux's forced garbage collection spares entries updated in the last 5 s).
 */
export const NEIGHBOR_IN_USE_MS = 5000;

// Why an entry is wanted, in create().
/** A frame of ours (an application's send) needs the address. */
export const CREATE_SEND = 0;
/** A reply to a neighbor we hold no entry for (sent while handling its packet). */
export const CREATE_REPLY = 1;
/** An ARP request aimed at us tells the sender's address. */
export const CREATE_LEARN = 2;
/** The default gateway: everything off-link depends on it. */
export const CREATE_GATEWAY = 3;

/** enqueue() results. */
export const QUEUED = 0;
/** The queue over all neighbors was full: a frame was dropped. */
export const QUEUE_FULL = 1;
/** Replies to strangers had their share of the queue: a frame was dropped. */
export const QUEUE_REPLIES_FULL = 2;

export class NeighborCache {
  readonly capacity: number;
  readonly address: Int32Array;
  readonly state: Uint8Array;
  /** Six bytes per entry. */
  readonly mac: Uint8Array;
  /**
   * When the entry next needs attention: a retransmission, or the end of reachability (Infinity:
   * nothing). Only ever compared, so the Infinity never leaves the array.
   */
  readonly deadline: Float64Array;
  /** No deadline is earlier than this (OFF: no entry has one); exact after rescan(). */
  dueAt = OFF;
  /** When a frame last went out through the entry (-Infinity: never, as for an entry learned). */
  readonly lastUsed: Float64Array;
  /** When the entry was made or its state or link address last changed (Linux's `updated`). */
  readonly updated: Float64Array;
  readonly solicits: Uint8Array;
  /** 1 while the entry only serves replies to a stranger (made by CREATE_REPLY, not yet ours). */
  readonly forReply: Uint8Array;
  readonly waiting: HandleList[];
  /** Frames waiting over all entries, and the most allowed. */
  queued = 0;
  readonly queueLimit: number;
  /** Entries serving replies to strangers, and the most allowed. */
  replyEntries = 0;
  readonly replyEntryLimit: number;
  /** Frames waiting on those entries, and the most allowed. */
  replyQueued = 0;
  readonly replyQueueLimit: number;
  /** Frames dropped by the latest create() because it recycled a resolving entry. */
  evicted = 0;

  constructor(capacity: number, queueLimit: number) {
    this.capacity = capacity;
    this.queueLimit = queueLimit;
    this.replyEntryLimit = capacity >= 8 ? capacity >> 2 : 1;
    this.replyQueueLimit = queueLimit >= 8 ? queueLimit >> 2 : 1;
    this.address = new Int32Array(capacity);
    this.state = new Uint8Array(capacity);
    this.mac = new Uint8Array(capacity * 6);
    this.deadline = new Float64Array(capacity).fill(Infinity);
    this.lastUsed = new Float64Array(capacity);
    this.updated = new Float64Array(capacity);
    this.solicits = new Uint8Array(capacity);
    this.forReply = new Uint8Array(capacity);
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

  /** Whether a resolved entry is in use: REACHABLE, or used in the last NEIGHBOR_IN_USE_MS. */
  inUse(index: number, now: number): boolean {
    return (
      this.state[index] === NEIGHBOR_REACHABLE || now - this.lastUsed[index] < NEIGHBOR_IN_USE_MS
    );
  }

  /**
   * A fresh INCOMPLETE entry for `address`, wanted for `why` (CREATE_*); `gateway`'s entry is
   * never recycled (0: none). -1 when `why` may take none of them. The victim is the first of:
   * - a free entry (replies to strangers: only while under their share);
   * - the resolved entry not in use that was least recently active;
   * - a resolution for a stranger's reply (for another stranger only once unanswered for
   *   ARP_RETRANSMIT_MS), oldest first;
   * - our own resolution, unanswered for ARP_RETRANSMIT_MS (the gateway: at any age), oldest first;
   * - only when no entry at all is resolving (so unresolved addresses never push out resolved
   *   ones), for our own frames the least recently used resolved entry.
   * Learning takes only the first two. Frames waiting on a recycled entry are dropped and counted
   * in `evicted`.
   */
  create(pool: PacketPool, address: number, now: number, why: number, gateway: number): number {
    const learning = why === CREATE_LEARN;
    const reply = why === CREATE_REPLY;
    const full = reply && this.replyEntries >= this.replyEntryLimit;
    let victim = -1;
    let rank = 6;
    let key = Infinity;
    let resolving = false;
    for (let i = 0; i < this.capacity; i++) {
      const state = this.state[i];
      let r: number;
      let k: number;
      if (state === NEIGHBOR_FREE) {
        if (full) continue;
        victim = i;
        rank = 0;
        break;
      }
      if (gateway !== 0 && this.address[i] === gateway) continue;
      if (state === NEIGHBOR_INCOMPLETE) {
        resolving = true;
        if (learning) continue;
        const old = now - this.updated[i] >= ARP_RETRANSMIT_MS;
        if (this.forReply[i] !== 0) {
          if (reply && !old) continue;
          r = 2;
        } else {
          if (reply || (!old && why !== CREATE_GATEWAY)) continue;
          r = 3;
        }
        k = this.updated[i];
      } else {
        if (full) continue;
        const last = this.lastUsed[i];
        const active = last > this.updated[i] ? last : this.updated[i];
        if (!this.inUse(i, now)) r = 1;
        else if (learning || reply) continue;
        else r = 4;
        k = active;
      }
      if (r < rank || (r === rank && k < key)) {
        victim = i;
        rank = r;
        key = k;
      }
    }
    this.evicted = 0;
    if (victim < 0 || (rank === 4 && resolving && why !== CREATE_GATEWAY)) return -1;
    if (rank > 0) this.evicted = this.release(pool, victim);
    this.state[victim] = NEIGHBOR_INCOMPLETE;
    this.address[victim] = address;
    this.solicits[victim] = 0;
    this.lastUsed[victim] = learning ? -Infinity : now;
    this.updated[victim] = now;
    this.setDeadline(victim, now);
    if (reply) {
      this.forReply[victim] = 1;
      this.replyEntries++;
    }
    return victim;
  }

  /**
   * Our own traffic uses an entry made for a stranger's reply, or it resolved: it no longer
   * counts against the strangers' share.
   */
  adopt(index: number): void {
    if (this.forReply[index] === 0) return;
    this.forReply[index] = 0;
    this.replyEntries--;
    this.replyQueued -= this.waiting[index].length;
  }

  /** Records a confirmed link address; returns the entry's previous state. */
  confirm(index: number, mac: Uint8Array, macAt: number, now: number, reachableMs: number): number {
    const previous = this.state[index];
    if (previous !== NEIGHBOR_REACHABLE || !this.sameMac(index, mac, macAt))
      this.updated[index] = now;
    for (let i = 0; i < 6; i++) this.mac[index * 6 + i] = mac[macAt + i];
    this.state[index] = NEIGHBOR_REACHABLE;
    this.solicits[index] = 0;
    this.setDeadline(index, now + reachableMs);
    // Resolved, it no longer counts against the strangers' share.
    this.adopt(index);
    return previous;
  }

  /**
   * Records a link address heard but not confirmed (a request, a broadcast reply): the entry
   * becomes STALE. Returns the previous state.
   */
  stale(index: number, mac: Uint8Array, macAt: number, now: number): number {
    const previous = this.state[index];
    this.updated[index] = now;
    for (let i = 0; i < 6; i++) this.mac[index * 6 + i] = mac[macAt + i];
    this.state[index] = NEIGHBOR_STALE;
    this.solicits[index] = 0;
    this.deadline[index] = Infinity;
    // Resolved, it no longer counts against the strangers' share.
    this.adopt(index);
    return previous;
  }

  /** Whether the entry holds the link address `mac[macAt ..+ 6)`. */
  sameMac(index: number, mac: Uint8Array, macAt: number): boolean {
    for (let i = 0; i < 6; i++) if (this.mac[index * 6 + i] !== mac[macAt + i]) return false;
    return true;
  }

  /**
   * Queues a frame for an INCOMPLETE entry. When the queue (or, for a stranger's entry, the
   * strangers' share of it) is full, the entry's oldest frame makes room, or the new one is
   * dropped when the entry has none. Returns QUEUED, QUEUE_FULL or QUEUE_REPLIES_FULL.
   */
  enqueue(pool: PacketPool, index: number, handle: number): number {
    const list = this.waiting[index];
    const stranger = this.forReply[index] !== 0;
    let result = QUEUED;
    if (this.queued >= this.queueLimit) result = QUEUE_FULL;
    else if (stranger && this.replyQueued >= this.replyQueueLimit) result = QUEUE_REPLIES_FULL;
    if (result !== QUEUED) {
      const oldest = list.shift(pool);
      if (oldest < 0) {
        pool.free(handle);
        return result;
      }
      pool.free(oldest);
      this.queued--;
      if (stranger) this.replyQueued--;
    }
    list.push(pool, handle);
    this.queued++;
    if (stranger) this.replyQueued++;
    return result;
  }

  /** Next waiting frame of an entry, or -1. */
  dequeue(pool: PacketPool, index: number): number {
    const handle = this.waiting[index].shift(pool);
    if (handle >= 0) {
      this.queued--;
      if (this.forReply[index] !== 0) this.replyQueued--;
    }
    return handle;
  }

  /** Frees an entry and drops whatever waits on it; returns the number of frames dropped. */
  release(pool: PacketPool, index: number): number {
    const dropped = this.waiting[index].length;
    this.queued -= dropped;
    if (this.forReply[index] !== 0) {
      this.forReply[index] = 0;
      this.replyEntries--;
      this.replyQueued -= dropped;
    }
    this.waiting[index].freeAll(pool);
    this.state[index] = NEIGHBOR_FREE;
    this.deadline[index] = Infinity;
    return dropped;
  }

  /**
   * The earliest deadline, or OFF for none. Kept as a lower bound (`dueAt`) that every finite
   * deadline written lowers and a scan makes exact again, so a poll with nothing due scans nothing.
   */
  nextDeadline(): number {
    return this.dueAt;
  }

  /** Sets an entry's deadline (finite), keeping `dueAt` a lower bound. */
  setDeadline(index: number, at: number): void {
    this.deadline[index] = at;
    if (this.dueAt < 0 || at < this.dueAt) this.dueAt = at;
  }

  /** Makes `dueAt` exact again, after the timers have run. */
  rescan(): void {
    let earliest = OFF;
    for (let i = 0; i < this.capacity; i++) {
      const d = this.deadline[i];
      if (d < Infinity && (earliest < 0 || d < earliest)) earliest = d;
    }
    this.dueAt = earliest;
  }
}
