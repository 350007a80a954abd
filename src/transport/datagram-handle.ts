// What the handles of datagram sockets (UDP, ping) share: a handle names a slot and the slot's
// generation, so once closed every call returns -EBADF and the slot it named may serve another
// socket without this handle reaching it.

import { EBADF } from "../errno.js";
import { FullAddress } from "../wire/address.js";
import type { DatagramSlot } from "./endpoint-table.js";
import { WaiterEntry } from "./waiter.js";

/** What the UDP and ping states offer their handles. */
export interface DatagramState extends DatagramSlot {
  broadcast: boolean;
  connect(to: FullAddress): number;
  sendTo(src: Uint8Array, offset: number, length: number, to: FullAddress | null): number;
  recvFrom(
    dst: Uint8Array,
    offset: number,
    capacity: number,
    from: FullAddress | null,
    flags: number,
  ): number;
  ttl: number;
  setReceiveBuffer(bytes: number): number;
  setSendBuffer(bytes: number): number;
  readiness(mask: number): number;
  release(): void;
}

export abstract class DatagramHandle<S extends DatagramState> {
  private readonly state: S;
  private readonly generation: number;

  /** @internal */
  constructor(state: S) {
    this.state = state;
    this.generation = state.generation;
  }

  /** The slot while this handle is open, else null. */
  protected live(): S | null {
    const state = this.state;
    return state.inUse && state.generation === this.generation ? state : null;
  }

  /** Whether the handle is still open (not closed, not stale). */
  get isOpen(): boolean {
    return this.live() !== null;
  }

  /** SO_BROADCAST. */
  get broadcast(): boolean {
    const s = this.live();
    return s !== null && s.broadcast;
  }

  /** Sets SO_BROADCAST: whether sends to a broadcast address are allowed. */
  set broadcast(on: boolean) {
    const s = this.live();
    if (s !== null) s.broadcast = on;
  }

  /** IP_TTL; -1 means the stack's default. */
  get ttl(): number {
    const s = this.live();
    return s === null ? -1 : s.ttl;
  }

  /** Sets IP_TTL; -1 for the stack's default. */
  set ttl(ttl: number) {
    const s = this.live();
    if (s !== null) s.ttl = ttl;
  }

  /** SO_RCVBUF: bytes the receive queue holds, records of 48 bytes included; 0 when closed. */
  get receiveBuffer(): number {
    const s = this.live();
    return s === null ? 0 : s.queue.capacity;
  }

  /**
   * Sets SO_RCVBUF as Linux does: `bytes` (at most receiveBufferMax) doubled, at least
   * socketBufferMin. Returns 0 (or -EBADF once closed) and never fails, as on Linux: the queue
   * gets what the socket buffer region allows, and `receiveBuffer` tells what it got.
   */
  setReceiveBuffer(bytes: number): number {
    const s = this.live();
    return s === null ? -EBADF : s.setReceiveBuffer(bytes);
  }

  /**
   * When the datagram last read (or peeked) arrived: the stack time (ms) of the poll that queued
   * it, as SO_TIMESTAMP reports; -1 before any.
   */
  get lastArrival(): number {
    const s = this.live();
    return s === null ? -1 : s.queue.lastArrival;
  }

  /** SO_SNDBUF; 0 when closed. */
  get sendBuffer(): number {
    const s = this.live();
    return s === null ? 0 : s.sendBuffer;
  }

  /** Sets SO_SNDBUF as Linux does (see setReceiveBuffer); 0 or -EBADF. */
  setSendBuffer(bytes: number): number {
    const s = this.live();
    return s === null ? -EBADF : s.setSendBuffer(bytes);
  }

  /** The events among `mask` that hold now (EVENT_IN, EVENT_OUT, EVENT_ERR). */
  readiness(mask: number): number {
    const s = this.live();
    return s === null ? 0 : s.readiness(mask);
  }

  /** Calls `entry` after each poll in which events among `mask` happened. */
  eventRegister(entry: WaiterEntry, mask: number): number {
    const s = this.live();
    if (s === null) return -EBADF;
    s.waiters.eventRegister(entry, mask);
    return 0;
  }

  /** Stops calling `entry` back. */
  eventUnregister(entry: WaiterEntry): void {
    const s = this.live();
    if (s !== null) s.waiters.eventUnregister(entry);
  }

  /** Closes the socket; 0, or -EBADF when it was closed already. */
  close(): number {
    const s = this.live();
    if (s === null) return -EBADF;
    s.release();
    return 0;
  }

  /** Sets the default destination (and binds an ephemeral port first if unbound); 0 or -errno. */
  connect(to: FullAddress): number {
    const s = this.live();
    return s === null ? -EBADF : s.connect(to);
  }

  /**
   * Sends `src[offset ..+ length)` as one datagram to `to`, or to the connected peer when `to` is
   * null or absent: the bytes sent, or -errno (-EAGAIN when the send queue is full: wait for
   * EVENT_OUT; -EDESTADDRREQ with no destination; -EMSGSIZE when too long). Copied at once, so
   * `src` may be reused on return.
   */
  sendTo(
    src: Uint8Array,
    offset = 0,
    length = src.length - offset,
    to: FullAddress | null = null,
  ): number {
    const s = this.live();
    return s === null ? -EBADF : s.sendTo(src, offset, length, to);
  }

  /**
   * Reads the next datagram into `dst[offset ..+ capacity)` and its source into `from` if given:
   * its length (cut to `capacity`; with MSG_TRUNC in `flags`, its full length), or -EAGAIN when
   * none waits. MSG_PEEK leaves it queued.
   */
  recvFrom(
    dst: Uint8Array,
    offset = 0,
    capacity = dst.length - offset,
    from: FullAddress | null = null,
    flags = 0,
  ): number {
    const s = this.live();
    return s === null ? -EBADF : s.recvFrom(dst, offset, capacity, from, flags);
  }
}
