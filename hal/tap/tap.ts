// A Linux TAP device as a NetDevice, for Node: the stack's frames go to and come from the kernel,
// which sees an ordinary Ethernet interface. The native addon (hal/tap/native/tap.cc, built by
// `npm install` into build/Release/tap.node) attaches the device and moves frames.
//
// Frames cross in batches, since one native call and one syscall per frame was most of the cost
// of the TAP path. Receive: one addon call reads every frame waiting (up to the batch) into a ring
// of slots the device owns, and receive() hands them out one by one. Transmit: transmit() copies
// the frame into a batch the device owns and answers TX_TAKEN; flush() (the stack calls it after
// its output pass), a full batch, or the next poll sends the batch with one addon call. The
// lending paths do the same without the copies: receiveBuffer() reads straight into pool buffers,
// transmitBuffer() holds the stack's buffers until they are written.
//
// Readiness: while someone listens (onEvent set), the addon polls the fd on Node's main loop and
// calls back once per readiness event with DEVICE_RECEIVE; the listener then drains with receive()
// until it returns 0. When the kernel cannot take a write now (EAGAIN, ENOBUFS) the unsent frames
// stay in the batch and the addon is asked for one writability event, passed on as
// DEVICE_TRANSMIT; transmit() answers TX_BUSY only once the batch itself is full. Nobody
// listening means no poll, so an idle TapDevice never keeps the process alive.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  TX_BUSY,
  TX_TAKEN,
  type NetDevice,
} from "../../src/device.js";
import { EACCES, EINVAL, EMSGSIZE, ENETDOWN, EPERM, errnoName } from "../../src/errno.js";
import { copy } from "../../src/memops.js";
import type { PacketPool } from "../../src/storage/pool.js";

/** The addon's functions. Every call returns a count or -errno; none throws. */
export interface TapAddon {
  /** Attaches TAP `name` (IFF_TAP | IFF_NO_PI, non-blocking), inside nsPid's network namespace if given. */
  open(name: string, nsPid?: number): number;
  /** Next frame into frame[offset..offset+capacity): its full length, 0 when none waits, or -errno. */
  read(fd: number, frame: Uint8Array, offset: number, capacity: number): number;
  /** Sends frame[offset..offset+length): bytes written or -errno. */
  write(fd: number, frame: Uint8Array, offset: number, length: number): number;
  /**
   * Reads up to `count` frames, frame i into bytes[offsets[i] ..+ capacity) with its full length
   * in lengths[i]: the frames read, 0 when none waits, or -errno when the first read fails.
   */
  readBatch(
    fd: number,
    bytes: Uint8Array,
    offsets: Int32Array,
    lengths: Int32Array,
    count: number,
    capacity: number,
  ): number;
  /**
   * Writes frames bytes[offsets[i] ..+ lengths[i]) in order: how many were dealt with (written, or
   * refused for good with lengths[i] set to -errno); fewer than `count` when the kernel could not
   * take the next one now. -errno when the arguments are wrong.
   */
  writeBatch(
    fd: number,
    bytes: Uint8Array,
    offsets: Int32Array,
    lengths: Int32Array,
    count: number,
  ): number;
  /** CLOCK_MONOTONIC in whole ms since the addon loaded; an int32 for 2^31 ms (24.8 days). */
  nowMs(): number;
  /**
   * Calls callback(flags) (this = target, or globalThis) once per readiness event, flags
   * TAP_READABLE and, after watchWritable(), TAP_WRITABLE. 0 or -errno (-EBUSY if watched).
   */
  watch<T extends object>(
    fd: number,
    callback: (this: T, flags: number) => void,
    target?: T,
  ): number;
  /** Adds one writability event to a watched fd's next callbacks. 0 or -errno. */
  watchWritable(fd: number): number;
  /** Stops watching an fd. 0 or -errno. */
  unwatch(fd: number): number;
  /** Stops watching and closes. 0 or -errno. */
  close(fd: number): number;
  /**
   * Makes a ticker for a driver: onWake runs (this = target) on the loop turn after tickerWake(),
   * onTimer when an armed delay passes. An idle ticker never keeps the process alive; a pending
   * wake does, and an armed timer does when refTimer. The id (>= 0) or -errno.
   */
  tickerOpen<T extends object>(
    onWake: (this: T) => void,
    onTimer: (this: T) => void,
    target: T,
    refTimer: boolean,
  ): number;
  /** Asks for onWake on the next loop turn; wakes before it run coalesce. 0 or -errno. */
  tickerWake(id: number): number;
  /** Arms the timer delayMs from now, replacing any earlier arming; negative disarms. 0 or -errno. */
  tickerArm(id: number, delayMs: number): number;
  /** Releases the ticker; nothing is called back afterwards. 0 or -errno. */
  tickerClose(id: number): number;
}

