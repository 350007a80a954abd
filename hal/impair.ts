// Seeded link faults around any NetDevice, in both directions: loss, duplication, reordering, bit
// corruption, delay and jitter. This kernel has no netem, so tests get their bad networks here, and
// a run is reproduced exactly from its seed. Every decision (loss, corruption, duplication, delay,
// reordering, in each direction) draws from its own stream, so turning one fault on or off leaves
// the others' choices unchanged, and a frame costs only the draws of the faults that are on.
//
// Frames that cannot pass straight through (held back, duplicated, or corrupted on the way out)
// wait in preallocated slots; poll(now) releases them and nextDeadline() says when. Put the device
// in the same Memory as the stack and every copy stays a copyWithin on one array.

import { NEVER } from "../src/time.js";
import {
  DEVICE_RECEIVE,
  DEVICE_TRANSMIT,
  ETHERNET_HEADER,
  TX_BUSY,
  TX_TAKEN,
  type NetDevice,
} from "../src/device.js";
import { ENOBUFS } from "../src/errno.js";
import { frameSlot } from "./pair.js";
import { DeviceWrapper } from "./wrapper.js";
import { copy, Memory } from "../src/storage/memory.js";
import { Random } from "../src/random.js";

/** Faults for one direction. Probabilities are per frame, in [0, 1]; times are milliseconds. */
export interface Impairments {
  /** Probability a frame is dropped. */
  loss?: number;
  /** Probability a frame is delivered twice. */
  duplicate?: number;
  /**
   * Probability a frame is held back and delivered right after the next frame that passes in the
   * same direction (or after `reorderTimeout` ms when no frame follows).
   */
  reorder?: number;
  /** Probability one random bit is flipped in a random byte past the Ethernet header. */
  corrupt?: number;
  /** Fixed one-way delay. */
  delay?: number;
  /**
   * Each frame's delay is drawn uniformly from [delay - jitter, delay + jitter] (never below 0) and
   * rounded to the millisecond, as netem does, so jitter wider than the gap between frames also
   * reorders them.
   */
  jitter?: number;
}

/** Faults per direction (tx, rx) or both, and the seed of their draws. */
export interface ImpairOptions extends Impairments {
  /** Overrides for frames the stack transmits (towards the wrapped device). */
  tx?: Impairments;
  /** Overrides for frames the stack receives (from the wrapped device). */
  rx?: Impairments;
  /** Seed of the fault generators. Default 1. */
  seed?: number;
  /** Frames each direction can hold back at once; more are dropped and counted. Default 64. */
  slots?: number;
  /** Longest wait of a reordered frame for a later one to pass it. Default 10 ms. */
  reorderTimeout?: number;
  /** The arena for the held frames; the device makes its own when none is given. */
  memory?: Memory;
}

// admit() results
const REFUSED = -1;
const TAKEN = 0;
const DIRECT = 1;

// The decisions, each with its own random stream
const U_LOSS = 0;
const U_CORRUPT = 1;
const U_CORRUPT_BYTE = 2;
const U_CORRUPT_BIT = 3;
const U_DUPLICATE = 4;
const U_HOLD = 5; // and 6 for the duplicate
const U_LATE = 7; // and 8 for the duplicate
const DRAWS = 9;

// Slot states
const FREE = 0;
const HELD = 1;
const READY = 2;

/** One direction of an ImpairedDevice: its settings, held frames and fault counters. */
export class ImpairLane {
  readonly loss: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly corrupt: number;
  readonly delay: number;
  readonly jitter: number;
  readonly reorderTimeout: number;

  /** Frames that entered this direction. */
  frames = 0;
  /** Frames handed on (to the wrapped device, or to the stack), duplicates included. */
  passed = 0;
  lost = 0;
  duplicated = 0;
  reordered = 0;
  corrupted = 0;
  /** Frames held for a delay above zero. */
  delayed = 0;
  /** Frames dropped because every slot was holding a frame. */
  overflow = 0;
  /** Frames the wrapped device refused for good (-errno), passed straight through or released. */
  refused = 0;
  /** Offers the wrapped device answered TX_BUSY (the frame stays with its sender). */
  busy = 0;
  /** Frames held now, waiting for their time. */
  held = 0;
  /** Released frames waiting for receive() (the receive direction only). */
  readyCount = 0;

  readonly bytes: Uint8Array;
  readonly base: number;
  readonly slotSize: number;
  readonly slots: number;

