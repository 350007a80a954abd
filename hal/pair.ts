// Two NetDevice ends joined like a cable, each direction a bounded FIFO of frame slots in the arena.
// Put both stacks and the pair in one Memory and every frame copy is a copyWithin on one array.

import {
  DEVICE_LINK,
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  ETHERNET_HEADER,
  TX_BUSY,
  TX_TAKEN,
  type NetDevice,
} from "../src/device.js";
import { EMSGSIZE, ENETDOWN } from "../src/errno.js";
import { copy, Memory } from "../src/storage/memory.js";
import type { PacketPool } from "../src/storage/pool.js";

/**
 * Bytes of a frame slot for `mtu`: the largest frame rounded up to 8, so every slot starts where a
 * pool buffer does (modulo 8) and copies between them take memops' whole-word path.
 */
export function frameSlot(mtu: number): number {
  return (mtu + ETHERNET_HEADER + 7) & ~7;
}

/**
 * A bounded FIFO of whole frames, each in a fixed slot of `slotSize` bytes in the arena. Nothing is
 * allocated after construction.
 *
 * Once the receiving stack has named its pool (`pool`, from receiveBuffer()), a frame pushed while
 * that pool has room goes straight into one of its buffers, as a DMA engine writes into buffers
 * lent to it: one copy from sender to receiver instead of two through the slot. Slot and buffer
 * entries share one FIFO, so order holds whichever way each frame went.
 */
export class FrameQueue {
  readonly bytes: Uint8Array;
  readonly base: number;
  readonly slotSize: number;
  readonly capacity: number;
  /** Frames waiting. */
  count = 0;
  /**
   * The pool of the stack receiving from this queue, once known: frames may wait in its buffers.
   * @internal
   */
  pool: PacketPool | null = null;
  private readonly lengths: Int32Array;
  /** Per entry, the `pool` buffer holding the frame, or -1 when it is in the slot. */
  private readonly handles: Int32Array;
  /** Entries held in `pool` buffers. */
  private buffered = 0;
  private head = 0;

  constructor(memory: Memory, capacity: number, slotSize: number) {
    if (!(capacity > 0 && slotSize > 0)) throw new RangeError("queue: bad capacity or slot size");
    this.bytes = memory.bytes;
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.base = memory.take(capacity * slotSize);
    this.lengths = new Int32Array(capacity);
    this.handles = new Int32Array(capacity).fill(-1);
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
    const pool = this.pool;
    // A quarter of the receiver's pool stays free for its own sends.
    const handle =
      pool !== null && length <= pool.size && padTo <= pool.size && pool.available > pool.count >> 2
        ? pool.alloc()
        : -1;
    const bytes = handle >= 0 ? (pool as PacketPool).bytes : this.bytes;
    const at =
      handle >= 0 ? (pool as PacketPool).offsetOf(handle) : this.base + slot * this.slotSize;
    copy(bytes, at, frame, offset, length);
    if (length < padTo) {
      bytes.fill(0, at + length, at + padTo);
      length = padTo;
    }
    this.lengths[slot] = length;
    this.handles[slot] = handle;
    if (handle >= 0) {
      (pool as PacketPool).length[handle] = length;
      this.buffered++;
    }
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
    const handle = this.handles[slot];
    const n = length < capacity ? length : capacity;
    if (handle < 0) copy(frame, offset, this.bytes, this.base + slot * this.slotSize, n);
    else {
      const pool = this.pool as PacketPool;
      copy(frame, offset, pool.bytes, pool.offsetOf(handle), n);
      pool.free(handle);
    }
    this.advance();
    return length;
  }

  /**
   * Takes the oldest frame as a buffer of `pool` (its true length in `pool.length`, its bytes cut to
   * the buffer's size), or -1 when none waits or `pool` has no buffer for it.
   */
  popBuffer(pool: PacketPool): number {
    if (this.count === 0) return -1;
    const slot = this.head;
    let handle = this.handles[slot];
    const length = this.lengths[slot];
    if (handle >= 0 && pool !== this.pool) {
      // Queued for another pool (the device was moved to another stack): copied across.
      const from = this.pool as PacketPool;
      const to = pool.alloc();
      if (to < 0) return -1;
      copy(pool.bytes, pool.offsetOf(to), from.bytes, from.offsetOf(handle), length);
      from.free(handle);
      handle = to;
    } else if (handle < 0) {
      handle = pool.alloc();
      if (handle < 0) return -1;
      const n = length < pool.size ? length : pool.size;
      copy(pool.bytes, pool.offsetOf(handle), this.bytes, this.base + slot * this.slotSize, n);
    }
    pool.length[handle] = length;
    this.advance();
    return handle;
  }