/** Flags of a watch callback. */
export const TAP_READABLE = 1;
export const TAP_WRITABLE = 2;

/** Where `npm install` puts the addon, relative to the package root. */
const ADDON_PATH = "build/Release/tap.node";

/**
 * Finds the package root upward from this module (hal/tap/ in sources, .build/hal/tap/ or dist/hal/tap/
 * when compiled) and loads the addon; require's cache makes later calls cheap. Returns the reason
 * when it cannot.
 */
export function loadTapAddon(): TapAddon | string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, up = 0; up < 5; dir = dirname(dir), up++) {
    const candidate = join(dir, ADDON_PATH);
    if (existsSync(candidate)) {
      try {
        return createRequire(import.meta.url)(candidate) as TapAddon;
      } catch (error) {
        return `${candidate} does not load: ${(error as Error).message}`;
      }
    }
  }
  if (process.platform !== "linux") return `a TAP device needs Linux (this is ${process.platform})`;
  return (
    `the TAP addon (${ADDON_PATH}) is not built: installing the package builds it where a C++ ` +
    "toolchain is present (Debian: apt install g++ make python3), then run `npm rebuild netstack`"
  );
}

/** Options of a TapDevice. */
export interface TapDeviceOptions {
  /** Interface name, at most 15 bytes (e.g. "tap0"). */
  name: string;
  /** The stack's station address; defaults to a locally administered one. */
  mac?: Uint8Array;
  /** Largest IP packet; the kernel side should be configured to match. */
  mtu?: number;
  /** Create the device inside this process's network namespace (a lab holder). */
  nsPid?: number;
  /** Frames moved per addon call each way, and so the frames the device holds (default 64). */
  batch?: number;
  /** The addon to use instead of the built one (a stand-in kernel, for tests). */
  addon?: TapAddon;
}

/** Frames per batch unless told otherwise: two echo windows of 32, about 100 KiB each way. */
export const TAP_DEFAULT_BATCH = 64;
/** Room for a VLAN tag beyond the MTU and header; slots are rounded up to whole cache lines. */
const SLOT_SLACK = 4;

/** A locally administered unicast address (bit 1 of the first byte set, bit 0 clear). */
export const TAP_DEFAULT_MAC: readonly number[] = Object.freeze([
  0x02, 0x54, 0x41, 0x50, 0x00, 0x02,
]);

/** The device events (DEVICE_RECEIVE, DEVICE_TRANSMIT) an addon readiness report stands for. */
export function tapEvents(flags: number): number {
  let events = 0;
  if ((flags & TAP_READABLE) !== 0) events |= DEVICE_RECEIVE;
  if ((flags & TAP_WRITABLE) !== 0) events |= DEVICE_TRANSMIT;
  return events;
}

/** Whether bytes [offset, offset + length) lie inside `frame`: the span a caller hands a device. */
export function spanInside(frame: Uint8Array, offset: number, length: number): boolean {
  return offset >= 0 && length >= 0 && length <= frame.length - offset;
}

/** Passes readiness on to the listener; `this` is the device, as the addon invokes it. */
function notifyReady(this: TapDevice, flags: number): void {
  this.ready(flags);
  const listener = this.onEvent;
  if (listener === null) return;
  const events = tapEvents(flags);
  if (events !== 0) listener(events);
}

