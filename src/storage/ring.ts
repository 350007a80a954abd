// A byte ring in the arena: the storage behind socket buffers and datagram queues. Data moves over
// at most two spans per call through `copy`, which is a memmove when the other side is the arena.

import { Memory, copy } from "./memory.js";

export class ByteRing {
  readonly capacity: number;
  /** The arena; the ring is bytes[base .. base + capacity). */
  readonly bytes: Uint8Array;
  readonly base: number;
  /** Index (from base) of the oldest byte. */
  private start = 0;
  /** Bytes held. */
  private used = 0;

  constructor(memory: Memory, capacity: number) {
    this.capacity = capacity;
    this.bytes = memory.bytes;
    this.base = memory.take(capacity);
  }

  get readable(): number {
    return this.used;
  }

  get writable(): number {
    return this.capacity - this.used;
  }

  clear(): void {
    this.start = 0;
    this.used = 0;
  }

  /** Appends up to `length` bytes from `src[offset]`; returns how many fit. */
  write(src: Uint8Array, offset: number, length: number): number {
    const n = length < this.capacity - this.used ? length : this.capacity - this.used;
    let at = this.start + this.used;
    if (at >= this.capacity) at -= this.capacity;
    const first = n < this.capacity - at ? n : this.capacity - at;
    copy(this.bytes, this.base + at, src, offset, first);
    if (n > first) copy(this.bytes, this.base, src, offset + first, n - first);
    this.used += n;
    return n;
  }

  /** Copies up to `length` bytes, starting `skip` bytes past the oldest, without consuming them. */
  peek(dst: Uint8Array, offset: number, length: number, skip: number): number {
    if (skip >= this.used) return 0;
    const n = length < this.used - skip ? length : this.used - skip;
    let at = this.start + skip;
    if (at >= this.capacity) at -= this.capacity;
    const first = n < this.capacity - at ? n : this.capacity - at;
    copy(dst, offset, this.bytes, this.base + at, first);
    if (n > first) copy(dst, offset + first, this.bytes, this.base, n - first);
    return n;
  }

  /** The byte `skip` bytes past the oldest; the caller checks skip < readable. */
  peekByte(skip: number): number {
    let at = this.start + skip;
    if (at >= this.capacity) at -= this.capacity;
    return this.bytes[this.base + at];
  }

  /** Drops up to `length` of the oldest bytes; returns how many. */
  discard(length: number): number {
    const n = length < this.used ? length : this.used;
    this.start += n;
    if (this.start >= this.capacity) this.start -= this.capacity;
    this.used -= n;
    if (this.used === 0) this.start = 0;
    return n;
  }

  /** Moves up to `length` of the oldest bytes into `dst[offset]`; returns how many. */
  read(dst: Uint8Array, offset: number, length: number): number {
    return this.discard(this.peek(dst, offset, length, 0));
  }
}
