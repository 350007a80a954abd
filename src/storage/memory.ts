// One arena per stack (or per board, shared by several stacks and devices): every buffer the stack
// uses is a span of this single Uint8Array, addressed by absolute offset. Copies between two spans
// are then `copyWithin` on one array: a memmove, with no view created. On XS that is ~750x faster
// than a byte loop and allocates nothing, unlike `set(subarray())`.

export class Memory {
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
 * Copies `length` bytes. Within one array (the arena) it is a memmove; across arrays it costs a
 * view unless the source is copied whole, so keep hot paths inside the arena.
 */
export function copy(
  dst: Uint8Array,
  dstOffset: number,
  src: Uint8Array,
  srcOffset: number,
  length: number,
): void {
  if (length <= 0) return;
  if (dst === src) dst.copyWithin(dstOffset, srcOffset, srcOffset + length);
  else if (srcOffset === 0 && length === src.length) dst.set(src, dstOffset);
  else if (length <= 32) for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
  else dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
}
