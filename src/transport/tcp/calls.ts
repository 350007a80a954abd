// The calls an application makes on a TCP connection through its TcpEndpoint: bind, listen,
// connect, send, recv, shutdown and close. Each returns a count or -errno and never sends by
// itself: it schedules output, which the stack's next poll runs with that poll's time.

import {
  EADDRINUSE,
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  EAGAIN,
  EALREADY,
  EINPROGRESS,
  EINVAL,
  EISCONN,
  ENETUNREACH,
  ENOTCONN,
  EPIPE,
} from "../../errno.js";
import { NO_ROUTE } from "../../iface/ipv4.js";
import { AF_INET, FullAddress, IpAddress } from "../../wire/address.js";
import { IPV4_BROADCAST, isMulticastV4 } from "../../wire/ipv4.js";
import { seqDiff, seqLt } from "../../wire/tcp.js";
import { EVENT_IN } from "../waiter.js";
import type { TcpConnection } from "./connection.js";
import {
  CLOSED,
  CLOSE_WAIT,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  LAST_ACK,
  LISTEN,
  MSG_MORE,
  MSG_OOB,
  MSG_PEEK,
  MSG_TRUNC,
  SHUT_RD,
  SHUT_RDWR,
  SHUT_WR,
  SYN_RECEIVED,
  SYN_SENT,
  TIME_WAIT,
  URG_NONE,
  URG_READ,
  URG_VALID,
} from "./constants.js";
import { stopTimers } from "./timers.js";

export function tcpBind(c: TcpConnection, address: IpAddress | null, port: number): number {
  if (c.localPort !== 0 || c.state !== CLOSED) return -EINVAL;
  if (port < 0 || port > 0xffff) return -EINVAL;
  let v4 = 0;
  if (address !== null && !address.isUnspecified) {
    if (address.family !== AF_INET) return -EAFNOSUPPORT;
    v4 = address.v4;
    const iface = c.table.iface;
    if (iface === null || v4 !== iface.address) return -EADDRNOTAVAIL;
  }
  if (port === 0) {
    port = c.table.ephemeralPort();
    if (port === 0) return -EADDRINUSE;
  } else if (c.table.bindConflict(c, v4, port)) return -EADDRINUSE;
  c.localAddress = v4;
  c.addressBound = v4 !== 0;
  c.localPort = port;
  return 0;
}

export function tcpListen(c: TcpConnection, backlog: number): number {
  if (c.state === LISTEN) {
    c.backlog = backlog > 0 ? backlog : 1;
    return 0;
  }
  if (c.state !== CLOSED || c.wasConnected) return -EINVAL;
  if (c.localPort === 0) {
    const r = tcpBind(c, null, 0);
    if (r < 0) return r;
  }
  c.backlog = backlog > 0 ? backlog : 1;
  c.state = LISTEN;
  return 0;
}

export function tcpConnect(c: TcpConnection, to: FullAddress): number {
  if (c.state === SYN_SENT || c.state === SYN_RECEIVED) return -EALREADY;
  if (c.state !== CLOSED) return c.state === LISTEN ? -EINVAL : -EISCONN;
  if (c.wasConnected) return -EISCONN;
  if (to.address.family !== AF_INET) return -EAFNOSUPPORT;
  const table = c.table;
  const iface = table.iface;
  if (iface === null) return -ENETUNREACH;
  const destination = iface.ip.destinationOf(to.address.v4);
  if (to.port === 0 || destination === IPV4_BROADCAST || isMulticastV4(destination))
    return -ENETUNREACH;
  if (iface.route(destination) === NO_ROUTE) return -ENETUNREACH;
  if (c.localAddress === 0) c.localAddress = iface.address;
  c.remoteAddress = destination;
  c.remotePort = to.port;
  if (c.localPort === 0) {
    const port = table.connectPort(c.localAddress, destination, to.port);
    if (port === 0) {
      c.remoteAddress = 0;
      c.remotePort = 0;
      return -EADDRNOTAVAIL;
    }
    c.localPort = port;
  } else if (table.tupleInUse(c, c.localAddress, c.localPort, destination, to.port)) {
    c.remoteAddress = 0;
    c.remotePort = 0;
    return -EADDRNOTAVAIL;
  }
  c.initSend(table.isn(c.localAddress, c.localPort, destination, to.port, iface.now));
  c.state = SYN_SENT;
  table.stats.activeOpens++;
  c.schedule();
  return -EINPROGRESS;
}

