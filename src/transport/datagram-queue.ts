// A queue of whole datagrams in one byte ring of the arena: each is a 40-byte record header
// (payload length, ports, source and destination addresses v4-mapped, flags) then the payload,
// so the same fixed space holds many small datagrams or a few large ones. Shared by UDP and ping
// endpoints.

import { EAGAIN } from "../errno.js";
import { copy } from "../storage/memory.js";
import { Memory } from "../storage/memory.js";
import { ByteRing } from "../storage/ring.js";
import { FullAddress, readU16, writeU16, writeU32 } from "../wire/address.js";

export const RECORD_HEADER = 40;
/** Record flag: the datagram was sent to a broadcast or multicast address. */
export const RECORD_GROUP = 1;
/** recvFrom flags, Linux values. */
export const MSG_PEEK = 0x2;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;

export class DatagramQueue {
  readonly ring: ByteRing;
  /** Datagrams held. */
  count = 0;
  /** Payload length of the datagram last read, before any truncation. */
  lastLength = 0;
  private readonly bytes: Uint8Array;
  /** Arena scratch where a record header is assembled or read back; shared, used briefly. */
  private readonly recordAt: number;

  constructor(memory: Memory, capacity: number, recordAt: number) {
    this.ring = new ByteRing(memory, capacity);
    this.bytes = memory.bytes;
    this.recordAt = recordAt;
  }

  clear(): void {
    this.ring.clear();
    this.count = 0;
    this.lastLength = 0;
  }

  /** Appends a datagram; false (nothing queued) when it does not fit. */
  push(
    payload: Uint8Array,
    at: number,
    length: number,
    source: number,
    sourcePort: number,
    destination: number,
    destinationPort: number,
    flags: number,
  ): boolean {
    const ring = this.ring;
    if (ring.writable < RECORD_HEADER + length) return false;
    const b = this.bytes;
    const meta = this.recordAt;
    writeU16(b, meta, length);
    writeU16(b, meta + 2, sourcePort);
    writeMapped(b, meta + 4, source);
    writeMapped(b, meta + 20, destination);
    writeU16(b, meta + 36, destinationPort);
    b[meta + 38] = flags;
    b[meta + 39] = 0;
    ring.write(b, meta, RECORD_HEADER);
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
    const meta = this.recordAt;
    ring.peek(b, meta, RECORD_HEADER, 0);
    const length = readU16(b, meta);
    if (from !== null) {
      copy(from.address.bytes, 0, b, meta + 4, 16);
      from.port = readU16(b, meta + 2);
      from.nic = 0;
    }
    const n = length < capacity ? length : capacity;
    ring.peek(dst, offset, n, RECORD_HEADER);
    this.lastLength = length;
    if ((flags & MSG_PEEK) === 0) {
      ring.discard(RECORD_HEADER + length);
      this.count--;
    }
    return (flags & MSG_TRUNC) !== 0 ? length : n;
  }
}

function writeMapped(b: Uint8Array, at: number, v4: number): void {
  b.fill(0, at, at + 10);
  b[at + 10] = 0xff;
  b[at + 11] = 0xff;
  writeU32(b, at + 12, v4);
}