export class TapDevice implements NetDevice {
  /** The interface name. */
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** Frames moved per addon call each way. */
  readonly batch: number;
  /** Bytes of one slot of the receive ring and transmit batch: the longest frame kept whole. */
  readonly slotSize: number;

  /** Frames read from the kernel. */
  framesIn = 0;
  /** Bytes of the frames read. */
  bytesIn = 0;
  /** Frames the kernel took. */
  framesOut = 0;
  /** Bytes of the frames the kernel took. */
  bytesOut = 0;
  /** readBatch calls that returned frames. */
  batchesIn = 0;
  /** writeBatch calls. */
  batchesOut = 0;
  /** Frames longer than the capacity they were read into (cut short, full length returned). */
  truncatedIn = 0;
  /** Failed reads (other than "nothing waiting"). */
  errorsIn = 0;
  /** Frames refused for good: by the kernel, short writes, or longer than a slot. */
  errorsOut = 0;
  /** transmit() calls answered TX_BUSY: the batch was full and the kernel would take none. */
  busyOut = 0;
  /** Batch writes the kernel stopped short (EAGAIN, ENOBUFS); the rest waited in the batch. */
  kernelBusy = 0;
  /** Lending receives that found no free pool buffer. */
  noBufferIn = 0;
  /** Multicast groups last given to setMulticastFilter(); a TAP receives all multicast anyway. */
  multicastCount = 0;
  /** setMulticastFilter() calls so far. */
  filterUpdates = 0;
  /** The last -errno seen, for diagnostics. */
  lastError = 0;

  private readonly addon: TapAddon;
  private fd: number;
  private listener: ((events: number) => void) | null = null;

  // Receive ring: rxLengths[rxNext .. rxCount) are frames read and not yet handed out, in the
  // device's own slots (rxPool null) or in pool buffers rxHandles[] (lending).
  private readonly rxBytes: Uint8Array;
  private readonly rxSlotOffsets: Int32Array;
  private readonly rxLentOffsets: Int32Array;
  private readonly rxHandles: Int32Array;
  private readonly rxLengths: Int32Array;
  private rxNext = 0;
  private rxCount = 0;
  private rxPool: PacketPool | null = null;
  /** The last batch read ended on an empty queue: until a readiness event, none is waiting. */
  private rxEmpty = false;
  /** Pool buffers a lending read asks for: doubles while batches come full, so a trickle costs few. */
  private rxWant = 4;

  // Transmit batch: txCount frames in order, in the device's own slots (txPool null) or in the
  // pool buffers txHandles[] lent by the stack.
  private readonly txBytes: Uint8Array;
  private readonly txSlotOffsets: Int32Array;
  private readonly txLentOffsets: Int32Array;
  private readonly txHandles: Int32Array;
  private readonly txLengths: Int32Array;
  private txCount = 0;
  private txPool: PacketPool | null = null;
  /** The kernel refused a write and a writability event was asked for. */
  private txWaiting = false;

  /** Opens the device. Throws if it cannot: this is set-up, not a per-packet condition. */
  constructor(options: TapDeviceOptions) {
    const addon = options.addon ?? loadTapAddon();
    if (typeof addon === "string") throw new Error(`TapDevice: ${addon}`);
    if (typeof addon.readBatch !== "function")
      throw new Error("TapDevice: the addon has no batches (rebuild it)");
    const mac = options.mac ?? Uint8Array.from(TAP_DEFAULT_MAC);
    if (mac.length !== 6) throw new RangeError(`TapDevice: mac of ${mac.length} bytes: must be 6`);
    const batch = options.batch ?? TAP_DEFAULT_BATCH;
    if (!(batch >= 1 && batch <= 4096) || batch !== Math.floor(batch))
      throw new RangeError(`TapDevice: batch ${batch}: must be 1..4096 frames`);
    const mtu = options.mtu ?? 1500;
    const fd = addon.open(options.name, options.nsPid);
    if (fd < 0) {
      const why = fd === -EPERM || fd === -EACCES ? " (needs root or CAP_NET_ADMIN)" : "";
      throw new Error(`TapDevice: cannot open ${options.name}: ${errnoName(fd)}${why}`);
    }
    this.addon = addon;
    this.fd = fd;
    this.name = options.name;
    this.mac = Uint8Array.from(mac);
    this.mtu = mtu;
    this.batch = batch;
    const slot = (mtu + 14 + SLOT_SLACK + 63) & ~63;
    this.slotSize = slot;
    this.rxBytes = new Uint8Array(batch * slot);
    this.txBytes = new Uint8Array(batch * slot);
    this.rxSlotOffsets = new Int32Array(batch);
    this.txSlotOffsets = new Int32Array(batch);
    for (let i = 0; i < batch; i++) {
      this.rxSlotOffsets[i] = i * slot;
      this.txSlotOffsets[i] = i * slot;
    }
    this.rxLentOffsets = new Int32Array(batch);
    this.txLentOffsets = new Int32Array(batch);
    this.rxHandles = new Int32Array(batch);
    this.txHandles = new Int32Array(batch);
    this.rxLengths = new Int32Array(batch);
    this.txLengths = new Int32Array(batch);
  }

