// Runs Pollables (the stack, or anything with deadlines) from a host timer facility shaped like
// Moddable's `Timer` and `Time` modules, which are handed in, so this file stays portable and is
// tested on Node with fakes.
//
// One long-lived timer does everything. It is made once with Timer.repeat and then only moved with
// Timer.schedule: each Timer.set or repeat allocates a host object and a native record, and a timer
// whose repeat interval is 0 is freed after it fires, so every schedule passes a non-zero repeat
// (the idle interval, which also keeps the clock sampled; see now()).

import { DriverBase } from "./driver-base.js";

/** Moddable's `Timer` statics, as far as the driver uses them. */
export interface HostTimer<T> {
  repeat(callback: (timer: T) => void, interval: number): T;
  schedule(timer: T, interval?: number, repeat?: number): void;
  clear(timer: T | undefined | null): void;
}

/** Moddable's `Time`: a millisecond tick counter (signed 32 bits on most devices) and its delta. */
export interface HostTime {
  readonly ticks: number;
  /** `end - start` (end defaults to now), correct across the counter's wrap. */
  delta(start: number, end?: number): number;
}

export interface TimerDriverOptions {
  /**
   * Longest sleep when nothing is due. The timer then fires, finds nothing and sleeps again; this
   * keeps the tick counter sampled well inside its wrap period. Default 60000 ms.
   */
  idleInterval?: number;
}

export class TimerDriver<T = unknown> extends DriverBase {
  private readonly host: HostTimer<T>;
  private readonly time: HostTime;
  private readonly idleInterval: number;
  private readonly fireBound: (timer: T) => void;
  private timer: T | null = null;
  private lastTicks: number;
  private clock = 0;
  /** A poll at once is already scheduled. */
  private immediate = false;
  /** Inside run(): signals then only ask for another turn, given when run() re-arms. */
  private running = false;
  private again = false;

  constructor(timer: HostTimer<T>, time: HostTime, options: TimerDriverOptions = {}) {
    super();
    this.host = timer;
    this.time = time;
    this.idleInterval = options.idleInterval ?? 60000;
    if (!(this.idleInterval >= 1 && this.idleInterval <= 0x3fffffff))
      throw new RangeError("driver: bad idleInterval");
    this.lastTicks = time.ticks;
    this.fireBound = () => this.run();
  }

  /**
   * Monotonic milliseconds since the driver was made, summed from tick deltas so the counter's
   * wrap (every 24.8 days at 32 bits) never shows. Sampled at least every idle interval.
   */
  now(): number {
    const ticks = this.time.ticks;
    const delta = this.time.delta(this.lastTicks, ticks);
    this.lastTicks = ticks;
    if (delta > 0) this.clock += delta;
    return this.clock;
  }

  /** Asks for a poll on the next turn; at most one is ever pending, and no call polls in place. */
  schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.immediate) return;
    this.immediate = true;
    this.host.schedule(this.ensureTimer(), 0, this.idleInterval);
  }

  /** Polls everything now, then moves the timer to the next deadline. */
  run(): void {
    if (this.stopped) return;
    this.immediate = false;
    this.running = true;
    this.again = false;
    const now = this.now();
    try {
      this.pollAll(now);
    } finally {
      this.running = false;
    }
    this.arm(now);
  }

  /** Detaches every device and frees the timer; the driver does nothing afterwards. */
  stop(): void {
    this.detachAll();
    if (this.timer !== null) this.host.clear(this.timer);
    this.timer = null;
    this.immediate = false;
  }

  private arm(now: number): void {
    if (this.stopped) return;
    const deadline = this.nextDeadline();
    let delay: number;
    // Frames signalled during the poll, or work already due (a pollable stopped at its budget):
    // go again on the next turn, letting other events in first.
    if (this.again || deadline <= now) {
      delay = 0;
      this.immediate = true;
    } else if (deadline - now >= this.idleInterval) delay = this.idleInterval;
    // Timers run on whole milliseconds; a poll that finds nothing due simply re-arms.
    else delay = Math.ceil(deadline - now);
    this.again = false;
    this.host.schedule(this.ensureTimer(), delay, this.idleInterval);
  }

  private ensureTimer(): T {
    if (this.timer === null) this.timer = this.host.repeat(this.fireBound, this.idleInterval);
    return this.timer;
  }
}
