import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Pollable } from "../../src/device.js";
import { LinkPair } from "../../hal/pair.js";
import { TX_BUSY, TX_TAKEN } from "../../src/device.js";
import { TimerDriver, type HostTime, type HostTimer } from "../../hal/platform/timer-driver.js";

interface FakeTimer {
  callback: (timer: FakeTimer) => void;
  trigger: number;
  repeat: number;
  alive: boolean;
}

/**
 * Moddable's timer and clock, as modTimer.c and Time behave on a device: ticks are a signed 32-bit
 * millisecond counter; a firing timer's trigger moves on by its repeat interval before the callback,
 * a schedule() inside the callback overrides that, and a timer whose repeat is 0 is freed after it
 * fires. Tests run it with advance(), which plays the main loop.
 */
class FakeHost implements HostTimer<FakeTimer>, HostTime {
  /** Milliseconds since the fake booted, unbounded; ticks is its low 32 bits, signed. */
  elapsed: number;
  readonly timers: FakeTimer[] = [];
  repeats = 0;
  schedules = 0;
  clears = 0;
  freed = 0;

  constructor(startTicks = 0) {
    this.elapsed = startTicks;
  }

  get ticks(): number {
    return this.elapsed | 0;
  }

  delta(start: number, end: number = this.ticks): number {
    return (end - start) | 0;
  }

  repeat(callback: (timer: FakeTimer) => void, interval: number): FakeTimer {
    this.repeats++;
    const t = { callback, trigger: this.elapsed + interval, repeat: interval, alive: true };
    this.timers.push(t);
    return t;
  }

  /** The timer whose callback is running, and timers rescheduled from inside their own callback. */
  private calling: FakeTimer | null = null;
  private readonly selfScheduled = new Set<FakeTimer>();
  /**
   * Timers cleared after being rescheduled inside their own callback: on the SDK's `lin` simulator
   * each leaves an orphaned GLib timeout that fires on freed memory (timer.c, modTimerExecuteOne).
   */
  linOrphans = 0;

  schedule(timer: FakeTimer, interval?: number, repeat?: number): void {
    this.schedules++;
    if (!timer.alive) throw new Error("fake: schedule of a freed timer");
    if (timer === this.calling) this.selfScheduled.add(timer);
    if (interval === undefined) {
      timer.trigger = Infinity;
      return;
    }
    timer.trigger = this.elapsed + interval;
    timer.repeat = repeat ?? 0;
  }

  clear(timer: FakeTimer | undefined | null): void {
    this.clears++;
    if (timer == null) return;
    if (this.selfScheduled.has(timer)) this.linOrphans++;
    timer.alive = false;
    this.timers.splice(this.timers.indexOf(timer), 1);
  }

  /** Runs the main loop for `ms`: each due timer fires in time order, one turn at a time. */
  advance(ms: number): void {
    const end = this.elapsed + ms;
    for (;;) {
      let next: FakeTimer | null = null;
      for (const t of this.timers)
        if (t.trigger <= end && (next === null || t.trigger < next.trigger)) next = t;
      if (next === null) break;
      if (next.trigger > this.elapsed) this.elapsed = next.trigger;
      next.trigger += next.repeat === 0 ? Infinity : next.repeat;
      this.calling = next;
      next.callback(next);
      this.calling = null;
      if (next.alive && next.repeat === 0) {
        next.alive = false;
        this.freed++;
        this.timers.splice(this.timers.indexOf(next), 1);
      }
    }
    this.elapsed = end;
  }
}

/** A pollable with a list of deadlines; records when it was polled. */
class Scripted implements Pollable {
  readonly polled: number[] = [];
  deadline = Infinity;
  every = 0;
  poll(now: number): void {
    this.polled.push(now);
    if (now >= this.deadline)
      this.deadline = this.every > 0 ? this.deadline + this.every : Infinity;
  }
  nextDeadline(): number {
    return this.deadline;
  }
}

