// A device whose transmitted frames come back on its own receive(), through a bounded FIFO of slots
// in the arena. Useful for a stack talking to itself and for testing drivers.

import { ETHERNET_HEADER, type NetDevice } from "./device.js";
import { FrameQueue } from "./pair.js";
import { Memory } from "../src/storage/memory.js";

export interface LoopbackOptions {
  /** Largest IP packet, without the Ethernet header. Default 1500. */
  mtu?: number;
  /** Frame slots. Default 64. */
  slots?: number;
  /** Station address. Default 02:00:00:00:00:01. */
  mac?: Uint8Array;
  /** The arena for the frame slots; the device makes its own when none is given. */
  memory?: Memory;
}

export class LoopbackDevice implements NetDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  onReceivable: (() => void) | null = null;

  txFrames = 0;
  txBytes = 0;
  /** Frames refused because the queue was full. */
  txQueueFull = 0;
  /** Frames refused for a length below the Ethernet header or above mtu + 14. */
  txBadLength = 0;
  /** Frames refused because the link was down. */
  txLinkDown = 0;
  rxFrames = 0;
  rxBytes = 0;
  /** Frames longer than the caller's buffer (delivered cut short). */
  rxTruncated = 0;
  /** Frames dropped when the link went down. */
  rxFlushed = 0;

  private readonly queue: FrameQueue;
  private up = true;
  private notifying = false;
  private signalPending = false;

  constructor(options: LoopbackOptions = {}) {
    const mtu = options.mtu ?? 1500;
    const slots = options.slots ?? 64;
    if (!(mtu >= 68 && mtu <= 65535 - ETHERNET_HEADER)) throw new RangeError("loopback: bad mtu");
    if (!(slots > 0)) throw new RangeError("loopback: bad slot count");
    const slotSize = mtu + ETHERNET_HEADER;
    const memory = options.memory ?? new Memory(new Uint8Array(slots * slotSize + 8));
    this.mtu = mtu;
    this.queue = new FrameQueue(memory, slots, slotSize);
    this.mac = new Uint8Array(6);
    if (options.mac === undefined) {
      this.mac[0] = 0x02; // locally administered, unicast
      this.mac[5] = 0x01;
    } else {
      if (options.mac.length !== 6) throw new RangeError("loopback: a MAC address is 6 bytes");
      this.mac.set(options.mac);
    }
  }

  get linkUp(): boolean {
    return this.up;
  }

  set linkUp(up: boolean) {
    this.setLink(up);
  }

  /** Takes the link down (dropping queued frames) or up. */
  setLink(up: boolean): void {
    this.up = up;
    if (!up) {
      this.rxFlushed += this.queue.clear();
      this.signalPending = false;
    }
  }

  /** Frames waiting for receive(). */
  get pending(): number {
    return this.queue.count;
  }

  transmit(frame: Uint8Array, offset: number, length: number): boolean {
    if (!this.up) {
      this.txLinkDown++;
      return false;
    }
    if (length < ETHERNET_HEADER || length > this.mtu + ETHERNET_HEADER) {
      this.txBadLength++;
      return false;
    }
    if (!this.queue.push(frame, offset, length)) {
      this.txQueueFull++;
      return false;
    }
    this.txFrames++;
    this.txBytes += length;
    this.signalPending = true;
    this.notify();
    return true;
  }

  receive(frame: Uint8Array, offset: number, capacity: number): number {
    const length = this.queue.pop(frame, offset, capacity);
    if (length === 0) return 0;
    this.rxFrames++;
    this.rxBytes += length;
    if (length > capacity) this.rxTruncated++;
    return length;
  }

  poll(_now: number): void {}

  nextDeadline(): number {
    return Infinity;
  }

  // A callback that polls the stack, which transmits again, only marks the signal; the outermost
  // call delivers it, so the call depth stays bounded.
  private notify(): void {
    if (this.notifying) return;
    this.notifying = true;
    try {
      while (this.signalPending) {
        this.signalPending = false;
        if (this.onReceivable !== null && this.queue.count > 0) this.onReceivable();
      }
    } finally {
      this.notifying = false;
    }
  }
}
