// The base of every header view: a re-pointable window on bytes, made once and aimed at each
// packet in turn with wrap(), so reading a header allocates nothing.

/** The placeholder every view points at until it wraps real bytes. */
export const EMPTY: Uint8Array = Object.freeze(new Uint8Array(0));

export class WireView {
  bytes: Uint8Array = EMPTY;
  /** Offset of the header's first byte. */
  at = 0;

  wrap(bytes: Uint8Array, at: number): this {
    this.bytes = bytes;
    this.at = at;
    return this;
  }
}
