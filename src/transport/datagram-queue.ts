// A queue of whole datagrams in one byte ring of the arena: each is a 48-byte record header
// (payload length, ports, source and destination addresses v4-mapped, flags, the arrival time for
// SO_TIMESTAMP) then the payload,
// so the same fixed space holds many small datagrams or a few large ones. Shared by UDP and ping
// endpoints.
//
// The ring sits on a span of the socket buffer region (Spans), taken when the socket opens and
// given back when it closes, so SO_RCVBUF can resize one socket's queue at run time without
// allocating: the region was reserved at start-up.

import { EAGAIN } from "../errno.js";
import { copy } from "../storage/memory.js";
import { Memory } from "../storage/memory.js";
import { RegionRing } from "../storage/region-ring.js";
import { ByteRing } from "../storage/ring.js";
import { Spans } from "../storage/spans.js";
import { FullAddress, readI32, readU16, writeU16, writeU32 } from "../wire/address.js";

export const RECORD_HEADER = 48;
/** Record flag: the datagram was sent to a broadcast or multicast address. */
export const RECORD_GROUP = 1;
/** recvFrom flags, Linux values. */
export const MSG_PEEK = 0x2;
/** Flag of recvFrom: return the datagram's full length even when it was cut to the buffer. */
export const MSG_TRUNC = 0x20;
/** Flag of recvFrom: never wait (every call is non-blocking anyway; accepted for Linux code). */
export const MSG_DONTWAIT = 0x40;

/**
 * The buffer size Linux's sock_setsockopt gives for SO_RCVBUF / SO_SNDBUF `value`: the int is
 * compared as unsigned with the limit (rmem_max / wmem_max; a negative value asks for the most),
 * then doubled to cover bookkeeping, and never below the minimum. It never fails: BSD treats the
 * sizes as hints, and so does Linux.
 */
export function socketBufferSize(value: number, max: number, min: number): number {
  const asked = value >>> 0;
  const doubled = (asked < max ? asked : max) * 2;
  return doubled > min ? doubled : min;
}

export class DatagramQueue {
  readonly ring: ByteRing;
  /** Datagrams held. */
  count = 0;
  /** Payload length of the datagram last read, before any truncation. */
  lastLength = 0;
  /** When the datagram last read arrived (stack ms, the time of the poll that queued it). */
  lastArrival = -1;
  private readonly region: RegionRing;
  private readonly bytes: Uint8Array;
  /** Arena scratch where a record header is assembled or read back; shared, used briefly. */
  private readonly recordAt: number;
  /** A capacity asked for that must wait until the queue drains; 0: none. */
  private pending = 0;

  constructor(memory: Memory, spans: Spans, initial: number, recordAt: number) {
    this.region = new RegionRing(memory, spans, initial);
    this.ring = this.region.ring;
    this.bytes = memory.bytes;
    this.recordAt = recordAt;
  }

  /** The capacity a socket opens with; promised to it in the region while it is closed. */
  get initial(): number {
    return this.region.initial;
  }

  /** Capacity in bytes, records included (SO_RCVBUF): a pending resize counts as done. */
  get capacity(): number {
    return this.pending > 0 ? this.pending : this.ring.capacity;
  }

  /**
   * Takes the span of the initial capacity, when the socket opens; false when the region has no
   * free block that big (its bytes are there, promised, but split by sockets that grew).
   */
  open(): boolean {
    if (this.region.isOpen) return true;
    if (!this.region.open()) return false;
    this.clear();
    this.pending = 0;
    return true;
  }

  /** Gives the span back (queued datagrams are dropped), when the socket closes. */
  close(): void {
    this.clear();
    this.pending = 0;
    this.region.close();
  }

  /**
   * Makes the queue hold `capacity` bytes. Queued datagrams move to the new span when one is free
   * and they fit; otherwise the change waits until the queue drains. On an empty queue it happens
   * at once, as RegionRing.resize allows.
   */
  resize(capacity: number): void {
    if (!this.region.isOpen) return;
    this.pending = 0;
    if (capacity === this.ring.capacity) return;
    if (this.count === 0) this.region.resize(capacity);
    else if (!this.region.move(capacity)) this.pending = capacity;
  }

