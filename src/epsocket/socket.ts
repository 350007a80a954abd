// SocketOperations: one socket of the seed's layer (gVisor's epsocket) over a UDP or TCP endpoint.
// Every call takes the caller's bytes in Linux's x86-64 layouts (sockaddrs, option values, ifreq)
// and returns a count or -errno, with the errno Linux gives for the same call in the same state;
// the socket-level state Linux keeps above its protocols (sock->state, sk_shutdown, options the
// endpoints do not hold) lives here.
//
// Blocking is a callback: connectBlocking, acceptBlocking, recvMsgBlocking and sendMsgBlocking
// take a Completion, wait on the socket's one preallocated waiter entry, and complete exactly once,
// always later than the call (from the stack's readiness delivery or the layer's poll).
//
// The operations themselves live by job in connect.ts, data.ts, options.ts (tcp-info.ts),
// names.ts, readiness.ts and blocking.ts, as plain functions over the socket (no closures, one
// extra call on the data path).

import { EAGAIN, EBADF } from "../errno.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import { CLOSED } from "../transport/tcp/constants.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { type EntryCallback, WaiterEntry } from "../transport/waiter.js";
import { SOCK_STREAM } from "./linux.js";
import type { SocketLayer } from "./layer.js";
export { MAX_MEMBERSHIPS } from "./codes.js";
import {
  acceptBlocking,
  completeBlocked,
  completeDue,
  connectBlocking,
  recvMsgBlocking,
  retryBlocked,
  sendMsgBlocking,
  timedOut,
} from "./blocking.js";
import { accept, bind, connect, listen, shutdown } from "./connect.js";
import { getPeerName, getSockName, ioctl } from "./names.js";
import { recvMsg, sendMsg } from "./data.js";
import { readiness } from "./readiness.js";
import { applyKeepalive, getSockOpt, setSockOpt } from "./options.js";
import {
  SS_UNCONNECTED,
  SS_CONNECTED,
  OP_NONE,
  KEEPIDLE_DEFAULT,
  KEEPINTVL_DEFAULT,
  KEEPCNT_DEFAULT,
  MAX_MEMBERSHIPS,
} from "./codes.js";

/** What a blocking call completes through: Moddable's `target` style, no closure per call. */
export interface Completion {
  complete(socket: SocketOperations, result: number): void;
}

export class SocketOperations implements EntryCallback {
  readonly layer: SocketLayer;
  /** This socket's number in its layer, as a descriptor. */
  readonly fd: number;
  inUse = false;
  family = 0;
  type = 0;
  /** O_NONBLOCK. */
  nonblocking = false;
  udp: UdpEndpoint | null = null;
  tcp: TcpEndpoint | null = null;

  /** Linux's sk_shutdown bits, as set by shutdown(). */
  shutRead = false;
  shutWrite = false;
  streamState = SS_UNCONNECTED;
  /** An error the socket layer itself holds for SO_ERROR (ECONNRESET after a disconnect). */
  socketError = 0;

  // Options Linux keeps at the socket level, in the units Linux reports them.
  /** SO_RCVTIMEO / SO_SNDTIMEO in microseconds; 0 waits forever. */
  receiveTimeout = 0;
  sendTimeout = 0;
  timestamp = false;
  keepalive = false;
  keepIdle = KEEPIDLE_DEFAULT;
  keepInterval = KEEPINTVL_DEFAULT;
  keepCount = KEEPCNT_DEFAULT;
  lingerOn = false;
  lingerSeconds = 0;
  v6only = false;
  /** SO_SNDBUF / SO_RCVBUF of a stream socket as set, doubled as Linux reports (0: the default). */
  streamSendBuffer = 0;
  streamReceiveBuffer = 0;
  /** SO_OOBINLINE (the endpoint holds it for a stream socket). */
  oobInline = false;
  multicastTtl = 1;
  multicastLoop = true;
  readonly groups = new Int32Array(MAX_MEMBERSHIPS);
  groupCount = 0;

  // What the last call reported beside its result.
  /** The full length of the sockaddr the last accept, recvMsg or get*Name wrote. */
  addressLength = 0;
  /** msg_flags of the last recvMsg: MSG_TRUNC when a datagram was cut. */
  messageFlags = 0;
  /** SO_TIMESTAMP: the stack time (ms) the last read data was taken, -1 when not asked for. */
  receivedAt = -1;
  /** The socket accept() made, for acceptBlocking's completion. */
  accepted: SocketOperations | null = null;