test("adding a pollable polls it on the next turn, not in place", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const p = new Scripted();
  driver.add(p);
  assert.is(p.polled.length, 0);
  host.advance(0);
  assert.equal(p.polled, [0]);
  assert.is(host.repeats, 2, "two timers made, which then only move");
});

test("a deadline wakes the driver at that time, on the driver's two timers", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const p = new Scripted();
  p.deadline = 50;
  p.every = 50;
  driver.add(p);
  host.advance(1000);
  assert.equal(
    p.polled,
    [
      0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 550, 600, 650, 700, 750, 800, 850, 900,
      950, 1000,
    ],
  );
  assert.is(host.repeats, 2, "two timers made, and no more");
  assert.is(host.clears, 0, "never cleared and set again");
  assert.is(host.freed, 0, "never left with a zero repeat");
  assert.is(host.timers.length, 2);
});

test("fractional deadlines round up to the next millisecond", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const p = new Scripted();
  p.deadline = 10.2;
  driver.add(p);
  host.advance(10);
  assert.equal(p.polled, [0]);
  host.advance(1);
  assert.equal(p.polled, [0, 11]);
});

test("with nothing due the timer sleeps the idle interval and survives", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host, { idleInterval: 1000 });
  const p = new Scripted();
  driver.add(p);
  host.advance(5500);
  assert.equal(p.polled, [0, 1000, 2000, 3000, 4000, 5000]);
  p.deadline = 5700;
  driver.schedule();
  host.advance(300);
  assert.equal(p.polled.slice(6), [5500, 5700]);
  assert.is(host.freed, 0);
  assert.is(host.repeats, 2);
});

test("no timer is rescheduled inside its own callback, so stopping from another timer is safe on lin", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host, { idleInterval: 1000 });
  const p = new Scripted();
  p.deadline = 7;
  p.every = 13;
  driver.add(p);
  const pair = new LinkPair();
  driver.attach(pair.a);
  host.advance(100);
  // Signals from inside a poll and from outside, deadlines, idle sleeps.
  pair.b.transmit(new Uint8Array(60), 0, 60);
  host.advance(50);
  p.every = 0;
  host.advance(5000);
  const polls = p.polled.length;
  assert.ok(polls > 10, "the driver ran");
  // The application stops the driver from a timer of its own, as the lin crash report did.
  host.repeat(() => driver.stop(), 10);
  host.advance(20);
  assert.is(host.linOrphans, 0, "no timer cleared after rescheduling itself");
  host.advance(10_000);
  assert.is(p.polled.length, polls, "nothing polls after stop");
});

test("a device signal schedules one poll at once; many signals coalesce", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const pair = new LinkPair();
  const p = new Scripted();
  driver.add(p);
  driver.attach(pair.b);
  host.advance(100);
  const before = p.polled.length;
  const f = new Uint8Array(60);
  for (let i = 0; i < 10; i++) pair.a.transmit(f, 0, 60);
  assert.is(p.polled.length, before, "no poll inside transmit");
  host.advance(0);
  assert.equal(p.polled.slice(before), [100], "one poll for ten frames");
});

test("a signal during a poll gets another turn", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const pair = new LinkPair();
  driver.attach(pair.b);
  const f = new Uint8Array(60);
  let polls = 0;
  // Each poll sends one more frame to the attached end, until five.
  driver.add({
    poll() {
      polls++;
      if (polls < 5) pair.a.transmit(f, 0, 60);
    },
    nextDeadline: () => Infinity,
  });
  host.advance(0);
  assert.is(polls, 5);
});

test("the clock is monotonic and continuous across the 32-bit tick wrap", () => {
  const host = new FakeHost(0x7fffffff - 95);
  const driver = new TimerDriver(host, host);
  const p = new Scripted();
  p.deadline = 30;
  p.every = 30;
  driver.add(p);
  host.advance(300);
  assert.ok(host.ticks < 0, "ticks wrapped");
  assert.equal(p.polled, [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300]);
  assert.is(driver.now(), 300);
});

