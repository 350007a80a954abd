// getsockname, getpeername and ioctl of one socket (SocketOperations delegates here): what a
// socket tells about itself, written into the caller's bytes in Linux's layouts.

import { EBADF, EINVAL, ENOTCONN } from "../errno.js";
import type {} from "../transport/tcp/endpoint.js";
import { CLOSED, LISTEN, SYN_SENT } from "../transport/tcp/constants.js";
import type { UdpEndpoint } from "../transport/udp-endpoint.js";
import {} from "../wire/ipv4.js";
import { MSG_PEEK, MSG_TRUNC, SIOCATMARK, TIOCINQ, TIOCOUTQ } from "./linux.js";
import { convertAddress } from "./sockaddr.js";
import type {} from "./layer.js";
import type { SocketOperations } from "./socket.js";
import { EFAULT_LINUX, writeInt } from "./codes.js";

/** getsockname(2): writes the sockaddr (truncated to `capacity`); returns its full length. */
export function getSockName(
  s: SocketOperations,
  sa: Uint8Array | null,
  at: number,
  capacity: number,
): number {
  if (!s.inUse) return -EBADF;
  const local = s.layer.address;
  if (s.tcp !== null) s.tcp.getLocal(local);
  else (s.udp as UdpEndpoint).getLocal(local);
  return (s.addressLength = convertAddress(
    s.family,
    local.address,
    local.port,
    0,
    sa,
    at,
    capacity,
    s.layer.sockaddrScratch,
  ));
}

/** getpeername(2): the full length, or -ENOTCONN. */
export function getPeerName(
  s: SocketOperations,
  sa: Uint8Array | null,
  at: number,
  capacity: number,
): number {
  if (!s.inUse) return -EBADF;
  const peer = s.layer.address;
  const tcp = s.tcp;
  if (tcp !== null) {
    const state = tcp.state;
    if (state === CLOSED || state === SYN_SENT) return -ENOTCONN;
    const r = tcp.getPeer(peer);
    if (r < 0) return r;
  } else {
    const r = (s.udp as UdpEndpoint).getPeer(peer);
    if (r < 0) return r;
  }
  return (s.addressLength = convertAddress(
    s.family,
    peer.address,
    peer.port,
    0,
    sa,
    at,
    capacity,
    s.layer.sockaddrScratch,
  ));
}

/** TIOCINQ, TIOCOUTQ and SIOCATMARK write an int into `arg`; the interface requests are the layer's. */
export function ioctl(
  s: SocketOperations,
  request: number,
  arg: Uint8Array,
  at: number,
  length: number,
  data: Uint8Array | null,
): number {
  if (!s.inUse) return -EBADF;
  if (request === TIOCINQ || request === TIOCOUTQ) {
    if (length < 4) return -EFAULT_LINUX;
    const tcp = s.tcp;
    let value: number;
    if (tcp !== null) {
      if (tcp.state === LISTEN) return -EINVAL;
      value = request === TIOCINQ ? tcp.bytesToRead : tcp.sendQueued;
    } else if (request === TIOCINQ) {
      // UDP answers with the first datagram's length (first_packet_length).
      const udp = s.udp as UdpEndpoint;
      const n = udp.recvFrom(s.layer.discardScratch, 0, 0, null, MSG_PEEK | MSG_TRUNC);
      value = n > 0 ? n : 0;
    } else value = 0;
    writeInt(arg, at, value);
    return 0;
  }
  if (request === SIOCATMARK && s.tcp !== null) {
    // tcp_ioctl: whether the next byte read is the urgent one (0 on a listener, as Linux says).
    if (length < 4) return -EFAULT_LINUX;
    writeInt(arg, at, s.tcp.atMark ? 1 : 0);
    return 0;
  }
  return s.layer.interfaceIoctl(request, arg, at, length, data);
}
