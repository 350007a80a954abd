// The handle an application holds for a TCP socket, in the style of UdpEndpoint: every call
// returns a count or -errno, and after close() every call answers -EBADF even while the connection
// itself lives on (an orphan finishing its close) or its slot serves another socket.

import { EAGAIN, EBADF, EINVAL, ENOTCONN } from "../../errno.js";
import { FullAddress, IpAddress } from "../../wire/address.js";
import { seqDiff } from "../../wire/tcp.js";
import { WaiterEntry } from "../waiter.js";
import { CLOSED, LISTEN } from "./constants.js";
import {
  tcpBind,
  tcpClose,
  tcpConnect,
  tcpListen,
  tcpRecv,
  atUrgentMark,
  bytesToRead,
  tcpSend,
  tcpShutdown,
} from "./calls.js";
import type { TcpConnection } from "./connection.js";
import { TcpInfo, readInfo } from "./info.js";
import { waiting } from "./listen.js";
import { setKeepalive } from "./timers.js";
import { resizeSendRing } from "./buffers.js";

/** An application's TCP socket (stack.openTcp(), or accept()): every call returns a count or -errno, and -EBADF once closed. */
export class TcpEndpoint {
  private readonly conn: TcpConnection;
  private readonly generation: number;

  /** @internal */
  constructor(conn: TcpConnection) {
    this.conn = conn;
    this.generation = conn.generation;
  }

  private live(): TcpConnection | null {
    const c = this.conn;
    return c.inUse && c.generation === this.generation ? c : null;
  }

  /** Whether the handle is still open (not closed, not stale). */
  get isOpen(): boolean {
    return this.live() !== null;
  }

  /** The RFC 9293 state (constants.ts), CLOSED once the handle is closed. */
  get state(): number {
    const c = this.live();
    return c === null ? CLOSED : c.state;
  }

  /** Binds to a local address (null for any) and port (0 for an ephemeral one); 0 or -errno. */
  bind(address: IpAddress | null, port: number): number {
    const c = this.live();
    return c === null ? -EBADF : tcpBind(c, address, port);
  }

  /** Starts accepting connections, at most `backlog` waiting; 0 or -errno. */
  listen(backlog: number): number {
    const c = this.live();
    return c === null ? -EBADF : tcpListen(c, backlog);
  }

  /**
   * The next established connection as a new handle, its peer written to `fromOut` when given;
   * -EAGAIN when none waits, -EINVAL when not listening.
   */
  accept(fromOut: FullAddress | null = null): TcpEndpoint | number {
    const c = this.live();
    if (c === null) return -EBADF;
    if (c.state !== LISTEN) return -EINVAL;
    const child = c.table.accept(c);
    if (child === null) return -EAGAIN;
    if (fromOut !== null) {
      fromOut.address.setV4(child.remoteAddress);
      fromOut.port = child.remotePort;
    }
    return new TcpEndpoint(child);
  }

  /** -EINPROGRESS, then EVENT_OUT when established or EVENT_ERR with takeError(). */
  connect(to: FullAddress): number {
    const c = this.live();
    return c === null ? -EBADF : tcpConnect(c, to);
  }

  /** Bytes queued (maybe fewer than `length`), -EAGAIN when the ring is full, -EPIPE when shut. */
  send(src: Uint8Array, offset = 0, length = src.length - offset, flags = 0): number {
    const c = this.live();
    return c === null ? -EBADF : tcpSend(c, src, offset, length, flags);
  }

  /** Bytes read, 0 at end of stream, -EAGAIN when none waits; MSG_PEEK leaves them. */
  recv(dst: Uint8Array, offset = 0, capacity = dst.length - offset, flags = 0): number {
    const c = this.live();
    return c === null ? -EBADF : tcpRecv(c, dst, offset, capacity, flags);
  }

  /** Stops receiving (SHUT_RD), sending (SHUT_WR: a FIN goes out) or both; 0 or -errno. */
  shutdown(how: number): number {
    const c = this.live();
    return c === null ? -EBADF : tcpShutdown(c, how);
  }

  /** Closes the handle: a graceful close goes on without it; SO_LINGER 0 or unread data reset. */
  close(): number {
    const c = this.live();
    if (c === null) return -EBADF;
    if (tcpClose(c)) {
      if (c.inUse) c.table.release(c);
    } else c.table.orphanHandle(c);
    return 0;
  }

  /** Writes the local address and port into `out`; 0 or -errno. */
  getLocal(out: FullAddress): number {
    const c = this.live();
    if (c === null) return -EBADF;
    out.address.setV4(c.localAddress);
    out.port = c.localPort;
    return 0;
  }

