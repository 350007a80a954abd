// IPv4 reassembly (RFC 791 §3.2, RFC 815) in a fixed number of slots, each with an arena span for
// the payload, a copy of the first fragment's header, and an Assembler for the byte ranges held.
// The defences Linux uses since FragmentSmack: any overlap drops the whole datagram (an exact
// duplicate only drops itself), a datagram may come in at most `maxFragments` pieces, and an
// unfinished one times out after 30 s.
//
// With every slot busy, a new datagram takes the slot of the one least worth keeping: a datagram
// still at its first fragment before one that has grown since, and among those the one that grew
// least recently. A flood of first fragments that never go on (the cheap attack) then only ever
// replaces its own junk, while a real datagram whose pieces keep coming keeps its slot. Optionally
// one source may hold at most `perSource` slots, so a flood from one host cannot crowd out others.

import { OFF } from "../time.js";
import { Memory, copy } from "../storage/memory.js";
import { Assembler } from "../storage/assembler.js";
import { Ipv4Stats } from "../stats.js";
import { IPV4_MAX_LENGTH, Ipv4Packet } from "../wire/ipv4.js";

/** Linux's ipfrag_time. */
export const REASSEMBLY_TIMEOUT_MS = 30000;
/** Room for an IPv4 header with the largest options. */
const HEADER_ROOM = 60;

export class Reassembler {
  readonly slots: number;
  readonly size: number;
  readonly maxFragments: number;
  /** Slots one source may hold at once; 0: no limit. */
  readonly perSource: number;
  readonly bytes: Uint8Array;
  /** Arena offsets of each slot's payload span and header copy. */
  readonly dataAt: Int32Array;
  readonly headerAt: Int32Array;
  readonly headerLength: Uint8Array;
  readonly active: Uint8Array;
  /** Active slots: an idle poll looks no further than this. */
  private activeCount = 0;
  readonly source: Int32Array;
  readonly destination: Int32Array;
  readonly identification: Uint16Array;
  readonly protocol: Uint8Array;
  readonly deadline: Float64Array;
  /** When the slot last took a new fragment: eviction spares datagrams that keep growing. */
  readonly advanced: Float64Array;
  /** Payload length once the last fragment has come, else -1. */
  readonly total: Int32Array;
  readonly fragments: Uint16Array;
  /** The byte ranges each slot holds. */
  readonly ranges: Assembler[];
  /**
   * One bit per 8-byte block per slot: a fragment starts there. Accepted fragments never overlap,
   * so they tile the ranges, and these bits alone tell an exact duplicate from an overlap.
   */
  private readonly starts: Uint8Array;
  private readonly startsPerSlot: number;
  private readonly stats: Ipv4Stats;

  constructor(
    memory: Memory,
    slots: number,
    size: number,
    maxFragments: number,
    stats: Ipv4Stats,
    perSource = 0,
  ) {
    this.slots = slots;
    this.size = size;
    this.maxFragments = maxFragments;
    this.perSource = perSource;
    this.stats = stats;
    this.bytes = memory.bytes;
    this.dataAt = new Int32Array(slots);
    this.headerAt = new Int32Array(slots);
    for (let i = 0; i < slots; i++) {
      this.dataAt[i] = memory.take(size);
      this.headerAt[i] = memory.take(HEADER_ROOM);
    }
    this.headerLength = new Uint8Array(slots);
    this.active = new Uint8Array(slots);
    this.source = new Int32Array(slots);
    this.destination = new Int32Array(slots);
    this.identification = new Uint16Array(slots);
    this.protocol = new Uint8Array(slots);
    this.deadline = new Float64Array(slots).fill(Infinity);
    this.advanced = new Float64Array(slots);
    this.total = new Int32Array(slots);
    this.fragments = new Uint16Array(slots);
    // Ranges are separated by holes of at least 8 bytes and (but for the last) hold at least 8.
    const bound = (size >> 4) + 1;
    const ranges = maxFragments < bound ? maxFragments : bound;
    this.ranges = [];
    for (let i = 0; i < slots; i++) this.ranges.push(new Assembler(ranges > 0 ? ranges : 1));
    this.startsPerSlot = ((size + 7) >> 6) + 1;
    this.starts = new Uint8Array(slots * this.startsPerSlot);
  }

  /**
   * Adds one fragment whose payload is `bytes[payloadAt .. + payloadLength)`. Returns the slot
   * when the datagram is complete (the caller delivers it, then calls release), else -1.
   */
  insert(ip: Ipv4Packet, payloadAt: number, payloadLength: number, now: number): number {
    const start = ip.fragmentOffset;
    const end = start + payloadLength;
    const last = !ip.moreFragments;
    const stats = this.stats;
    stats.fragmentsIn++;
    // A middle fragment must be a whole number of 8-byte blocks; nothing may pass 64 KiB.
    if ((!last && (payloadLength & 7) !== 0) || payloadLength === 0) {
      stats.badLength++;
      return -1;
    }
    const found = this.find(ip);
    if (end > IPV4_MAX_LENGTH - ip.headerLength || end > this.size) {
      // Kills the datagram it belongs to, but never claims a slot (evicting another) to do so.
      stats.badLength++;
      if (found >= 0) this.fail(found);
      return -1;
    }
    const slot = found >= 0 ? found : this.claim(ip, now);
    const known = this.total[slot];
    if ((last && known >= 0 && known !== end) || (known >= 0 && end > known)) {
      this.fail(slot);
      return -1;
    }
    const ranges = this.ranges[slot];
    const count = ranges.count;
    if (
      ranges.overlaps(start, payloadLength) ||
      (last && count > 0 && ranges.end(count - 1) > end)
    ) {
      if (this.duplicate(slot, start, end)) {
        stats.duplicateFragments++;
        return -1;
      }
      stats.reassemblyOverlaps++;
      this.fail(slot);
      return -1;
    }
    if (this.fragments[slot] === this.maxFragments || !ranges.insert(start, payloadLength)) {
      this.fail(slot);
      return -1;
    }
    this.starts[slot * this.startsPerSlot + (start >> 6)] |= 1 << ((start >> 3) & 7);
    this.fragments[slot]++;
    this.advanced[slot] = now;
    if (last) this.total[slot] = end;
    if (start === 0) {
      const headerLength = ip.headerLength;
      copy(this.bytes, this.headerAt[slot], ip.bytes, ip.at, headerLength);
      this.headerLength[slot] = headerLength;
    }
    copy(this.bytes, this.dataAt[slot] + start, ip.bytes, payloadAt, payloadLength);
    if (this.total[slot] >= 0 && ranges.front === this.total[slot]) {
      stats.reassembled++;
      return slot;
    }
    return -1;
  }

