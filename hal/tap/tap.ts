// A Linux TAP device as a NetDevice, for Node: the stack's frames go to and come from the kernel,
// which sees an ordinary Ethernet interface. The native addon (hal/tap/native/tap.cc, built by
// `npm install` into build/Release/tap.node) attaches the device and reads into the caller's bytes.
//
// Readiness: while someone listens (onEvent set), the addon polls the fd on Node's main loop and
// calls back once per readiness event with DEVICE_RECEIVE; the listener then drains with receive()
// until it returns 0. A write the kernel cannot take now (EAGAIN, ENOBUFS) answers TX_BUSY and asks
// the addon for one writability event, passed on as DEVICE_TRANSMIT. Nobody listening means no
// poll, so an idle TapDevice never keeps the process alive.
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
import { EAGAIN, EIO, ENETDOWN, ENOBUFS } from "../../src/errno.js";

/** The addon's functions. Every call returns a count or -errno; none throws. */
export interface TapAddon {
  /** Attaches TAP `name` (IFF_TAP | IFF_NO_PI, non-blocking), inside nsPid's network namespace if given. */
  open(name: string, nsPid?: number): number;
  /** Next frame into frame[offset..offset+capacity): its full length, 0 when none waits, or -errno. */
  read(fd: number, frame: Uint8Array, offset: number, capacity: number): number;
  /** Sends frame[offset..offset+length): bytes written or -errno. */
  write(fd: number, frame: Uint8Array, offset: number, length: number): number;
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
  return `${ADDON_PATH} is not built (run \`npm install\` or \`npm rebuild\`)`;
}

export interface TapDeviceOptions {
  /** Interface name, at most 15 bytes (e.g. "tap0"). */
  name: string;
  /** The stack's station address; defaults to a locally administered one. */
  mac?: Uint8Array;
  /** Largest IP packet; the kernel side should be configured to match. */
  mtu?: number;
  /** Create the device inside this process's network namespace (a lab holder). */
  nsPid?: number;
}

/** A locally administered unicast address (bit 1 of the first byte set, bit 0 clear). */
export const TAP_DEFAULT_MAC: readonly number[] = Object.freeze([
  0x02, 0x54, 0x41, 0x50, 0x00, 0x02,
]);

/** Passes readiness on to the listener; `this` is the device, as the addon invokes it. */
function notifyReady(this: TapDevice, flags: number): void {
  const listener = this.onEvent;
  if (listener === null) return;
  let events = 0;
  if ((flags & TAP_READABLE) !== 0) events |= DEVICE_RECEIVE;
  if ((flags & TAP_WRITABLE) !== 0) events |= DEVICE_TRANSMIT;
  if (events !== 0) listener(events);
}

export class TapDevice implements NetDevice {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;

  framesIn = 0;
  bytesIn = 0;
  framesOut = 0;
  bytesOut = 0;
  /** Frames longer than the capacity receive() was given (cut short, full length returned). */
  truncatedIn = 0;
  /** Failed reads (other than "nothing waiting"). */
  errorsIn = 0;
  /** Failed or short writes. */
  errorsOut = 0;
  /** Writes the kernel could not take now (answered TX_BUSY). */
  busyOut = 0;
  /** Multicast groups last given to setMulticastFilter(); a TAP receives all multicast anyway. */
  multicastCount = 0;
  /** setMulticastFilter() calls so far. */
  filterUpdates = 0;
  /** The last -errno seen, for diagnostics. */
  lastError = 0;

  private readonly addon: TapAddon;
  private fd: number;
  private listener: ((events: number) => void) | null = null;

  /** Opens the device. Throws if it cannot: this is set-up, not a per-packet condition. */
  constructor(options: TapDeviceOptions) {
    const addon = loadTapAddon();
    if (typeof addon === "string") throw new Error(`TapDevice: ${addon}`);
    const mac = options.mac ?? Uint8Array.from(TAP_DEFAULT_MAC);
    if (mac.length !== 6) throw new RangeError("TapDevice: mac must be 6 bytes");
    const fd = addon.open(options.name, options.nsPid);
    if (fd < 0) throw new Error(`TapDevice: cannot open ${options.name}: errno ${-fd}`);
    this.addon = addon;
    this.fd = fd;
    this.name = options.name;
    this.mac = Uint8Array.from(mac);
    this.mtu = options.mtu ?? 1500;
  }

  /** A TAP has carrier from the moment it is attached until it is closed. */
  get linkUp(): boolean {
    return this.fd >= 0;
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
    } else if (listener === null && wasWatching) {
      this.addon.unwatch(this.fd);
    }
  }

  transmit(frame: Uint8Array, offset: number, length: number): number {
    if (this.fd < 0) return -ENETDOWN;
    const written = this.addon.write(this.fd, frame, offset, length);
    if (written === length) {
      this.framesOut++;
      this.bytesOut += length;
      return TX_TAKEN;
    }
    if (written === -EAGAIN || written === -ENOBUFS) {
      // The kernel's queue is full for now: offered again after the fd turns writable.
      this.busyOut++;
      if (this.listener !== null) this.addon.watchWritable(this.fd);
      return TX_BUSY;
    }
    this.errorsOut++;
    if (written < 0) {
      this.lastError = written;
      return written;
    }
    return -EIO;
  }

  receive(frame: Uint8Array, offset: number, capacity: number): number {
    if (this.fd < 0) return 0;
    const length = this.addon.read(this.fd, frame, offset, capacity);
    if (length <= 0) {
      if (length < 0) {
        this.errorsIn++;
        this.lastError = length;
      }
      return 0;
    }
    this.framesIn++;
    this.bytesIn += length;
    if (length > capacity) this.truncatedIn++;
    return length;
  }

  poll(_now: number): void {}

  /** Records the groups; a TAP hands every multicast frame to the stack, which filters them. */
  setMulticastFilter(_macs: Uint8Array, count: number): void {
    this.filterUpdates++;
    this.multicastCount = count;
  }

  nextDeadline(): number {
    return Infinity;
  }

  /** Detaches the device; the kernel removes the interface. Idempotent. */
  close(): void {
    if (this.fd < 0) return;
    this.addon.close(this.fd);
    this.fd = -1;
  }
}