  clear(): void {
    this.ring.clear();
    this.count = 0;
    this.lastLength = 0;
    this.lastArrival = -1;
  }

  /**
   * Appends a datagram that arrived at `arrival` (stack ms, whole); false (nothing queued) when it
   * does not fit.
   */
  push(
    payload: Uint8Array,
    at: number,
    length: number,
    source: number,
    sourcePort: number,
    destination: number,
    destinationPort: number,
    flags: number,
    arrival: number,
  ): boolean {
    const ring = this.ring;
    if (ring.writable < RECORD_HEADER + length) return false;
    const b = this.bytes;
    // The record goes straight into the ring when it does not wrap there, else through recordAt.
    const inPlace = ring.tailRun >= RECORD_HEADER;
    const meta = inPlace ? ring.tailOffset : this.recordAt;
    writeU16(b, meta, length);
    writeU16(b, meta + 2, sourcePort);
    writeMapped(b, meta + 4, source);
    writeMapped(b, meta + 20, destination);
    writeU16(b, meta + 36, destinationPort);
    b[meta + 38] = flags;
    b[meta + 39] = 0;
    // The time in two 32-bit halves: stack time is whole ms below 2^52, so this is exact.
    const high = Math.floor(arrival / 4294967296);
    writeU32(b, meta + 40, arrival - high * 4294967296);
    writeU32(b, meta + 44, high);
    if (inPlace) ring.commit(RECORD_HEADER);
    else ring.write(b, meta, RECORD_HEADER);
    ring.write(payload, at, length);
    this.count++;
    return true;
  }

  /** Payload length of the oldest datagram, or -1 when empty. */
  get nextLength(): number {
    if (this.count === 0) return -1;
    return (this.ring.peekByte(0) << 8) | this.ring.peekByte(1);
  }

  /**
   * Copies the oldest datagram's payload into `dst[offset ..+ capacity)` and its sender into
   * `from`; removes it unless MSG_PEEK. Returns the bytes copied (the full length with
   * MSG_TRUNC), or -EAGAIN when empty. What does not fit is lost, as with recvfrom(2).
   */
  pop(
    dst: Uint8Array,
    offset: number,
    capacity: number,
    from: FullAddress | null,
    flags: number,
  ): number {
    if (this.count === 0) return -EAGAIN;
    const ring = this.ring;
    const b = this.bytes;
    const inPlace = ring.run(0) >= RECORD_HEADER;
    const meta = inPlace ? ring.offsetAt(0) : this.recordAt;
    if (!inPlace) ring.peek(b, meta, RECORD_HEADER, 0);
    const length = readU16(b, meta);
    if (from !== null) {
      copy(from.address.bytes, 0, b, meta + 4, 16);
      from.port = readU16(b, meta + 2);
      from.nic = 0;
    }
    const n = length < capacity ? length : capacity;
    ring.peek(dst, offset, n, RECORD_HEADER);
    this.lastLength = length;
    this.lastArrival = (readI32(b, meta + 44) >>> 0) * 4294967296 + (readI32(b, meta + 40) >>> 0);
    if ((flags & MSG_PEEK) === 0) {
      ring.discard(RECORD_HEADER + length);
      if (--this.count === 0 && this.pending > 0) this.resize(this.pending);
    }
    return (flags & MSG_TRUNC) !== 0 ? length : n;
  }
}

function writeMapped(b: Uint8Array, at: number, v4: number): void {
  // Stores, not fill(): fill is a runtime call dearer than the ten stores.
  b[at] = 0;
  b[at + 1] = 0;
  b[at + 2] = 0;
  b[at + 3] = 0;
  b[at + 4] = 0;
  b[at + 5] = 0;
  b[at + 6] = 0;
  b[at + 7] = 0;
  b[at + 8] = 0;
  b[at + 9] = 0;
  b[at + 10] = 0xff;
  b[at + 11] = 0xff;
  writeU32(b, at + 12, v4);
}
