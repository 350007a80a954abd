// connect, bind, listen, accept and shutdown of one socket (SocketOperations delegates here): the
// sock->state bookkeeping Linux keeps above TCP, and the errnos its inet layer gives.

import {
  EADDRNOTAVAIL,
  EAFNOSUPPORT,
  EALREADY,
  EBADF,
  ECONNABORTED,
  ECONNRESET,
  EINPROGRESS,
  EINVAL,
  EISCONN,
  EMFILE,
  ENETUNREACH,
  ENOTCONN,
  EOPNOTSUPP,
} from "../errno.js";
import type { TcpEndpoint } from "../transport/tcp/endpoint.js";
import { CLOSED, LISTEN, SYN_RECEIVED, SYN_SENT } from "../transport/tcp/constants.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { BIND_V4, BIND_V6_ANY, BIND_V6_ONLY } from "../transport/endpoint-table.js";
import { AF_INET, AF_INET6, FullAddress } from "../wire/address.js";
import {} from "../wire/ipv4.js";
import { AF_UNSPEC, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_CLOEXEC, SOCK_NONBLOCK } from "./linux.js";
import { convertAddress, getAddress, isUnspecified6, sockaddrFamily } from "./sockaddr.js";
import type { SocketOperations } from "./socket.js";
import { applyKeepalive } from "./options.js";
import { SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED } from "./codes.js";

/**
 * connect(2) as a non-blocking call (a blocking socket uses connectBlocking): 0, -EINPROGRESS,
 * or -errno.
 */
export function connect(s: SocketOperations, sa: Uint8Array, at: number, length: number): number {
  if (!s.inUse) return -EBADF;
  if (s.tcp !== null) return streamConnect(s, sa, at, length, true);
  return datagramConnect(s, sa, at, length);
}

export function datagramConnect(
  s: SocketOperations,
  sa: Uint8Array,
  at: number,
  length: number,
): number {
  const udp = s.udp as UdpEndpoint;
  const family = sockaddrFamily(sa, at, length);
  if (family < 0) return -EINVAL;
  if (family === AF_UNSPEC) {
    udp.disconnect();
    return 0;
  }
  const to = s.layer.address;
  const r = destination(s, sa, at, length, to);
  if (r < 0) return r;
  return udp.connect(to);
}

/**
 * A destination sockaddr for connect: IPv4 (v4-mapped for an AF_INET6 socket). 0, or -errno as
 * Linux's tcp_v4_connect / tcp_v6_connect and their datagram twins give.
 */
export function destination(
  s: SocketOperations,
  sa: Uint8Array,
  at: number,
  length: number,
  to: FullAddress,
): number {
  const r = getAddress(s.family, sa, at, length, to);
  if (r < 0) return r;
  if (s.family === AF_INET6 && to.address.family !== AF_INET) {
    // An IPv6 peer: the stack has no IPv6 address to send from yet, as Linux answers for an
    // interface with IPv6 disabled.
    return -EADDRNOTAVAIL;
  }
  if (s.family === AF_INET6 && s.v6only) return -ENETUNREACH;
  return 0;
}

export function streamConnect(
  s: SocketOperations,
  sa: Uint8Array,
  at: number,
  length: number,
  nonblocking: boolean,
): number {
  const tcp = s.tcp as TcpEndpoint;
  const family = sockaddrFamily(sa, at, length);
  if (family < 0) return -EINVAL;
  if (family === AF_UNSPEC) {
    return disconnect(s, tcp);
  }
  const state = tcp.state;
  if (s.streamState === SS_CONNECTED) return -EISCONN;
  if (s.streamState === SS_CONNECTING) {
    if (state === SYN_SENT || state === SYN_RECEIVED) return nonblocking ? -EALREADY : -EINPROGRESS;
    if (state === CLOSED) {
      // Refused, reset or timed out: the error once, else ECONNABORTED, and a fresh start.
      const error = tcp.takeError();
      s.streamState = SS_UNCONNECTED;
      s.shutRead = false;
      s.shutWrite = false;
      return error !== 0 ? -error : -ECONNABORTED;
    }
    s.streamState = SS_CONNECTED;
    return 0;
  }
  if (state !== CLOSED) return -EISCONN;
  const to = s.layer.address;
  const r = destination(s, sa, at, length, to);
  if (r < 0) return r;
  const result = tcp.connect(to);
  if (result === -EINPROGRESS) s.streamState = SS_CONNECTING;
  return result;
}

/**
 * connect(AF_UNSPEC) on a stream socket, as Linux's tcp_disconnect: a listener stops, a
 * connection is reset (the peer hears RST, SO_ERROR says ECONNRESET), and the socket may bind,
 * listen or connect again. Its options go on to the fresh endpoint.
 */
