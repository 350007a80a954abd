// IPv4 reassembly (RFC 791 §3.2, RFC 815) in a fixed number of slots, each with an arena span for
// the payload and a copy of the first fragment's header. The defences Linux uses since
// FragmentSmack: any overlap drops the whole datagram (an exact duplicate only drops itself), a
// datagram may come in at most `maxFragments` pieces, and an unfinished one times out after 30 s.

import { Memory, copy } from "../storage/memory.js";
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
  readonly bytes: Uint8Array;
  /** Arena offsets of each slot's payload span and header copy. */
  readonly dataAt: Int32Array;
  readonly headerAt: Int32Array;
  readonly headerLength: Uint8Array;
  readonly active: Uint8Array;
  readonly source: Int32Array;
  readonly destination: Int32Array;
  readonly identification: Uint16Array;
  readonly protocol: Uint8Array;
  readonly deadline: Float64Array;
  /** Payload length once the last fragment has come, else -1. */
  readonly total: Int32Array;
  readonly received: Int32Array;
  readonly fragments: Uint16Array;
  /** Byte ranges [start, end) received, `maxFragments` per slot. */
  readonly rangeStart: Int32Array;
  readonly rangeEnd: Int32Array;
  private readonly stats: Ipv4Stats;

  constructor(memory: Memory, slots: number, size: number, maxFragments: number, stats: Ipv4Stats) {
    this.slots = slots;
    this.size = size;
    this.maxFragments = maxFragments;
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
    this.total = new Int32Array(slots);
    this.received = new Int32Array(slots);
    this.fragments = new Uint16Array(slots);
    this.rangeStart = new Int32Array(slots * maxFragments);
    this.rangeEnd = new Int32Array(slots * maxFragments);
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
    const base = slot * this.maxFragments;
    const count = this.fragments[slot];
    for (let i = base; i < base + count; i++) {
      const s = this.rangeStart[i];
      const e = this.rangeEnd[i];
      if (s === start && e === end) {
        stats.duplicateFragments++;
        return -1;
      }
      if ((start < e && s < end) || (last && e > end)) {
        stats.reassemblyOverlaps++;
        this.fail(slot);
        return -1;
      }
    }
    if (count === this.maxFragments) {
      this.fail(slot);
      return -1;
    }
    this.rangeStart[base + count] = start;
    this.rangeEnd[base + count] = end;
    this.fragments[slot] = count + 1;
    if (last) this.total[slot] = end;
    if (start === 0) {
      const headerLength = ip.headerLength;
      copy(this.bytes, this.headerAt[slot], ip.bytes, ip.at, headerLength);
      this.headerLength[slot] = headerLength;
    }
    copy(this.bytes, this.dataAt[slot] + start, ip.bytes, payloadAt, payloadLength);
    this.received[slot] += payloadLength;
    if (this.total[slot] >= 0 && this.received[slot] === this.total[slot]) {
      stats.reassembled++;
      return slot;
    }
    return -1;
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

  /** A slot for a new datagram: a free one, or the oldest one recycled. */
  private claim(ip: Ipv4Packet, now: number): number {
    let free = -1;
    let oldest = 0;
    for (let i = 0; i < this.slots; i++) {
      if (this.active[i] === 0) {
        free = i;
        break;
      }
      if (this.deadline[i] < this.deadline[oldest]) oldest = i;
    }
    if (free < 0) {
      this.fail(oldest);
      free = oldest;
    }
    this.active[free] = 1;
    this.source[free] = ip.source;
    this.destination[free] = ip.destination;
    this.identification[free] = ip.identification;
    this.protocol[free] = ip.protocol;
    this.deadline[free] = now + REASSEMBLY_TIMEOUT_MS;
    this.total[free] = -1;
    this.received[free] = 0;
    this.fragments[free] = 0;
    this.headerLength[free] = 0;
    return free;
  }

  /** Whether the slot holds the first fragment, whose header an ICMP error must quote. */
  hasFirst(slot: number): boolean {
    return this.headerLength[slot] !== 0;
  }

  release(slot: number): void {
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
    for (let i = 0; i < this.slots; i++) {
      if (this.active[i] !== 0 && this.deadline[i] <= now) {
        this.stats.reassemblyTimeouts++;
        this.stats.reassemblyFailures++;
        return i;
      }
    }
    return -1;
  }

  nextDeadline(): number {
    let earliest = Infinity;
    for (let i = 0; i < this.slots; i++)
      if (this.deadline[i] < earliest) earliest = this.deadline[i];
    return earliest;
  }
}