  /** A TAP has carrier from the moment it is attached until it is closed. */
  get linkUp(): boolean {
    return this.fd >= 0;
  }

  /** Frames taken by transmit() and not yet written to the kernel. */
  get held(): number {
    return this.txCount;
  }

  /** Frames read from the kernel and not yet handed out. */
  get waiting(): number {
    return this.rxCount - this.rxNext;
  }

  get onEvent(): ((events: number) => void) | null {
    return this.listener;
  }

  /** Watching starts with the first listener and stops when it is cleared. */
  set onEvent(listener: ((events: number) => void) | null) {
    const wasWatching = this.listener !== null;
    this.listener = listener;
    if (this.fd < 0) return;
    if (listener !== null && !wasWatching) {
      const result = this.addon.watch(this.fd, notifyReady, this);
      if (result < 0) this.lastError = result;
      // Frames held for writability are now the listener's to hear about.
      if (this.txWaiting) this.addon.watchWritable(this.fd);
    } else if (listener === null && wasWatching) {
      this.addon.unwatch(this.fd);
      this.rxEmpty = false;
    }
  }

  /** Takes the frame into the batch (a copy): TX_TAKEN, TX_BUSY when the batch is full, or -errno. */
  transmit(frame: Uint8Array, offset: number, length: number): number {
    if (this.fd < 0) return -ENETDOWN;
    if (!spanInside(frame, offset, length)) {
      this.errorsOut++;
      this.lastError = -EINVAL;
      return -EINVAL;
    }
    if (length > this.slotSize) {
      this.errorsOut++;
      this.lastError = -EMSGSIZE;
      return -EMSGSIZE;
    }
    if (!this.room(null)) return TX_BUSY;
    const i = this.txCount;
    copy(this.txBytes, this.txSlotOffsets[i], frame, offset, length);
    this.txLengths[i] = length;
    this.txCount = i + 1;
    return TX_TAKEN;
  }

  /**
   * Takes the pool buffer `handle` (frame at `offset`) into the batch without copying and frees it
   * to `pool` once written: TX_TAKEN, TX_BUSY when the batch is full (the stack keeps it), or -errno.
   */
  transmitBuffer(pool: PacketPool, handle: number, offset: number, length: number): number {
    if (this.fd < 0) return -ENETDOWN;
    if (!(length >= 0 && length <= this.slotSize)) {
      this.errorsOut++;
      this.lastError = -EMSGSIZE;
      return -EMSGSIZE;
    }
    if (!this.room(pool)) return TX_BUSY;
    const i = this.txCount;
    this.txHandles[i] = handle;
    this.txLentOffsets[i] = offset;
    this.txLengths[i] = length;
    this.txPool = pool;
    this.txCount = i + 1;
    return TX_TAKEN;
  }

  /** Sends what the batch holds now, unless the kernel already said it is full. */
  flush(): void {
    if (this.txCount > 0 && !(this.txWaiting && this.listener !== null)) this.send();
  }

