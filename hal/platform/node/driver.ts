// Runs Pollables (the stack, or anything with deadlines) on Node's event loop.
//
// The stack never reads a clock or sets a timer itself. This driver calls poll(now) when an attached
// device signals (coalesced: many signals before the next turn of the loop make one poll) or when
// the earliest deadline passes, and after every poll re-arms a single timer for the next deadline.
// The clock is monotonic whole milliseconds, unaffected by wall-clock changes. With the addon it is
// its nowMs(): CLOCK_MONOTONIC since the addon loaded, returned as an int32, which V8 keeps as a
// small integer (performance.now() is a fractional double, a heap number per poll before it is
// floored). It stays an int32 for 2^31 ms, 24.8 days; later it goes on as a plain number, never
// wrapping, since the stack compares deadlines as numbers. Without the addon, performance.now().
//
// Wake-ups allocate nothing. With the native addon (build/Release/tap.node) a wake is a zero-delay
// send and a deadline a uv_timer start, both made once, whose callbacks enter JS through persistent
// references. Without it (no compiler on this machine, another OS) the driver falls back to
// setImmediate and setTimeout, which make an Immediate per wake and a Timeout per new delay.
import { performance } from "node:perf_hooks";
import { DriverBase } from "../driver-base.js";
import { errnoName } from "../../../src/errno.js";
import { loadTapAddon, type TapAddon } from "../../tap/tap.js";

/** Options of a NodeDriver. */
export interface NodeDriverOptions {
  /** Let the process exit while only this driver's timer is pending (devices may still hold it). */
  unref?: boolean;
  /**
   * Use the native ticker when the addon loads (the default), or false for Node's own timers.
   * True insists: the constructor throws when the addon is missing.
   */
  native?: boolean;
}

/** setTimeout's largest delay; longer ones would fire at once. */
const MAX_DELAY_MS = 0x7fffffff;

/** The addon's wake callback; `this` is the driver. */
function nativeWake(this: NodeDriver): void {
  this.wakeFired();
}

/** The addon's timer callback; `this` is the driver. */
function nativeTimer(this: NodeDriver): void {
  this.timerFired();
}

/** Runs stacks and devices on Node's event loop: polls when a device signals or a deadline passes. */
export class NodeDriver extends DriverBase {
  /** Whether wake-ups go through the native ticker (allocation-free) or Node's timers. */
  readonly native: boolean;
  private readonly unref: boolean;
  private readonly addon: TapAddon | null = null;
  /** The addon, when its integer clock is used. */
  private readonly clock: TapAddon | null = null;
  /** The native ticker's id, or -1 when Node's timers are used (or after stop()). */
  private ticker = -1;
  /** A wake is pending on the native ticker. */
  private wakePending = false;
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
    this.timerBound = () => this.timerFired();
    if (options.native !== false) {
      const addon = loadTapAddon();
      if (typeof addon !== "string" && typeof addon.tickerOpen === "function") {
        const id = addon.tickerOpen(nativeWake, nativeTimer, this, !this.unref);
        if (id >= 0) {
          this.addon = addon;
          this.ticker = id;
        } else if (options.native === true) {
          throw new Error(`NodeDriver: native ticker: ${errnoName(id)}`);
        }
      } else if (options.native === true) {
        throw new Error(
          `NodeDriver: ${typeof addon === "string" ? addon : "the addon has no ticker (rebuild it)"}`,
        );
      }
    }
    this.native = this.addon !== null;
    if (this.addon !== null && typeof this.addon.nowMs === "function") this.clock = this.addon;
  }

  /** Monotonic whole milliseconds. */
  now(): number {
    const clock = this.clock;
    return clock !== null ? clock.nowMs() : Math.floor(performance.now());
  }

  /** Asks for a poll on the next turn of the loop; at most one is ever pending. */
  schedule(): void {
    if (this.stopped) return;
    if (this.addon !== null) {
      if (this.wakePending) return;
      this.wakePending = true;
      this.addon.tickerWake(this.ticker);
      return;
    }
    if (this.immediate !== null) return;
    this.immediate = setImmediate(this.runBound);
  }

  /** Polls everything now, then re-arms the timer. */
  run(): void {
    this.immediate = null;
    if (this.stopped) return;
    const now = this.now();
    this.pollAll(now);
    this.arm(now);
  }

  /** The native ticker's wake: for the addon's callback only. */
  wakeFired(): void {
    this.wakePending = false;
    this.run();
  }

  /** The armed deadline came: for the timer callbacks only. */
  timerFired(): void {
    // libuv counts the native timer from its loop's cached time, which can lag the clock a poll
    // reads: a timer that comes before its deadline sleeps the rest instead of polling for nothing.
    if (this.addon !== null && this.ticker >= 0 && !this.stopped) {
      const early = this.armedFor - this.now();
      if (early > 0 && this.armedFor !== Infinity) {
        this.addon.tickerArm(this.ticker, early);
        return;
      }
    }
    this.armedFor = Infinity;
    this.run();
  }

  /** Detaches every device and cancels everything pending; the driver does nothing afterwards. */
  stop(): void {
    this.detachAll();
    if (this.addon !== null && this.ticker >= 0) {
      this.addon.tickerClose(this.ticker);
      this.ticker = -1;
    }
    this.wakePending = false;
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
    if (this.addon !== null) {
      // Re-arming the native timer costs no allocation, so it follows the deadline exactly, and an
      // armed timer never outlives the work it was for (it may hold the process open).
      if (deadline === this.armedFor) return;
      this.armedFor = deadline;
      const delay = deadline === Infinity ? -1 : Math.min(MAX_DELAY_MS, Math.ceil(deadline - now));
      this.addon.tickerArm(this.ticker, delay);
      return;
    }
    // A timer already due no later than this deadline stays: firing early costs one poll that
    // finds little to do, while re-arming on every later deadline would cost a Timeout per poll.
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
