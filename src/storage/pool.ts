// The packet buffer pool: `count` buffers of `size` bytes carved from the arena. A buffer is an
// integer handle; its bytes are `bytes[offsetOf(h) .. offsetOf(h) + size)`. Nothing here allocates
// after construction, and exhaustion is an ordinary result (-1), never an exception.

import { Memory } from "./memory.js";

/** Fixed-size packet buffers in an arena, each named by a handle (an index); alloc() and free() never allocate. */
export class PacketPool {
  /** Buffers in the pool. */
  readonly count: number;
  /** Bytes per buffer. */
  readonly size: number;
  /**
   * Bytes from one buffer to the next: `size` rounded up to 8, so every buffer starts 8-aligned and
   * copies between buffers and other aligned spans move whole words.
   */
  readonly stride: number;
  /** The arena holding the buffers, back to back from `base`. */
  readonly bytes: Uint8Array;
  /** Arena offset of the first buffer. */
  readonly base: number;
  /** Length of the frame each buffer holds, kept by whoever owns the handle. */
  readonly length: Int32Array;
  /** Link field for queues threaded through the pool (see HandleList). */
  readonly next: Int32Array;
  /** Times alloc() found the pool empty. */
  exhausted = 0;
  /**
   * Frees of a buffer not in use: a bug in the stack. Counted and ignored rather than thrown, so a
   * device keeps running; tests check it stays 0.
   */
  badFrees = 0;

  private readonly freeStack: Int32Array;
  private readonly owned: Uint8Array;
  private top: number;

  constructor(memory: Memory, count: number, size: number) {
    if (!(count > 0 && count < 0x8000 && size >= 64))
      throw new RangeError("pool: bad count or size");
    this.count = count;
    this.size = size;
    this.stride = poolStride(size);
    this.bytes = memory.bytes;
    this.base = memory.take(count * this.stride);
    this.length = new Int32Array(count);
    this.next = new Int32Array(count).fill(-1);
    this.freeStack = new Int32Array(count);
    this.owned = new Uint8Array(count);
    for (let i = 0; i < count; i++) this.freeStack[i] = count - 1 - i;
    this.top = count;
  }

  /** Buffers not handed out. */
  get available(): number {
    return this.top;
  }

  /** A free buffer's handle, or -1 when none is left. */
  alloc(): number {
    if (this.top === 0) {
      this.exhausted++;
      return -1;
    }
    const handle = this.freeStack[--this.top];
    this.owned[handle] = 1;
    this.length[handle] = 0;
    this.next[handle] = -1;
    return handle;
  }

  /**
   * The handle the next alloc() will return, without taking it, or -1: a device can be asked to
   * fill it and the buffer taken only when a frame came, so an idle poll costs no alloc and free.
   */
  peekFree(): number {
    return this.top > 0 ? this.freeStack[this.top - 1] : -1;
  }

  /** Gives a buffer back. */
  free(handle: number): void {
    // Taking it back twice would hand one buffer to two owners later: refuse, and count it.
    if (!(handle >= 0 && handle < this.count) || this.owned[handle] !== 1) {
      this.badFrees++;
      return;
    }
    this.owned[handle] = 0;
    this.freeStack[this.top++] = handle;
  }

  /** Arena offset of a buffer's first byte. */
  offsetOf(handle: number): number {
    return this.base + handle * this.stride;
  }
}

/**
 * A FIFO of pool handles linked through `pool.next`, so queueing a packet costs nothing but two
 * integer writes. A handle may sit in at most one list at a time.
 */
export class HandleList {
  head = -1;
  tail = -1;
  length = 0;

  push(pool: PacketPool, handle: number): void {
    pool.next[handle] = -1;
    if (this.tail < 0) this.head = handle;
    else pool.next[this.tail] = handle;
    this.tail = handle;
    this.length++;
  }

  /** The first handle, removed, or -1 when empty. */
  shift(pool: PacketPool): number {
    const handle = this.head;
    if (handle < 0) return -1;
    this.head = pool.next[handle];
    if (this.head < 0) this.tail = -1;
    pool.next[handle] = -1;
    this.length--;
    return handle;
  }

  /** Returns every handle to the pool. */
  freeAll(pool: PacketPool): void {
    for (let h = this.shift(pool); h >= 0; h = this.shift(pool)) pool.free(h);
  }
}

/** Bytes a buffer of `size` bytes takes in the pool: `size` rounded up to 8. */
export function poolStride(size: number): number {
  return (size + 7) & ~7;
}
