// Linux sockaddrs in the caller's bytes (x86-64 layout): sa_family in host order (little-endian),
// ports and addresses in network order, sin6_scope_id in host order. The seed's GetAddress and
// ConvertAddress, without any object made per call.

import { EAFNOSUPPORT, EINVAL } from "../errno.js";
import { AF_INET, AF_INET6, FullAddress, IpAddress } from "../wire/address.js";
import { AF_UNSPEC, SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE } from "./linux.js";

/** RFC 2133's sockaddr_in6 had no scope id: Linux still takes 24 bytes. */
const SOCKADDR_IN6_SHORT = 24;

/** The sa_family of a sockaddr, or -1 when it is too short to hold one. */
export function sockaddrFamily(b: Uint8Array, at: number, length: number): number {
  return length < 2 ? -1 : b[at] | (b[at + 1] << 8);
}

/**
 * Reads an AF_INET or AF_INET6 sockaddr of a socket of `family` into `out` (v4-mapped addresses
 * become IPv4; scope id in `out.nic`). 0, or -EINVAL when too short, -EAFNOSUPPORT for another
 * family. AF_UNSPEC is the caller's to handle before.
 */
export function getAddress(
  family: number,
  b: Uint8Array,
  at: number,
  length: number,
  out: FullAddress,
): number {
  const given = sockaddrFamily(b, at, length);
  if (family === AF_INET) {
    if (length < SOCKADDR_IN_SIZE) return -EINVAL;
    if (given !== AF_INET) return -EAFNOSUPPORT;
    out.port = (b[at + 2] << 8) | b[at + 3];
    out.address.setV4((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]);
    out.nic = 0;
    return 0;
  }
  if (length < SOCKADDR_IN6_SHORT) return -EINVAL;
  if (given !== AF_INET6) return -EAFNOSUPPORT;
  out.port = (b[at + 2] << 8) | b[at + 3];
  const a = out.address.bytes;
  for (let i = 0; i < 16; i++) a[i] = b[at + 8 + i];
  out.nic =
    length >= SOCKADDR_IN6_SIZE
      ? (b[at + 24] | (b[at + 25] << 8) | (b[at + 26] << 16) | (b[at + 27] << 24)) >>> 0
      : 0;
  return 0;
}

/** fe80::/10, whose sockaddrs carry the interface in sin6_scope_id. */
export function isLinkLocal(address: IpAddress): boolean {
  const b = address.bytes;
  return b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
}

/** The unspecified IPv6 address (::), as opposed to v4-mapped 0.0.0.0. */
export function isUnspecified6(address: IpAddress): boolean {
  const b = address.bytes;
  for (let i = 0; i < 16; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Writes `address`:`port` as a sockaddr of `family` into `out[at ..+ capacity)`, truncated to the
 * capacity as Linux's move_addr_to_user does; returns the sockaddr's full length. An AF_INET6
 * socket reports IPv4 v4-mapped, and the IPv4 wildcard as ::.
 */
export function convertAddress(
  family: number,
  address: IpAddress,
  port: number,
  nic: number,
  out: Uint8Array | null,
  at: number,
  capacity: number,
  scratch: Uint8Array,
): number {
  let length: number;
  scratch.fill(0, 0, SOCKADDR_IN6_SIZE);
  scratch[2] = port >>> 8;
  scratch[3] = port & 255;
  const a = address.bytes;
  if (family === AF_INET) {
    length = SOCKADDR_IN_SIZE;
    scratch[0] = AF_INET;
    scratch[4] = a[12];
    scratch[5] = a[13];
    scratch[6] = a[14];
    scratch[7] = a[15];
  } else {
    length = SOCKADDR_IN6_SIZE;
    scratch[0] = AF_INET6;
    const wildcard4 = address.family === AF_INET && address.v4 === 0;
    if (!wildcard4) scratch.set(a, 8);
    if (isLinkLocal(address)) {
      scratch[24] = nic & 255;
      scratch[25] = (nic >>> 8) & 255;
      scratch[26] = (nic >>> 16) & 255;
      scratch[27] = nic >>> 24;
    }
  }
  if (out !== null) {
    const n = capacity < length ? capacity : length;
    for (let i = 0; i < n; i++) out[at + i] = scratch[i];
  }
  return length;
}

/** An AF_UNSPEC sockaddr: connect() with it dissolves a datagram socket's association. */
export function isUnspec(b: Uint8Array, at: number, length: number): boolean {
  return sockaddrFamily(b, at, length) === AF_UNSPEC;
}