  /** Writes the peer's address and port into `out`; 0, or -ENOTCONN. */
  getPeer(out: FullAddress): number {
    const c = this.live();
    if (c === null) return -EBADF;
    if (c.remotePort === 0 || c.state === LISTEN) return -ENOTCONN;
    out.address.setV4(c.remoteAddress);
    out.port = c.remotePort;
    return 0;
  }

  /** SO_ERROR: the pending error (positive errno), 0 for none. */
  takeError(): number {
    const c = this.live();
    return c === null ? 0 : c.takeError();
  }

  /** The events among `mask` that hold now (EVENT_IN, EVENT_OUT, EVENT_ERR, EVENT_HUP). */
  readiness(mask: number): number {
    const c = this.live();
    return c === null ? 0 : c.readiness(mask);
  }

  /** Calls `entry` after each poll in which events among `mask` happened; 0 or -EBADF. */
  eventRegister(entry: WaiterEntry, mask: number): number {
    const c = this.live();
    if (c === null) return -EBADF;
    c.waiters.eventRegister(entry, mask);
    return 0;
  }

  /** Stops calling `entry` back. */
  eventUnregister(entry: WaiterEntry): void {
    const c = this.live();
    if (c !== null) c.waiters.eventUnregister(entry);
  }

  // -- options

  /** TCP_NODELAY. */
  get noDelay(): boolean {
    const c = this.live();
    return c !== null && c.noDelay;
  }

  /** Sets TCP_NODELAY. */
  set noDelay(on: boolean) {
    const c = this.live();
    if (c === null) return;
    c.noDelay = on;
    if (on) {
      c.pendingOutput = true;
      c.table.wake();
    }
  }

  /** TCP_CONGESTION: CUBIC (RFC 9438) when true, NewReno (the default) when false. */
  get cubic(): boolean {
    const c = this.live();
    return c !== null && c.cubic;
  }

  /** Chooses CUBIC (true) or NewReno (false) for this connection. */
  set cubic(on: boolean) {
    const c = this.live();
    if (c !== null) c.cubic = on;
  }

  /** SO_REUSEADDR (before bind). */
  get reuseAddress(): boolean {
    const c = this.live();
    return c !== null && c.reuseAddress;
  }

  /** Sets SO_REUSEADDR. */
  set reuseAddress(on: boolean) {
    const c = this.live();
    if (c !== null) c.reuseAddress = on;
  }

  /** The binding's space (BIND_V4, BIND_V6_ANY, BIND_V6_ONLY of endpoint-table.ts). */
  get v6Binding(): number {
    const c = this.live();
    return c === null ? 0 : c.v6Binding;
  }

  /** Sets the space the next bind (or listen's autobind) takes: an AF_INET6 socket's `::`. */
  set v6Binding(binding: number) {
    const c = this.live();
    if (c !== null && c.localPort === 0) c.v6Binding = binding;
  }

  /** SO_LINGER with a zero timeout: close() resets instead of closing gracefully. */
  get lingerZero(): boolean {
    const c = this.live();
    return c !== null && c.lingerZero;
  }

  /** Sets SO_LINGER with a zero timeout: close() resets the connection. */
  set lingerZero(on: boolean) {
    const c = this.live();
    if (c !== null) c.lingerZero = on;
  }

  /** SO_OOBINLINE: the urgent byte stays in the stream (recv(MSG_OOB) then says -EINVAL). */
  get oobInline(): boolean {
    const c = this.live();
    return c !== null && c.oobInline;
  }

  /** Sets SO_OOBINLINE. */
  set oobInline(on: boolean) {
    const c = this.live();
    if (c !== null) c.oobInline = on;
  }

  /** SIOCATMARK: whether the next byte read is the urgent one (the mark). */
  get atMark(): boolean {
    const c = this.live();
    return c !== null && atUrgentMark(c);
  }

  /**
   * Sizes the receive ring (SO_RCVBUF's value before Linux's doubling) while the connection is
   * not yet connecting or listening; later it keeps its size. The region may grant less: see
   * `receiveCapacity`. 0 or -EBADF.
   */
  setReceiveBuffer(bytes: number): number {
    const c = this.live();
    if (c === null) return -EBADF;
    c.resizeReceive(bytes);
    return 0;
  }

  /** Sizes the send ring (SO_SNDBUF before doubling), as setReceiveBuffer; 0 or -EBADF. */
  setSendBuffer(bytes: number): number {
    const c = this.live();
    if (c === null) return -EBADF;
    resizeSendRing(c, bytes);
    return 0;
  }

  /** Bytes the receive ring holds at most: the largest window offered. */
  get receiveCapacity(): number {
    const c = this.live();
    return c === null ? 0 : c.recvRing.capacity;
  }

  /** Bytes the send ring holds at most. */
  get sendCapacity(): number {
    const c = this.live();
    return c === null ? 0 : c.sendRing.capacity;
  }