  private readonly streams: Random[] = [];
  private readonly u = new Float64Array(DRAWS);
  /** The streams every frame draws from: those of the faults that are on. */
  private readonly everyFrame: number;
  /** Whether any fault is configured; a clean lane passes frames without drawing. */
  private readonly active: boolean;
  /** No held frame is due before this (a lower bound, exact after a scan finds none due). */
  private minDue = Infinity;
  private readonly length: Int32Array;
  private readonly due: Float64Array;
  private readonly order: Float64Array;
  private readonly late: Uint8Array;
  private readonly state: Uint8Array;
  private readonly freeList: Int32Array;
  private freeTop: number;
  private readonly ready: Int32Array;
  private readyHead = 0;
  private lateCount = 0;
  private sequence = 0;

  constructor(
    faults: Impairments,
    seed: number,
    memory: Memory,
    slots: number,
    slotSize: number,
    reorderTimeout: number,
    stream: number,
  ) {
    this.loss = probability(faults.loss, "loss");
    this.duplicate = probability(faults.duplicate, "duplicate");
    this.reorder = probability(faults.reorder, "reorder");
    this.corrupt = probability(faults.corrupt, "corrupt");
    this.delay = milliseconds(faults.delay, "delay");
    this.jitter = milliseconds(faults.jitter, "jitter");
    this.reorderTimeout = reorderTimeout;
    this.active =
      this.loss > 0 ||
      this.duplicate > 0 ||
      this.reorder > 0 ||
      this.corrupt > 0 ||
      this.delay > 0 ||
      this.jitter > 0;
    // splitmix32 seeds a generator from seed + k * golden for k = 1..4, so streams 4 apart in that
    // sequence start from disjoint inputs.
    for (let i = 0; i < DRAWS; i++)
      this.streams.push(new Random((seed + Math.imul(4 * (stream + i), 0x9e3779b9)) >>> 0));
    this.everyFrame =
      (this.loss > 0 ? 1 << U_LOSS : 0) |
      (this.corrupt > 0 ? 1 << U_CORRUPT : 0) |
      (this.duplicate > 0 ? 1 << U_DUPLICATE : 0) |
      (this.jitter > 0 ? 1 << U_HOLD : 0) |
      (this.reorder > 0 ? 1 << U_LATE : 0);
    this.slots = slots;
    this.slotSize = slotSize;
    this.bytes = memory.bytes;
    this.base = memory.take(slots * slotSize);
    this.length = new Int32Array(slots);
    this.due = new Float64Array(slots);
    this.order = new Float64Array(slots);
    this.late = new Uint8Array(slots);
    this.state = new Uint8Array(slots);
    this.freeList = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.freeList[i] = slots - 1 - i;
    this.freeTop = slots;
    this.ready = new Int32Array(slots);
  }

  /**
   * Decides the fate of one frame: DIRECT when it should pass now from the caller's buffer (after
   * any in-place corruption, allowed when `inPlace`), TAKEN when it was dropped or copied into slots,
   * REFUSED when it needed a slot and none was free.
   */
  admit(frame: Uint8Array, offset: number, length: number, now: number, inPlace: boolean): number {
    this.frames++;
    if (!this.active) return DIRECT;
    const u = this.u;
    this.draw(this.everyFrame);
    // Drawn before any early return, so a frame's other decisions do not depend on it being lost.
    const corrupting = u[U_CORRUPT] < this.corrupt;
    const duplicating = u[U_DUPLICATE] < this.duplicate;
    let extra = 0;
    if (corrupting) extra |= (1 << U_CORRUPT_BYTE) | (1 << U_CORRUPT_BIT);
    if (duplicating) extra |= (this.everyFrame & ((1 << U_HOLD) | (1 << U_LATE))) << 1;
    if (extra !== 0) this.draw(extra);
    if (u[U_LOSS] < this.loss) {
      this.lost++;
      return TAKEN;
    }
    let flipAt = -1;
    let flipMask = 0;
    if (corrupting && length > ETHERNET_HEADER) {
      this.corrupted++;
      flipAt = ETHERNET_HEADER + Math.floor(u[U_CORRUPT_BYTE] * (length - ETHERNET_HEADER));
      flipMask = 1 << Math.floor(u[U_CORRUPT_BIT] * 8);
    }
    let copies = 1;
    if (duplicating) {
      this.duplicated++;
      copies = 2;
    }
    let result = TAKEN;
    for (let c = 0; c < copies; c++) {
      const hold = this.holdTime(u[U_HOLD + c]);
      const late = u[U_LATE + c] < this.reorder;
      if (late) this.reordered++;
      if (hold > 0) this.delayed++;
      if (c === 0 && hold === 0 && !late && (flipAt < 0 || inPlace)) {
        if (flipAt >= 0) {
          frame[offset + flipAt] ^= flipMask;
          flipAt = -1; // the copy below is taken from the already corrupted bytes
        }
        result = DIRECT;
        continue;
      }
      const slot = this.take();
      if (slot < 0) {
        this.overflow++;
        if (c === 0) result = REFUSED;
        continue;
      }
      const at = this.base + slot * this.slotSize;
      copy(this.bytes, at, frame, offset, length);
      if (flipAt >= 0) this.bytes[at + flipAt] ^= flipMask;
      this.length[slot] = length;
      const due = late ? now + hold + this.reorderTimeout : now + hold;
      this.due[slot] = due;
      if (due < this.minDue) this.minDue = due;
      this.order[slot] = this.sequence++;
      this.late[slot] = late ? 1 : 0;
      if (late) this.lateCount++;
      this.state[slot] = HELD;
      this.held++;
    }
    return result;
  }

