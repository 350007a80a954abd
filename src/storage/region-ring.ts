// A byte ring whose storage is a span of the socket buffer region, taken when its socket opens and
// given back when it closes, so a closed socket holds no buffer. The span's bytes stay promised
// (Spans.reserved) while the socket is closed, so every socket can still open with its default.

import { Memory } from "./memory.js";
import { ByteRing } from "./ring.js";
import { SPAN_ALIGN, Spans } from "./spans.js";

/** Region bytes a span of `n` takes. */
export function spanLength(n: number): number {
  return (n + SPAN_ALIGN - 1) & ~(SPAN_ALIGN - 1);
}

export class RegionRing {
  readonly ring: ByteRing;
  /** The capacity the ring opens with. */
  readonly initial: number;
  private readonly spans: Spans;
  private spanAt = -1;

  constructor(memory: Memory, spans: Spans, initial: number) {
    this.ring = new ByteRing(memory, 0);
    this.spans = spans;
    this.initial = initial;
    spans.reserved += spanLength(initial);
  }

  get isOpen(): boolean {
    return this.spanAt >= 0;
  }

  /** Takes the span; false when the region has no free block that big. */
  open(): boolean {
    if (this.spanAt >= 0) return true;
    const spans = this.spans;
    const promised = spanLength(this.initial);
    spans.reserved -= promised;
    const at = spans.alloc(this.initial);
    if (at < 0) {
      spans.reserved += promised;
      return false;
    }
    this.spanAt = at;
    this.ring.place(at, this.initial);
    return true;
  }

  /**
   * Moves the ring, which must be empty, to a span of `capacity` bytes, and returns the capacity
   * it got. The old span goes back first, so keeping or shrinking the size always succeeds;
   * growing takes only what the region has beyond its promises (Spans.reserved) in one free
   * block, so every closed socket can still open with its default.
   */
  resize(capacity: number): number {
    const ring = this.ring;
    if (this.spanAt < 0 || capacity === ring.capacity) return ring.capacity;
    const spans = this.spans;
    const old = ring.capacity;
    spans.free(this.spanAt);
    let room = spans.spare;
    const largest = spans.largest;
    if (largest < room) room = largest;
    let grant = capacity;
    if (spanLength(grant) > room) grant = room & ~(SPAN_ALIGN - 1);
    if (grant < old && capacity > old) grant = old;
    let at = spans.alloc(grant);
    if (at < 0) {
      // Unreachable while every owner keeps its promises: the old size always fits again.
      grant = old;
      at = spans.alloc(old);
    }
    this.spanAt = at;
    ring.place(at, grant);
    return grant;
  }

  /**
   * Moves the ring and the bytes it holds to a span of exactly `capacity` bytes, when the region
   * has that much beyond its promises; false (nothing changed) when not, or when they would not fit.
   */
  move(capacity: number): boolean {
    const ring = this.ring;
    const spans = this.spans;
    const used = ring.readable;
    if (this.spanAt < 0 || capacity < used) return false;
    if (spanLength(capacity) > spans.spare || spans.live >= spans.maxSpans) return false;
    const at = spans.alloc(capacity);
    if (at < 0) return false;
    ring.peek(ring.bytes, at, used, 0);
    spans.free(this.spanAt);
    this.spanAt = at;
    ring.place(at, capacity);
    ring.commit(used);
    return true;
  }

  /** Gives the span back; whatever the ring held is dropped. */
  close(): void {
    if (this.spanAt < 0) return;
    this.ring.clear();
    this.spans.free(this.spanAt);
    this.spans.reserved += spanLength(this.initial);
    this.spanAt = -1;
    this.ring.place(0, 0);
  }
}
