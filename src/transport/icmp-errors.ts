// ICMP destination unreachable, as the transports read it: which codes are hard errors and the
// errno each one becomes (Linux's icmp_err_convert), shared by UDP and TCP.

import {
  ECONNREFUSED,
  EHOSTDOWN,
  EHOSTUNREACH,
  EMSGSIZE,
  ENETUNREACH,
  ENONET,
  ENOPROTOOPT,
  EOPNOTSUPP,
} from "../errno.js";
import {
  ICMP_FRAGMENTATION_NEEDED,
  ICMP_HOST_UNREACHABLE,
  ICMP_NET_UNREACHABLE,
  ICMP_PORT_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE,
} from "../wire/icmpv4.js";

/**
 * Whether a destination unreachable code is a hard error for a UDP socket: icmp_err_convert's
 * `fatal`, plus fragmentation needed, which UDP reports as EMSGSIZE under path MTU discovery.
 */
export function unreachableIsHard(code: number): boolean {
  switch (code) {
    case ICMP_NET_UNREACHABLE:
    case ICMP_HOST_UNREACHABLE:
    case 5: // source route failed
    case 11: // network unreachable for TOS
    case 12: // host unreachable for TOS
      return false;
    default:
      return code <= 15;
  }
}

/** Linux's icmp_err_convert table for destination unreachable codes. */
export function unreachableErrno(code: number): number {
  switch (code) {
    case ICMP_NET_UNREACHABLE:
      return ENETUNREACH;
    case ICMP_HOST_UNREACHABLE:
      return EHOSTUNREACH;
    case ICMP_PROTOCOL_UNREACHABLE:
      return ENOPROTOOPT;
    case ICMP_PORT_UNREACHABLE:
      return ECONNREFUSED;
    case ICMP_FRAGMENTATION_NEEDED:
      return EMSGSIZE;
    case 5:
      return EOPNOTSUPP;
    case 6:
    case 9:
    case 11:
      return ENETUNREACH;
    case 7:
      return EHOSTDOWN;
    case 8:
      return ENONET;
    default:
      return EHOSTUNREACH;
  }
}