  /** Whether [start, end) is exactly a fragment the slot already holds. */
  private duplicate(slot: number, start: number, end: number): boolean {
    const ranges = this.ranges[slot];
    const i = ranges.find(start);
    if (i < 0 || end > ranges.end(i) || (start & 7) !== 0) return false;
    const base = slot * this.startsPerSlot;
    const starts = this.starts;
    let block = start >> 3;
    if ((starts[base + (block >> 3)] & (1 << (block & 7))) === 0) return false;
    // The fragment starting here ends where the next one starts, or with its range.
    const stop = (ranges.end(i) + 7) >> 3;
    for (block++; block < stop; block++)
      if ((starts[base + (block >> 3)] & (1 << (block & 7))) !== 0) return end === block << 3;
    return end === ranges.end(i);
  }

  /** The slot collecting this datagram's fragments, or -1. */
  private find(ip: Ipv4Packet): number {
    const source = ip.source;
    const destination = ip.destination;
    const id = ip.identification;
    const protocol = ip.protocol;
    for (let i = 0; i < this.slots; i++) {
      if (
        this.active[i] !== 0 &&
        this.identification[i] === id &&
        this.source[i] === source &&
        this.destination[i] === destination &&
        this.protocol[i] === protocol
      )
        return i;
    }
    return -1;
  }

  /**
   * A slot for a new datagram: a free one, or the one least worth keeping recycled. A source at
   * its perSource limit recycles one of its own.
   */
  private claim(ip: Ipv4Packet, now: number): number {
    const source = ip.source;
    let own = 0;
    if (this.perSource > 0)
      for (let i = 0; i < this.slots; i++)
        if (this.active[i] !== 0 && this.source[i] === source) own++;
    const mine = this.perSource > 0 && own >= this.perSource;
    let free = -1;
    let victim = -1;
    for (let i = 0; i < this.slots; i++) {
      if (this.active[i] === 0) {
        if (!mine) {
          free = i;
          break;
        }
        continue;
      }
      if (mine && this.source[i] !== source) continue;
      if (victim < 0 || this.worse(i, victim)) victim = i;
    }
    if (free < 0) {
      this.fail(victim);
      free = victim;
    }
    this.active[free] = 1;
    this.activeCount++;
    this.source[free] = source;
    this.destination[free] = ip.destination;
    this.identification[free] = ip.identification;
    this.protocol[free] = ip.protocol;
    this.deadline[free] = now + REASSEMBLY_TIMEOUT_MS;
    this.advanced[free] = now;
    this.total[free] = -1;
    this.fragments[free] = 0;
    this.headerLength[free] = 0;
    this.ranges[free].clear();
    const base = free * this.startsPerSlot;
    this.starts.fill(0, base, base + this.startsPerSlot);
    return free;
  }

  /** Whether slot a is less worth keeping than slot b. */
  private worse(a: number, b: number): boolean {
    const growingA = this.fragments[a] > 1;
    const growingB = this.fragments[b] > 1;
    if (growingA !== growingB) return growingB;
    return this.advanced[a] < this.advanced[b];
  }

  /** Whether the slot holds the first fragment, whose header an ICMP error must quote. */
  hasFirst(slot: number): boolean {
    return this.headerLength[slot] !== 0;
  }

  release(slot: number): void {
    if (this.active[slot] !== 0) this.activeCount--;
    this.active[slot] = 0;
    this.deadline[slot] = Infinity;
  }

  private fail(slot: number): void {
    if (this.active[slot] === 0) return;
    this.stats.reassemblyFailures++;
    this.release(slot);
  }

  /** A slot whose time is up (still active: the caller may answer, then releases it), or -1. */
  expired(now: number): number {
    if (this.activeCount === 0) return -1;
    for (let i = 0; i < this.slots; i++) {
      if (this.active[i] !== 0 && this.deadline[i] <= now) {
        this.stats.reassemblyTimeouts++;
        this.stats.reassemblyFailures++;
        return i;
      }
    }
    return -1;
  }

  /** The earliest slot's deadline, or OFF when no slot is in use. */
  nextDeadline(): number {
    let earliest = OFF;
    for (let i = 0; i < this.slots; i++) {
      const d = this.deadline[i];
      if (d < Infinity && (earliest < 0 || d < earliest)) earliest = d;
    }
    return earliest;
  }
}
