// Types of native/lin/tap.js ("netstack/hal/platform/moddable/tap", lin simulator only).
import type { NetDevice } from "../../src/device.js";

export interface TapDeviceOptions {
  /** The TAP's name (1 to 15 bytes); it is created when it does not exist (CAP_NET_ADMIN). */
  name: string;
  /** The stack's station address (default 02:54:41:50:00:02). */
  mac?: Uint8Array;
  /** Largest IP packet (default 1500); the kernel side should match. */
  mtu?: number;
}

export declare class TapDevice implements NetDevice {
  constructor(options: TapDeviceOptions);
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly linkUp: boolean;
  onEvent: ((events: number) => void) | null;
  readonly framesIn: number;
  readonly bytesIn: number;
  readonly framesOut: number;
  readonly bytesOut: number;
  readonly truncatedIn: number;
  readonly errorsIn: number;
  readonly errorsOut: number;
  readonly busyOut: number;
  readonly events: number;
  readonly multicastCount: number;
  readonly filterUpdates: number;
  readonly lastError: number;
  transmit(frame: Uint8Array, offset: number, length: number): number;
  receive(frame: Uint8Array, offset: number, capacity: number): number;
  poll(now: number): void;
  nextDeadline(): number;
  setMulticastFilter(macs: Uint8Array, count: number): void;
  /** Called by tap.c from the main loop with TAP_READABLE (1) and/or TAP_WRITABLE (2). */
  tapReady(flags: number): void;
  /** Detaches the device; idempotent. */
  close(): void;
}
