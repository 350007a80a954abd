// recvmsg and sendmsg of one socket (SocketOperations delegates here), stream and datagram,
// with MSG_PEEK, MSG_TRUNC, MSG_MORE (corking on datagrams) as Linux treats them.

import {
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  EAGAIN,
  EBADF,
  EDESTADDRREQ,
  EINVAL,
  ENETUNREACH,
  ENOTCONN,
  EOPNOTSUPP,
  EPIPE,
} from "../errno.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import { CLOSED, LISTEN, SYN_RECEIVED, SYN_SENT } from "../transport/tcp/constants.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { EVENT_RDHUP } from "../transport/waiter.js";
import { AF_INET, AF_INET6, FullAddress } from "../wire/address.js";
import {} from "../wire/ipv4.js";
import { AF_UNSPEC, MSG_MORE, MSG_OOB, MSG_PEEK, MSG_TRUNC } from "./linux.js";
import { convertAddress, getAddress, sockaddrFamily } from "./sockaddr.js";
import type { SocketOperations } from "./socket.js";
import { ENOBUFS_LINUX, EMSGSIZE_LINUX } from "./codes.js";

/**
 * recvmsg(2) without blocking: bytes read (the datagram's full length with MSG_TRUNC), 0 at end
 * of stream, or -errno. The sender goes to `sa[at ..+ capacity)` for datagrams; messageFlags
 * and receivedAt tell the rest.
 */
export function recvMsg(
  s: SocketOperations,
  dst: Uint8Array,
  offset: number,
  length: number,
  flags: number,
  sa: Uint8Array | null,
  at: number,
  capacity: number,
): number {
  if (!s.inUse) return -EBADF;
  if (length < 0) return -EINVAL;
  s.messageFlags = 0;
  s.addressLength = 0;
  return s.tcp !== null
    ? streamRecv(s, dst, offset, length, flags)
    : datagramRecv(s, dst, offset, length, flags, sa, at, capacity);
}

export function streamRecv(
  s: SocketOperations,
  dst: Uint8Array,
  offset: number,
  length: number,
  flags: number,
): number {
  const tcp = s.tcp as TcpEndpoint;
  const state = tcp.state;
  if (state === LISTEN) return -ENOTCONN;
  if ((flags & MSG_OOB) !== 0) {
    // tcp_recv_urg: the urgent byte, with MSG_OOB in msg_flags (and MSG_TRUNC for no room).
    const r = tcp.recv(dst, offset, length, flags & (MSG_OOB | MSG_PEEK | MSG_TRUNC));
    if (r >= 0) s.messageFlags = length > 0 ? MSG_OOB : MSG_OOB | MSG_TRUNC;
    return r;
  }
  const queued = tcp.receiveQueued;
  if (queued === 0) {
    const error = s.takeError();
    if (error !== 0) return -error;
    if (s.shutRead || s.ended || tcp.readiness(EVENT_RDHUP) !== 0) return 0;
    if (state === CLOSED) return -ENOTCONN;
    return length === 0 ? 0 : -EAGAIN;
  }
  // SO_TIMESTAMP: the arrival of the last segment with data (Linux: of the last skb read).
  if (s.timestamp) s.receivedAt = tcp.lastArrival;
  if ((flags & MSG_TRUNC) !== 0) {
    // Linux counts (MSG_PEEK) or discards (without) the bytes, copying nothing.
    const n = length < queued ? length : queued;
    if ((flags & MSG_PEEK) !== 0) return n;
    const scratch = s.layer.discardScratch;
    let left = n;
    while (left > 0) {
      const ask = left < scratch.length ? left : scratch.length;
      const r = tcp.recv(scratch, 0, ask, 0);
      if (r <= 0) break;
      left -= r;
      // Short: the read stopped at the urgent mark, as Linux's does.
      if (r < ask) break;
    }
    return n - left;
  }
  return tcp.recv(dst, offset, length, flags & MSG_PEEK);
}

export function datagramRecv(
  s: SocketOperations,
  dst: Uint8Array,
  offset: number,
  length: number,
  flags: number,
  sa: Uint8Array | null,
  at: number,
  capacity: number,
): number {
  const udp = s.udp as UdpEndpoint;
  const layer = s.layer;
  const from = layer.address;
  const full = udp.recvFrom(dst, offset, length, from, (flags & MSG_PEEK) | MSG_TRUNC);
  if (full < 0) return full;
  if (full > length) s.messageFlags = MSG_TRUNC;
  // SO_TIMESTAMP: when the datagram arrived, kept with it in the queue.
  if (s.timestamp) s.receivedAt = udp.lastArrival;
  s.addressLength = convertAddress(
    s.family,
    from.address,
    from.port,
    0,
    sa,
    at,
    capacity,
    layer.sockaddrScratch,
  );
  return (flags & MSG_TRUNC) !== 0 || full < length ? full : length;
}