/**
 * Queues up to `length` bytes from `src[offset]`; returns the count queued, -EAGAIN when the
 * ring is full (EVENT_OUT follows), -EPIPE once the sending side is shut.
 */
export function tcpSend(
  c: TcpConnection,
  src: Uint8Array,
  offset: number,
  length: number,
  flags: number,
): number {
  if (c.error !== 0) return -c.takeError();
  const state = c.state;
  if (state === SYN_SENT || state === SYN_RECEIVED) {
    c.wantsWrite = true;
    return -EAGAIN;
  }
  if ((state !== ESTABLISHED && state !== CLOSE_WAIT) || c.finQueued) return -EPIPE;
  if (length < 0) return -EINVAL;
  const ring = c.sendRing;
  const n = ring.write(src, offset, length);
  c.corked = (flags & MSG_MORE) !== 0;
  if (n < length) c.wantsWrite = true;
  if (n === 0) return length === 0 ? 0 : -EAGAIN;
  if ((flags & MSG_OOB) !== 0) {
    // Linux's tcp_mark_urg: the last byte queued is urgent; the pointer names the byte after it.
    c.sndUp = (c.dataStart + ring.readable) | 0;
    c.urgentMode = true;
  }
  c.schedule();
  return n;
}

/**
 * Copies up to `capacity` received bytes into `dst[offset]`; 0 at end of stream, -EAGAIN when
 * nothing waits, -ENOTCONN when never connected.
 */
export function tcpRecv(
  c: TcpConnection,
  dst: Uint8Array,
  offset: number,
  capacity: number,
  flags: number,
): number {
  if ((flags & MSG_OOB) !== 0) return recvUrgent(c, dst, offset, capacity, flags);
  const ring = c.recvRing;
  let readable = ring.readable;
  if (readable === 0) {
    if (c.error !== 0) return -c.takeError();
    if (c.state === LISTEN || (c.state === CLOSED && !c.wasConnected)) return -ENOTCONN;
    if (c.finReceived || c.readShut || c.state === CLOSED) return 0;
    if (c.state === SYN_SENT || c.state === SYN_RECEIVED) return -EAGAIN;
    return -EAGAIN;
  }
  if (capacity <= 0) return 0;
  // The urgent mark (Linux's tcp_recvmsg): a read stops before it; one that starts there reads the
  // urgent byte with SO_OOBINLINE, and otherwise steps over it, taking it out of the stream.
  let skip = 0;
  if (c.urgState !== URG_NONE) {
    const mark = seqDiff(c.urgSeq, c.copiedSeq);
    if (mark > 0 && mark < readable) {
      if (capacity > mark) capacity = mark;
    } else if (mark === 0 && !c.oobInline) {
      skip = 1;
      readable--;
      if (readable === 0) {
        if ((flags & MSG_PEEK) === 0) passUrgent(c);
        if (c.finReceived || c.readShut || c.state === CLOSED) return 0;
        return -EAGAIN;
      }
    }
  }
  let n: number;
  if ((flags & MSG_PEEK) !== 0) return ring.peek(dst, offset, capacity, skip);
  if (skip > 0) passUrgent(c);
  n = ring.read(dst, offset, capacity);
  // Read past the urgent byte (in line): it is no longer urgent.
  if (c.urgState !== URG_NONE && seqLt(c.urgSeq, c.copiedSeq)) c.urgState = URG_NONE;
  windowOpened(c);
  return n;
}

/** The window opened: tell the peer when it grew enough to matter (RFC 1122 §4.2.3.3). */
function windowOpened(c: TcpConnection): void {
  if (c.synchronized && c.state !== TIME_WAIT && !c.finReceived) {
    const ring = c.recvRing;
    const free = ring.capacity - ring.readable;
    const advertised = seqDiff(c.rcvAdv, c.rcvNxt);
    const threshold = ring.capacity >>> 1 < c.mss ? ring.capacity >>> 1 : c.mss;
    if (free - advertised >= threshold && advertised < threshold * 2) {
      c.ackNow = true;
      c.schedule();
    }
  }
}