  /** SO_KEEPALIVE, with TCP_KEEPIDLE, TCP_KEEPINTVL (ms) and TCP_KEEPCNT. */
  setKeepalive(on: boolean, idle: number, interval: number, count: number): number {
    const c = this.live();
    if (c === null) return -EBADF;
    if (!(idle > 0 && interval > 0 && count > 0)) return -EINVAL;
    c.keepIdle = idle;
    c.keepInterval = interval;
    c.keepCount = count;
    setKeepalive(c, on);
    return 0;
  }

  /** Whether SO_KEEPALIVE is on. */
  get keepalive(): boolean {
    const c = this.live();
    return c !== null && c.keepalive;
  }

  // -- TCP_INFO-like figures

  /** Smoothed round-trip time and its variation, ms (0 before a sample). */
  get rtt(): number {
    const c = this.live();
    return c === null ? 0 : c.srtt;
  }

  /** The round-trip time variance, ms. */
  get rttVariance(): number {
    const c = this.live();
    return c === null ? 0 : c.rttvar;
  }

  /** The retransmission timeout now, ms. */
  get rto(): number {
    const c = this.live();
    return c === null ? 0 : c.rto;
  }

  /** The congestion window, bytes. */
  get congestionWindow(): number {
    const c = this.live();
    return c === null ? 0 : c.cwnd;
  }

  /** The slow-start threshold, bytes. */
  get slowStartThreshold(): number {
    const c = this.live();
    return c === null ? 0 : c.ssthresh;
  }

  /** Largest payload we send per segment. */
  get sendMss(): number {
    const c = this.live();
    return c === null ? 0 : c.mss;
  }

  /** The peer's window, bytes. */
  get peerWindow(): number {
    const c = this.live();
    return c === null ? 0 : c.sndWnd;
  }

  /** Bytes sent and not yet acknowledged. */
  get unacknowledged(): number {
    const c = this.live();
    return c === null ? 0 : seqDiff(c.sndMax, c.sndUna);
  }

  /** TIOCOUTQ: bytes in the send ring (unsent or unacknowledged). */
  get sendQueued(): number {
    const c = this.live();
    return c === null ? 0 : c.sendRing.readable;
  }

  /** Bytes a send would take now: the free space of the send ring. */
  get sendSpace(): number {
    const c = this.live();
    return c === null ? 0 : c.sendRing.writable;
  }

  /** TIOCINQ: bytes ready to read. */
  get receiveQueued(): number {
    const c = this.live();
    return c === null ? 0 : c.recvRing.readable;
  }

  /** SIOCINQ: bytes to read, up to the urgent mark while an urgent byte waits out of line. */
  get bytesToRead(): number {
    const c = this.live();
    return c === null ? 0 : bytesToRead(c);
  }

  /** Segments retransmitted over the connection's life. */
  get retransmits(): number {
    const c = this.live();
    return c === null ? 0 : c.totalRetransmits;
  }

  /** Loss episodes whose reduction was undone, their retransmissions all proved needless. */
  get undos(): number {
    const c = this.live();
    return c === null ? 0 : c.undos;
  }

  /**
   * When the last segment with data arrived (stack ms), -1 before any: SO_TIMESTAMP's time for a
   * read, as Linux gives the arrival of the last segment read.
   */
  get lastArrival(): number {
    const c = this.live();
    return c === null ? -1 : c.dataReceivedAt;
  }

  /** A listener's connections waiting for accept(). */
  get acceptQueued(): number {
    const c = this.live();
    return c === null || c.state !== LISTEN ? 0 : waiting(c.table, c);
  }

  /** A listener's backlog. */
  get backlog(): number {
    const c = this.live();
    return c === null ? 0 : c.backlog;
  }

  /** Fills `info` with the connection's TCP_INFO figures; 0 or -EBADF. */
  readInfo(info: TcpInfo): number {
    const c = this.live();
    if (c === null) return -EBADF;
    readInfo(c, info, c.table.now);
    return 0;
  }

  /** Negotiated options: timestamps, SACK, window scaling, and the shifts. */
  get timestamps(): boolean {
    const c = this.live();
    return c !== null && c.tsOk;
  }

  /** Whether both ends agreed on SACK. */
  get sack(): boolean {
    const c = this.live();
    return c !== null && c.sackOk;
  }

  /** The window scale the peer announced: the shift of the windows it advertises. */
  get sendWscale(): number {
    const c = this.live();
    return c === null || !c.wsOk ? -1 : c.sndWscale;
  }

  /** The window scale we announced: the shift of the windows we advertise. */
  get receiveWscale(): number {
    const c = this.live();
    return c === null || !c.wsOk ? -1 : c.rcvWscale;
  }
}
