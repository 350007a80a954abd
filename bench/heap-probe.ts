// A probe for steady-state allocation: polled with a stack, it reads the V8 heap's used size each
// time another `step` bytes have moved (bytes counted by whatever the caller watches), so the
// heap's growth per MB can be taken between points inside one transfer, apart from what the
// transfer costs once (a client's process, pipes, promises, the connection). Between readings a
// poll only compares integers.

import { getHeapStatistics } from "node:v8";
import type { Pollable } from "../src/device.js";

const MB = 1 << 20;

/**
 * Polled with the stack: each time `step` more bytes have moved it records the V8 heap's used
 * size, or calls `at` once the bytes pass a mark. Between marks it only compares integers.
 */
export class HeapProbe implements Pollable {
  private source: (() => number) | null = null;
  private base = 0;
  private step = 0;
  private next = 0;
  readonly bytes: number[] = [];
  readonly heap: number[] = [];
  /** What one reading costs the heap (the statistics object), measured at each reading. */
  readingCost = 0;
  private marks: number[] = [];
  private actions: (() => void)[] = [];

  watch(source: () => number, step: number): void {
    this.base = source();
    this.step = step;
    this.next = step;
    this.bytes.length = 0;
    this.heap.length = 0;
    this.marks = [];
    this.actions = [];
    this.source = source;
  }

  /** Runs `action` once the bytes moved since watch() pass `bytes`. */
  at(bytes: number, action: () => void): void {
    this.marks.push(bytes);
    this.actions.push(action);
  }

  stop(): void {
    this.source = null;
  }

  poll(_now: number): void {
    const source = this.source;
    if (source === null) return;
    const moved = source() - this.base;
    if (this.marks.length > 0 && moved >= this.marks[0]) {
      this.marks.shift();
      (this.actions.shift() as () => void)();
    }
    if (this.step === 0 || moved < this.next) return;
    this.next += this.step;
    const a = getHeapStatistics().used_heap_size;
    const b = getHeapStatistics().used_heap_size;
    this.readingCost = b - a;
    this.bytes.push(moved);
    this.heap.push(a);
  }

  nextDeadline(): number {
    return Infinity;
  }

  /**
   * Heap growth per MB between the first reading and the last (the readings' own cost taken off),
   * the median of it over each step between two readings (which leaves out the odd step where
   * the optimizing compiler installed code), and the MB between first and last.
   */
  slope(): { perMb: number; medianPerMb: number; spanMb: number } {
    const n = this.bytes.length;
    if (n < 2) return { perMb: NaN, medianPerMb: NaN, spanMb: 0 };
    const spanMb = (this.bytes[n - 1] - this.bytes[0]) / MB;
    const perMb = (this.heap[n - 1] - this.heap[0] - (n - 1) * this.readingCost) / spanMb;
    const steps: number[] = [];
    for (let i = 1; i < n; i++)
      steps.push(
        (this.heap[i] - this.heap[i - 1] - this.readingCost) /
          ((this.bytes[i] - this.bytes[i - 1]) / MB),
      );
    steps.sort((a, b) => a - b);
    return { perMb, medianPerMb: steps[steps.length >> 1], spanMb };
  }
}