  private advance(): void {
    const slot = this.head;
    if (this.handles[slot] >= 0) {
      this.handles[slot] = -1;
      this.buffered--;
    }
    this.head = slot + 1 === this.capacity ? 0 : slot + 1;
    this.count--;
  }

  /** Names the pool frames may wait in; kept while frames still wait in the previous one. */
  lend(pool: PacketPool): void {
    if (pool !== this.pool && this.buffered === 0) this.pool = pool;
  }

  /** Drops every waiting frame (buffers go back to their pool) and returns how many there were. */
  clear(): number {
    const dropped = this.count;
    while (this.count > 0) {
      const handle = this.handles[this.head];
      if (handle >= 0) (this.pool as PacketPool).free(handle);
      this.advance();
    }
    this.head = 0;
    return dropped;
  }
}

/** Options of a LinkPair. */
export interface LinkPairOptions {
  /** Largest IP packet, without the Ethernet header. Default 1500. */
  mtu?: number;
  /** Frame slots per direction. Default 64. */
  slots?: number;
  /** Station address of end a; default 02:00:00:00:00:0a. */
  macA?: Uint8Array;
  /** Station address of end b; default 02:00:00:00:00:0b. */
  macB?: Uint8Array;
  /** Shorter frames are zero-padded to this length, as an Ethernet MAC pads to 60. Default 0. */
  minFrame?: number;
  /**
   * Ends that take one frame at a time, as an ENC28J60 or a W5500 in MACRAW mode does: while their
   * last frame waits for the peer's receive(), transmit() answers TX_BUSY, and DEVICE_TRANSMIT
   * follows when the peer has taken it. Default "none".
   */
  oneAtATime?: "none" | "a" | "b" | "both";
  /** The arena for the frame slots; the pair makes its own when none is given. */
  memory?: Memory;
  /**
   * Both ends claim checksum offload (NetDevice.checksumOffload), as a veth pair between two
   * namespaces does: the stacks skip TCP and UDP checksums, and corruption between them goes
   * undetected. Only for two stacks joined directly. Default false.
   */
  checksumOffload?: boolean;
  /**
   * Frames go straight into the receiving stack's pool buffers when it has room, as a DMA engine
   * writes into buffers lent to it: one copy per frame instead of two through a slot, but a frame
   * in flight then holds one of the receiver's buffers. Default false.
   */
  intoPool?: boolean;
}

/**
 * What joins device ends: the link state and the delivery of event signals. Callbacks are
 * delivered one at a time from the outermost transmit, receive or link change: when a callback
 * polls a stack that transmits back, that transmit only marks its peer, and the outer loop calls
 * it next, so the call depth stays bounded however long the exchange. A loopback, being its own
 * peer, is the one device signalled from inside its own transmit().
 */
export class Cable {
  readonly ends: PairEnd[] = [];
  up = true;
  /** Frames on this cable need no transport checksum (see LinkPairOptions.checksumOffload). */
  checksumOffload = false;
  /** Frames may wait in the receiver's pool buffers (see LinkPairOptions.intoPool). */
  intoPool = false;
  private notifying = false;

  /**
   * Plugs or unplugs the cable and signals DEVICE_LINK on every end. Unplugging loses every frame
   * in flight, as on a real wire.
   */
  setLink(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    for (let i = 0; i < this.ends.length; i++) {
      const end = this.ends[i];
      if (!up) {
        end.rxFlushed += end.inbound.clear();
        end.pendingEvents &= ~DEVICE_RECEIVE;
        end.inFlight = false;
        end.wantsTransmit = false;
      }
      end.pendingEvents |= DEVICE_LINK;
    }
    this.notify();
  }

