// Runs Pollables (the stack, or anything with deadlines) on Node's event loop.
//
// The stack never reads a clock or sets a timer itself. This driver calls poll(now) when an attached
// device says frames wait (coalesced: many signals before the next turn of the loop make one poll)
// or when the earliest deadline passes, and after every poll re-arms a single timer for the next
// deadline. The clock is performance.now() in whole milliseconds: monotonic, unaffected by
// wall-clock changes, and a small integer, which V8 passes around without boxing it (a fractional
// time would be a heap-allocated double in every call that carries it).
import { performance } from "node:perf_hooks";
import { DriverBase } from "../driver-base.js";

export interface NodeDriverOptions {
  /** Let the process exit while only this driver's timer is pending (devices may still hold it). */
  unref?: boolean;
}

/** setTimeout's largest delay; longer ones would fire at once. */
const MAX_DELAY_MS = 0x7fffffff;

export class NodeDriver extends DriverBase {
  private readonly unref: boolean;
  private readonly runBound: () => void;
  private readonly timerBound: () => void;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The delay the timer was last created or refreshed with, so refresh() can reuse it. */
  private timerDelay = -1;
  /** The deadline the timer is armed for, or Infinity. */
  private armedFor = Infinity;

  constructor(options: NodeDriverOptions = {}) {
    super();
    this.unref = options.unref === true;
    this.runBound = () => this.run();
    this.timerBound = () => {
      this.armedFor = Infinity;
      this.run();
    };
  }

  /** Monotonic milliseconds. */
  now(): number {
    return Math.floor(performance.now());
  }

  /** Asks for a poll on the next turn of the loop; at most one is ever pending. */
  schedule(): void {
    if (this.stopped || this.immediate !== null) return;
    this.immediate = setImmediate(this.runBound);
  }

  /** Polls everything now, then re-arms the timer. */
  run(): void {
    this.immediate = null;
    if (this.stopped) return;
    const now = Math.floor(performance.now());
    this.pollAll(now);
    this.arm(now);
  }

  /** Detaches every device and cancels everything pending; the driver does nothing afterwards. */
  stop(): void {
    this.detachAll();
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private arm(now: number): void {
    if (this.stopped) return;
    const deadline = this.nextDeadline();
    // Work already due (a pollable that stopped at its budget): go again on the next turn.
    if (deadline <= now) {
      this.schedule();
      return;
    }
    // A timer already due no later than this deadline stays: firing early costs one poll that
    // finds little to do, while re-arming on every later deadline would make a Timeout per poll.
    if (deadline >= this.armedFor) return;
    this.armedFor = deadline;
    // Timers run on whole milliseconds and may fire up to one early; a poll that finds nothing due
    // simply re-arms, so rounding up is enough.
    const delay = Math.min(MAX_DELAY_MS, Math.ceil(deadline - now));
    if (this.timer !== null && delay === this.timerDelay) {
      this.timer.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(this.timerBound, delay);
    if (this.unref) this.timer.unref();
    this.timerDelay = delay;
  }
}
