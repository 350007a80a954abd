// Variable spans handed out at run time from one region of the arena reserved at start-up: the
// bytes behind per-socket buffers whose sizes are chosen per socket (SO_RCVBUF, SO_SNDBUF) and given
// back on close. First fit over a free list kept sorted by offset, so a freed span merges with its
// free neighbours at once and the region never fragments beyond what live spans force. The lists
// live in typed arrays sized at construction; nothing allocates afterwards.

import { Memory } from "./memory.js";

/** Spans are whole multiples of this, and start on it. */
export const SPAN_ALIGN = 8;

export class Spans {
  /** The arena; the region is bytes[base .. base + size). */
  readonly bytes: Uint8Array;
  readonly base: number;
  readonly size: number;
  /** Spans that may be live at once. */
  readonly maxSpans: number;
  /** Times alloc() found no room (or no free entry). */
  failures = 0;
  /**
   * Free bytes promised to owners that have not taken their span yet (sockets not open): a span
   * may grow only into `spare`, so every socket can still get its default buffer when it opens.
   * Kept by the owners; alloc() does not look at it.
   */
  reserved = 0;

  /** Free blocks, sorted by offset, never touching one another. */
  private readonly freeAt: Int32Array;
  private readonly freeLength: Int32Array;
  private freeCount = 0;
  /** Live spans, unordered: offset and length. */
  private readonly liveAt: Int32Array;
  private readonly liveLength: Int32Array;
  private liveCount = 0;
  private freeBytes = 0;

  constructor(memory: Memory, size: number, maxSpans: number) {
    if (!(maxSpans >= 1)) throw new RangeError("spans: maxSpans must be at least 1");
    this.size = size - (size % SPAN_ALIGN);
    this.bytes = memory.bytes;
    this.base = memory.take(this.size, SPAN_ALIGN);
    this.maxSpans = maxSpans;
    // n live spans leave at most n + 1 holes.
    this.freeAt = new Int32Array(maxSpans + 1);
    this.freeLength = new Int32Array(maxSpans + 1);
    this.liveAt = new Int32Array(maxSpans);
    this.liveLength = new Int32Array(maxSpans);
    this.reset();
  }

  /** Forgets every span: the whole region is free again. */
  reset(): void {
    this.liveCount = 0;
    this.freeCount = 0;
    this.freeBytes = this.size;
    if (this.size > 0) {
      this.freeAt[0] = this.base;
      this.freeLength[0] = this.size;
      this.freeCount = 1;
    }
  }

  /** Free bytes in all. */
  get available(): number {
    return this.freeBytes;
  }

  /** Free bytes not promised to anyone. */
  get spare(): number {
    return this.freeBytes - this.reserved;
  }

  /** The largest span alloc() could hand out now. */
  get largest(): number {
    let most = 0;
    for (let i = 0; i < this.freeCount; i++)
      if (this.freeLength[i] > most) most = this.freeLength[i];
    return most;
  }

  /** Live spans. */
  get live(): number {
    return this.liveCount;
  }

  /** Free blocks (1 when nothing is fragmented). */
  get holes(): number {
    return this.freeCount;
  }

  /**
   * Arena offset of a fresh span of at least `length` bytes (rounded up to SPAN_ALIGN), or -1 when
   * no free block is big enough or maxSpans are live. Its bytes are not cleared.
   */
  alloc(length: number): number {
    if (!(length > 0) || this.liveCount === this.maxSpans) {
      this.failures++;
      return -1;
    }
    const need = (length + SPAN_ALIGN - 1) & ~(SPAN_ALIGN - 1);
    const count = this.freeCount;
    let i = 0;
    while (i < count && this.freeLength[i] < need) i++;
    if (i === count) {
      this.failures++;
      return -1;
    }
    const at = this.freeAt[i];
    if (this.freeLength[i] === need) {
      for (let k = i + 1; k < count; k++) {
        this.freeAt[k - 1] = this.freeAt[k];
        this.freeLength[k - 1] = this.freeLength[k];
      }
      this.freeCount = count - 1;
    } else {
      this.freeAt[i] = at + need;
      this.freeLength[i] -= need;
    }
    this.liveAt[this.liveCount] = at;
    this.liveLength[this.liveCount] = need;
    this.liveCount++;
    this.freeBytes -= need;
    return at;
  }

  /** Length of the live span at `offset` (as rounded by alloc), or -1 when there is none. */
  sizeOf(offset: number): number {
    const k = this.indexOf(offset);
    return k < 0 ? -1 : this.liveLength[k];
  }

  /** Gives a span back; false (nothing changes) when `offset` is not a live span. */
  free(offset: number): boolean {
    const k = this.indexOf(offset);
    if (k < 0) return false;
    const length = this.liveLength[k];
    const last = --this.liveCount;
    this.liveAt[k] = this.liveAt[last];
    this.liveLength[k] = this.liveLength[last];
    this.freeBytes += length;
    const freeAt = this.freeAt;
    const freeLength = this.freeLength;
    const count = this.freeCount;
    // The first free block after the span.
    let i = 0;
    while (i < count && freeAt[i] < offset) i++;
    const joinsBefore = i > 0 && freeAt[i - 1] + freeLength[i - 1] === offset;
    const joinsAfter = i < count && offset + length === freeAt[i];
    if (joinsBefore && joinsAfter) {
      freeLength[i - 1] += length + freeLength[i];
      for (let m = i + 1; m < count; m++) {
        freeAt[m - 1] = freeAt[m];
        freeLength[m - 1] = freeLength[m];
      }
      this.freeCount = count - 1;
    } else if (joinsBefore) {
      freeLength[i - 1] += length;
    } else if (joinsAfter) {
      freeAt[i] = offset;
      freeLength[i] += length;
    } else {
      for (let m = count; m > i; m--) {
        freeAt[m] = freeAt[m - 1];
        freeLength[m] = freeLength[m - 1];
      }
      freeAt[i] = offset;
      freeLength[i] = length;
      this.freeCount = count + 1;
    }
    return true;
  }

  private indexOf(offset: number): number {
    for (let k = 0; k < this.liveCount; k++) if (this.liveAt[k] === offset) return k;
    return -1;
  }
}