  /** Next frame, from the ring (refilled with one addon call when empty), or 0 when none waits. */
  receive(frame: Uint8Array, offset: number, capacity: number): number {
    if (!spanInside(frame, offset, capacity)) {
      // A span past the end of `frame` is the caller's mistake: refused, the frame stays waiting.
      this.errorsIn++;
      this.lastError = -EINVAL;
      return 0;
    }
    if (this.rxNext === this.rxCount && !this.fill(null)) return 0;
    const i = this.rxNext++;
    const length = this.rxLengths[i];
    const pool = this.rxPool;
    const kept = length < this.slotSize ? length : this.slotSize;
    const n = kept < capacity ? kept : capacity;
    if (pool === null) copy(frame, offset, this.rxBytes, this.rxSlotOffsets[i], n);
    else {
      copy(frame, offset, pool.bytes, this.rxLentOffsets[i], n);
      pool.free(this.rxHandles[i]);
    }
    if (length > capacity) this.truncatedIn++;
    return length;
  }

  /**
   * Next frame in a pool buffer of `pool` (its length in pool.length), read there without a copy,
   * or -1 when none waits (or the pool has no buffer free).
   */
  receiveBuffer(pool: PacketPool): number {
    if (this.rxNext === this.rxCount && !this.fill(pool)) return -1;
    const i = this.rxNext++;
    const length = this.rxLengths[i];
    let handle: number;
    if (this.rxPool === pool) {
      handle = this.rxHandles[i];
    } else {
      // Read into the device's slots (or another pool) before the stack lent this one: copy.
      handle = pool.alloc();
      if (handle < 0) {
        this.rxNext = i;
        this.noBufferIn++;
        return -1;
      }
      const kept = length < this.slotSize ? length : this.slotSize;
      const n = kept < pool.size ? kept : pool.size;
      const other = this.rxPool;
      if (other === null)
        copy(pool.bytes, pool.offsetOf(handle), this.rxBytes, this.rxSlotOffsets[i], n);
      else {
        copy(pool.bytes, pool.offsetOf(handle), other.bytes, this.rxLentOffsets[i], n);
        other.free(this.rxHandles[i]);
      }
    }
    if (length > pool.size) this.truncatedIn++;
    pool.length[handle] = length;
    return handle;
  }

  /** Sends a batch that waited for no flush (a wrapper that does not pass flush on). */
  poll(_now: number): void {
    if (this.txCount > 0 && !this.txWaiting) this.send();
  }

  /** Records the groups; a TAP hands every multicast frame to the stack, which filters them. */
  setMulticastFilter(_macs: Uint8Array, count: number): void {
    this.filterUpdates++;
    this.multicastCount = count;
  }

  /** Now while frames wait in the ring or a batch waits for no one but a flush. */
  nextDeadline(): number {
    if (this.rxNext < this.rxCount) return 0;
    if (this.txCount > 0 && !this.txWaiting) return 0;
    return Infinity;
  }

  /** The watch saw the fd readable or writable (TAP_* flags): for the watch callback only. */
  ready(flags: number): void {
    if ((flags & TAP_READABLE) !== 0) this.rxEmpty = false;
    if ((flags & TAP_WRITABLE) !== 0) this.txWaiting = false;
  }

  /** Detaches the device; the kernel removes the interface. Held pool buffers go back. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    this.addon.close(this.fd);
    this.fd = -1;
    const rxPool = this.rxPool;
    if (rxPool !== null)
      for (let i = this.rxNext; i < this.rxCount; i++) rxPool.free(this.rxHandles[i]);
    this.rxNext = this.rxCount = 0;
    const txPool = this.txPool;
    if (txPool !== null) for (let i = 0; i < this.txCount; i++) txPool.free(this.txHandles[i]);
    this.txCount = 0;
    this.txPool = null;
  }

  /**
   * Whether the batch can take one more frame of `pool` (null: the device's own slots), sending
   * first when it is full or holds the other kind. False means TX_BUSY, counted.
   */
  private room(pool: PacketPool | null): boolean {
    if (this.txCount > 0 && this.txPool !== pool) this.send();
    if (this.txCount === this.batch) this.send();
    if (this.txCount === 0 || (this.txCount < this.batch && this.txPool === pool)) return true;
    this.busyOut++;
    return false;
  }

