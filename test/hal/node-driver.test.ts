// NodeDriver on Node's real event loop, with a fake pollable and a fake device.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { NetDevice, Pollable } from "../../hal/device.js";
import { NodeDriver } from "../../hal/platform/node/driver.js";

class FakePollable implements Pollable {
  times: number[] = [];
  /** What nextDeadline() answers after each poll, given that poll's time. */
  plan: (now: number, polls: number) => number = () => Infinity;
  private deadline = Infinity;

  poll(now: number): void {
    this.times.push(now);
    this.deadline = this.plan(now, this.times.length);
  }

  nextDeadline(): number {
    return this.deadline;
  }

  setDeadline(deadline: number): void {
    this.deadline = deadline;
  }
}

class FakeDevice implements NetDevice {
  readonly mac = new Uint8Array(6);
  readonly mtu = 1500;
  readonly linkUp = true;
  onReceivable: (() => void) | null = null;
  deadline = Infinity;
  transmit(): boolean {
    return true;
  }
  receive(): number {
    return 0;
  }
  poll(): void {}
  nextDeadline(): number {
    return this.deadline;
  }
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

test("signals before the next turn of the loop make one poll", async () => {
  const driver = new NodeDriver();
  const stack = new FakePollable();
  const device = new FakeDevice();
  driver.add(stack);
  driver.attach(device);
  assert.type(device.onReceivable, "function");
  await turn();
  assert.is(stack.times.length, 1, "adding and attaching asked for one poll");
  for (let i = 0; i < 5; i++) device.onReceivable?.();
  await turn();
  assert.is(stack.times.length, 2);
  await turn();
  assert.is(stack.times.length, 2, "nothing more without a signal or deadline");
  assert.is(driver.polls, 2);
  driver.stop();
});

test("a deadline wakes the driver no earlier than due", async () => {
  const driver = new NodeDriver();
  const stack = new FakePollable();
  let due = 0;
  stack.plan = (now, polls) => (polls === 1 ? (due = now + 30) : Infinity);
  driver.add(stack);
  for (let waited = 0; stack.times.length < 2 && waited < 500; waited += 5) await sleep(5);
  assert.is(stack.times.length, 2);
  assert.ok(stack.times[1] >= due - 1, `polled at ${stack.times[1]}, due ${due}`);
  assert.ok(stack.times[1] < due + 200, "and not much later");
  driver.stop();
});

test("a sooner deadline re-arms the timer", async () => {
  const driver = new NodeDriver();
  const stack = new FakePollable();
  stack.plan = (now, polls) => (polls === 1 ? now + 10_000 : Infinity);
  const device = new FakeDevice();
  driver.add(stack);
  driver.attach(device);
  await turn();
  assert.is(stack.times.length, 1);
  const started = driver.now();
  stack.plan = (now, polls) => (polls === 2 ? now + 20 : Infinity);
  device.onReceivable?.();
  for (let waited = 0; stack.times.length < 3 && waited < 1000; waited += 5) await sleep(5);
  assert.is(stack.times.length, 3, "polled at the sooner deadline");
  assert.ok(stack.times[2] - started < 1000);
  driver.stop();
});

test("device deadlines wake the driver too", async () => {
  const driver = new NodeDriver();
  const stack = new FakePollable();
  const device = new FakeDevice();
  device.deadline = driver.now() + 20;
  driver.add(stack);
  driver.attach(device);
  await turn();
  assert.is(stack.times.length, 1);
  device.deadline = Infinity;
  for (let waited = 0; stack.times.length < 2 && waited < 500; waited += 5) await sleep(5);
  assert.is(stack.times.length, 2);
  driver.stop();
});

test("work already due is polled again on the next turn, without a timer", async () => {
  const driver = new NodeDriver();
  const stack = new FakePollable();
  stack.plan = (now, polls) => (polls < 4 ? now : Infinity);
  driver.add(stack);
  for (let i = 0; i < 6; i++) await turn();
  assert.is(stack.times.length, 4);
  driver.stop();
});

test("a periodic deadline keeps one timer, and Infinity leaves none", async () => {
  const before = timeouts();
  const driver = new NodeDriver();
  const stack = new FakePollable();
  stack.plan = (now, polls) => (polls < 6 ? now + 5 : Infinity);
  driver.add(stack);
  let most = 0;
  for (const started = driver.now(); stack.times.length < 6 && driver.now() - started < 1000;) {
    most = Math.max(most, timeouts() - before);
    await turn();
  }
  assert.is(stack.times.length, 6);
  assert.ok(most <= 1, `at most one timer of the driver's (saw ${most})`);
  await turn();
  assert.is(timeouts(), before, "no timer once nothing is due");
  driver.stop();
});

test("stop cancels the pending poll and the timer, and detaches devices", async () => {
  const driver = new NodeDriver();
  const stack = new FakePollable();
  stack.setDeadline(driver.now() + 10);
  const device = new FakeDevice();
  driver.add(stack);
  driver.attach(device);
  driver.stop();
  assert.is(device.onReceivable, null);
  await sleep(30);
  assert.is(stack.times.length, 0);
  driver.schedule();
  await turn();
  assert.is(stack.times.length, 0);
});

test("detach leaves a device's other listener alone", () => {
  const driver = new NodeDriver();
  const device = new FakeDevice();
  driver.attach(device);
  const other = (): void => {};
  device.onReceivable = other;
  driver.detach(device);
  assert.is(device.onReceivable, other);
  driver.stop();
});

test("an unref'd driver does not hold the process open", async () => {
  const driver = new NodeDriver({ unref: true });
  const stack = new FakePollable();
  stack.plan = (now) => now + 60_000;
  driver.add(stack);
  await turn();
  assert.is(stack.times.length, 1);
  const refs = process
    .getActiveResourcesInfo()
    .filter((kind) => kind === "Timeout" || kind === "Immediate");
  assert.is(refs.length, 0, "the minute-long timer is not counted as holding the loop");
  driver.stop();
});

test("the clock is monotonic milliseconds", async () => {
  const driver = new NodeDriver();
  const first = driver.now();
  await sleep(15);
  const second = driver.now();
  assert.ok(second - first >= 14 && second - first < 1000, `${second - first} ms`);
});

test.run();
