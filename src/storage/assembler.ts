// The out-of-order assembler: which bytes past a moving origin have arrived, as a fixed number of
// disjoint ranges kept sorted in typed arrays. TCP keeps one per connection (its receive queue and
// SACK blocks); IPv4 reassembly one per slot. Ranges that overlap or touch are merged, so the count
// stays as small as the holes allow. Offsets are relative to the origin; advance() moves it.

export class Assembler {
  readonly capacity: number;
  /** Ranges held, sorted and disjoint: [starts[i], ends[i]) relative to the origin. */
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private held = 0;
  /** Index of the range the latest insert landed in (RFC 2018: report it first), or -1. */
  private latest = -1;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError("assembler: capacity must be at least 1");
    this.capacity = capacity;
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Ranges held. */
  get count(): number {
    return this.held;
  }

  /** Bytes contiguous from the origin, ready to consume. */
  get front(): number {
    return this.held > 0 && this.starts[0] === 0 ? this.ends[0] : 0;
  }

  /** Index of the range most recently inserted into or merged, or -1 when it was consumed. */
  get recent(): number {
    return this.latest;
  }

  /** Start of range i (0 <= i < count), relative to the origin. */
  start(i: number): number {
    return this.starts[i];
  }

  /** End (exclusive) of range i, relative to the origin. */
  end(i: number): number {
    return this.ends[i];
  }

  clear(): void {
    this.held = 0;
    this.latest = -1;
  }

  /**
   * Records bytes [start, start + length). Bytes before the origin are ignored. Returns false, and
   * records nothing, when it would take more ranges than the capacity: the caller drops the data.
   */
  insert(start: number, length: number): boolean {
    let end = start + length;
    if (start < 0) start = 0;
    if (end <= start) return true;
    const starts = this.starts;
    const ends = this.ends;
    const held = this.held;
    // First range that ends at or after start (touching counts: it merges).
    let i = 0;
    while (i < held && ends[i] < start) i++;
    // One past the last range that starts at or before end.
    let j = i;
    while (j < held && starts[j] <= end) j++;
    if (i === j) {
      if (held === this.capacity) return false;
      for (let k = held; k > i; k--) {
        starts[k] = starts[k - 1];
        ends[k] = ends[k - 1];
      }
      starts[i] = start;
      ends[i] = end;
      this.held = held + 1;
    } else {
      if (starts[i] < start) start = starts[i];
      if (ends[j - 1] > end) end = ends[j - 1];
      starts[i] = start;
      ends[i] = end;
      const gone = j - i - 1;
      if (gone > 0) {
        for (let k = j; k < held; k++) {
          starts[k - gone] = starts[k];
          ends[k - gone] = ends[k];
        }
        this.held = held - gone;
      }
    }
    this.latest = i;
    return true;
  }

  /** Index of the range holding byte `offset`, or -1. */
  find(offset: number): number {
    for (let i = 0; i < this.held; i++) {
      if (offset < this.starts[i]) return -1;
      if (offset < this.ends[i]) return i;
    }
    return -1;
  }

  /** Whether any byte of [start, start + length) has been recorded. */
  overlaps(start: number, length: number): boolean {
    const end = start + length;
    for (let i = 0; i < this.held; i++) {
      if (this.starts[i] >= end) return false;
      if (this.ends[i] > start) return true;
    }
    return false;
  }

  /** Moves the origin `length` bytes on, forgetting what lay before it. */
  advance(length: number): void {
    if (length <= 0) return;
    const starts = this.starts;
    const ends = this.ends;
    const held = this.held;
    let gone = 0;
    while (gone < held && ends[gone] <= length) gone++;
    for (let k = gone; k < held; k++) {
      const s = starts[k] - length;
      starts[k - gone] = s > 0 ? s : 0;
      ends[k - gone] = ends[k] - length;
    }
    this.held = held - gone;
    const latest = this.latest - gone;
    this.latest = latest >= 0 ? latest : -1;
  }
}