  // The blocked call, if any.
  readonly entry: WaiterEntry;
  op = OP_NONE;
  completion: Completion | null = null;
  /** The blocked call's result, once hasResult. */
  result = 0;
  hasResult = false;
  /** shutdown() changed what the blocked call would see: retry it at the next poll. */
  kicked = false;
  /** When the blocked call gives up (stack time, ms), Infinity for never. */
  deadline = Infinity;
  timeoutErrno = EAGAIN;
  opBuffer: Uint8Array | null = null;
  opOffset = 0;
  opLength = 0;
  opFlags = 0;
  opAddress: Uint8Array | null = null;
  opAddressOffset = 0;
  opAddressLength = 0;
  opDone = 0;

  constructor(layer: SocketLayer, fd: number) {
    this.layer = layer;
    this.fd = fd;
    this.entry = new WaiterEntry(this);
    this.entry.context = this;
  }

  /** Set up as a fresh socket over its endpoint. */
  open(family: number, type: number, nonblocking: boolean): void {
    this.inUse = true;
    this.family = family;
    this.type = type;
    this.nonblocking = nonblocking;
    this.shutRead = false;
    this.shutWrite = false;
    this.streamState = SS_UNCONNECTED;
    this.socketError = 0;
    this.receiveTimeout = 0;
    this.sendTimeout = 0;
    this.timestamp = false;
    this.keepalive = false;
    this.keepIdle = KEEPIDLE_DEFAULT;
    this.keepInterval = KEEPINTVL_DEFAULT;
    this.keepCount = KEEPCNT_DEFAULT;
    this.lingerOn = false;
    this.lingerSeconds = 0;
    this.v6only = false;
    this.streamSendBuffer = 0;
    this.streamReceiveBuffer = 0;
    this.oobInline = false;
    this.multicastTtl = 1;
    this.multicastLoop = true;
    this.groupCount = 0;
    this.addressLength = 0;
    this.messageFlags = 0;
    this.receivedAt = -1;
    this.accepted = null;
    this.op = OP_NONE;
    this.result = 0;
    this.hasResult = false;
    this.kicked = false;
  }

  /** An accepted connection: a connected stream socket from its first moment. */
  openAccepted(
    family: number,
    tcp: TcpEndpoint,
    nonblocking: boolean,
    parent: SocketOperations,
  ): void {
    this.open(family, SOCK_STREAM, nonblocking);
    this.tcp = tcp;
    this.streamState = SS_CONNECTED;
    // Linux copies the listener's socket options into the child (sk_clone_lock).
    this.receiveTimeout = parent.receiveTimeout;
    this.sendTimeout = parent.sendTimeout;
    this.timestamp = parent.timestamp;
    this.keepIdle = parent.keepIdle;
    this.keepInterval = parent.keepInterval;
    this.keepCount = parent.keepCount;
    this.lingerOn = parent.lingerOn;
    this.lingerSeconds = parent.lingerSeconds;
    this.v6only = parent.v6only;
    // The rings took the listener's sizes in the stack (inheritRings); the values read back too.
    this.streamSendBuffer = parent.streamSendBuffer;
    this.streamReceiveBuffer = parent.streamReceiveBuffer;
    this.oobInline = parent.oobInline;
    tcp.oobInline = parent.oobInline;
    tcp.noDelay = parent.tcp !== null && parent.tcp.noDelay;
    if (parent.keepalive) applyKeepalive(this, true);
  }

  /**
   * A fresh endpoint under a stream socket (after connect(AF_UNSPEC) or a listener's SHUT_RD)
   * takes the socket's buffer sizes and SO_OOBINLINE.
   */
  applyStreamOptions(): void {
    const tcp = this.tcp;
    if (tcp === null) return;
    if (this.streamSendBuffer !== 0) tcp.setSendBuffer(this.streamSendBuffer >>> 1);
    if (this.streamReceiveBuffer !== 0) tcp.setReceiveBuffer(this.streamReceiveBuffer >>> 1);
    tcp.oobInline = this.oobInline;
  }

