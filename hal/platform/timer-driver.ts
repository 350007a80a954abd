// Runs Pollables (the stack, or anything with deadlines) from a host timer facility shaped like
// Moddable's `Timer` and `Time` modules, which are handed in, so this file stays portable and is
// tested on Node with fakes.
//
// Two long-lived timers do everything. Each is made once with Timer.repeat and then only moved with
// Timer.schedule: each Timer.set or repeat allocates a host object and a native record, and a timer
// whose repeat interval is 0 is freed after it fires, so every schedule passes a non-zero repeat
// (the idle interval, which also keeps the clock sampled; see now()).
//
// Why two: a callback never reschedules the timer that is calling it. On the SDK's `lin` simulator
// (modules/base/timer/lin/timer.c) a repeating timer rescheduled inside its own callback gets a
// second GLib timeout, and clearing it later from elsewhere leaves that timeout to fire on freed
// memory. So a poll re-arms the other timer; device timer code does not care either way.

import { DriverBase } from "./driver-base.js";

/** Moddable's `Timer` statics, as far as the driver uses them. */
export interface HostTimer<T> {
  /** Makes a timer that calls `callback` every `interval` ms until cleared. */
  repeat(callback: (timer: T) => void, interval: number): T;
  /** Re-arms a timer: first after `delay` ms, then every `repeat` ms if given. */
  schedule(timer: T, interval?: number, repeat?: number): void;
  /** Stops and releases a timer. */
  clear(timer: T | undefined | null): void;
}

/** Moddable's `Time`: a millisecond tick counter (signed 32 bits on most devices) and its delta. */
export interface HostTime {
  /** Milliseconds of a counter that may wrap (Moddable's Time.ticks). */
  readonly ticks: number;
  /** `end - start` (end defaults to now), correct across the counter's wrap. */
  delta(start: number, end?: number): number;
}

/** Options of a TimerDriver. */
export interface TimerDriverOptions {
  /**
   * Longest sleep when nothing is due. The timer then fires, finds nothing and sleeps again; this
   * keeps the tick counter sampled well inside its wrap period. Default 60000 ms.
   */
  idleInterval?: number;
}

/** A driver over any host timer (Moddable's Timer, a test clock): polls on device events and deadlines with one timer. */
export class TimerDriver<T = unknown> extends DriverBase {
  private readonly host: HostTimer<T>;
  private readonly time: HostTime;
  private readonly idleInterval: number;
  private readonly fireBound: (timer: T) => void;
  /** The two timers, made on first use. */
  private readonly timers: (T | null)[] = [null, null];
  /** The timer whose callback is running, or null. */
  private firing: T | null = null;
  /** The timer last armed. */
  private armed = 0;
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
    this.fireBound = (timer: T) => this.fired(timer);
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
    this.host.schedule(this.timerToArm(), 0, this.idleInterval);
  }

  private fired(timer: T): void {
    this.firing = timer;
    try {
      this.run();
    } finally {
      this.firing = null;
    }
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

  /** Detaches every device and frees the timers; the driver does nothing afterwards. */
  stop(): void {
    this.detachAll();
    for (let i = 0; i < 2; i++) {
      const timer = this.timers[i];
      if (timer !== null) this.host.clear(timer);
      this.timers[i] = null;
    }
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
    this.host.schedule(this.timerToArm(), delay, this.idleInterval);
  }

  /**
   * The timer to move: the one armed last, unless it is the one calling back now, whose own
   * repeat then carries on (one idle wake-up at most, which finds nothing and re-arms).
   */
  private timerToArm(): T {
    let index = this.armed;
    if (this.firing !== null && this.timers[index] === this.firing) index = 1 - index;
    let timer = this.timers[index];
    if (timer === null) {
      timer = this.host.repeat(this.fireBound, this.idleInterval);
      this.timers[index] = timer;
    }
    this.armed = index;
    return timer;
  }
}
