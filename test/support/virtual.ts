// A virtual clock that drives Pollables (stacks, fakes) and devices the way a platform adapter would,
// but with time that jumps straight to the next deadline: a two-minute TIME_WAIT takes microseconds
// and every run is the same. Nothing here reads the real clock.

import type { NetDevice, Pollable } from "../../src/device.js";

export class VirtualNet {
  /** The virtual time in milliseconds. */
  now: number;
  /** poll() rounds run so far. */
  steps = 0;
  private readonly pollables: Pollable[] = [];
  private readonly devices: NetDevice[] = [];
  private signalled = false;
  private readonly signal = (): void => {
    this.signalled = true;
  };

  constructor(start = 0) {
    this.now = start;
  }

  /** Adds something to poll every round, in the order added. */
  add(pollable: Pollable): this {
    this.pollables.push(pollable);
    return this;
  }

  /**
   * Watches a device: its onEvent signals mark the net busy, and its deadline and poll() take part in
   * every round (a device poll is idempotent at one time, so the stack polling it too is harmless).
   */
  attach(device: NetDevice): this {
    this.devices.push(device);
    device.onEvent = this.signal;
    return this;
  }

  /** Whether a device has signalled frames since the last round. */
  get busy(): boolean {
    return this.signalled;
  }

  /** The earliest deadline of any pollable or device, or Infinity. */
  nextDeadline(): number {
    let t = Infinity;
    for (const p of this.pollables) {
      const d = p.nextDeadline();
      if (d < t) t = d;
    }
    for (const d of this.devices) {
      const n = d.nextDeadline();
      if (n < t) t = n;
    }
    return t;
  }

  /** One round at the current time: devices first, then every pollable. */
  poll(): void {
    this.signalled = false;
    this.steps++;
    for (const d of this.devices) d.poll(this.now);
    for (const p of this.pollables) p.poll(this.now);
  }

  /**
   * Polls while frames are signalled or deadlines are due, jumping time to each next deadline, until
   * nothing is left (true), or `maxSteps` rounds have run, or the next deadline lies more than
   * `maxMs` past the start (false; time then stops at that limit).
   */
  runUntilIdle(maxSteps = 100_000, maxMs = Infinity): boolean {
    return this.run(this.now + maxMs, maxSteps, false);
  }

  /**
   * Runs everything due within the next `ms` milliseconds, in deadline order, then sets the clock to
   * the end of that span. Throws when `maxSteps` rounds do not get there (a livelock).
   */
  advance(ms: number, maxSteps = 1_000_000): void {
    if (!(ms >= 0)) throw new RangeError("virtual: advance by a negative time");
    const end = this.now + ms;
    if (!this.run(end, maxSteps, true))
      throw new Error(`virtual: ${maxSteps} rounds did not reach t=${end} (stuck at ${this.now})`);
    this.now = end;
  }

  private run(end: number, maxSteps: number, toEnd: boolean): boolean {
    let rounds = 0;
    for (;;) {
      const due = this.nextDeadline();
      if (this.signalled || due <= this.now) {
        if (rounds++ >= maxSteps) return false;
        this.poll();
        continue;
      }
      if (due === Infinity) return true;
      if (due > end) {
        if (!toEnd && end !== Infinity) this.now = end;
        return toEnd;
      }
      this.now = due;
    }
  }
}

/**
 * A stand-in for a stack: polls its device, and sends every frame it receives straight back with the
 * Ethernet addresses swapped. Keeps what it saw for the test to inspect.
 */
export class Echo implements Pollable {
  readonly device: NetDevice;
  /** Lengths of the frames received, in order. */
  readonly received: number[] = [];
  /** Times (virtual ms) at which they were received. */
  readonly times: number[] = [];
  /** Whether to send frames back; a sink when false. */
  reply: boolean;
  refused = 0;
  private readonly buffer: Uint8Array;
  private readonly copies: Uint8Array[] = [];
  keep = false;

  constructor(device: NetDevice, reply = true, keep = false) {
    this.device = device;
    this.reply = reply;
    this.keep = keep;
    this.buffer = new Uint8Array(device.mtu + 14);
  }

  /** Copies of the frames received, when constructed with `keep`. */
  get frames(): readonly Uint8Array[] {
    return this.copies;
  }

  poll(now: number): void {
    this.device.poll(now);
    const b = this.buffer;
    for (;;) {
      const n = this.device.receive(b, 0, b.length);
      if (n === 0) break;
      this.received.push(n);
      this.times.push(now);
      if (this.keep) this.copies.push(b.slice(0, n));
      if (!this.reply) continue;
      for (let i = 0; i < 6; i++) {
        const t = b[i];
        b[i] = b[6 + i];
        b[6 + i] = t;
      }
      if (this.device.transmit(b, 0, n) <= 0) this.refused++;
    }
  }

  nextDeadline(): number {
    return this.device.nextDeadline();
  }
}