  /** The held slot to release next at `now` (earliest due, then oldest), or -1. */
  nextDue(now: number): number {
    if (this.held === 0 || now < this.minDue) return -1;
    let best = -1;
    let lowest = Infinity;
    for (let s = 0; s < this.slots; s++) {
      if (this.state[s] !== HELD) continue;
      const due = this.due[s];
      if (due < lowest) lowest = due;
      if (due > now) continue;
      if (
        best < 0 ||
        due < this.due[best] ||
        (due === this.due[best] && this.order[s] < this.order[best])
      )
        best = s;
    }
    if (best < 0) this.minDue = lowest;
    return best;
  }

  /** The earliest time a held frame is due, or Infinity. */
  earliest(): number {
    let t = Infinity;
    if (this.held > 0)
      for (let s = 0; s < this.slots; s++)
        if (this.state[s] === HELD && this.due[s] < t) t = this.due[s];
    this.minDue = t;
    return t;
  }

  offsetOf(slot: number): number {
    return this.base + slot * this.slotSize;
  }

  lengthOf(slot: number): number {
    return this.length[slot];
  }

  isLate(slot: number): boolean {
    return this.late[slot] === 1;
  }

  /**
   * A frame that was not itself held back has passed: every frame held back for reordering is now
   * due, right behind it, in the order they arrived.
   */
  passLate(): void {
    if (this.lateCount === 0) return;
    for (let s = 0; s < this.slots; s++) {
      if (this.state[s] === HELD && this.late[s] === 1) this.due[s] = -Infinity;
    }
    this.minDue = -Infinity;
  }

  /** Returns a held slot to the free list. */
  free(slot: number): void {
    this.unhold(slot);
    this.state[slot] = FREE;
    this.freeList[this.freeTop++] = slot;
  }

  /** Moves a held slot to the tail of the receive queue. */
  makeReady(slot: number): void {
    this.unhold(slot);
    this.state[slot] = READY;
    let at = this.readyHead + this.readyCount;
    if (at >= this.slots) at -= this.slots;
    this.ready[at] = slot;
    this.readyCount++;
  }

  /** Copies the oldest ready frame out and frees its slot; returns its length or 0. */
  popReady(frame: Uint8Array, offset: number, capacity: number): number {
    if (this.readyCount === 0) return 0;
    const slot = this.ready[this.readyHead];
    this.readyHead = this.readyHead + 1 === this.slots ? 0 : this.readyHead + 1;
    this.readyCount--;
    const length = this.length[slot];
    copy(frame, offset, this.bytes, this.offsetOf(slot), length < capacity ? length : capacity);
    this.state[slot] = FREE;
    this.freeList[this.freeTop++] = slot;
    this.passed++;
    return length;
  }

  private unhold(slot: number): void {
    this.held--;
    if (this.late[slot] === 1) {
      this.late[slot] = 0;
      this.lateCount--;
    }
  }

  private take(): number {
    return this.freeTop === 0 ? -1 : this.freeList[--this.freeTop];
  }

  // One call site fills a Float64Array: on V8 a number returned from a call that is not inlined is
  // boxed, so the draws must not be spread over many small calls.
  private draw(mask: number): void {
    const u = this.u;
    const streams = this.streams;
    for (let i = 0; i < DRAWS; i++) if (((mask >>> i) & 1) !== 0) u[i] = streams[i].float();
  }

  // Rounded to whole milliseconds, the unit of platform clocks, so deadlines stay integers.
  private holdTime(draw: number): number {
    if (this.jitter === 0) return this.delay;
    const t = Math.round(this.delay + this.jitter * (2 * draw - 1));
    return t > 0 ? t : 0;
  }
}

