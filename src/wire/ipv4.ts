// The IPv4 header (RFC 791). Options are carried but never interpreted: the header length says
// where the payload starts, which is all a host needs (RFC 1122 §3.2.1.8 lets a host ignore them).

import { readI32, readU16, writeU16, writeU32 } from "./address.js";
import { Checksum, headerSum20 } from "./checksum.js";
import { WireView } from "./view.js";

export const IPV4_HEADER_LENGTH = 20;
export const IPV4_MAX_LENGTH = 65535;
export const PROTOCOL_ICMP = 1;
export const PROTOCOL_TCP = 6;
export const PROTOCOL_UDP = 17;

/** Flags and fragment offset word. */
export const IPV4_DONT_FRAGMENT = 0x4000;
export const IPV4_MORE_FRAGMENTS = 0x2000;
export const IPV4_OFFSET_MASK = 0x1fff;

/** 255.255.255.255, as the signed integer the stack keeps addresses in. */
export const IPV4_BROADCAST = -1;

export class Ipv4Packet extends WireView {
  get version(): number {
    return this.bytes[this.at] >>> 4;
  }

  /** In bytes. */
  get headerLength(): number {
    return (this.bytes[this.at] & 15) << 2;
  }

  get tos(): number {
    return this.bytes[this.at + 1];
  }

  get totalLength(): number {
    return readU16(this.bytes, this.at + 2);
  }

  set totalLength(value: number) {
    writeU16(this.bytes, this.at + 2, value);
  }

  get identification(): number {
    return readU16(this.bytes, this.at + 4);
  }

  /** Flags and fragment offset (in 8-byte units) as one word. */
  get fragmentWord(): number {
    return readU16(this.bytes, this.at + 6);
  }

  set fragmentWord(value: number) {
    writeU16(this.bytes, this.at + 6, value);
  }

  get moreFragments(): boolean {
    return (this.bytes[this.at + 6] & 0x20) !== 0;
  }

  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (readU16(this.bytes, this.at + 6) & IPV4_OFFSET_MASK) << 3;
  }

  get isFragment(): boolean {
    return (readU16(this.bytes, this.at + 6) & (IPV4_MORE_FRAGMENTS | IPV4_OFFSET_MASK)) !== 0;
  }

  get ttl(): number {
    return this.bytes[this.at + 8];
  }

  get protocol(): number {
    return this.bytes[this.at + 9];
  }

  get headerChecksum(): number {
    return readU16(this.bytes, this.at + 10);
  }

  set headerChecksum(value: number) {
    writeU16(this.bytes, this.at + 10, value);
  }

  get source(): number {
    return readI32(this.bytes, this.at + 12);
  }

  get destination(): number {
    return readI32(this.bytes, this.at + 16);
  }

  get sourceOffset(): number {
    return this.at + 12;
  }

  get destinationOffset(): number {
    return this.at + 16;
  }

  get payloadOffset(): number {
    return this.at + this.headerLength;
  }

  /** Whether the header checksum verifies. */
  verifyChecksum(summer: Checksum): boolean {
    const length = this.headerLength;
    if (length === IPV4_HEADER_LENGTH) return headerSum20(this.bytes, this.at) === 0xffff;
    return summer.sum(this.bytes, this.at, length, 0) === 0xffff;
  }

  /**
   * Writes a 20-byte header without options and its checksum.
   * `fragmentWord` carries DF/MF and the offset in 8-byte units.
   */
  writeHeader(
    totalLength: number,
    identification: number,
    fragmentWord: number,
    ttl: number,
    protocol: number,
    source: number,
    destination: number,
  ): void {
    const b = this.bytes;
    const at = this.at;
    b[at] = 0x45;
    b[at + 1] = 0;
    writeU16(b, at + 2, totalLength);
    writeU16(b, at + 4, identification);
    writeU16(b, at + 6, fragmentWord);
    b[at + 8] = ttl;
    b[at + 9] = protocol;
    writeU16(b, at + 10, 0);
    writeU32(b, at + 12, source);
    writeU32(b, at + 16, destination);
    writeU16(b, at + 10, ~headerSum20(b, at) & 0xffff);
  }
}

/** Class D, 224.0.0.0/4. */
export function isMulticastV4(address: number): boolean {
  return address >>> 28 === 14;
}

/** 127.0.0.0/8 — must never appear on a wire (RFC 1122 §3.2.1.3). */
export function isLoopbackV4(address: number): boolean {
  return address >>> 24 === 127;
}