  // ================================================================ connect, bind, listen, accept

  /**
   * connect(2) as a non-blocking call (a blocking socket uses connectBlocking): 0, -EINPROGRESS,
   * or -errno.
   */
  connect(sa: Uint8Array, at: number, length: number): number {
    return connect(this, sa, at, length);
  }

  bind(sa: Uint8Array, at: number, length: number): number {
    return bind(this, sa, at, length);
  }

  listen(backlog: number): number {
    return listen(this, backlog);
  }

  /**
   * accept4(2) without blocking: the new socket, or -errno (-EAGAIN when none waits). Its peer is
   * written to `sa[at ..+ capacity)` (addressLength tells the full length). `flags` takes
   * SOCK_NONBLOCK and SOCK_CLOEXEC.
   */
  accept(
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
  ): SocketOperations | number {
    return accept(this, flags, sa, at, capacity);
  }

  /** Takes the pending error: the socket's own (a disconnect) first, then the endpoint's. */
  takeError(): number {
    const own = this.socketError;
    if (own !== 0) {
      this.socketError = 0;
      return own;
    }
    const tcp = this.tcp;
    return tcp !== null ? tcp.takeError() : (this.udp as UdpEndpoint).takeError();
  }

  // ================================================================ data

  /** read(2): recvMsg without flags or address. */
  read(dst: Uint8Array, offset: number, length: number): number {
    return this.recvMsg(dst, offset, length, 0, null, 0, 0);
  }

  /** write(2): sendMsg without flags or address. */
  write(src: Uint8Array, offset: number, length: number): number {
    return this.sendMsg(src, offset, length, 0, null, 0, 0);
  }

  /**
   * recvmsg(2) without blocking: bytes read (the datagram's full length with MSG_TRUNC), 0 at end
   * of stream, or -errno. The sender goes to `sa[at ..+ capacity)` for datagrams; messageFlags
   * and receivedAt tell the rest.
   */
  recvMsg(
    dst: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
  ): number {
    return recvMsg(this, dst, offset, length, flags, sa, at, capacity);
  }

  /**
   * sendmsg(2) without blocking: bytes queued (a stream socket may take fewer than `length`), or
   * -errno. `sa` (a destination) only for datagram sockets; MSG_MORE holds a partial TCP segment.
   */
  sendMsg(
    src: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    saLength: number,
  ): number {
    return sendMsg(this, src, offset, length, flags, sa, at, saLength);
  }

  shutdown(how: number): number {
    return shutdown(this, how);
  }

  /** Closes the socket: a blocked call completes with -EBADF, the endpoint is let go. */
  close(): number {
    if (!this.inUse) return -EBADF;
    this.layer.release(this);
    return 0;
  }

  /** The socket let go by its layer: endpoint closed, memberships dropped. */
  releaseEndpoint(): void {
    const tcp = this.tcp;
    if (tcp !== null) {
      if (tcp.isOpen) {
        tcp.eventUnregister(this.entry);
        tcp.close();
      }
      this.tcp = null;
    }
    const udp = this.udp;
    if (udp !== null) {
      if (udp.isOpen) {
        udp.eventUnregister(this.entry);
        udp.close();
      }
      this.udp = null;
    }
    if (this.layer.corkOwner === this) this.layer.corkOwner = null;
    for (let i = 0; i < this.groupCount; i++) this.layer.leaveGroup(this.groups[i]);
    this.groupCount = 0;
    this.inUse = false;
  }

  // ================================================================ readiness

  /** A datagram socket with a fixed peer. */
  get udpConnected(): boolean {
    const udp = this.udp;
    return udp !== null && udp.getPeer(this.layer.peerScratch) === 0;
  }

  /** A stream socket whose connection (or attempt) is over: Linux's sk_shutdown is then full. */
  get ended(): boolean {
    const tcp = this.tcp;
    return tcp !== null && tcp.state === CLOSED && this.streamState !== SS_UNCONNECTED;
  }

  /** The events among `mask` that hold now (EVENT_IN, OUT, ERR, HUP, RDHUP): tcp_poll, datagram_poll. */
  readiness(mask: number): number {
    return readiness(this, mask);
  }

