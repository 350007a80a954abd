// getsockopt, setsockopt and the socket ioctls of one socket (SocketOperations delegates here),
// reading and writing the caller's bytes in Linux's layouts.

import {
  EADDRINUSE,
  EADDRNOTAVAIL,
  EBADF,
  EINVAL,
  ENODEV,
  ENOPROTOOPT,
  EOPNOTSUPP,
  EPROTO,
} from "../errno.js";
import { LISTEN } from "../transport/tcp/constants.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import { AF_INET, AF_INET6 } from "../wire/address.js";
import { isMulticastV4 } from "../wire/ipv4.js";
import {
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_TOS,
  IP_TTL,
  IPV6_V6ONLY,
  SO_ACCEPTCONN,
  SO_BROADCAST,
  SO_DOMAIN,
  SO_ERROR,
  SO_KEEPALIVE,
  SO_LINGER,
  SO_OOBINLINE,
  SO_PROTOCOL,
  SO_RCVBUF,
  SO_RCVTIMEO,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_SNDTIMEO,
  SO_TIMESTAMP,
  SO_TYPE,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
  SOL_TCP,
  TCP_INFO,
  TCP_INFO_SIZE,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_MAXSEG,
  TCP_NODELAY,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "./linux.js";
import type { SocketOperations } from "./socket.js";
import { layoutTcpInfo } from "./tcp-info.js";
import {
  MAX_TCP_KEEPIDLE,
  MAX_TCP_KEEPINTVL,
  MAX_TCP_KEEPCNT,
  readInt,
  writeInt,
  readLong,
  writeLong,
  EDOM_LINUX,
  ENOBUFS_LINUX,
  MAX_MEMBERSHIPS,
} from "./codes.js";

/**
 * getsockopt(2): writes the value into `out[at ..+ capacity)` (truncated as Linux truncates)
 * and returns the length written (Linux's optlen), or -errno.
 */
export function getSockOpt(
  s: SocketOperations,
  level: number,
  name: number,
  out: Uint8Array,
  at: number,
  capacity: number,
): number {
  if (!s.inUse) return -EBADF;
  if (capacity < 0) return -EINVAL;
  const tcp = s.tcp;
  const udp = s.udp;
  if (level === SOL_SOCKET) {
    switch (name) {
      case SO_TYPE:
        return putInt(s, out, at, capacity, s.type);
      case SO_DOMAIN:
        return putInt(s, out, at, capacity, s.family);
      case SO_PROTOCOL:
        return putInt(s, out, at, capacity, tcp !== null ? IPPROTO_TCP : IPPROTO_UDP);
      case SO_ERROR:
        return putInt(s, out, at, capacity, s.takeError());
      case SO_REUSEADDR:
        return putInt(
          s,
          out,
          at,
          capacity,
          (tcp !== null ? tcp.reuseAddress : (udp as UdpEndpoint).reuseAddress) ? 1 : 0,
        );
      case SO_KEEPALIVE:
        return putInt(s, out, at, capacity, s.keepalive ? 1 : 0);
      case SO_BROADCAST:
        return putInt(s, out, at, capacity, udp !== null && udp.broadcast ? 1 : 0);
      case SO_ACCEPTCONN:
        return putInt(s, out, at, capacity, tcp !== null && tcp.state === LISTEN ? 1 : 0);
      case SO_TIMESTAMP:
        return putInt(s, out, at, capacity, s.timestamp ? 1 : 0);
      case SO_OOBINLINE:
        return putInt(s, out, at, capacity, s.oobInline ? 1 : 0);
      case SO_SNDBUF:
        return putInt(s, out, at, capacity, sendBufferSize(s));
      case SO_RCVBUF:
        return putInt(s, out, at, capacity, receiveBufferSize(s));
      case SO_LINGER: {
        const scratch = s.layer.optionScratch;
        writeInt(scratch, 0, s.lingerOn ? 1 : 0);
        writeInt(scratch, 4, s.lingerSeconds);
        return putBytes(s, out, at, capacity, 8);
      }
      case SO_RCVTIMEO:
      case SO_SNDTIMEO: {
        const us = name === SO_RCVTIMEO ? s.receiveTimeout : s.sendTimeout;
        const scratch = s.layer.optionScratch;
        writeLong(scratch, 0, Math.floor(us / 1000000));
        writeLong(scratch, 8, us % 1000000);
        return putBytes(s, out, at, capacity, 16);
      }
      default:
        return -ENOPROTOOPT;
    }
  }
  if (level === SOL_TCP) {
    // What Linux's UDP answers for SOL_TCP: the v4 and v6 paths differ.
    if (tcp === null) return s.family === AF_INET ? -EOPNOTSUPP : -ENOPROTOOPT;
    switch (name) {
      case TCP_NODELAY:
        return putTcpInt(s, out, at, capacity, tcp.noDelay ? 1 : 0);
      case TCP_KEEPIDLE:
        return putTcpInt(s, out, at, capacity, s.keepIdle);
      case TCP_KEEPINTVL:
        return putTcpInt(s, out, at, capacity, s.keepInterval);
      case TCP_KEEPCNT:
        return putTcpInt(s, out, at, capacity, s.keepCount);
      case TCP_MAXSEG:
        return putTcpInt(s, out, at, capacity, tcp.sendMss > 0 ? tcp.sendMss : 536);
      case TCP_INFO:
        layoutTcpInfo(s);
        return putBytes(s, out, at, capacity, TCP_INFO_SIZE);
      default:
        return -ENOPROTOOPT;
    }
  }
  if (level === SOL_IP) {
    switch (name) {
      case IP_TTL:
        return putIpInt(
          s,
          out,
          at,
          capacity,
          udp !== null && udp.ttl >= 0 ? udp.ttl : s.layer.defaultTtl,
        );
      case IP_TOS:
        return putIpInt(s, out, at, capacity, udp !== null ? udp.tos : 0);
      case IP_MULTICAST_TTL:
        return putIpInt(s, out, at, capacity, s.multicastTtl);
      case IP_MULTICAST_LOOP:
        return putIpInt(s, out, at, capacity, s.multicastLoop ? 1 : 0);
      default:
        return -ENOPROTOOPT;
    }
  }
  if (level === SOL_IPV6) {
    if (s.family !== AF_INET6) return -EOPNOTSUPP;
    if (name === IPV6_V6ONLY) {
      return putInt(s, out, at, capacity, s.v6only ? 1 : 0);
    }
    return -ENOPROTOOPT;
  }
  return tcp !== null ? -EOPNOTSUPP : -ENOPROTOOPT;
}

/** SOL_SOCKET ints: Linux copies min(optlen, 4) bytes. */
export function putInt(
  s: SocketOperations,
  out: Uint8Array,
  at: number,
  capacity: number,
  value: number,
): number {
  writeInt(s.layer.optionScratch, 0, value);
  return putBytes(s, out, at, capacity, 4);
}

/** SOL_TCP ints: as SOL_SOCKET's. */
export function putTcpInt(
  s: SocketOperations,
  out: Uint8Array,
  at: number,
  capacity: number,
  value: number,
): number {
  return putInt(s, out, at, capacity, value);
}

/** SOL_IP ints: a short optlen gets one byte when the value fits one, as do_ip_getsockopt does. */
export function putIpInt(
  s: SocketOperations,
  out: Uint8Array,
  at: number,
  capacity: number,
  value: number,
): number {
  if (capacity < 4 && capacity > 0 && value >= 0 && value <= 255) {
    out[at] = value;
    return 1;
  }
  return putInt(s, out, at, capacity, value);
}

export function putBytes(
  s: SocketOperations,
  out: Uint8Array,
  at: number,
  capacity: number,
  length: number,
): number {
  const n = capacity < length ? capacity : length;
  const scratch = s.layer.optionScratch;
  for (let i = 0; i < n; i++) out[at + i] = scratch[i];
  return n;
}

export function sendBufferSize(s: SocketOperations): number {
  if (s.tcp !== null)
    return s.streamSendBuffer !== 0 ? s.streamSendBuffer : s.layer.tcpSendBufferDefault;
  return (s.udp as UdpEndpoint).sendBuffer;
}

export function receiveBufferSize(s: SocketOperations): number {
  if (s.tcp !== null)
    return s.streamReceiveBuffer !== 0 ? s.streamReceiveBuffer : s.layer.tcpReceiveBufferDefault;
  return (s.udp as UdpEndpoint).receiveBuffer;
}

/** setsockopt(2): 0 or -errno. */
export function setSockOpt(
  s: SocketOperations,
  level: number,
  name: number,
  value: Uint8Array,
  at: number,
  length: number,
): number {
  if (!s.inUse) return -EBADF;
  if (length < 0) return -EINVAL;
  const tcp = s.tcp;
  const udp = s.udp;
  if (level === SOL_SOCKET) {
    if (name === SO_LINGER) {
      if (length < 8) return -EINVAL;
      s.lingerOn = readInt(value, at) !== 0;
      s.lingerSeconds = readInt(value, at + 4);
      if (tcp !== null) tcp.lingerZero = s.lingerOn && s.lingerSeconds === 0;
      return 0;
    }
    if (name === SO_RCVTIMEO || name === SO_SNDTIMEO) {
      if (length < 16) return -EINVAL;
      const seconds = readLong(value, at);
      const us = readLong(value, at + 8);
      if (us < 0 || us >= 1000000) return -EDOM_LINUX;
      const total = seconds < 0 ? 0 : seconds * 1000000 + us;
      if (name === SO_RCVTIMEO) s.receiveTimeout = total;
      else s.sendTimeout = total;
      return 0;
    }
    if (length < 4) return -EINVAL;
    const v = readInt(value, at);
    switch (name) {
      case SO_REUSEADDR:
        if (tcp !== null) tcp.reuseAddress = v !== 0;
        else (udp as UdpEndpoint).reuseAddress = v !== 0;
        return 0;
      case SO_KEEPALIVE:
        if (tcp !== null) applyKeepalive(s, v !== 0);
        s.keepalive = v !== 0;
        return 0;
      case SO_BROADCAST:
        if (udp !== null) udp.broadcast = v !== 0;
        return 0;
      case SO_TIMESTAMP:
        s.timestamp = v !== 0;
        return 0;
      case SO_OOBINLINE:
        s.oobInline = v !== 0;
        if (tcp !== null) tcp.oobInline = v !== 0;
        return 0;
      case SO_SNDBUF:
        if (tcp !== null) {
          s.streamSendBuffer = s.layer.clampBuffer(v, s.layer.stack.config.sendBufferMax, true);
          // The ring holds what Linux lets a socket queue: half the doubled value.
          tcp.setSendBuffer(s.streamSendBuffer >>> 1);
        } else (udp as UdpEndpoint).setSendBuffer(v);
        return 0;
      case SO_RCVBUF:
        if (tcp !== null) {
          s.streamReceiveBuffer = s.layer.clampBuffer(
            v,
            s.layer.stack.config.receiveBufferMax,
            false,
          );
          // The window Linux offers is about half of sk_rcvbuf: the ring is that half.
          tcp.setReceiveBuffer(s.streamReceiveBuffer >>> 1);
        } else (udp as UdpEndpoint).setReceiveBuffer(v);
        return 0;
      case SO_TYPE:
      case SO_ERROR:
      case SO_DOMAIN:
      case SO_PROTOCOL:
      case SO_ACCEPTCONN:
        return -ENOPROTOOPT;
      default:
        return -ENOPROTOOPT;
    }
  }
  if (level === SOL_TCP) {
    if (tcp === null) return -ENOPROTOOPT;
    if (length < 4) return -EINVAL;
    const v = readInt(value, at);
    switch (name) {
      case TCP_NODELAY:
        tcp.noDelay = v !== 0;
        return 0;
      case TCP_KEEPIDLE:
        if (v < 1 || v > MAX_TCP_KEEPIDLE) return -EINVAL;
        s.keepIdle = v;
        if (s.keepalive) applyKeepalive(s, true);
        return 0;
      case TCP_KEEPINTVL:
        if (v < 1 || v > MAX_TCP_KEEPINTVL) return -EINVAL;
        s.keepInterval = v;
        if (s.keepalive) applyKeepalive(s, true);
        return 0;
      case TCP_KEEPCNT:
        if (v < 1 || v > MAX_TCP_KEEPCNT) return -EINVAL;
        s.keepCount = v;
        if (s.keepalive) applyKeepalive(s, true);
        return 0;
      case TCP_INFO:
        return -ENOPROTOOPT;
      default:
        return -ENOPROTOOPT;
    }
  }
  if (level === SOL_IP) {
    if (name === IP_ADD_MEMBERSHIP || name === IP_DROP_MEMBERSHIP) {
      if (tcp !== null) return -EPROTO;
      if (length < 8) return -EINVAL;
      const group =
        (value[at] << 24) | (value[at + 1] << 16) | (value[at + 2] << 8) | value[at + 3];
      const local =
        (value[at + 4] << 24) | (value[at + 5] << 16) | (value[at + 6] << 8) | value[at + 7];
      if (name === IP_ADD_MEMBERSHIP && !isMulticastV4(group)) return -EINVAL;
      // ip_mc_find_dev: the interface by its address, or the one the group routes through.
      const found = s.layer.multicastInterface(group, local);
      if (name === IP_ADD_MEMBERSHIP) return found ? joinGroup(s, group) : -ENODEV;
      if (!found && local === 0) return -ENODEV;
      return dropGroup(s, group);
    }
    // Linux takes an int, or a single byte for these.
    if (length < 1) return -EINVAL;
    const v = length >= 4 ? readInt(value, at) : value[at];
    switch (name) {
      case IP_TTL:
        if (v !== -1 && (v < 1 || v > 255)) return -EINVAL;
        if (udp !== null) udp.ttl = v;
        return 0;
      case IP_TOS:
        if (udp !== null) udp.tos = v & 0xfc;
        return 0;
      case IP_MULTICAST_TTL:
        if (v === -1) s.multicastTtl = 1;
        else if (v < 0 || v > 255) return -EINVAL;
        else s.multicastTtl = v;
        return 0;
      case IP_MULTICAST_LOOP:
        s.multicastLoop = v !== 0;
        return 0;
      default:
        return -ENOPROTOOPT;
    }
  }
  if (level === SOL_IPV6) {
    if (s.family !== AF_INET6) return tcp !== null ? -EOPNOTSUPP : -ENOPROTOOPT;
    if (name === IPV6_V6ONLY) {
      if (length < 4) return -EINVAL;
      // Fixed once bound, as Linux's inet_num check.
      const local = s.layer.address;
      if (tcp !== null) tcp.getLocal(local);
      else (udp as UdpEndpoint).getLocal(local);
      if (local.port !== 0) return -EINVAL;
      s.v6only = readInt(value, at) !== 0;
      return 0;
    }
    return -ENOPROTOOPT;
  }
  return tcp !== null ? -EOPNOTSUPP : -ENOPROTOOPT;
}

export function applyKeepalive(s: SocketOperations, on: boolean): void {
  const tcp = s.tcp;
  if (tcp === null) return;
  tcp.setKeepalive(on, s.keepIdle * 1000, s.keepInterval * 1000, s.keepCount);
}

export function joinGroup(s: SocketOperations, group: number): number {
  if (!isMulticastV4(group)) return -EINVAL;
  for (let i = 0; i < s.groupCount; i++) if (s.groups[i] === group) return -EADDRINUSE;
  if (s.groupCount === MAX_MEMBERSHIPS) return -ENOBUFS_LINUX;
  if (!s.layer.joinGroup(group)) return -ENOBUFS_LINUX;
  s.groups[s.groupCount++] = group;
  return 0;
}

export function dropGroup(s: SocketOperations, group: number): number {
  for (let i = 0; i < s.groupCount; i++) {
    if (s.groups[i] !== group) continue;
    s.groups[i] = s.groups[--s.groupCount];
    s.layer.leaveGroup(group);
    return 0;
  }
  return -EADDRNOTAVAIL;
}