export function disconnect(s: SocketOperations, tcp: TcpEndpoint): number {
  const state = tcp.state;
  s.streamState = SS_UNCONNECTED;
  s.shutRead = false;
  s.shutWrite = false;
  if (state === CLOSED) return 0;
  const fresh = s.layer.stack.openTcp();
  if (typeof fresh === "number") return fresh;
  fresh.reuseAddress = tcp.reuseAddress;
  fresh.noDelay = tcp.noDelay;
  fresh.lingerZero = s.lingerOn && s.lingerSeconds === 0;
  if (state !== LISTEN) s.socketError = ECONNRESET;
  tcp.eventUnregister(s.entry);
  tcp.lingerZero = true;
  tcp.close();
  s.tcp = fresh;
  s.applyStreamOptions();
  if (s.keepalive) applyKeepalive(s, true);
  return 0;
}

export function bind(s: SocketOperations, sa: Uint8Array, at: number, length: number): number {
  if (!s.inUse) return -EBADF;
  const local = s.layer.address;
  let r: number;
  if (s.family === AF_INET) {
    // Linux's inet_bind takes AF_UNSPEC with INADDR_ANY as AF_INET, for old programs.
    if (length >= 16 && sockaddrFamily(sa, at, length) === AF_UNSPEC) {
      if ((sa[at + 4] | sa[at + 5] | sa[at + 6] | sa[at + 7]) !== 0) return -EAFNOSUPPORT;
      local.port = (sa[at + 2] << 8) | sa[at + 3];
      local.address.setV4(0);
      r = 0;
    } else r = getAddress(AF_INET, sa, at, length, local);
  } else {
    if (length >= 2 && sockaddrFamily(sa, at, length) !== AF_INET6) return -EAFNOSUPPORT;
    r = getAddress(AF_INET6, sa, at, length, local);
  }
  if (r < 0) return r;
  const address = local.address;
  let binding = BIND_V4;
  if (s.family === AF_INET6) {
    if (address.family === AF_INET) {
      if (s.v6only) return -EINVAL;
    } else if (isUnspecified6(address)) {
      // `::` is IPv4's wildcard too, unless IPV6_V6ONLY keeps IPv4 out.
      address.setV4(0);
      binding = s.v6only ? BIND_V6_ONLY : BIND_V6_ANY;
    }
    // No IPv6 address is ours until the IPv6 data path.
    else return -EADDRNOTAVAIL;
  }
  const tcp = s.tcp;
  if (tcp !== null) {
    tcp.v6Binding = binding;
    return tcp.bind(address, local.port);
  }
  const udp = s.udp as UdpEndpoint;
  udp.v6Binding = binding;
  return udp.bind(address, local.port);
}

export function listen(s: SocketOperations, backlog: number): number {
  if (!s.inUse) return -EBADF;
  const tcp = s.tcp;
  if (tcp === null) return -EOPNOTSUPP;
  if (s.streamState !== SS_UNCONNECTED) return -EINVAL;
  // An unbound AF_INET6 socket listens on `::`, as Linux's autobind gives it.
  if (s.family === AF_INET6) tcp.v6Binding = s.v6only ? BIND_V6_ONLY : BIND_V6_ANY;
  return tcp.listen(backlog);
}

/**
 * accept4(2) without blocking: the new socket, or -errno (-EAGAIN when none waits). Its peer is
 * written to `sa[at ..+ capacity)` (addressLength tells the full length). `flags` takes
 * SOCK_NONBLOCK and SOCK_CLOEXEC.
 */
export function accept(
  s: SocketOperations,
  flags: number,
  sa: Uint8Array | null,
  at: number,
  capacity: number,
): SocketOperations | number {
  if (!s.inUse) return -EBADF;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -EINVAL;
  const tcp = s.tcp;
  if (tcp === null) return -EOPNOTSUPP;
  if (tcp.state !== LISTEN) return -EINVAL;
  const layer = s.layer;
  const socket = layer.freeSocket();
  if (socket === null) return -EMFILE;
  const from = layer.address;
  const child = tcp.accept(from);
  if (typeof child === "number") return child;
  socket.openAccepted(s.family, child, (flags & SOCK_NONBLOCK) !== 0, s);
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
  return socket;
}

export function shutdown(s: SocketOperations, how: number): number {
  if (!s.inUse) return -EBADF;
  if (how !== SHUT_RD && how !== SHUT_WR && how !== SHUT_RDWR) return -EINVAL;
  const read = how !== SHUT_WR;
  const write = how !== SHUT_RD;
  const tcp = s.tcp;
  let result = 0;
  if (tcp !== null) {
    const state = tcp.state;
    if (state === LISTEN) {
      // Linux stops listening on SHUT_RD; the socket may bind and listen again.
      if (read) s.layer.renewStream(s);
      return 0;
    }
    if (state === CLOSED) result = -ENOTCONN;
    else if (state === SYN_SENT) tcp.shutdown(how);
    else if (write) tcp.shutdown(SHUT_WR);
  } else if (!s.udpConnected) result = -ENOTCONN;
  // As inet_shutdown, the flags are set even when the socket was not connected.
  if (read) s.shutRead = true;
  if (write) s.shutWrite = true;
  s.layer.raise(s);
  return result;
}
