// The base of devices that wrap another (impairment, capture): the wrapped device's address, MTU,
// link state and multicast filter show through, and its event signals are passed on to whoever
// drives the wrapper.

import type { NetDevice } from "../src/device.js";

export abstract class DeviceWrapper implements NetDevice {
  /** The wrapped device. */
  readonly inner: NetDevice;
  onEvent: ((events: number) => void) | null = null;

  constructor(inner: NetDevice) {
    this.inner = inner;
    // Made once here; the wrapped device calls it per event without allocating.
    inner.onEvent = (events: number) => this.innerEvent(events);
  }

  get mac(): Uint8Array {
    return this.inner.mac;
  }

  get mtu(): number {
    return this.inner.mtu;
  }

  get linkUp(): boolean {
    return this.inner.linkUp;
  }

  /** The wrapped device's offload shows through a wrapper that never changes frames (capture). */
  get checksumOffload(): boolean {
    return this.inner.checksumOffload === true;
  }

  disableChecksumOffload(): void {
    const inner = this.inner;
    if (inner.disableChecksumOffload !== undefined) inner.disableChecksumOffload();
  }

  setMulticastFilter(macs: Uint8Array, count: number): void {
    this.inner.setMulticastFilter(macs, count);
  }

  /** The stack's output pass ended: a wrapped device that batches sends what it holds. */
  flush(): void {
    const inner = this.inner;
    if (inner.flush !== undefined) inner.flush();
  }

  /** The wrapped device signalled; a subclass that holds frames back may act first. */
  protected innerEvent(events: number): void {
    if (this.onEvent !== null) this.onEvent(events);
  }

  abstract transmit(frame: Uint8Array, offset: number, length: number): number;
  abstract receive(frame: Uint8Array, offset: number, capacity: number): number;
  abstract poll(now: number): void;
  abstract nextDeadline(): number;
}
