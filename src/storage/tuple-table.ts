// A fixed-capacity table keyed by a connection's 4-tuple, for connections that need no buffers:
// TIME-WAIT and SYN-RECEIVED. Entries are indices into struct-of-arrays columns the owner reads and
// writes directly; the hash is open addressing with linear probing and backward-shift deletion (no
// tombstones, so churn never slows lookups), keyed with a secret so a peer cannot aim collisions.
// Entries are also threaded oldest-first, so eviction of the oldest is O(1).

import { OFF } from "../time.js";
import { EEXIST, ENOBUFS } from "../errno.js";

/** insert() policy when the table is full. */
export const TUPLE_FULL_FAIL = 0;
export const TUPLE_FULL_EVICT_OLDEST = 1;

export class TupleTable {
  readonly capacity: number;
  readonly localAddress: Int32Array;
  readonly localPort: Uint16Array;
  readonly remoteAddress: Int32Array;
  readonly remotePort: Uint16Array;
  /** When the entry is due (Infinity while unused); change it with setDeadline(). */
  readonly deadline: Float64Array;
  /** The owner's value columns, `ints` Int32Arrays and `floats` Float64Arrays of capacity each. */
  readonly ints: readonly Int32Array[];
  readonly floats: readonly Float64Array[];
  /** Entries evicted to make room. */
  evictions = 0;
  /** Inserts refused because the table was full. */
  refused = 0;

  private readonly used: Uint8Array;
  /** Hash buckets holding entry + 1 (0: empty); a power of two at least twice the capacity. */
  private readonly buckets: Int32Array;
  private readonly mask: number;
  /** The bucket each entry sits in. */
  private readonly bucketOf: Int32Array;
  private readonly secret: number;
  /** Free entries, as a stack. */
  private readonly freeStack: Int32Array;
  private freeTop: number;
  /** Age order: a doubly linked list through prev/next, oldest at head. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = -1;
  private tail = -1;
  private held = 0;
  /** Cached earliest deadline (OFF: no entry), valid unless `stale`; a lower bound while stale. */
  private earliest = OFF;
  private stale = false;

