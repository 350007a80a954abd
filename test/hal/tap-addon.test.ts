// The native addon's readiness watch and driver ticker, on a FIFO and Node's real loop: no TAP, no
// root needed. Skipped when the addon is not built.
import { spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadTapAddon, TAP_READABLE, TAP_WRITABLE, type TapAddon } from "../../hal/tap/tap.js";

const loaded = loadTapAddon();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A FIFO opened read-write and non-blocking: readable once written, writable while not full. */
function fifo(): { fd: number; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), "tap-addon-"));
  const path = join(dir, "fifo");
  const made = spawnSync("mkfifo", [path]);
  if (made.status !== 0) throw new Error("mkfifo failed");
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  return {
    fd,
    done() {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (typeof loaded === "string") {
  test.skip(`tap addon: ${loaded}`, () => {});
} else {
  const addon: TapAddon = loaded;

  test("watch without a target calls back, with `this` = globalThis and the readable flag", async () => {
    const f = fifo();
    const calls: { self: unknown; flags: number }[] = [];
    const scratch = new Uint8Array(16);
    try {
      assert.is(
        addon.watch(f.fd, function (this: unknown, flags: number) {
          calls.push({ self: this, flags });
          // Drain, or the level-triggered poll calls again.
          while (addon.read(f.fd, scratch, 0, scratch.length) > 0);
        }),
        0,
      );
      writeSync(f.fd, "x");
      for (let i = 0; i < 100 && calls.length === 0; i++) await sleep(5);
      assert.ok(calls.length >= 1, "called back");
      assert.is(calls[0].self, globalThis);
      assert.is(calls[0].flags, TAP_READABLE);
      assert.is(addon.unwatch(f.fd), 0);
    } finally {
      f.done();
    }
  });

  test("watch with a target calls back with `this` = target", async () => {
    const f = fifo();
    const target = { calls: 0 };
    try {
      addon.watch(
        f.fd,
        function (this: typeof target) {
          this.calls++;
          addon.unwatch(f.fd);
        },
        target,
      );
      writeSync(f.fd, "x");
      for (let i = 0; i < 100 && target.calls === 0; i++) await sleep(5);
      assert.is(target.calls, 1);
    } finally {
      f.done();
    }
  });

  test("watchWritable reports writability once, then readability alone", async () => {
    const f = fifo();
    const flags: number[] = [];
    try {
      assert.is(addon.watchWritable(f.fd), -2, "not watched: -ENOENT");
      addon.watch(f.fd, (got: number) => flags.push(got));
      await sleep(20);
      assert.equal(flags, [], "an empty FIFO is not readable");
      assert.is(addon.watchWritable(f.fd), 0);
      for (let i = 0; i < 100 && flags.length === 0; i++) await sleep(5);
      await sleep(20);
      assert.equal(flags, [TAP_WRITABLE], "one writable event, not one per turn");
      addon.unwatch(f.fd);
    } finally {
      f.done();
    }
  });

  test("ticker: wakes coalesce, arming replaces, a negative delay disarms, close ends it", async () => {
    const counts = { wakes: 0, timers: 0 };
    const id = addon.tickerOpen(
      function (this: typeof counts) {
        this.wakes++;
      },
      function (this: typeof counts) {
        this.timers++;
      },
      counts,
      true,
    );
    assert.ok(id >= 0);
    for (let i = 0; i < 5; i++) assert.is(addon.tickerWake(id), 0);
    await sleep(10);
    assert.is(counts.wakes, 1);
    assert.is(addon.tickerArm(id, 200), 0);
    assert.is(addon.tickerArm(id, 5), 0);
    await sleep(40);
    assert.is(counts.timers, 1, "the second arming replaced the first");
    addon.tickerArm(id, 5);
    addon.tickerArm(id, -1);
    await sleep(30);
    assert.is(counts.timers, 1, "disarmed");
    assert.is(addon.tickerClose(id), 0);
    assert.is(addon.tickerWake(id), -2, "closed: -ENOENT");
    assert.is(addon.tickerArm(id, 1), -2);
    assert.is(addon.tickerClose(id), -2);
    assert.is(
      addon.tickerOpen(
        () => {},
        () => {},
        null as unknown as object,
        true,
      ),
      -22,
    );
  });
}

test.run();
