// Runs Pollables (the stack, or anything with deadlines) on Node's event loop.
//
// The stack never reads a clock or sets a timer itself. This driver calls poll(now) when an attached
// device says frames wait (coalesced: many signals before the next turn of the loop make one poll)
// or when the earliest deadline passes, and after every poll re-arms a single timer for the next
// deadline. The clock is performance.now() in whole milliseconds: monotonic, unaffected by
// wall-clock changes, and a small integer, which V8 passes around without boxing it (a fractional
// time would be a heap-allocated double in every call that carries it).
import { performance } from "node:perf_hooks";
import type { NetDevice, Pollable } from "../../device.js";

export interface NodeDriverOptions {
  /** Let the process exit while only this driver's timer is pending (devices may still hold it). */
  unref?: boolean;
}

/** setTimeout's largest delay; longer ones would fire at once. */
const MAX_DELAY_MS = 0x7fffffff;

export class NodeDriver {
  /** Polls run so far, for tests and diagnostics. */
  polls = 0;

  private readonly pollables: Pollable[] = [];
  private readonly devices: NetDevice[] = [];
  private readonly unref: boolean;
  private readonly scheduleBound: () => void;
  private readonly runBound: () => void;
  private readonly timerBound: () => void;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The delay the timer was last created or refreshed with, so refresh() can reuse it. */
  private timerDelay = -1;
  /** The deadline the timer is armed for, or Infinity. */
  private armedFor = Infinity;
  private stopped = false;

  constructor(options: NodeDriverOptions = {}) {
    this.unref = options.unref === true;
    this.scheduleBound = () => this.schedule();
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

  /** Adds something to poll; it is polled on the next turn and whenever its deadline comes. */
  add(pollable: Pollable): void {
    if (this.pollables.indexOf(pollable) < 0) this.pollables.push(pollable);
    this.schedule();
  }

  remove(pollable: Pollable): void {
    const at = this.pollables.indexOf(pollable);
    if (at >= 0) this.pollables.splice(at, 1);
  }

  /**
   * Polls whenever `device` has frames waiting. Its own deadlines (a delay line) also wake the
   * driver, though only the stack polls it.
   */
  attach(device: NetDevice): void {
    if (this.devices.indexOf(device) < 0) this.devices.push(device);
    device.onReceivable = this.scheduleBound;
    this.schedule();
  }

  detach(device: NetDevice): void {
    const at = this.devices.indexOf(device);
    if (at < 0) return;
    this.devices.splice(at, 1);
    if (device.onReceivable === this.scheduleBound) device.onReceivable = null;
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
    this.polls++;
    const pollables = this.pollables;
    for (let i = 0; i < pollables.length; i++) pollables[i].poll(now);
    this.arm(now);
  }

  /** Detaches every device and cancels everything pending; the driver does nothing afterwards. */
  stop(): void {
    this.stopped = true;
    while (this.devices.length > 0) this.detach(this.devices[this.devices.length - 1]);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  /** The earliest deadline of every pollable and attached device, or Infinity. */
  nextDeadline(): number {
    let earliest = Infinity;
    const pollables = this.pollables;
    for (let i = 0; i < pollables.length; i++) {
      const deadline = pollables[i].nextDeadline();
      if (deadline < earliest) earliest = deadline;
    }
    const devices = this.devices;
    for (let i = 0; i < devices.length; i++) {
      const deadline = devices[i].nextDeadline();
      if (deadline < earliest) earliest = deadline;
    }
    return earliest;
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