  constructor(capacity: number, ints: number, floats: number, secret: number) {
    if (!(capacity >= 1 && capacity <= 1 << 24)) throw new RangeError("tuple table: bad capacity");
    this.capacity = capacity;
    this.localAddress = new Int32Array(capacity);
    this.localPort = new Uint16Array(capacity);
    this.remoteAddress = new Int32Array(capacity);
    this.remotePort = new Uint16Array(capacity);
    this.deadline = new Float64Array(capacity).fill(Infinity);
    const intColumns: Int32Array[] = [];
    for (let i = 0; i < ints; i++) intColumns.push(new Int32Array(capacity));
    const floatColumns: Float64Array[] = [];
    for (let i = 0; i < floats; i++) floatColumns.push(new Float64Array(capacity));
    this.ints = Object.freeze(intColumns);
    this.floats = Object.freeze(floatColumns);
    this.used = new Uint8Array(capacity);
    let buckets = 2;
    while (buckets < 2 * capacity) buckets *= 2;
    this.buckets = new Int32Array(buckets);
    this.mask = buckets - 1;
    this.bucketOf = new Int32Array(capacity);
    this.secret = secret | 0;
    this.freeStack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeStack[i] = capacity - 1 - i;
    this.freeTop = capacity;
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  /** Entries held. */
  get count(): number {
    return this.held;
  }

  /** The oldest entry (first inserted of those held), or -1. */
  get oldest(): number {
    return this.head;
  }

  /** Whether entry i holds a tuple. */
  has(i: number): boolean {
    return this.used[i] === 1;
  }

  /** The entry for this 4-tuple, or -1. */
  find(localAddress: number, localPort: number, remoteAddress: number, remotePort: number): number {
    const mask = this.mask;
    const buckets = this.buckets;
    for (
      let b = this.hash(localAddress, localPort, remoteAddress, remotePort);
      ;
      b = (b + 1) & mask
    ) {
      const e = buckets[b] - 1;
      if (e < 0) return -1;
      if (
        this.remotePort[e] === remotePort &&
        this.remoteAddress[e] === (remoteAddress | 0) &&
        this.localPort[e] === localPort &&
        this.localAddress[e] === (localAddress | 0)
      )
        return e;
    }
  }

  /**
   * A new entry for the 4-tuple due at `deadline`; its value columns hold whatever the last user
   * left. When full, `policy` says whether to fail (-ENOBUFS) or evict the oldest entry; -EEXIST
   * when the tuple is already held.
   */
  insert(
    localAddress: number,
    localPort: number,
    remoteAddress: number,
    remotePort: number,
    deadline: number,
    policy: number,
  ): number {
    if (this.find(localAddress, localPort, remoteAddress, remotePort) >= 0) return -EEXIST;
    if (this.freeTop === 0) {
      if (policy !== TUPLE_FULL_EVICT_OLDEST) {
        this.refused++;
        return -ENOBUFS;
      }
      this.evictions++;
      this.remove(this.head);
    }
    const e = this.freeStack[--this.freeTop];
    this.used[e] = 1;
    this.localAddress[e] = localAddress;
    this.localPort[e] = localPort;
    this.remoteAddress[e] = remoteAddress;
    this.remotePort[e] = remotePort;
    const mask = this.mask;
    let b = this.hash(localAddress, localPort, remoteAddress, remotePort);
    while (this.buckets[b] !== 0) b = (b + 1) & mask;
    this.buckets[b] = e + 1;
    this.bucketOf[e] = b;
    this.prev[e] = this.tail;
    this.next[e] = -1;
    if (this.tail >= 0) this.next[this.tail] = e;
    else this.head = e;
    this.tail = e;
    this.held++;
    this.deadline[e] = Infinity;
    this.setDeadline(e, deadline);
    return e;
  }

  /** Removes entry i; false when it holds nothing. */
  remove(i: number): boolean {
    if (i < 0 || i >= this.capacity || this.used[i] !== 1) return false;
    this.used[i] = 0;
    if (this.deadline[i] === this.earliest) this.stale = true;
    this.deadline[i] = Infinity;
    // Backward-shift deletion: pull later members of the probe run into the hole.
    const buckets = this.buckets;
    const mask = this.mask;
    let hole = this.bucketOf[i];
    buckets[hole] = 0;
    for (let b = (hole + 1) & mask; buckets[b] !== 0; b = (b + 1) & mask) {
      const e = buckets[b] - 1;
      const home = this.hash(
        this.localAddress[e],
        this.localPort[e],
        this.remoteAddress[e],
        this.remotePort[e],
      );
      // Movable when its home is not cyclically within (hole, b].
      if (((b - home) & mask) >= ((b - hole) & mask)) {
        buckets[hole] = e + 1;
        this.bucketOf[e] = hole;
        buckets[b] = 0;
        hole = b;
      }
    }
    const p = this.prev[i];
    const n = this.next[i];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.freeStack[this.freeTop++] = i;
    this.held--;
    return true;
  }

  /** Empties the table. */
  clear(): void {
    for (let i = this.head; i >= 0; i = this.next[i]) {
      this.used[i] = 0;
      this.deadline[i] = Infinity;
    }
    this.buckets.fill(0);
    for (let i = 0; i < this.capacity; i++) this.freeStack[i] = this.capacity - 1 - i;
    this.freeTop = this.capacity;
    this.head = -1;
    this.tail = -1;
    this.held = 0;
    this.earliest = OFF;
    this.stale = false;
  }

  setDeadline(i: number, deadline: number): void {
    const before = this.deadline[i];
    this.deadline[i] = deadline;
    if (this.earliest < 0 || deadline < this.earliest) this.earliest = deadline;
    else if (before === this.earliest && deadline > before) this.stale = true;
  }

  /** The earliest deadline of any entry, or OFF when the table is empty. */
  nextDeadline(): number {
    if (this.stale) {
      let earliest = OFF;
      for (let i = this.head; i >= 0; i = this.next[i]) {
        const d = this.deadline[i];
        if (earliest < 0 || d < earliest) earliest = d;
      }
      this.earliest = earliest;
      this.stale = false;
    }
    return this.earliest;
  }

  /**
   * The first entry at index `from` or later whose deadline is at or before `now`, or -1. Walk
   * them with `for (let i = t.nextExpired(now, 0); i >= 0; i = t.nextExpired(now, i + 1))`; removing
   * the entry in hand is allowed.
   */
  nextExpired(now: number, from: number): number {
    for (let i = from < 0 ? 0 : from; i < this.capacity; i++)
      if (this.used[i] === 1 && this.deadline[i] <= now) return i;
    return -1;
  }

  private hash(
    localAddress: number,
    localPort: number,
    remoteAddress: number,
    remotePort: number,
  ): number {
    let h = this.secret ^ Math.imul(remoteAddress | 0, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ ((remotePort << 16) | localPort);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ (localAddress | 0);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    return (h ^ (h >>> 15)) & this.mask;
  }
}
