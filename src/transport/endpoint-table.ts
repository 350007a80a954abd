// What the UDP and ping tables share: a fixed set of endpoint slots made at start-up and recycled,
// the interface they send through, the ready list their events go to, and arena scratch for an
// outgoing transport header and for the record header of a datagram being queued or read, and the
// socket buffer region their receive queues take their spans from.
//
// An application holds a handle, not a slot: each open() makes a small handle object that names
// its slot and the slot's generation. Closing bumps the generation, so a handle kept after close()
// answers -EBADF and can never reach the socket that reuses its slot.

import type { StackConfig } from "../config.js";
import type { Interface } from "../iface/interface.js";
import { Random } from "../random.js";
import { Memory } from "../storage/memory.js";
import { Spans } from "../storage/spans.js";
import { DatagramQueue, RECORD_HEADER, socketBufferSize } from "./datagram-queue.js";
import { EVENT_OUT, EventSource, ReadyList } from "./waiter.js";

/** A binding in IPv4's space: AF_INET, or an AF_INET6 socket on a v4-mapped address. */
export const BIND_V4 = 0;
/** An AF_INET6 socket bound to `::`: the v6 wildcard, and IPv4's wildcard with it (dual stack). */
export const BIND_V6_ANY = 1;
/** An AF_INET6 socket bound to `::` with IPV6_V6ONLY: the v6 wildcard only, no IPv4 at all. */
export const BIND_V6_ONLY = 2;

/**
 * Whether two bindings of one port overlap by family alone, as Linux's inet_rcv_saddr_equal
 * decides across AF_INET and AF_INET6: a V6ONLY binding of `::` holds no IPv4 address, so it meets
 * only the other `::` bindings. 1: they clash whatever their IPv4 addresses; 0: they never do;
 * -1: both are in IPv4's space and the IPv4 rule decides (a dual `::` binding is 0.0.0.0 there).
 */
export function familyClash(a: number, b: number): number {
  if (a === BIND_V6_ONLY || b === BIND_V6_ONLY) return a !== BIND_V4 && b !== BIND_V4 ? 1 : 0;
  return -1;
}

export abstract class Slot extends EventSource {
  inUse = false;
  /** Which space its binding is in (BIND_V4, BIND_V6_ANY, BIND_V6_ONLY); set before bind. */
  v6Binding = BIND_V4;
  /** Bumped on every close, so old handles go stale. */
  generation = 0;
  /** A send was refused with EAGAIN: raise EVENT_OUT when room opens up. */
  wantsWrite = false;
  /** SO_SNDBUF, as set (a datagram socket only records it). */
  sendBuffer = 0;
  /** Takes the socket's buffers from the region as it opens; false when there is no room. */
  abstract claimBuffers(): boolean;
  /** Gives them back as it closes. */
  abstract freeBuffers(): void;
  /** SO_RCVBUF: the receive buffer's new size, already clamped as Linux does. */
  abstract resizeReceive(bytes: number): void;
  /** Back to the state of a fresh socket. */
  abstract reset(): void;
}

/** A slot whose receive side is a queue of datagrams on a span of the region: UDP and ping. */
export abstract class DatagramSlot extends Slot {
  abstract readonly queue: DatagramQueue;

  claimBuffers(): boolean {
    return this.queue.open();
  }

  freeBuffers(): void {
    this.queue.close();
  }

  resizeReceive(bytes: number): void {
    this.queue.resize(bytes);
  }
}

export abstract class EndpointTable<S extends Slot> {
  readonly slots: S[] = [];
  readonly random: Random;
  readonly bytes: Uint8Array;
  readonly headerAt: number;
  readonly recordAt: number;
  readonly defaultTtl: number;
  readonly ready: ReadyList;
  /** The socket buffer region, shared with the other tables. */
  readonly spans: Spans;
  /** SO_RCVBUF / SO_SNDBUF limits (Linux's SOCK_MIN_RCVBUF, rmem_max, wmem_max). */
  readonly bufferMin: number;
  readonly receiveMax: number;
  readonly sendMax: number;
  /** SO_SNDBUF a socket opens with. */
  readonly sendDefault: number;
  iface: Interface | null = null;
  /** Slots in use, so a poll can skip an empty table at once. */
  live = 0;

  constructor(
    memory: Memory,
    headerLength: number,
    random: Random,
    config: StackConfig,
    spans: Spans,
    ready: ReadyList,
  ) {
    this.random = random;
    this.bytes = memory.bytes;
    this.defaultTtl = config.ttl;
    this.ready = ready;
    this.spans = spans;
    this.bufferMin = config.socketBufferMin;
    this.receiveMax = config.receiveBufferMax;
    this.sendMax = config.sendBufferMax;
    this.sendDefault = config.udpSendBuffer;
    this.headerAt = memory.take(headerLength);
    this.recordAt = memory.take(RECORD_HEADER);
  }

  /**
   * A free slot, marked in use, or null when all are taken (socket() would say EMFILE) or when the
   * socket buffer region has no block for its queue (ENOBUFS; counted in spans.failures).
   */
  protected take(): S | null {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (!slot.inUse) {
        slot.reset();
        slot.v6Binding = BIND_V4;
        if (!slot.claimBuffers()) return null;
        slot.sendBuffer = this.sendDefault;
        slot.inUse = true;
        this.live++;
        return slot;
      }
    }
    return null;
  }

  /** SO_RCVBUF as Linux sets it (see socketBufferSize); the queue gets what the region allows. */
  setReceiveBuffer(slot: S, bytes: number): void {
    slot.resizeReceive(socketBufferSize(bytes, this.receiveMax, this.bufferMin));
  }

  /** SO_SNDBUF as Linux sets it, at least twice SO_RCVBUF's minimum (SOCK_MIN_SNDBUF); recorded. */
  setSendBuffer(slot: S, bytes: number): void {
    slot.sendBuffer = socketBufferSize(bytes, this.sendMax, 2 * this.bufferMin);
  }

  /** Frees a slot: pending events are forgotten, waiters dropped, old handles made stale. */
  release(slot: S): void {
    this.ready.cancel(slot);
    slot.waiters.clear();
    slot.reset();
    slot.freeBuffers();
    if (slot.inUse) this.live--;
    slot.inUse = false;
    slot.wantsWrite = false;
    slot.generation++;
  }

  get openCount(): number {
    let n = 0;
    for (let i = 0; i < this.slots.length; i++) if (this.slots[i].inUse) n++;
    return n;
  }

  /** Room to send opened up: endpoints that were refused with EAGAIN hear EVENT_OUT. */
  writable(): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      if (!slot.wantsWrite) continue;
      slot.wantsWrite = false;
      this.ready.raise(slot, EVENT_OUT);
    }
  }
}
