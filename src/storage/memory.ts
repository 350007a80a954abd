// One arena per stack (or per board, shared by several stacks and devices): every buffer the stack
// uses is a span of this single Uint8Array, addressed by absolute offset. Copies between two spans
// are then `copyWithin` on one array: a memmove, with no view created. Copies between separate
// arrays allocate nothing either, but only one array is a memmove in portable code.

/** An arena: one Uint8Array handed out in aligned pieces by take(), never given back. */
export class Memory {
  /** The whole arena. */
  readonly bytes: Uint8Array;
  /** First free offset. */
  private top: number;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.top = offset;
  }

  /** Bytes not yet handed out. */
  get free(): number {
    return this.bytes.length - this.top;
  }

  /** Offset of a fresh span of `length` bytes, aligned to `align`. Only at start-up. */
  take(length: number, align = 8): number {
    const at = (this.top + align - 1) & ~(align - 1);
    if (at + length > this.bytes.length) throw new RangeError("memory: arena too small");
    this.top = at + length;
    return at;
  }
}

/**
 * Copies `length` bytes, as memmove, between any two arrays without allocating (see memops.ts):
 * within one array it is copyWithin; across arrays whole words through views each buffer keeps.
 */
export { copy } from "../memops.js";