/** Steps the read point over the urgent byte at it, which stops being urgent. */
function passUrgent(c: TcpConnection): void {
  c.recvRing.discard(1);
  c.urgState = URG_NONE;
  windowOpened(c);
}

/**
 * recv(MSG_OOB), Linux's tcp_recv_urg: the urgent byte, once (MSG_PEEK leaves it), never with
 * SO_OOBINLINE; -EINVAL when there is none or it was read, -EAGAIN while it is still to come (a
 * call that never waits, whatever the socket), 0 when no more can come. A capacity of 0 reads it
 * without copying, as MSG_TRUNC does.
 */
export function recvUrgent(
  c: TcpConnection,
  dst: Uint8Array,
  offset: number,
  capacity: number,
  flags: number,
): number {
  const state = c.urgState;
  if (c.oobInline || state === URG_NONE || state === URG_READ) return -EINVAL;
  if (state === URG_VALID) {
    const byte = c.recvRing.peekByte(seqDiff(c.urgSeq, c.copiedSeq));
    if ((flags & MSG_PEEK) === 0) c.urgState = URG_READ;
    if (capacity <= 0) return 0;
    if ((flags & MSG_TRUNC) === 0) dst[offset] = byte;
    return 1;
  }
  if (c.state === CLOSED || c.finReceived || c.readShut) return 0;
  return -EAGAIN;
}

/**
 * SIOCINQ (Linux's tcp_inq): the bytes to read, or only those before the urgent mark while an
 * urgent byte out of line waits there; none while the handshake is under way.
 */
export function bytesToRead(c: TcpConnection): number {
  if (c.state === SYN_SENT || c.state === SYN_RECEIVED) return 0;
  const readable = c.recvRing.readable;
  if (c.oobInline || c.urgState === URG_NONE) return readable;
  const mark = seqDiff(c.urgSeq, c.copiedSeq);
  return mark >= 0 && mark < readable ? mark : readable;
}

/** Whether the read point is at the urgent mark (SIOCATMARK). */
export function atUrgentMark(c: TcpConnection): boolean {
  return c.urgState !== URG_NONE && c.urgSeq === c.copiedSeq;
}

export function tcpShutdown(c: TcpConnection, how: number): number {
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -EINVAL;
  const state = c.state;
  if (state === CLOSED || state === LISTEN || state === SYN_SENT) {
    if (state === SYN_SENT) {
      c.state = CLOSED;
      stopTimers(c);
      return 0;
    }
    return -ENOTCONN;
  }
  if (how !== SHUT_WR) {
    c.readShut = true;
    c.table.ready.raise(c, EVENT_IN);
  }
  if (how !== SHUT_RD) closeSending(c);
  return 0;
}

/** Queues our FIN: ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK. */
export function closeSending(c: TcpConnection): void {
  if (c.finQueued) return;
  const state = c.state;
  if (state === ESTABLISHED || state === SYN_RECEIVED) c.state = FIN_WAIT_1;
  else if (state === CLOSE_WAIT) c.state = LAST_ACK;
  else return;
  c.finQueued = true;
  c.corked = false;
  c.schedule();
}

/**
 * The application lets go. Returns true when the slot may be freed now; otherwise the
 * connection lives on as an orphan until it ends.
 */
export function tcpClose(c: TcpConnection): boolean {
  const state = c.state;
  const table = c.table;
  if (state === LISTEN) {
    table.dropChildren(c);
    return true;
  }
  if (state === CLOSED || state === SYN_SENT || state === TIME_WAIT) return true;
  // Linux: unread data or SO_LINGER 0 abort the connection with a reset.
  if (c.lingerZero || c.recvRing.readable > 0) {
    c.abort(0, true);
    return true;
  }
  c.orphan = true;
  // Nobody will read again: new data from the peer now resets the connection (Linux's
  // TCPAbortOnData), rather than filling a ring no one drains.
  c.readShut = true;
  closeSending(c);
  if (c.state === FIN_WAIT_2) c.finWait2At = table.now + 2 * table.msl;
  return false;
}
