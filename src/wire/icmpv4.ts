// ICMP for IPv4 (RFC 792): the header common to all messages, echo and destination unreachable.

import { readU16, writeU16 } from "./address.js";
import { WireView } from "./view.js";

export const ICMP_HEADER_LENGTH = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETER_PROBLEM = 12;

/** Destination unreachable codes. */
export const ICMP_NET_UNREACHABLE = 0;
export const ICMP_HOST_UNREACHABLE = 1;
export const ICMP_PROTOCOL_UNREACHABLE = 2;
export const ICMP_PORT_UNREACHABLE = 3;
export const ICMP_FRAGMENTATION_NEEDED = 4;

export class IcmpV4Packet extends WireView {
  get type(): number {
    return this.bytes[this.at];
  }

  set type(value: number) {
    this.bytes[this.at] = value;
  }

  get code(): number {
    return this.bytes[this.at + 1];
  }

  set code(value: number) {
    this.bytes[this.at + 1] = value;
  }

  get checksum(): number {
    return readU16(this.bytes, this.at + 2);
  }

  set checksum(value: number) {
    writeU16(this.bytes, this.at + 2, value);
  }

  /** Echo identifier, or the first half of the unused word of an error. */
  get identifier(): number {
    return readU16(this.bytes, this.at + 4);
  }

  set identifier(value: number) {
    writeU16(this.bytes, this.at + 4, value);
  }

  get sequence(): number {
    return readU16(this.bytes, this.at + 6);
  }

  set sequence(value: number) {
    writeU16(this.bytes, this.at + 6, value);
  }

  /** Next-hop MTU of a fragmentation-needed message (RFC 1191). */
  get nextHopMtu(): number {
    return readU16(this.bytes, this.at + 6);
  }

  get payloadOffset(): number {
    return this.at + ICMP_HEADER_LENGTH;
  }
}