  /** Writes the batch with one addon call; what the kernel would not take yet stays, in order. */
  private send(): void {
    const count = this.txCount;
    if (count === 0 || this.fd < 0) return;
    const pool = this.txPool;
    const lengths = this.txLengths;
    const done =
      pool === null
        ? this.addon.writeBatch(this.fd, this.txBytes, this.txSlotOffsets, lengths, count)
        : this.addon.writeBatch(this.fd, pool.bytes, this.txLentOffsets, lengths, count);
    this.batchesOut++;
    if (done < 0) {
      // The call itself was refused (a closed fd): every frame fails.
      this.errorsOut += count;
      this.lastError = done;
      if (pool !== null) for (let i = 0; i < count; i++) pool.free(this.txHandles[i]);
      this.txCount = 0;
      this.txPool = null;
      return;
    }
    for (let i = 0; i < done; i++) {
      const length = lengths[i];
      if (length >= 0) {
        this.framesOut++;
        this.bytesOut += length;
      } else {
        this.errorsOut++;
        this.lastError = length;
      }
      if (pool !== null) pool.free(this.txHandles[i]);
    }
    if (done === count) {
      this.txCount = 0;
      this.txPool = null;
      return;
    }
    // The kernel is full for now: keep the rest at the front, offered again once it is writable.
    const left = count - done;
    if (done > 0) {
      lengths.copyWithin(0, done, count);
      if (pool === null) {
        const slot = this.slotSize;
        this.txBytes.copyWithin(0, done * slot, count * slot);
      } else {
        this.txHandles.copyWithin(0, done, count);
        this.txLentOffsets.copyWithin(0, done, count);
      }
    }
    this.txCount = left;
    this.kernelBusy++;
    this.txWaiting = true;
    if (this.listener !== null) this.addon.watchWritable(this.fd);
  }

  /**
   * Refills the empty ring with one addon call, into the device's slots (pool null) or into
   * buffers of `pool`. False when nothing was read.
   */
  private fill(pool: PacketPool | null): boolean {
    this.rxNext = this.rxCount = 0;
    if (this.fd < 0) return false;
    if (this.rxEmpty) {
      // The last read found the queue empty; frames arriving since raise a readiness event.
      this.rxEmpty = false;
      return false;
    }
    let asked = this.batch;
    let n: number;
    if (pool === null) {
      this.rxPool = null;
      n = this.addon.readBatch(
        this.fd,
        this.rxBytes,
        this.rxSlotOffsets,
        this.rxLengths,
        asked,
        this.slotSize,
      );
    } else {
      this.rxPool = pool;
      if (this.rxWant < asked) asked = this.rxWant;
      // At most half of what is free: the stack needs buffers for what it sends in answer.
      const half = pool.available >> 1;
      if (half < asked) asked = half > 0 ? half : 1;
      let got = 0;
      for (; got < asked; got++) {
        const handle = pool.alloc();
        if (handle < 0) break;
        this.rxHandles[got] = handle;
        this.rxLentOffsets[got] = pool.offsetOf(handle);
      }
      if (got === 0) {
        this.noBufferIn++;
        return false;
      }
      asked = got;
      n = this.addon.readBatch(
        this.fd,
        pool.bytes,
        this.rxLentOffsets,
        this.rxLengths,
        got,
        pool.size,
      );
      // Unused buffers go back last-first, so the next read gets the same ones.
      for (let i = got - 1; i >= (n > 0 ? n : 0); i--) pool.free(this.rxHandles[i]);
      this.rxWant = n === got ? (got * 2 < this.batch ? got * 2 : this.batch) : n + 4;
    }
    if (n <= 0) {
      if (n < 0) {
        this.errorsIn++;
        this.lastError = n;
      }
      return false;
    }
    // A short batch met an empty queue: with a listener, the next frame announces itself.
    if (n < asked && this.listener !== null) this.rxEmpty = true;
    this.batchesIn++;
    this.framesIn += n;
    const lengths = this.rxLengths;
    for (let i = 0; i < n; i++) this.bytesIn += lengths[i];
    this.rxCount = n;
    return true;
  }
}
