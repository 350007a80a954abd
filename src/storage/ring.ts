// A byte ring in the arena: the storage behind socket buffers and datagram queues. Data moves over
// at most two spans per call through `copy`, which is a memmove when the other side is the arena.
//
// Past the readable bytes a ring may hold parked bytes (`writeAt`): TCP's out-of-order data, which
// `commit` makes readable once the gap before it is filled. So `start` may only go back to 0 when
// the ring empties with nothing parked, or parked bytes would end up at the wrong place. Going back
// when it is safe keeps a queue of single datagrams from wrapping, which would split each copy out
// into two (two views on XS when the other side is not the arena).

import { Memory, copy } from "./memory.js";

export class ByteRing {
  /** Changed only by place(). */
  capacity: number;
  /** The arena; the ring is bytes[base .. base + capacity). */
  readonly bytes: Uint8Array;
  /** Changed only by place(). */
  base: number;
  /** Index (from base) of the oldest byte. */
  private start = 0;
  /** Bytes held. */
  private used = 0;
  /** How far past the readable bytes writeAt may have put bytes (an upper bound). */
  private parked = 0;

  /** A ring of `capacity` bytes taken from the arena; 0 makes one to be placed later. */
  constructor(memory: Memory, capacity: number) {
    this.capacity = capacity;
    this.bytes = memory.bytes;
    this.base = capacity > 0 ? memory.take(capacity) : 0;
  }

  /**
   * Puts the ring on `bytes[base .. base + capacity)`, a span handed out at run time (see Spans),
   * and empties it. capacity 0 leaves it on nothing: every write then returns 0.
   */
  place(base: number, capacity: number): void {
    this.base = base;
    this.capacity = capacity;
    this.start = 0;
    this.used = 0;
    this.parked = 0;
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
    this.parked = 0;
  }

  /** Appends up to `length` bytes from `src[offset]`; returns how many fit. */
  write(src: Uint8Array, offset: number, length: number): number {
    const n = this.writeAt(0, src, offset, length);
    this.used += n;
    this.parked = this.parked > n ? this.parked - n : 0;
    return n;
  }

  /**
   * Parks up to `length` bytes from `src[offset]` starting `skip` bytes past the readable ones,
   * without making them readable; returns how many fit. Bytes parked earlier stay where they are.
   */
  writeAt(skip: number, src: Uint8Array, offset: number, length: number): number {
    const room = this.capacity - this.used - skip;
    if (skip < 0 || room <= 0 || length <= 0) return 0;
    const n = length < room ? length : room;
    let at = this.start + this.used + skip;
    if (at >= this.capacity) at -= this.capacity;
    const first = n < this.capacity - at ? n : this.capacity - at;
    copy(this.bytes, this.base + at, src, offset, first);
    if (n > first) copy(this.bytes, this.base, src, offset + first, n - first);
    if (skip + n > this.parked) this.parked = skip + n;
    return n;
  }

  /** Makes up to `length` more bytes (written earlier with writeAt) readable; returns how many. */
  commit(length: number): number {
    const room = this.capacity - this.used;
    const n = length < room ? (length > 0 ? length : 0) : room;
    this.used += n;
    this.parked = this.parked > n ? this.parked - n : 0;
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

  /**
   * Arena offset of the byte `skip` past the oldest (readable or parked); with run(skip), lets a
   * sender checksum or copy a retransmission straight from the ring, one contiguous piece at a time.
   */
  offsetAt(skip: number): number {
    let at = this.start + skip;
    if (at >= this.capacity) at -= this.capacity;
    return this.base + at;
  }

  /** Arena offset of the first byte past the readable ones: where write() puts its next byte. */
  get tailOffset(): number {
    let at = this.start + this.used;
    if (at >= this.capacity) at -= this.capacity;
    return this.base + at;
  }

  /** Free bytes from tailOffset up to the wrap point or the oldest byte. */
  get tailRun(): number {
    if (this.used === this.capacity) return 0;
    let at = this.start + this.used;
    if (at >= this.capacity) at -= this.capacity;
    return at < this.start ? this.start - at : this.capacity - at;
  }

  /** Readable bytes from `skip` past the oldest up to the wrap point or the end of the data. */
  run(skip: number): number {
    if (skip < 0 || skip >= this.used) return 0;
    let at = this.start + skip;
    if (at >= this.capacity) at -= this.capacity;
    const left = this.used - skip;
    return left < this.capacity - at ? left : this.capacity - at;
  }

  /** The byte `skip` bytes past the oldest; the caller checks skip < readable. */
  peekByte(skip: number): number {
    let at = this.start + skip;
    if (at >= this.capacity) at -= this.capacity;
    return this.bytes[this.base + at];
  }

  /** Drops up to `length` of the oldest bytes; returns how many. Parked bytes keep their place. */
  discard(length: number): number {
    const n = length < this.used ? length : this.used;
    this.start += n;
    if (this.start >= this.capacity) this.start -= this.capacity;
    this.used -= n;
    if (this.used === 0 && this.parked === 0) this.start = 0;
    return n;
  }

  /** Moves up to `length` of the oldest bytes into `dst[offset]`; returns how many. */
  read(dst: Uint8Array, offset: number, length: number): number {
    return this.discard(this.peek(dst, offset, length, 0));
  }
}