/**
 * sendmsg(2) without blocking: bytes queued (a stream socket may take fewer than `length`), or
 * -errno. `sa` (a destination) only for datagram sockets; MSG_MORE holds a partial TCP segment.
 */
export function sendMsg(
  s: SocketOperations,
  src: Uint8Array,
  offset: number,
  length: number,
  flags: number,
  sa: Uint8Array | null,
  at: number,
  saLength: number,
): number {
  if (!s.inUse) return -EBADF;
  if (length < 0) return -EINVAL;
  const tcp = s.tcp;
  if (tcp !== null) {
    // A stream socket ignores a destination once connected; before, Linux says EPIPE anyway.
    const state = tcp.state;
    if (state === SYN_SENT || state === SYN_RECEIVED) {
      const error = tcp.takeError();
      return error !== 0 ? -error : -EAGAIN;
    }
    if (s.shutWrite) {
      const error = tcp.takeError();
      return error !== 0 ? -error : -EPIPE;
    }
    // MSG_OOB: the last byte sent is urgent (Linux's tcp_mark_urg).
    return tcp.send(src, offset, length, flags & (MSG_MORE | MSG_OOB));
  }
  const udp = s.udp as UdpEndpoint;
  if ((flags & MSG_OOB) !== 0) return -EOPNOTSUPP;
  let to: FullAddress | null = null;
  if (sa !== null && saLength > 0) {
    to = s.layer.address;
    const r = sendDestination(s, sa, at, saLength, to);
    if (r < 0) return r;
    if (r === 1) to = null;
  }
  if (s.shutWrite) return -EPIPE;
  const layer = s.layer;
  const corking = layer.corkOwner === s;
  if (!corking && to === null && !s.udpConnected) return -EDESTADDRREQ;
  if ((flags & MSG_MORE) === 0 && !corking) return udp.sendTo(src, offset, length, to);
  return cork(s, udp, src, offset, length, flags, to);
}

/**
 * MSG_MORE on a datagram socket: the bytes wait in the layer's cork buffer, and the send
 * without it goes out as one datagram with everything held, to the first call's destination,
 * as Linux's corked UDP does.
 */
export function cork(
  s: SocketOperations,
  udp: UdpEndpoint,
  src: Uint8Array,
  offset: number,
  length: number,
  flags: number,
  to: FullAddress | null,
): number {
  const layer = s.layer;
  if (layer.corkOwner === null) {
    layer.corkOwner = s;
    layer.corkLength = 0;
    layer.corkHasDestination = to !== null;
    if (to !== null) {
      layer.corkDestination.address.copyFrom(to.address);
      layer.corkDestination.port = to.port;
    }
  } else if (layer.corkOwner !== s) return -ENOBUFS_LINUX;
  const buffer = layer.corkBuffer;
  if (layer.corkLength + length > buffer.length) {
    layer.corkOwner = null;
    return -EMSGSIZE_LINUX;
  }
  for (let i = 0; i < length; i++) buffer[layer.corkLength + i] = src[offset + i];
  layer.corkLength += length;
  if ((flags & MSG_MORE) !== 0) return length;
  layer.corkOwner = null;
  const r = udp.sendTo(
    buffer,
    0,
    layer.corkLength,
    layer.corkHasDestination ? layer.corkDestination : null,
  );
  return r < 0 ? r : length;
}

/** A sendto destination: 0, 1 for "none" (AF_UNSPEC on an AF_INET6 socket), or -errno. */
export function sendDestination(
  s: SocketOperations,
  sa: Uint8Array,
  at: number,
  length: number,
  to: FullAddress,
): number {
  if (length < 2) return -EINVAL;
  const family = sockaddrFamily(sa, at, length);
  if (s.family === AF_INET) {
    if (length < 16) return -EINVAL;
    if (family !== AF_INET && family !== AF_UNSPEC) return -EAFNOSUPPORT;
    to.port = (sa[at + 2] << 8) | sa[at + 3];
    to.address.setV4((sa[at + 4] << 24) | (sa[at + 5] << 16) | (sa[at + 6] << 8) | sa[at + 7]);
    return to.port === 0 ? -EINVAL : 0;
  }
  if (family === AF_UNSPEC) return 1;
  if (family === AF_INET) {
    if (length < 16) return -EINVAL;
    to.port = (sa[at + 2] << 8) | sa[at + 3];
    to.address.setV4((sa[at + 4] << 24) | (sa[at + 5] << 16) | (sa[at + 6] << 8) | sa[at + 7]);
    return to.port === 0 ? -EINVAL : 0;
  }
  if (family !== AF_INET6) return -EINVAL;
  const r = getAddress(AF_INET6, sa, at, length, to);
  if (r < 0) return r;
  if (to.address.family !== AF_INET) return -EADDRNOTAVAIL;
  if (s.v6only) return -ENETUNREACH;
  return to.port === 0 ? -EINVAL : 0;
}
