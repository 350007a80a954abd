// Two NetDevice ends joined like a cable, each direction a bounded FIFO of frame slots in the arena.
// Put both stacks and the pair in one Memory and every frame copy is a copyWithin on one array.

import { ETHERNET_HEADER, type NetDevice } from "./device.js";
import { copy, Memory } from "../src/storage/memory.js";

/**
 * A bounded FIFO of whole frames, each in a fixed slot of `slotSize` bytes in the arena. Nothing is
 * allocated after construction.
 */
export class FrameQueue {
  readonly bytes: Uint8Array;
  readonly base: number;
  readonly slotSize: number;
  readonly capacity: number;
  /** Frames waiting. */
  count = 0;
  private readonly lengths: Int32Array;
  private head = 0;

  constructor(memory: Memory, capacity: number, slotSize: number) {
    if (!(capacity > 0 && slotSize > 0)) throw new RangeError("queue: bad capacity or slot size");
    this.bytes = memory.bytes;
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.base = memory.take(capacity * slotSize);
    this.lengths = new Int32Array(capacity);
  }

  /**
   * Appends a copy of the frame, zero-padded to `padTo` bytes when shorter; false when the queue is
   * full or the frame does not fit a slot.
   */
  push(frame: Uint8Array, offset: number, length: number, padTo = 0): boolean {
    if (this.count === this.capacity || length > this.slotSize || padTo > this.slotSize)
      return false;
    let slot = this.head + this.count;
    if (slot >= this.capacity) slot -= this.capacity;
    const at = this.base + slot * this.slotSize;
    copy(this.bytes, at, frame, offset, length);
    if (length < padTo) {
      this.bytes.fill(0, at + length, at + padTo);
      length = padTo;
    }
    this.lengths[slot] = length;
    this.count++;
    return true;
  }

  /** Length of the oldest frame, or 0 when empty. */
  peekLength(): number {
    return this.count === 0 ? 0 : this.lengths[this.head];
  }

  /**
   * Moves the oldest frame into `frame[offset..]`, at most `capacity` bytes, and returns its true
   * length (0 when empty).
   */
  pop(frame: Uint8Array, offset: number, capacity: number): number {
    if (this.count === 0) return 0;
    const slot = this.head;
    const length = this.lengths[slot];
    copy(
      frame,
      offset,
      this.bytes,
      this.base + slot * this.slotSize,
      length < capacity ? length : capacity,
    );
    this.head = slot + 1 === this.capacity ? 0 : slot + 1;
    this.count--;
    return length;
  }

  /** Drops every waiting frame and returns how many there were. */
  clear(): number {
    const dropped = this.count;
    this.count = 0;
    this.head = 0;
    return dropped;
  }
}

export interface LinkPairOptions {
  /** Largest IP packet, without the Ethernet header. Default 1500. */
  mtu?: number;
  /** Frame slots per direction. Default 64. */
  slots?: number;
  /** Station addresses of the two ends. Defaults 02:00:00:00:00:0a and 02:00:00:00:00:0b. */
  macA?: Uint8Array;
  macB?: Uint8Array;
  /** Shorter frames are zero-padded to this length, as an Ethernet MAC pads to 60. Default 0. */
  minFrame?: number;
  /** The arena for the frame slots; the pair makes its own when none is given. */
  memory?: Memory;
}

/**
 * What joins device ends: the link state and the delivery of receive signals. Callbacks are
 * delivered one at a time from the outermost transmit: when a callback polls a stack that transmits
 * back, that transmit only marks its peer, and the outer loop calls it next, so the call depth
 * stays bounded however long the exchange.
 */
export class Cable {
  readonly ends: PairEnd[] = [];
  up = true;
  private notifying = false;

  /** Plugs or unplugs the cable. Unplugging loses every frame in flight, as on a real wire. */
  setLink(up: boolean): void {
    this.up = up;
    if (up) return;
    for (let i = 0; i < this.ends.length; i++) {
      const end = this.ends[i];
      end.rxFlushed += end.inbound.clear();
      end.signalPending = false;
    }
  }

  /** Calls pending onReceivable callbacks, unless a delivery loop further up the stack will. */
  notify(): void {
    if (this.notifying) return;
    this.notifying = true;
    try {
      for (let i = 0; i < this.ends.length;) {
        const end = this.ends[i];
        if (!end.signalPending) {
          i++;
          continue;
        }
        end.signalPending = false;
        if (end.onReceivable !== null && end.inbound.count > 0) end.onReceivable();
        i = 0;
      }
    } finally {
      this.notifying = false;
    }
  }
}