  /** Calls pending onEvent callbacks, unless a delivery loop further up the stack will. */
  notify(): void {
    if (this.notifying) return;
    this.notifying = true;
    try {
      for (let i = 0; i < this.ends.length;) {
        const end = this.ends[i];
        let events = end.pendingEvents;
        if (events === 0) {
          i++;
          continue;
        }
        end.pendingEvents = 0;
        // Frames signalled but already drained by a receive() in an earlier callback.
        if (end.inbound.count === 0) events &= ~DEVICE_RECEIVE;
        if (end.onEvent !== null && events !== 0) end.onEvent(events);
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
  onEvent: ((events: number) => void) | null = null;

  /** Frames accepted for the peer, and their bytes (after padding). */
  txFrames = 0;
  /** Bytes sent from this end. */
  txBytes = 0;
  /** Offers answered TX_BUSY because the peer's queue was full. */
  txQueueFull = 0;
  /** Offers answered TX_BUSY because this one-at-a-time end still had a frame in flight. */
  txBusy = 0;
  /** Frames refused because the link was down. */
  txLinkDown = 0;
  /** Frames refused for a length below the Ethernet header or above mtu + 14. */
  txBadLength = 0;
  /** Frames handed to the caller, and their bytes. */
  rxFrames = 0;
  /** Bytes received at this end. */
  rxBytes = 0;
  /** Frames longer than the caller's buffer (delivered cut short). */
  rxTruncated = 0;
  /** Frames dropped from this end's queue when the link went down. */
  rxFlushed = 0;

  /** The multicast groups last given to setMulticastFilter(), 6 bytes each. */
  multicast: Uint8Array = new Uint8Array(0);
  /** How many groups `multicast` holds. */
  multicastCount = 0;
  /** setMulticastFilter() calls so far. */
  filterUpdates = 0;

  /**
   * Frames waiting for this end's receive().
   * @internal
   */
  readonly inbound: FrameQueue;
  /** DEVICE_* flags still to be passed to onEvent. */
  pendingEvents = 0;
  /** Takes one frame at a time (see LinkPairOptions.oneAtATime). */
  readonly oneAtATime: boolean;
  /** A one-at-a-time end's last frame is still waiting in its peer's queue. */
  inFlight = false;
  /** An offer was answered TX_BUSY: signal DEVICE_TRANSMIT when room opens. */
  wantsTransmit = false;
  /** The end this one transmits to. */
  peer: PairEnd;
  protected readonly cable: Cable;
  private readonly minFrame: number;
  /** Frames taken out of `inbound` so far, so a sender knows when its frame in flight left. */
  private taken = 0;
  /** The value of the peer's `taken` at which this end's frame in flight has left its queue. */
  private flightMark = 0;

  /** @internal */
  constructor(
    cable: Cable,
    mac: Uint8Array,
    mtu: number,
    inbound: FrameQueue,
    minFrame: number,
    oneAtATime = false,
  ) {
    this.cable = cable;
    this.mac = mac;
    this.mtu = mtu;
    this.inbound = inbound;
    this.minFrame = minFrame;
    this.oneAtATime = oneAtATime;
    this.peer = this;
    cable.ends.push(this);
  }

  get linkUp(): boolean {
    return this.cable.up;
  }

  get checksumOffload(): boolean {
    return this.cable.checksumOffload;
  }

  /** Turns offload off for the whole cable, both ends. */
  disableChecksumOffload(): void {
    this.cable.checksumOffload = false;
  }

  transmit(frame: Uint8Array, offset: number, length: number): number {
    if (!this.cable.up) {
      this.txLinkDown++;
      return -ENETDOWN;
    }
    if (length < ETHERNET_HEADER || length > this.mtu + ETHERNET_HEADER) {
      this.txBadLength++;
      return -EMSGSIZE;
    }
    if (this.inFlight) {
      this.txBusy++;
      this.wantsTransmit = true;
      return TX_BUSY;
    }
    const peer = this.peer;
    if (!peer.inbound.push(frame, offset, length, this.minFrame)) {
      this.txQueueFull++;
      this.wantsTransmit = true;
      return TX_BUSY;
    }
    if (this.oneAtATime) {
      this.inFlight = true;
      this.flightMark = peer.taken + peer.inbound.count;
    }
    if (length < this.minFrame) length = this.minFrame;
    this.txFrames++;
    this.txBytes += length;
    peer.pendingEvents |= DEVICE_RECEIVE;
    this.cable.notify();
    return TX_TAKEN;
  }

  receive(frame: Uint8Array, offset: number, capacity: number): number {
    const length = this.inbound.pop(frame, offset, capacity);
    if (length === 0) return 0;
    this.took(length, capacity);
    return length;
  }

  /**
   * The next frame in a buffer of the receiving stack's pool. Naming the pool lets the peer's
   * transmit() write frames straight into its buffers (see FrameQueue), saving a copy per frame.
   */
  receiveBuffer(pool: PacketPool): number {
    const inbound = this.inbound;
    if (this.cable.intoPool) inbound.lend(pool);
    const handle = inbound.popBuffer(pool);
    if (handle < 0) return -1;
    this.took(pool.length[handle], pool.size);
    return handle;
  }

  /** Counts a frame taken from `inbound` and tells a sender waiting for room. */
  private took(length: number, capacity: number): void {
    this.taken++;
    this.rxFrames++;
    this.rxBytes += length;
    if (length > capacity) this.rxTruncated++;
    // The sender into this queue is the peer (or this end, on a loopback).
    const sender = this.peer;
    if (sender.inFlight && this.taken - sender.flightMark >= 0) {
      sender.inFlight = false;
      sender.wantsTransmit = false;
      sender.pendingEvents |= DEVICE_TRANSMIT;
      this.cable.notify();
    } else if (sender.wantsTransmit && !sender.inFlight) {
      sender.wantsTransmit = false;
      sender.pendingEvents |= DEVICE_TRANSMIT;
      this.cable.notify();
    }
  }

  poll(_now: number): void {}

  nextDeadline(): number {
    return Infinity;
  }

  /**
   * Records the groups, as a device programming its filter would; the pair passes every frame. Only
   * a larger group list than ever before allocates (a join, not a packet path).
   */
  setMulticastFilter(macs: Uint8Array, count: number): void {
    this.filterUpdates++;
    const bytes = count * 6;
    if (this.multicast.length < bytes) this.multicast = new Uint8Array(bytes);
    const m = this.multicast;
    for (let i = 0; i < bytes; i++) m[i] = macs[i];
    this.multicastCount = count;
  }

  /** Whether the last filter given includes the group address at `mac[offset..offset + 6)`. */
  hasMulticast(mac: Uint8Array, offset = 0): boolean {
    const m = this.multicast;
    for (let g = 0; g < this.multicastCount; g++) {
      let i = 0;
      while (i < 6 && m[g * 6 + i] === mac[offset + i]) i++;
      if (i === 6) return true;
    }
    return false;
  }
}

/** Two connected devices, `a` and `b`: a transmit on one end queues the frame for the other. */
export class LinkPair {
  /** One end of the cable. */
  readonly a: PairEnd;
  /** The other end. */
  readonly b: PairEnd;
  private readonly cable = new Cable();

  constructor(options: LinkPairOptions = {}) {
    const mtu = options.mtu ?? 1500;
    const slots = options.slots ?? 64;
    const minFrame = options.minFrame ?? 0;
    const slow = options.oneAtATime ?? "none";
    checkLinkOptions("pair", mtu, slots);
    if (!(minFrame >= 0 && minFrame <= mtu + ETHERNET_HEADER))
      throw new RangeError("pair: bad minFrame");
    if (slow !== "none" && slow !== "a" && slow !== "b" && slow !== "both")
      throw new RangeError("pair: oneAtATime is none, a, b or both");
    const slotSize = frameSlot(mtu);
    const memory = options.memory ?? new Memory(new Uint8Array(2 * slots * slotSize + 16));
    const cable = this.cable;
    cable.checksumOffload = options.checksumOffload === true;
    cable.intoPool = options.intoPool === true;
    this.a = new PairEnd(
      cable,
      macOption(options.macA, 0x0a),
      mtu,
      new FrameQueue(memory, slots, slotSize),
      minFrame,
      slow === "a" || slow === "both",
    );
    this.b = new PairEnd(
      cable,
      macOption(options.macB, 0x0b),
      mtu,
      new FrameQueue(memory, slots, slotSize),
      minFrame,
      slow === "b" || slow === "both",
    );
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  /** Whether the cable is plugged in: both ends have carrier. */
  get linkUp(): boolean {
    return this.cable.up;
  }

  /** Plugs the cable in or pulls it out; both ends hear DEVICE_LINK. */
  set linkUp(up: boolean) {
    this.cable.setLink(up);
  }

  /**
   * Plugs or unplugs the cable, signalling DEVICE_LINK on both ends. Unplugging loses every frame
   * in flight, as on a real wire.
   */
  setLink(up: boolean): void {
    this.cable.setLink(up);
  }

  /** Calls pending onEvent callbacks, unless a delivery loop further up the stack will. */
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
