// The native addon's readiness watch, batches, clock and driver ticker, on a FIFO and Node's real
// loop: no TAP, no root needed. Skipped when the addon is not built. Then the TapDevice's batching
// against a stand-in kernel (a scripted addon), which can refuse writes as a real TAP rarely does.
import { spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  loadTapAddon,
  TAP_READABLE,
  TAP_WRITABLE,
  TapDevice,
  type TapAddon,
} from "../../hal/tap/tap.js";
import { DEVICE_TRANSMIT, TX_BUSY, TX_TAKEN } from "../../src/device.js";
import { Memory } from "../../src/storage/memory.js";
import { PacketPool } from "../../src/storage/pool.js";
import { Stack } from "../../src/stack.js";
import { ImpairedDevice } from "../../hal/impair.js";
import { arp, decode, ether, ETH_ARP, ip, mac, BROADCAST_MAC } from "../support/frames.js";

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

  test("writeBatch writes frames in order, marks bad spans, and stops where the fd is full", () => {
    const f = fifo();
    try {
      const bytes = new Uint8Array(300);
      for (let i = 0; i < 3; i++) bytes.fill(i + 1, i * 100, i * 100 + 10);
      const offsets = Int32Array.of(0, 100, 1000, 200);
      const lengths = Int32Array.of(10, 10, 10, 10);
      assert.is(addon.writeBatch(f.fd, bytes, offsets, lengths, 4), 4);
      assert.equal(Array.from(lengths), [10, 10, -22, 10], "the span past the end: -EINVAL");
      const back = new Uint8Array(64);
      assert.is(addon.read(f.fd, back, 0, back.length), 30);
      assert.equal(Array.from(back.subarray(0, 30)), [
        ...new Array<number>(10).fill(1),
        ...new Array<number>(10).fill(2),
        ...new Array<number>(10).fill(3),
      ]);

      // A FIFO holds 64 KiB: eight frames of 16 KiB do not all fit.
      const big = new Uint8Array(8 * 16384);
      const bigOffsets = new Int32Array(8);
      const bigLengths = new Int32Array(8);
      for (let i = 0; i < 8; i++) {
        bigOffsets[i] = i * 16384;
        bigLengths[i] = 16384;
      }
      const done = addon.writeBatch(f.fd, big, bigOffsets, bigLengths, 8);
      assert.ok(done > 0 && done < 8, `stopped short when full (${done})`);
      for (let i = 0; i < 8; i++) assert.is(bigLengths[i], 16384, "lengths kept for the rest");
      assert.is(addon.writeBatch(f.fd, big, bigOffsets, bigLengths, 8), 0, "still full");
      assert.is(addon.writeBatch(f.fd, big, bigOffsets, bigLengths, 9), -22, "count past arrays");
      assert.is(
        addon.writeBatch(-1, big, bigOffsets, bigLengths, 1),
        1,
        "a bad fd: the frame fails",
      );
      assert.ok(bigLengths[0] < 0, "with its -errno");
    } finally {
      f.done();
    }
  });

  test("readBatch reads into the slots given, 0 when none waits, -EINVAL for bad arguments", () => {
    const f = fifo();
    try {
      const bytes = new Uint8Array(64).fill(0xee);
      const offsets = Int32Array.of(8, 40);
      const lengths = new Int32Array(2);
      assert.is(addon.readBatch(f.fd, bytes, offsets, lengths, 2, 16), 0, "nothing waits");
      writeSync(f.fd, "abc");
      // A FIFO is a byte stream: what waits is one "frame", and the second read finds none.
      assert.is(addon.readBatch(f.fd, bytes, offsets, lengths, 2, 16), 1);
      assert.is(lengths[0], 3);
      assert.equal(Array.from(bytes.subarray(7, 12)), [0xee, 97, 98, 99, 0xee]);
      writeSync(f.fd, "0123456789abcdefXYZ");
      assert.is(addon.readBatch(f.fd, bytes, offsets, lengths, 1, 16), 1);
      assert.is(lengths[0], 19, "the full length of what was cut short");
      assert.is(bytes[24], 0xee, "nothing past the capacity");
      assert.is(addon.readBatch(f.fd, bytes, Int32Array.of(60), lengths, 1, 16), -22);
      assert.is(addon.readBatch(f.fd, bytes, offsets, lengths, 3, 16), -22);
      assert.is(addon.readBatch(f.fd, bytes, new Uint32Array(2) as never, lengths, 1, 16), -22);
      assert.is(addon.readBatch(-1, bytes, offsets, lengths, 1, 16), -9, "a bad fd: -EBADF");
    } finally {
      f.done();
    }
  });

  test("nowMs is whole monotonic milliseconds from near zero, following the real clock", async () => {
    const p0 = performance.now();
    const first = addon.nowMs();
    const p1 = performance.now();
    assert.ok(Number.isInteger(first) && first >= 0 && first < 2 ** 31, String(first));
    await sleep(50);
    const p2 = performance.now();
    const later = addon.nowMs();
    const p3 = performance.now();
    // Bracketed by the other clock, so a preemption between the two reads cannot fail it.
    const elapsed = later - first;
    assert.ok(
      elapsed >= Math.floor(p2 - p1) - 1 && elapsed <= Math.ceil(p3 - p0) + 1,
      `${elapsed} ms, between ${p2 - p1} and ${p3 - p0}`,
    );
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

/** A stand-in kernel behind the TapDevice: frames queued to it are read, writes land in `sent`. */
class FakeKernel implements TapAddon {
  /** Frames waiting to be read, oldest first. */
  readonly queue: Uint8Array[] = [];
  /** Frames written, in order. */
  readonly sent: Uint8Array[] = [];
  /** How many more frames writes may take before EAGAIN (Infinity: no limit). */
  room = Infinity;
  readCalls = 0;
  writeCalls = 0;
  writableAsked = 0;
  watching: { callback: (flags: number) => void; target: object } | null = null;

  open(): number {
    return 3;
  }
  read(): number {
    return -38;
  }
  write(): number {
    return -38;
  }
  readBatch(
    _fd: number,
    bytes: Uint8Array,
    offsets: Int32Array,
    lengths: Int32Array,
    count: number,
    capacity: number,
  ): number {
    this.readCalls++;
    let n = 0;
    for (; n < count && this.queue.length > 0; n++) {
      const frame = this.queue.shift() as Uint8Array;
      bytes.set(frame.subarray(0, capacity), offsets[n]);
      lengths[n] = frame.length;
    }
    return n;
  }
  writeBatch(
    _fd: number,
    bytes: Uint8Array,
    offsets: Int32Array,
    lengths: Int32Array,
    count: number,
  ): number {
    this.writeCalls++;
    let n = 0;
    for (; n < count && this.room > 0; n++, this.room--)
      this.sent.push(bytes.slice(offsets[n], offsets[n] + lengths[n]));
    return n;
  }
  nowMs(): number {
    return 0;
  }
  watch<T extends object>(
    _fd: number,
    callback: (this: T, flags: number) => void,
    target?: T,
  ): number {
    this.watching = { callback: callback as (flags: number) => void, target: target ?? globalThis };
    return 0;
  }
  watchWritable(): number {
    this.writableAsked++;
    return 0;
  }
  unwatch(): number {
    this.watching = null;
    return 0;
  }
  close(): number {
    return 0;
  }
  tickerOpen(): number {
    return -38;
  }
  tickerWake(): number {
    return -38;
  }
  tickerArm(): number {
    return -38;
  }
  tickerClose(): number {
    return -38;
  }
  /** What the addon's watch does when the fd turns ready. */
  signal(flags: number): void {
    if (this.watching !== null) this.watching.callback.call(this.watching.target, flags);
  }
}

/** A 60-byte frame whose bytes all equal `tag` (a sequence number, checked for order). */
function tagged(tag: number): Uint8Array {
  return new Uint8Array(60).fill(tag);
}

function fakeTap(batch: number): { kernel: FakeKernel; tap: TapDevice } {
  const kernel = new FakeKernel();
  return { kernel, tap: new TapDevice({ name: "fake0", batch, addon: kernel }) };
}

test("a burst waiting in the kernel is read in one call and handed out in order", () => {
  const { kernel, tap } = fakeTap(16);
  for (let i = 0; i < 10; i++) kernel.queue.push(tagged(i));
  const frame = new Uint8Array(100);
  for (let i = 0; i < 10; i++) {
    assert.is(tap.receive(frame, 0, frame.length), 60);
    assert.is(frame[0], i, "in order");
    assert.is(frame[59], i, "whole");
  }
  assert.is(kernel.readCalls, 1, "one addon call for the burst");
  assert.is(tap.batchesIn, 1);
  assert.is(tap.framesIn, 10);
  assert.is(tap.bytesIn, 600);
  // Nobody listens, so nothing announces new frames: the next receive asks the kernel again.
  assert.is(tap.receive(frame, 0, frame.length), 0);
  assert.is(kernel.readCalls, 2);
});

test("a burst larger than the batch takes one call per batch, and waiting frames set a deadline", () => {
  const { kernel, tap } = fakeTap(4);
  for (let i = 0; i < 10; i++) kernel.queue.push(tagged(i));
  const frame = new Uint8Array(100);
  assert.is(tap.nextDeadline(), Infinity);
  assert.is(tap.receive(frame, 0, frame.length), 60);
  assert.is(tap.waiting, 3);
  assert.is(tap.nextDeadline(), 0, "frames in the ring are work due now");
  for (let i = 1; i < 10; i++) {
    assert.is(tap.receive(frame, 0, frame.length), 60);
    assert.is(frame[0], i);
  }
  assert.is(kernel.readCalls, 3);
});

test("with a listener, a short batch means none waits until the next readiness event", () => {
  const { kernel, tap } = fakeTap(8);
  tap.onEvent = () => {};
  kernel.queue.push(tagged(1), tagged(2));
  const frame = new Uint8Array(100);
  assert.is(tap.receive(frame, 0, 100), 60);
  assert.is(tap.receive(frame, 0, 100), 60);
  kernel.queue.push(tagged(3));
  assert.is(tap.receive(frame, 0, 100), 0, "the read that found the queue empty stands");
  assert.is(kernel.readCalls, 1, "no read spent on an empty queue");
  kernel.signal(TAP_READABLE);
  assert.is(tap.receive(frame, 0, 100), 60);
  assert.is(frame[0], 3);
  assert.is(kernel.readCalls, 2);
});

test("a burst sent goes to the kernel in one call at flush, in order", () => {
  const { kernel, tap } = fakeTap(16);
  for (let i = 0; i < 10; i++) assert.is(tap.transmit(tagged(i), 0, 60), TX_TAKEN);
  assert.is(kernel.writeCalls, 0, "held until the flush");
  assert.is(tap.held, 10);
  assert.is(tap.nextDeadline(), 0, "a held batch is work due now, should no flush come");
  tap.flush();
  assert.is(kernel.writeCalls, 1);
  assert.is(tap.held, 0);
  assert.is(tap.framesOut, 10);
  assert.is(tap.bytesOut, 600);
  assert.equal(
    kernel.sent.map((f) => f[0]),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  tap.flush();
  assert.is(kernel.writeCalls, 1, "an empty flush costs no call");
});

test("a full batch goes out by itself; the kernel full and the batch full answer TX_BUSY, nothing lost", () => {
  const { kernel, tap } = fakeTap(4);
  const events: number[] = [];
  tap.onEvent = (e) => events.push(e);
  for (let i = 0; i < 6; i++) assert.is(tap.transmit(tagged(i), 0, 60), TX_TAKEN);
  assert.is(kernel.writeCalls, 1, "the fifth frame sent the full batch");
  assert.is(tap.held, 2);

  kernel.room = 1;
  tap.flush();
  assert.is(kernel.sent.length, 5, "the kernel took one of the two");
  assert.is(tap.held, 1);
  assert.is(tap.kernelBusy, 1);
  assert.is(kernel.writableAsked, 1, "writability asked for");
  assert.is(tap.nextDeadline(), Infinity, "waiting for the kernel, not for a poll");

  for (let i = 6; i < 9; i++) assert.is(tap.transmit(tagged(i), 0, 60), TX_TAKEN);
  const calls = kernel.writeCalls;
  tap.flush();
  assert.is(kernel.writeCalls, calls, "no flush while the kernel is known full");
  assert.is(tap.transmit(tagged(9), 0, 60), TX_BUSY, "batch full, kernel full");
  assert.is(tap.busyOut, 1);

  kernel.room = Infinity;
  kernel.signal(TAP_WRITABLE);
  assert.equal(events, [DEVICE_TRANSMIT]);
  tap.flush();
  assert.is(tap.transmit(tagged(9), 0, 60), TX_TAKEN);
  tap.flush();
  assert.equal(
    kernel.sent.map((f) => f[0]),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    "every frame once, in order",
  );
  assert.is(tap.framesOut, 10);
});

test("lending: frames read straight into pool buffers, sent from them, and every buffer returned", () => {
  const { kernel, tap } = fakeTap(8);
  const pool = new PacketPool(new Memory(new Uint8Array(16 * 1536)), 16, 1536);
  for (let i = 0; i < 5; i++) kernel.queue.push(tagged(i));
  const handles: number[] = [];
  for (let h = tap.receiveBuffer(pool); h >= 0; h = tap.receiveBuffer(pool)) handles.push(h);
  assert.is(handles.length, 5);
  assert.is(kernel.readCalls <= 3, true, `few reads (${kernel.readCalls})`);
  for (let i = 0; i < 5; i++) {
    assert.is(pool.length[handles[i]], 60);
    assert.is(pool.bytes[pool.offsetOf(handles[i])], i, "in order");
  }
  assert.is(pool.available, 11, "only the frames read hold buffers");

  kernel.room = 3;
  for (const h of handles) assert.is(tap.transmitBuffer(pool, h, pool.offsetOf(h), 60), TX_TAKEN);
  tap.flush();
  assert.is(kernel.sent.length, 3);
  assert.is(pool.available, 14, "written buffers freed");
  tap.close();
  assert.is(pool.available, 16, "held buffers returned at close");
  assert.is(pool.badFrees, 0);
});

test("lending: a read takes at most half the free buffers, leaving the stack room to answer", () => {
  const { kernel, tap } = fakeTap(8);
  const pool = new PacketPool(new Memory(new Uint8Array(4 * 128)), 4, 128);
  for (let i = 0; i < 4; i++) kernel.queue.push(tagged(i));
  const handle = tap.receiveBuffer(pool);
  assert.ok(handle >= 0);
  assert.is(tap.waiting, 1, "two read, one handed out");
  assert.is(pool.available, 2);
  pool.free(handle);
  tap.close();
  assert.is(pool.available, 4);
});

test("lending: a full batch with the kernel full leaves the buffer with the stack", () => {
  const { kernel, tap } = fakeTap(2);
  const pool = new PacketPool(new Memory(new Uint8Array(4 * 128)), 4, 128);
  kernel.room = 0;
  const a = pool.alloc();
  const b = pool.alloc();
  const c = pool.alloc();
  assert.is(tap.transmitBuffer(pool, a, pool.offsetOf(a), 60), TX_TAKEN);
  assert.is(tap.transmitBuffer(pool, b, pool.offsetOf(b), 60), TX_TAKEN);
  assert.is(tap.transmitBuffer(pool, c, pool.offsetOf(c), 60), TX_BUSY);
  assert.is(pool.available, 1, "c stays the caller's, a and b the device's");
  kernel.room = Infinity;
  kernel.signal(TAP_WRITABLE);
  assert.is(tap.transmitBuffer(pool, c, pool.offsetOf(c), 60), TX_TAKEN);
  tap.flush();
  assert.is(pool.available, 4);
});

test("a wrapper passes the flush on to the batching device it wraps", () => {
  const { kernel, tap } = fakeTap(8);
  const wrapper = new ImpairedDevice(tap);
  for (let i = 0; i < 3; i++) assert.is(wrapper.transmit(tagged(i), 0, 60), TX_TAKEN);
  assert.is(kernel.sent.length, 0);
  wrapper.flush();
  assert.is(kernel.writeCalls, 1);
  assert.equal(
    kernel.sent.map((f) => f[0]),
    [0, 1, 2],
  );
});

test("a stack's whole output pass leaves in one addon call", () => {
  const { kernel, tap } = fakeTap(64);
  const stack = new Stack({ buffers: 64 });
  stack.attach(tap, { address: "192.0.2.2", prefix: 24 });
  stack.poll(0);
  stack.poll(1);
  const before = kernel.writeCalls;
  kernel.sent.length = 0;
  // Eight hosts ask for the stack's address at once: eight replies.
  for (let i = 0; i < 8; i++) {
    const host = mac(`02:00:00:00:00:${(16 + i).toString(16)}`);
    kernel.queue.push(
      ether(
        BROADCAST_MAC,
        host,
        ETH_ARP,
        arp({
          op: 1,
          senderMac: host,
          senderIp: ip(`192.0.2.${10 + i}`),
          targetIp: ip("192.0.2.2"),
        }),
      ),
    );
  }
  tap.onEvent = () => {};
  kernel.signal(TAP_READABLE);
  stack.poll(2);
  assert.is(kernel.writeCalls - before, 1, "one write call");
  assert.is(kernel.sent.length, 8);
  for (let i = 0; i < 8; i++) {
    const reply = decode(kernel.sent[i]);
    assert.is(reply.type, ETH_ARP);
    assert.is(reply.dst[5], 16 + i, "answers in the order asked");
  }
  assert.is(tap.held, 0, "nothing left for a later poll");
});

test.run();