/** One end of a cable. Its transmit() feeds its peer's receive(); a loopback is its own peer. */
export class PairEnd implements NetDevice {
  readonly mac: Uint8Array;
  readonly mtu: number;
  onReceivable: (() => void) | null = null;

  /** Frames accepted for the peer, and their bytes (after padding). */
  txFrames = 0;
  txBytes = 0;
  /** Frames refused because the peer's queue was full. */
  txQueueFull = 0;
  /** Frames refused because the link was down. */
  txLinkDown = 0;
  /** Frames refused for a length below the Ethernet header or above mtu + 14. */
  txBadLength = 0;
  /** Frames handed to the caller, and their bytes. */
  rxFrames = 0;
  rxBytes = 0;
  /** Frames longer than the caller's buffer (delivered cut short). */
  rxTruncated = 0;
  /** Frames dropped from this end's queue when the link went down. */
  rxFlushed = 0;

  /** Frames waiting for this end's receive(). */
  readonly inbound: FrameQueue;
  /** Set when frames arrived and onReceivable is still to be called. */
  signalPending = false;
  /** The end this one transmits to. */
  peer: PairEnd;
  protected readonly cable: Cable;
  private readonly minFrame: number;

  constructor(cable: Cable, mac: Uint8Array, mtu: number, inbound: FrameQueue, minFrame: number) {
    this.cable = cable;
    this.mac = mac;
    this.mtu = mtu;
    this.inbound = inbound;
    this.minFrame = minFrame;
    this.peer = this;
    cable.ends.push(this);
  }

  get linkUp(): boolean {
    return this.cable.up;
  }

  transmit(frame: Uint8Array, offset: number, length: number): boolean {
    if (!this.cable.up) {
      this.txLinkDown++;
      return false;
    }
    if (length < ETHERNET_HEADER || length > this.mtu + ETHERNET_HEADER) {
      this.txBadLength++;
      return false;
    }
    const peer = this.peer;
    if (!peer.inbound.push(frame, offset, length, this.minFrame)) {
      this.txQueueFull++;
      return false;
    }
    if (length < this.minFrame) length = this.minFrame;
    this.txFrames++;
    this.txBytes += length;
    peer.signalPending = true;
    this.cable.notify();
    return true;
  }

  receive(frame: Uint8Array, offset: number, capacity: number): number {
    const length = this.inbound.pop(frame, offset, capacity);
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
}

/** Two connected devices, `a` and `b`: a transmit on one end queues the frame for the other. */
export class LinkPair {
  readonly a: PairEnd;
  readonly b: PairEnd;
  private readonly cable = new Cable();

  constructor(options: LinkPairOptions = {}) {
    const mtu = options.mtu ?? 1500;
    const slots = options.slots ?? 64;
    const minFrame = options.minFrame ?? 0;
    checkLinkOptions("pair", mtu, slots);
    if (!(minFrame >= 0 && minFrame <= mtu + ETHERNET_HEADER))
      throw new RangeError("pair: bad minFrame");
    const slotSize = mtu + ETHERNET_HEADER;
    const memory = options.memory ?? new Memory(new Uint8Array(2 * slots * slotSize + 16));
    const cable = this.cable;
    this.a = new PairEnd(
      cable,
      macOption(options.macA, 0x0a),
      mtu,
      new FrameQueue(memory, slots, slotSize),
      minFrame,
    );
    this.b = new PairEnd(
      cable,
      macOption(options.macB, 0x0b),
      mtu,
      new FrameQueue(memory, slots, slotSize),
      minFrame,
    );
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  get linkUp(): boolean {
    return this.cable.up;
  }

  set linkUp(up: boolean) {
    this.cable.setLink(up);
  }

  /** Plugs or unplugs the cable. Unplugging loses every frame in flight, as on a real wire. */
  setLink(up: boolean): void {
    this.cable.setLink(up);
  }

  /** Calls pending onReceivable callbacks, unless a delivery loop further up the stack will. */
  notify(): void {
    this.cable.notify();
  }
}

export function checkLinkOptions(name: string, mtu: number, slots: number): void {
  if (!(mtu >= 68 && mtu <= 65535 - ETHERNET_HEADER)) throw new RangeError(`${name}: bad mtu`);
  if (!(slots > 0)) throw new RangeError(`${name}: bad slot count`);
}

/** A copy of `mac`, or a locally administered unicast address ending in `last`. */
export function macOption(mac: Uint8Array | undefined, last: number): Uint8Array {
  const out = new Uint8Array(6);
  if (mac === undefined) {
    out[0] = 0x02; // locally administered, unicast
    out[5] = last;
  } else {
    if (mac.length !== 6) throw new RangeError("a MAC address is 6 bytes");
    out.set(mac);
  }
  return out;
}
