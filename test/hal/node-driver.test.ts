// NodeDriver on Node's real event loop, with a fake pollable and a fake device: every behaviour on
// the native ticker (when the addon is built) and on Node's own timers.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DEVICE_RECEIVE, TX_TAKEN, type NetDevice, type Pollable } from "../../src/device.js";
import { NodeDriver, type NodeDriverOptions } from "../../hal/platform/node/driver.js";
import { loadTapAddon, type TapAddon } from "../../hal/tap/tap.js";

const addon = loadTapAddon();
// A native wake sent before the loop's first turn lands a turn later than setImmediate's; every
// test below counts turns from inside a running loop.
await turn();
const HAVE_NATIVE = typeof addon !== "string";

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
  onEvent: ((events: number) => void) | null = null;
  deadline = Infinity;
  transmit(): number {
    return TX_TAKEN;
  }
  setMulticastFilter(): void {}
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

const DRIVER_MODULE = fileURLToPath(new URL("../../hal/platform/node/driver.js", import.meta.url));

/**
 * Runs a child process whose only work is a driver with one pollable due `delay` ms after start;
 * how long it lived and how often it polled.
 */
function lifetime(mode: string, unref: boolean, delay: number): { elapsed: number; polls: number } {
  const script = `
    import { NodeDriver } from ${JSON.stringify(DRIVER_MODULE)};
    const driver = new NodeDriver({ unref: ${unref}, native: ${mode === "native"} });
    const start = driver.now();
    const due = start + ${delay === Infinity ? "Infinity" : delay};
    let done = false;
    driver.add({ poll(now) { if (now >= due) done = true; }, nextDeadline: () => (done ? Infinity : due) });
    process.on("exit", () => console.log(JSON.stringify({ elapsed: driver.now() - start, polls: driver.polls })));
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as { elapsed: number; polls: number };
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

test("the driver takes the native ticker when the addon is built", () => {
  const driver = new NodeDriver();
  assert.is(driver.native, HAVE_NATIVE);
  driver.stop();
  assert.not.ok(new NodeDriver({ native: false }).native);
});

if (HAVE_NATIVE) {
  test("native: the clock is the addon's whole milliseconds, and each poll is given it", async () => {
    const clock = addon as TapAddon;
    const driver = new NodeDriver();
    const times: number[] = [];
    driver.add({ poll: (now) => times.push(now), nextDeadline: () => Infinity });
    await sleep(5);
    const a = clock.nowMs();
    const now = driver.now();
    const b = clock.nowMs();
    driver.stop();
    assert.ok(Number.isInteger(now));
    assert.ok(a <= now && now <= b, `${now} within [${a}, ${b}]`);
    assert.is(times.length, 1);
    assert.ok(Number.isInteger(times[0]) && times[0] <= a, "the poll had the same clock");
    // The fallback counts from the process start, the addon from its load: far apart.
    const fallback = new NodeDriver({ native: false });
    assert.ok(Math.abs(fallback.now() - Math.floor(performance.now())) <= 1);
    fallback.stop();
  });

  test("native: a later deadline re-arms the timer later, and no poll comes early", async () => {
    const driver = new NodeDriver({ native: true });
    const stack = new FakePollable();
    const device = new FakeDevice();
    let due = 0;
    stack.plan = (now, polls) =>
      polls === 1 ? now + 20 : polls === 2 ? (due = now + 80) : Infinity;
    driver.add(stack);
    driver.attach(device);
    await turn();
    assert.is(stack.times.length, 1);
    // A signal before the first deadline: the second poll moves the deadline later.
    device.onEvent?.(DEVICE_RECEIVE);
    await turn();
    assert.is(stack.times.length, 2);
    for (let waited = 0; stack.times.length < 3 && waited < 1000; waited += 5) await sleep(5);
    assert.is(stack.times.length, 3);
    assert.ok(
      stack.times[2] >= due - 1,
      `polled at ${stack.times[2]}, due ${due}: not at the old one`,
    );
    driver.stop();
  });

  test("native: a wake from inside a poll makes exactly one more poll", async () => {
    const driver = new NodeDriver({ native: true });
    const device = new FakeDevice();
    let polls = 0;
    driver.add({
      poll() {
        polls++;
        if (polls < 3) for (let i = 0; i < 4; i++) device.onEvent?.(DEVICE_RECEIVE);
      },
      nextDeadline: () => Infinity,
    });
    driver.attach(device);
    for (let i = 0; i < 8; i++) await turn();
    assert.is(polls, 3);
    driver.stop();
  });

  test("native: after stop nothing fires, and the ticker is released", async () => {
    const driver = new NodeDriver({ native: true });
    const stack = new FakePollable();
    stack.plan = (now) => now + 5;
    driver.add(stack);
    await turn();
    assert.is(stack.times.length, 1);
    driver.schedule();
    driver.stop();
    driver.schedule();
    await sleep(30);
    assert.is(stack.times.length, 1);
    if (typeof addon !== "string")
      assert.is(addon.tickerWake(0x7fffffff), -2, "unknown ids: -ENOENT");
  });
}

for (const mode of HAVE_NATIVE ? ["native", "timers"] : ["timers"]) {
  const make = (options: NodeDriverOptions = {}): NodeDriver =>
    new NodeDriver({ ...options, native: mode === "native" });
  test(`${mode}: signals before the next turn of the loop make one poll`, async () => {
    const driver = make();
    const stack = new FakePollable();
    const device = new FakeDevice();
    driver.add(stack);
    driver.attach(device);
    assert.type(device.onEvent, "function");
    await turn();
    assert.is(stack.times.length, 1, "adding and attaching asked for one poll");
    for (let i = 0; i < 5; i++) device.onEvent?.(DEVICE_RECEIVE);
    await turn();
    assert.is(stack.times.length, 2);
    await turn();
    assert.is(stack.times.length, 2, "nothing more without a signal or deadline");
    assert.is(driver.polls, 2);
    driver.stop();
  });

  test(`${mode}: a deadline wakes the driver no earlier than due`, async () => {
    const driver = make();
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

  test(`${mode}: a sooner deadline re-arms the timer`, async () => {
    const driver = make();
    const stack = new FakePollable();
    stack.plan = (now, polls) => (polls === 1 ? now + 10_000 : Infinity);
    const device = new FakeDevice();
    driver.add(stack);
    driver.attach(device);
    await turn();
    assert.is(stack.times.length, 1);
    const started = driver.now();
    stack.plan = (now, polls) => (polls === 2 ? now + 20 : Infinity);
    device.onEvent?.(DEVICE_RECEIVE);
    for (let waited = 0; stack.times.length < 3 && waited < 1000; waited += 5) await sleep(5);
    assert.is(stack.times.length, 3, "polled at the sooner deadline");
    assert.ok(stack.times[2] - started < 1000);
    driver.stop();
  });

  test(`${mode}: device deadlines wake the driver too`, async () => {
    const driver = make();
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

  test(`${mode}: work already due is polled again on the next turn, without a timer`, async () => {
    const driver = make();
    const stack = new FakePollable();
    stack.plan = (now, polls) => (polls < 4 ? now : Infinity);
    driver.add(stack);
    for (let i = 0; i < 6; i++) await turn();
    assert.is(stack.times.length, 4);
    driver.stop();
  });

  test(`${mode}: a periodic deadline keeps one timer, and Infinity leaves none`, async () => {
    const before = timeouts();
    const driver = make();
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

  test(`${mode}: stop cancels the pending poll and the timer, and detaches devices`, async () => {
    const driver = make();
    const stack = new FakePollable();
    stack.setDeadline(driver.now() + 10);
    const device = new FakeDevice();
    driver.add(stack);
    driver.attach(device);
    driver.stop();
    assert.is(device.onEvent, null);
    await sleep(30);
    assert.is(stack.times.length, 0);
    driver.schedule();
    await turn();
    assert.is(stack.times.length, 0);
  });

  test(`${mode}: detach leaves a device's other listener alone`, () => {
    const driver = make();
    const device = new FakeDevice();
    driver.attach(device);
    const other = (): void => {};
    device.onEvent = other;
    driver.detach(device);
    assert.is(device.onEvent, other);
    driver.stop();
  });

  test(`${mode}: an unref'd driver does not hold the process open`, async () => {
    const driver = make({ unref: true });
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

  test(`${mode}: an idle driver lets the process exit; an armed one holds it unless unref'd`, () => {
    // A deadline 400 ms out: held open until it passes, or not at all when unref'd.
    const held = lifetime(mode, false, 400);
    assert.ok(held.elapsed >= 390, `held until the deadline (exited after ${held.elapsed} ms)`);
    assert.is(held.polls, 2, "the start-up poll and the deadline's");
    const loose = lifetime(mode, true, 5000);
    assert.ok(loose.elapsed < 2000, `unref'd: exited after ${loose.elapsed} ms`);
    assert.is(loose.polls, 1);
    // Nothing due at all: even a driver that may hold the process leaves it free.
    const idle = lifetime(mode, false, Infinity);
    assert.ok(idle.elapsed < 2000, `idle: exited after ${idle.elapsed} ms`);
    assert.is(idle.polls, 1);
  });

  test(`${mode}: the clock is monotonic milliseconds`, async () => {
    const driver = make();
    const first = driver.now();
    await sleep(15);
    const second = driver.now();
    assert.ok(second - first >= 14 && second - first < 1000, `${second - first} ms`);
  });
}
test.run();