test("the clock survives many wraps when sampled at the idle interval", () => {
  const host = new FakeHost(-5);
  const driver = new TimerDriver(host, host, { idleInterval: 0x3fffffff });
  const p = new Scripted();
  driver.add(p);
  const span = 3 * 2 ** 32 + 12345;
  host.advance(span);
  assert.is(driver.now(), span);
  for (let i = 1; i < p.polled.length; i++) assert.ok(p.polled[i] > p.polled[i - 1]);
});

test("a pollable already due at the end of a poll is polled again on the next turn", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  let left = 3;
  const polled: number[] = [];
  driver.add({
    poll(now) {
      polled.push(now);
      left--;
    },
    nextDeadline: () => (left > 0 ? 0 : Infinity),
  });
  host.advance(0);
  assert.equal(polled, [0, 0, 0]);
});

test("stop frees the timer, detaches devices and ends polling", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const pair = new LinkPair();
  const p = new Scripted();
  p.deadline = 10;
  p.every = 10;
  driver.add(p);
  driver.attach(pair.b);
  host.advance(25);
  driver.stop();
  assert.is(host.timers.length, 0);
  assert.is(pair.b.onEvent, null);
  const count = p.polled.length;
  pair.a.transmit(new Uint8Array(60), 0, 60);
  driver.schedule();
  host.advance(100);
  assert.is(p.polled.length, count);
});

test("remove and detach stop polling and signalling", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const pair = new LinkPair();
  const p = new Scripted();
  driver.add(p);
  driver.attach(pair.b);
  host.advance(0);
  driver.detach(pair.b);
  assert.is(pair.b.onEvent, null);
  driver.remove(p);
  host.advance(0);
  assert.is(p.polled.length, 1);
  assert.is(driver.nextDeadline(), Infinity);
});

test("two echoing nodes over a pair exchange frames through the driver", () => {
  const host = new FakeHost(0x7ffffff0);
  const driver = new TimerDriver(host, host);
  const pair = new LinkPair();
  const buf = new Uint8Array(1514);
  let bounces = 0;
  const node = (end: typeof pair.a): Pollable => ({
    poll() {
      for (;;) {
        const n = end.receive(buf, 0, 1514);
        if (n === 0) break;
        if (++bounces < 100) end.transmit(buf, 0, n);
      }
    },
    nextDeadline: () => Infinity,
  });
  driver.add(node(pair.a));
  driver.add(node(pair.b));
  driver.attach(pair.a);
  driver.attach(pair.b);
  host.advance(0);
  pair.a.transmit(new Uint8Array(60), 0, 60);
  host.advance(0);
  assert.is(bounces, 100);
  assert.is(host.repeats, 2);
});

test("DEVICE_TRANSMIT and DEVICE_LINK wake the driver as DEVICE_RECEIVE does", () => {
  const host = new FakeHost();
  const driver = new TimerDriver(host, host);
  const pair = new LinkPair({ oneAtATime: "b" });
  const p = new Scripted();
  driver.add(p);
  driver.attach(pair.b);
  host.advance(0);
  const polls = p.polled.length;
  const buf = new Uint8Array(60);
  assert.is(pair.b.transmit(buf, 0, 60), TX_TAKEN);
  assert.is(pair.b.transmit(buf, 0, 60), TX_BUSY);
  host.advance(0);
  assert.is(p.polled.length, polls, "nothing signalled yet");
  pair.a.receive(buf, 0, 60);
  host.advance(0);
  assert.is(p.polled.length, polls + 1, "the frame left: a poll to offer the next");
  pair.setLink(false);
  host.advance(0);
  assert.is(p.polled.length, polls + 2, "the link went down: a poll");
});

test("bad options are refused", () => {
  const host = new FakeHost();
  assert.throws(() => new TimerDriver(host, host, { idleInterval: 0 }), /idleInterval/);
});

test.run();