/** Wraps a device and applies seeded faults to the frames crossing it in both directions. */
export class ImpairedDevice extends DeviceWrapper {
  /**
   * Faults on frames the stack transmits.
   * @internal
   */
  readonly tx: ImpairLane;
  /**
   * Faults on frames the stack receives.
   * @internal
   */
  readonly rx: ImpairLane;
  private now = 0;
  /** The wrapped device answered TX_BUSY and has not yet signalled DEVICE_TRANSMIT. */
  private txBlocked = false;

  constructor(inner: NetDevice, options: ImpairOptions = {}) {
    super(inner);
    // Corrupted frames must be caught by the checksums, at this end and at the peer's.
    this.disableChecksumOffload();
    if (inner.checksumOffload === true)
      throw new RangeError("impair: the wrapped device cannot turn its checksum offload off");
    const seed = options.seed ?? 1;
    const slots = options.slots ?? 64;
    const reorderTimeout = milliseconds(options.reorderTimeout ?? 10, "reorderTimeout");
    if (!(slots > 0 && slots < 0x10000)) throw new RangeError("impair: bad slot count");
    const slotSize = frameSlot(inner.mtu);
    const memory = options.memory ?? new Memory(new Uint8Array(2 * slots * slotSize + 16));
    this.tx = new ImpairLane(
      merge(options, options.tx),
      seed,
      memory,
      slots,
      slotSize,
      reorderTimeout,
      0,
    );
    this.rx = new ImpairLane(
      merge(options, options.rx),
      seed,
      memory,
      slots,
      slotSize,
      reorderTimeout,
      DRAWS,
    );
  }

  /**
   * A lost or held frame counts as taken (it left the device; it dies or waits on the wire). A
   * frame passed straight through gets the wrapped device's answer; one that must be held and finds
   * no free slot is refused with -ENOBUFS. While the wrapped device is busy every offer is answered
   * TX_BUSY before any fault is drawn, so a frame offered again meets its faults once.
   */
  transmit(frame: Uint8Array, offset: number, length: number): number {
    const lane = this.tx;
    if (!this.inner.linkUp || length > lane.slotSize)
      return this.inner.transmit(frame, offset, length);
    if (this.txBlocked) {
      lane.busy++;
      return TX_BUSY;
    }
    const fate = lane.admit(frame, offset, length, this.now, false);
    let result = fate === REFUSED ? -ENOBUFS : TX_TAKEN;
    if (fate === DIRECT) {
      result = this.inner.transmit(frame, offset, length);
      if (result > 0) {
        lane.passed++;
        lane.passLate();
      } else if (result === TX_BUSY) {
        // Not on the wire yet: its offer again is a new frame for the faults too.
        lane.frames--;
        lane.busy++;
        this.txBlocked = true;
      } else {
        lane.refused++;
        lane.passLate();
      }
    }
    if (lane.held > 0) this.releaseTx(this.now);
    return result;
  }

  /** Next frame that got through the receive lane, as NetDevice.receive. */
  receive(frame: Uint8Array, offset: number, capacity: number): number {
    const lane = this.rx;
    if (lane.held > 0) this.releaseRx(this.now);
    if (lane.readyCount > 0) return lane.popReady(frame, offset, capacity);
    for (;;) {
      const length = this.inner.receive(frame, offset, capacity);
      if (length === 0) return 0;
      // Cut short by the caller's buffer: passed on untouched, so the caller sees the true length.
      if (length > capacity || length > lane.slotSize) return length;
      const fate = lane.admit(frame, offset, length, this.now, true);
      if (fate === DIRECT) {
        lane.passed++;
        lane.passLate();
        if (lane.held > 0) this.releaseRx(this.now);
        return length;
      }
      if (lane.held > 0) this.releaseRx(this.now);
      if (lane.readyCount > 0) return lane.popReady(frame, offset, capacity);
    }
  }

  /** Releases delayed frames that are due. */
  poll(now: number): void {
    this.now = now;
    this.inner.poll(now);
    if (this.tx.held > 0) this.releaseTx(now);
    if (this.rx.held > 0 && this.releaseRx(now) > 0 && this.onEvent !== null)
      this.onEvent(DEVICE_RECEIVE);
  }

  /** When the next delayed frame is due; Infinity for none. */
  nextDeadline(): number {
    // Released frames not yet received are due now (a duplicate queued during receive()).
    if (this.rx.readyCount > 0) return this.now;
    let t = this.inner.nextDeadline();
    // Held frames wait for the wrapped device's DEVICE_TRANSMIT while it is busy, not for a time.
    const tx = this.txBlocked ? Infinity : this.tx.earliest();
    if (tx < t) t = tx;
    const rx = this.rx.earliest();
    if (rx < t) t = rx;
    return t < NEVER ? t : Infinity;
  }

