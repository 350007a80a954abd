// The base of devices that wrap another (impairment, capture): the wrapped device's address, MTU
// and link state show through, and its receive signal is passed on to whoever drives the wrapper.

import type { NetDevice } from "./device.js";

export abstract class DeviceWrapper implements NetDevice {
  readonly inner: NetDevice;
  onReceivable: (() => void) | null = null;

  constructor(inner: NetDevice) {
    this.inner = inner;
    inner.onReceivable = () => {
      if (this.onReceivable !== null) this.onReceivable();
    };
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

  abstract transmit(frame: Uint8Array, offset: number, length: number): boolean;
  abstract receive(frame: Uint8Array, offset: number, capacity: number): number;
  abstract poll(now: number): void;
  abstract nextDeadline(): number;
}