  /** Registers `entry` with the endpoint's waiter queue for the events in `mask`. */
  eventRegister(entry: WaiterEntry, mask: number): number {
    if (!this.inUse) return -EBADF;
    if (this.tcp !== null) return this.tcp.eventRegister(entry, mask);
    return (this.udp as UdpEndpoint).eventRegister(entry, mask);
  }

  eventUnregister(entry: WaiterEntry): void {
    if (!this.inUse) return;
    if (this.tcp !== null) this.tcp.eventUnregister(entry);
    else (this.udp as UdpEndpoint).eventUnregister(entry);
  }

  // ================================================================ names and ioctl

  /** getsockname(2): writes the sockaddr (truncated to `capacity`); returns its full length. */
  getSockName(sa: Uint8Array | null, at: number, capacity: number): number {
    return getSockName(this, sa, at, capacity);
  }

  /** getpeername(2): the full length, or -ENOTCONN. */
  getPeerName(sa: Uint8Array | null, at: number, capacity: number): number {
    return getPeerName(this, sa, at, capacity);
  }

  // ================================================================ options

  /**
   * getsockopt(2): writes the value into `out[at ..+ capacity)` (truncated as Linux truncates)
   * and returns the length written (Linux's optlen), or -errno.
   */
  getSockOpt(level: number, name: number, out: Uint8Array, at: number, capacity: number): number {
    return getSockOpt(this, level, name, out, at, capacity);
  }

  /** setsockopt(2): 0 or -errno. */
  setSockOpt(level: number, name: number, value: Uint8Array, at: number, length: number): number {
    return setSockOpt(this, level, name, value, at, length);
  }

  /** TIOCINQ and TIOCOUTQ write an int into `arg`; the interface requests are the layer's. */
  ioctl(
    request: number,
    arg: Uint8Array,
    at: number,
    length: number,
    data: Uint8Array | null,
  ): number {
    return ioctl(this, request, arg, at, length, data);
  }

  // ================================================================ blocking calls

  /**
   * connect(2) on a blocking socket: `done` hears 0 or -errno once, later. SO_SNDTIMEO ends the
   * wait with -EINPROGRESS (the attempt goes on), `deadline` (stack ms) with -ETIMEDOUT.
   */
  connectBlocking(
    sa: Uint8Array,
    at: number,
    length: number,
    done: Completion,
    deadline: number,
  ): number {
    return connectBlocking(this, sa, at, length, done, deadline);
  }

  /** accept4(2) on a blocking socket: `done` hears the new socket's fd (see `accepted`) or -errno. */
  acceptBlocking(
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
    done: Completion,
    deadline: number,
  ): number {
    return acceptBlocking(this, flags, sa, at, capacity, done, deadline);
  }

  /** recvmsg(2) on a blocking socket: `done` hears the count or -errno; SO_RCVTIMEO gives -EAGAIN. */
  recvMsgBlocking(
    dst: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    capacity: number,
    done: Completion,
    deadline: number,
  ): number {
    return recvMsgBlocking(this, dst, offset, length, flags, sa, at, capacity, done, deadline);
  }

  /**
   * sendmsg(2) on a blocking socket: a stream socket waits until every byte is queued; `done`
   * hears the count (what was queued when a timeout came, if any) or -errno.
   */
  sendMsgBlocking(
    src: Uint8Array,
    offset: number,
    length: number,
    flags: number,
    sa: Uint8Array | null,
    at: number,
    saLength: number,
    done: Completion,
    deadline: number,
  ): number {
    return sendMsgBlocking(this, src, offset, length, flags, sa, at, saLength, done, deadline);
  }

  /** A blocked call is waiting. */
  get blocked(): boolean {
    return this.op !== OP_NONE;
  }

  /** The waiter entry's callback: events came; try the blocked call again. */
  callback(_entry: WaiterEntry, _events: number): void {
    retryBlocked(this);
  }

  /** The deadline passed (the layer's poll). */
  timedOut(): void {
    timedOut(this);
  }

  /** Ends the blocked call with `result` (the socket is closing: -EBADF). */
  complete(result: number): void {
    completeBlocked(this, result);
  }

  /** The result decided earlier (finishLater), delivered now. */
  completeDue(): void {
    completeDue(this);
  }
}