  /**
   * The wrapped device has room again: the stack may offer more, and held frames go at the next
   * poll (not from here, which may be inside the wrapped device's own transmit).
   */
  protected override innerEvent(events: number): void {
    if ((events & DEVICE_TRANSMIT) !== 0) this.txBlocked = false;
    super.innerEvent(events);
  }

  private releaseTx(now: number): void {
    const lane = this.tx;
    while (!this.txBlocked) {
      const slot = lane.nextDue(now);
      if (slot < 0) return;
      const late = lane.isLate(slot);
      const result = this.inner.transmit(lane.bytes, lane.offsetOf(slot), lane.lengthOf(slot));
      // A busy device keeps the frame held, first in line, until it signals DEVICE_TRANSMIT.
      if (result === TX_BUSY) {
        lane.busy++;
        this.txBlocked = true;
        return;
      }
      if (result > 0) lane.passed++;
      else lane.refused++;
      lane.free(slot);
      if (!late) lane.passLate();
    }
  }

  private releaseRx(now: number): number {
    const lane = this.rx;
    let moved = 0;
    for (;;) {
      const slot = lane.nextDue(now);
      if (slot < 0) return moved;
      const late = lane.isLate(slot);
      lane.makeReady(slot);
      moved++;
      if (!late) lane.passLate();
    }
  }

  /**
   * Reads options from `loss=0.1,reorder=0.05,dup=0.02,corrupt=0.01,delay=5,jitter=2,seed=7`. A key
   * may be prefixed `tx.` or `rx.` for one direction; `slots` and `reorderTimeout` are accepted too.
   * Returns the options or an error message. For start-up only.
   */
  static parse(text: string): ImpairOptions | string {
    const options: ImpairOptions = {};
    const trimmed = text.trim();
    if (trimmed === "") return options;
    for (const part of trimmed.split(",")) {
      const eq = part.indexOf("=");
      if (eq < 0) return `impair: "${part.trim()}" is not key=value`;
      let key = part.slice(0, eq).trim();
      const raw = part.slice(eq + 1).trim();
      const value = Number(raw);
      if (raw === "" || !Number.isFinite(value))
        return `impair: ${key} needs a number, not "${raw}"`;
      let target: Impairments = options;
      if (key.startsWith("tx.")) {
        target = options.tx ??= {};
        key = key.slice(3);
      } else if (key.startsWith("rx.")) {
        target = options.rx ??= {};
        key = key.slice(3);
      }
      const direction = target !== options;
      switch (key) {
        case "loss":
        case "duplicate":
        case "dup":
        case "reorder":
        case "corrupt":
          if (value < 0 || value > 1) return `impair: ${key} is a probability in [0, 1]`;
          target[key === "dup" ? "duplicate" : key] = value;
          break;
        case "delay":
        case "jitter":
          if (value < 0) return `impair: ${key} is milliseconds, 0 or more`;
          target[key] = value;
          break;
        case "seed":
        case "slots":
        case "reorderTimeout":
          if (direction) return `impair: ${key} applies to both directions`;
          if (key === "seed") {
            if (!Number.isInteger(value)) return "impair: seed is an integer";
            options.seed = value >>> 0;
          } else if (key === "slots") {
            if (!Number.isInteger(value) || value < 1) return "impair: slots is a positive integer";
            options.slots = value;
          } else {
            if (value < 0) return "impair: reorderTimeout is milliseconds, 0 or more";
            options.reorderTimeout = value;
          }
          break;
        default:
          return `impair: unknown key "${key}"`;
      }
    }
    return options;
  }
}

function merge(both: Impairments, one: Impairments | undefined): Impairments {
  if (one === undefined) return both;
  return {
    loss: one.loss ?? both.loss,
    duplicate: one.duplicate ?? both.duplicate,
    reorder: one.reorder ?? both.reorder,
    corrupt: one.corrupt ?? both.corrupt,
    delay: one.delay ?? both.delay,
    jitter: one.jitter ?? both.jitter,
  };
}

function probability(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!(value >= 0 && value <= 1)) throw new RangeError(`impair: ${name} must be in [0, 1]`);
  return value;
}

function milliseconds(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (!(value >= 0 && value < Infinity)) throw new RangeError(`impair: ${name} must be >= 0 ms`);
  return value;
}
