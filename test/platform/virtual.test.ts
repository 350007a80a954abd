import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Pollable } from "../../src/device.js";
import { ImpairedDevice } from "../../hal/impair.js";
import { LinkPair } from "../../hal/pair.js";
import { Echo, VirtualNet } from "../support/virtual.js";

/** Deadlines at fixed times; records when it was polled. */
class Timers implements Pollable {
  readonly polled: number[] = [];
  constructor(private readonly deadlines: number[]) {}
  poll(now: number): void {
    this.polled.push(now);
    while (this.deadlines.length > 0 && this.deadlines[0] <= now) this.deadlines.shift();
  }
  nextDeadline(): number {
    return this.deadlines.length > 0 ? this.deadlines[0] : Infinity;
  }
}

function frame(): Uint8Array {
  const f = new Uint8Array(60);
  f.set([2, 0, 0, 0, 0, 0x0b, 2, 0, 0, 0, 0, 0x0a, 0x88, 0xb5]);
  return f;
}

test("runUntilIdle jumps time from deadline to deadline and reports idle", () => {
  const net = new VirtualNet();
  const t = new Timers([5, 120_000, 120_001]);
  net.add(t);
  assert.ok(net.runUntilIdle());
  assert.equal(t.polled, [5, 120_000, 120_001]);
  assert.is(net.now, 120_001);
});

test("runUntilIdle stops at its time limit and says it did not go idle", () => {
  const net = new VirtualNet(1000);
  const t = new Timers([1010, 1500, 3000]);
  net.add(t);
  assert.not.ok(net.runUntilIdle(1000, 600));
  assert.equal(t.polled, [1010, 1500]);
  assert.is(net.now, 1600);
});

test("runUntilIdle stops at its step limit on a livelock", () => {
  const net = new VirtualNet();
  net.add({ poll() {}, nextDeadline: () => 0 });
  assert.not.ok(net.runUntilIdle(50));
  assert.is(net.steps, 50);
});

test("advance runs what is due in order and ends at the span's end", () => {
  const net = new VirtualNet();
  const a = new Timers([10, 30]);
  const b = new Timers([20, 40]);
  net.add(a).add(b);
  net.advance(35);
  assert.is(net.now, 35);
  assert.equal(a.polled, [10, 20, 30]);
  assert.equal(b.polled, [10, 20, 30]);
  net.advance(10);
  assert.equal(b.polled, [10, 20, 30, 40]);
  assert.is(net.now, 45);
  assert.throws(() => {
    const stuck = new VirtualNet();
    stuck.add({ poll() {}, nextDeadline: () => 0 });
    stuck.advance(1, 100);
  }, /did not reach/);
});

test("device signals trigger rounds at the same time until the exchange settles", () => {
  const net = new VirtualNet(7);
  const pair = new LinkPair();
  const left = new Echo(pair.a);
  const right = new Echo(pair.b);
  net.add(left).add(right).attach(pair.a).attach(pair.b);
  let bounces = 0;
  right.reply = true;
  left.reply = true;
  // Stop the echo after a number of bounces by letting one side turn into a sink.
  const poll = right.poll.bind(right);
  right.poll = (now: number) => {
    poll(now);
    bounces = left.received.length + right.received.length;
    if (bounces >= 20) left.reply = right.reply = false;
  };
  pair.a.transmit(frame(), 0, 60);
  assert.ok(net.runUntilIdle());
  assert.ok(bounces >= 20);
  assert.is(net.now, 7, "no time passes without deadlines");
  assert.ok(right.times.every((t) => t === 7));
});

test("an impaired link under the virtual clock delivers each frame at its delay", () => {
  const net = new VirtualNet();
  const pair = new LinkPair();
  const near = new ImpairedDevice(pair.a, { delay: 40, jitter: 10, seed: 3 });
  const far = new Echo(pair.b, false);
  const sender = new Echo(near, false);
  net.add(sender).add(far).attach(near).attach(pair.b);
  for (let i = 0; i < 20; i++) {
    net.poll();
    near.transmit(frame(), 0, 60);
    net.advance(5);
  }
  assert.ok(net.runUntilIdle());
  assert.is(far.times.length, 20);
  // Frame i left at 5 i ms and arrives 30..50 ms later.
  const sorted = [...far.times].sort((x, y) => x - y);
  assert.ok(sorted[0] >= 30 && sorted[19] <= 95 + 50);
  assert.ok(
    far.times.every((t) => Number.isInteger(t)),
    "whole-millisecond deadlines",
  );
});

test("two runs of the same impaired exchange are identical", () => {
  const once = () => {
    const net = new VirtualNet();
    const pair = new LinkPair();
    const near = new ImpairedDevice(pair.a, {
      loss: 0.2,
      reorder: 0.2,
      delay: 3,
      jitter: 3,
      seed: 99,
    });
    const far = new Echo(pair.b, true, true);
    const sender = new Echo(near, false, true);
    net.add(sender).add(far).attach(near).attach(pair.b);
    const f = frame();
    for (let i = 0; i < 200; i++) {
      f[14] = i;
      net.poll();
      near.transmit(f, 0, 60);
      net.advance(1);
    }
    net.runUntilIdle();
    return { times: sender.times, frames: sender.frames.map((x) => x[14]), now: net.now };
  };
  const a = once();
  assert.equal(once(), a);
  assert.ok(a.frames.length > 80 && a.frames.length < 180);
});

test.run();
