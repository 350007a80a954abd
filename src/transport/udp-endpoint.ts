// The handle an application holds for a UDP socket. Every call returns a count or -errno; once
// closed, every call returns -EBADF, and the slot it named may serve another socket without this
// handle reaching it.

import { EBADF } from "../errno.js";
import { FullAddress, IpAddress } from "../wire/address.js";
import type { UdpState } from "./udp.js";
import { WaiterEntry } from "./waiter.js";

export class UdpEndpoint {
  private readonly state: UdpState;
  private readonly generation: number;

  constructor(state: UdpState) {
    this.state = state;
    this.generation = state.generation;
  }

  /** The slot while this handle is open, else null. */
  private live(): UdpState | null {
    const state = this.state;
    return state.inUse && state.generation === this.generation ? state : null;
  }

  get isOpen(): boolean {
    return this.live() !== null;
  }

  /** SO_BROADCAST. */
  get broadcast(): boolean {
    const s = this.live();
    return s !== null && s.broadcast;
  }

  set broadcast(on: boolean) {
    const s = this.live();
    if (s !== null) s.broadcast = on;
  }

  /** SO_REUSEADDR. */
  get reuseAddress(): boolean {
    const s = this.live();
    return s !== null && s.reuseAddress;
  }

  set reuseAddress(on: boolean) {
    const s = this.live();
    if (s !== null) s.reuseAddress = on;
  }

  /** IP_TTL; -1 means the stack's default. */
  get ttl(): number {
    const s = this.live();
    return s === null ? -1 : s.ttl;
  }

  set ttl(ttl: number) {
    const s = this.live();
    if (s !== null) s.ttl = ttl;
  }

  /** IP_TOS. */
  get tos(): number {
    const s = this.live();
    return s === null ? 0 : s.tos;
  }

  set tos(tos: number) {
    const s = this.live();
    if (s !== null) s.tos = tos;
  }

  /** SO_RCVBUF: bytes the receive queue holds, records of 40 bytes included; 0 when closed. */
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

  /** Datagrams waiting to be read. */
  get queuedDatagrams(): number {
    const s = this.live();
    return s === null ? 0 : s.queue.count;
  }

  /** The bound port, 0 when unbound or closed. */
  get localPort(): number {
    const s = this.live();
    return s === null ? 0 : s.localPort;
  }

  bind(address: IpAddress | null, port: number): number {
    const s = this.live();
    return s === null ? -EBADF : s.bind(address, port);
  }

  connect(to: FullAddress): number {
    const s = this.live();
    return s === null ? -EBADF : s.connect(to);
  }

  disconnect(): number {
    const s = this.live();
    return s === null ? -EBADF : s.disconnect();
  }

  sendTo(src: Uint8Array, offset: number, length: number, to: FullAddress | null): number {
    const s = this.live();
    return s === null ? -EBADF : s.sendTo(src, offset, length, to);
  }

  recvFrom(
    dst: Uint8Array,
    offset: number,
    capacity: number,
    from: FullAddress | null,
    flags: number,
  ): number {
    const s = this.live();
    return s === null ? -EBADF : s.recvFrom(dst, offset, capacity, from, flags);
  }

  getPeer(out: FullAddress): number {
    const s = this.live();
    return s === null ? -EBADF : s.getPeer(out);
  }

  getLocal(out: FullAddress): number {
    const s = this.live();
    return s === null ? -EBADF : s.getLocal(out);
  }

  /** Takes the pending error (positive errno, 0 for none): SO_ERROR. */
  takeError(): number {
    const s = this.live();
    return s === null ? 0 : s.takeError();
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

  eventUnregister(entry: WaiterEntry): void {
    const s = this.live();
    if (s !== null) s.waiters.eventUnregister(entry);
  }

  /** Closes the socket; 0, or -EBADF when it was closed already. */
  close(): number {
    const s = this.live();
    if (s === null) return -EBADF;
    this.state.release();
    return 0;
  }
}
