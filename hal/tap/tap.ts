// A Linux TAP device as a NetDevice, for Node: the stack's frames go to and come from the kernel,
// which sees an ordinary Ethernet interface. The native addon (hal/tap/native/tap.cc, built by
// `npm install` into build/Release/tap.node) attaches the device and reads into the caller's bytes.
//
// Readiness: while someone listens (onReceivable set), the addon polls the fd on Node's main loop and
// calls back once per readiness event; the listener then drains with receive() until it returns 0.
// Nobody listening means no poll, so an idle TapDevice never keeps the process alive.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NetDevice } from "../device.js";

/** The addon's functions. Every call returns a count or -errno; none throws. */
export interface TapAddon {
  /** Attaches TAP `name` (IFF_TAP | IFF_NO_PI, non-blocking), inside nsPid's network namespace if given. */
  open(name: string, nsPid?: number): number;
  /** Next frame into frame[offset..offset+capacity): its full length, 0 when none waits, or -errno. */
  read(fd: number, frame: Uint8Array, offset: number, capacity: number): number;
  /** Sends frame[offset..offset+length): bytes written or -errno. */
  write(fd: number, frame: Uint8Array, offset: number, length: number): number;
  /** Calls callback (this = target) once per readiness event. 0 or -errno (-EBUSY if watched). */
  watch<T>(fd: number, callback: (this: T) => void, target: T): number;
  unwatch(fd: number): number;
  /** Stops watching and closes. 0 or -errno. */
  close(fd: number): number;
}

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

/** Calls the listener; `this` is the device, as the addon invokes it. */
function notifyReceivable(this: TapDevice): void {
  const listener = this.onReceivable;
  if (listener !== null) listener();
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
  /** The last -errno seen, for diagnostics. */
  lastError = 0;

  private readonly addon: TapAddon;
  private fd: number;
  private listener: (() => void) | null = null;

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

  get onReceivable(): (() => void) | null {
    return this.listener;
  }

  /** Watching starts with the first listener and stops when it is cleared. */
  set onReceivable(listener: (() => void) | null) {
    const wasWatching = this.listener !== null;
    this.listener = listener;
    if (this.fd < 0) return;
    if (listener !== null && !wasWatching) {
      const result = this.addon.watch(this.fd, notifyReceivable, this);
      if (result < 0) this.lastError = result;
    } else if (listener === null && wasWatching) {
      this.addon.unwatch(this.fd);
    }
  }

  transmit(frame: Uint8Array, offset: number, length: number): boolean {
    if (this.fd < 0) return false;
    const written = this.addon.write(this.fd, frame, offset, length);
    if (written !== length) {
      this.errorsOut++;
      if (written < 0) this.lastError = written;
      return false;
    }
    this.framesOut++;
    this.bytesOut += length;
    return true;
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
