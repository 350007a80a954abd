// Hand-built frames for tests: every header field can be set, or left to a correct default, so a
// test can break exactly one thing. Tests may allocate freely; none of this is stack code.

import { parseIPv4 } from "../../src/wire/address.js";
import { sumBytes } from "../../src/wire/checksum.js";

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export function mac(text: string): Uint8Array {
  return Uint8Array.from(text.split(":").map((h) => parseInt(h, 16)));
}

export function ip(text: string): number {
  const v = parseIPv4(text);
  if (v === null) throw new Error(`bad address ${text}`);
  return v;
}

export function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

export function u32(b: Uint8Array, at: number): number {
  // Signed, the form the stack keeps IPv4 addresses in.
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The Internet checksum of `b` (what goes in the field), starting from `initial`. */
export function inetChecksum(b: Uint8Array, initial = 0): number {
  return ~sumBytes(b, 0, b.length, initial) & 0xffff;
}

/** Whether the Internet checksum over `b` (field included) verifies. */
export function checksumOk(b: Uint8Array, initial = 0): boolean {
  return sumBytes(b, 0, b.length, initial) === 0xffff;
}

export function pseudoSum(source: number, destination: number, protocol: number, length: number) {
  return (
    (source >>> 16) +
    (source & 0xffff) +
    (destination >>> 16) +
    (destination & 0xffff) +
    protocol +
    length
  );
}

export function ether(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array) {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  put16(f, 12, type);
  f.set(payload, 14);
  return f;
}

export interface Ipv4Fields {
  source: number;
  destination: number;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  tos?: number;
  id?: number;
  /** Flags and offset word, offset in 8-byte units. */
  fragment?: number;
  /** Option bytes (padded to a multiple of 4 with zeros). */
  options?: Uint8Array;
  /** Overrides, for breaking things. */
  version?: number;
  ihl?: number;
  totalLength?: number;
  checksum?: number;
}

export function ipv4(f: Ipv4Fields): Uint8Array {
  const optLength = f.options ? (f.options.length + 3) & ~3 : 0;
  const headerLength = 20 + optLength;
  const b = new Uint8Array(headerLength + f.payload.length);
  b[0] = ((f.version ?? 4) << 4) | ((f.ihl ?? headerLength / 4) & 15);
  b[1] = f.tos ?? 0;
  put16(b, 2, f.totalLength ?? b.length);
  put16(b, 4, f.id ?? 0x1234);
  put16(b, 6, f.fragment ?? 0);
  b[8] = f.ttl ?? 64;
  b[9] = f.protocol;
  put32(b, 12, f.source);
  put32(b, 16, f.destination);
  if (f.options) b.set(f.options, 20);
  put16(b, 10, f.checksum ?? inetChecksum(b.subarray(0, headerLength)));
  b.set(f.payload, headerLength);
  return b;
}

export interface UdpFields {
  source: number;
  destination: number;
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
  /** Overrides: the length field, and the checksum ("none" sends 0). */
  length?: number;
  checksum?: number | "none";
}

export function udp(f: UdpFields): Uint8Array {
  const b = new Uint8Array(8 + f.payload.length);
  put16(b, 0, f.sourcePort);
  put16(b, 2, f.destinationPort);
  put16(b, 4, f.length ?? b.length);
  b.set(f.payload, 8);
  let checksum: number;
  if (f.checksum === "none") checksum = 0;
  else if (f.checksum !== undefined) checksum = f.checksum;
  else {
    checksum = inetChecksum(b, pseudoSum(f.source, f.destination, 17, b.length));
    if (checksum === 0) checksum = 0xffff;
  }
  put16(b, 6, checksum);
  return b;
}

export interface IcmpFields {
  type: number;
  code?: number;
  /** The second word: identifier and sequence, or unused / pointer / MTU. */
  rest?: number;
  payload?: Uint8Array;
  checksum?: number;
}

export function icmp(f: IcmpFields): Uint8Array {
  const payload = f.payload ?? new Uint8Array(0);
  const b = new Uint8Array(8 + payload.length);
  b[0] = f.type;
  b[1] = f.code ?? 0;
  put32(b, 4, f.rest ?? 0);
  b.set(payload, 8);
  put16(b, 2, f.checksum ?? inetChecksum(b));
  return b;
}

export interface ArpFields {
  op: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac?: Uint8Array;
  targetIp: number;
  hardwareType?: number;
  protocolType?: number;
  hardwareLength?: number;
  protocolLength?: number;
}

export function arp(f: ArpFields): Uint8Array {
  const b = new Uint8Array(28);
  put16(b, 0, f.hardwareType ?? 1);
  put16(b, 2, f.protocolType ?? 0x0800);
  b[4] = f.hardwareLength ?? 6;
  b[5] = f.protocolLength ?? 4;
  put16(b, 6, f.op);
  b.set(f.senderMac, 8);
  put32(b, 14, f.senderIp);
  if (f.targetMac) b.set(f.targetMac, 18);
  put32(b, 24, f.targetIp);
  return b;
}

/** A decoded frame the stack sent, for assertions. */
export interface Sent {
  bytes: Uint8Array;
  dst: Uint8Array;
  src: Uint8Array;
  type: number;
  /** The IPv4 header and payload (bounded by the total length), when type is IPv4. */
  ip?: {
    header: Uint8Array;
    headerLength: number;
    totalLength: number;
    id: number;
    moreFragments: boolean;
    dontFragment: boolean;
    offset: number;
    ttl: number;
    protocol: number;
    source: number;
    destination: number;
    payload: Uint8Array;
  };
  arp?: {
    op: number;
    senderMac: Uint8Array;
    senderIp: number;
    targetMac: Uint8Array;
    targetIp: number;
  };
}

export function decode(bytes: Uint8Array): Sent {
  const s: Sent = {
    bytes,
    dst: bytes.slice(0, 6),
    src: bytes.slice(6, 12),
    type: u16(bytes, 12),
  };
  if (s.type === ETH_IPV4) {
    const p = bytes.subarray(14);
    const headerLength = (p[0] & 15) * 4;
    const totalLength = u16(p, 2);
    s.ip = {
      header: p.slice(0, headerLength),
      headerLength,
      totalLength,
      id: u16(p, 4),
      moreFragments: (p[6] & 0x20) !== 0,
      dontFragment: (p[6] & 0x40) !== 0,
      offset: (u16(p, 6) & 0x1fff) * 8,
      ttl: p[8],
      protocol: p[9],
      source: u32(p, 12),
      destination: u32(p, 16),
      payload: p.slice(headerLength, totalLength),
    };
  } else if (s.type === ETH_ARP) {
    const p = bytes.subarray(14);
    s.arp = {
      op: u16(p, 6),
      senderMac: p.slice(8, 14),
      senderIp: u32(p, 14),
      targetMac: p.slice(18, 24),
      targetIp: u32(p, 24),
    };
  }
  return s;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytes 0..n-1 of a recognisable pattern. */
export function pattern(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 13 + (i >>> 8)) & 0xff;
  return b;
}

export interface TcpFields {
  source: number;
  destination: number;
  sourcePort: number;
  destinationPort: number;
  seq: number;
  ack?: number;
  /** FIN 1, SYN 2, RST 4, PSH 8, ACK 16. */
  flags: number;
  window?: number;
  /** Option bytes (padded to a multiple of 4 with zeros). */
  options?: Uint8Array;
  payload?: Uint8Array;
  /** Overrides, for breaking things. */
  dataOffset?: number;
  checksum?: number;
}

/** A TCP header, options and payload, checksum right unless overridden. */
export function tcp(f: TcpFields): Uint8Array {
  const optLength = f.options ? (f.options.length + 3) & ~3 : 0;
  const headerLength = 20 + optLength;
  const payload = f.payload ?? new Uint8Array(0);
  const b = new Uint8Array(headerLength + payload.length);
  put16(b, 0, f.sourcePort);
  put16(b, 2, f.destinationPort);
  put32(b, 4, f.seq);
  put32(b, 8, f.ack ?? 0);
  b[12] = (f.dataOffset ?? headerLength / 4) << 4;
  b[13] = f.flags;
  put16(b, 14, f.window ?? 65535);
  if (f.options) b.set(f.options, 20);
  b.set(payload, headerLength);
  put16(b, 16, f.checksum ?? inetChecksum(b, pseudoSum(f.source, f.destination, 6, b.length)));
  return b;
}
