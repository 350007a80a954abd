// DNS messages (RFC 1035 §4): the header fields, names in wire form with compression pointers
// (§4.1.4), and the few record types a stub resolver reads. Every function reads within
// `[at, end)` of the caller's bytes and answers -1 (or false) for anything out of bounds or
// malformed, so a hostile answer is dropped by its caller and never throws.

import { readU16 } from "./address.js";

export const DNS_PORT = 53;
export const DNS_HEADER_LENGTH = 12;
/** Largest wire-form name, length bytes and the root's zero included (RFC 1035 §2.3.4). */
export const DNS_NAME_MAX = 255;
/** Largest message over UDP without EDNS (RFC 1035 §4.2.1). */
export const DNS_UDP_MAX = 512;

/** Record type A: an IPv4 address. */
export const DNS_TYPE_A = 1;
export const DNS_TYPE_CNAME = 5;
export const DNS_TYPE_SOA = 6;
/** Record type AAAA: an IPv6 address (RFC 3596). */
export const DNS_TYPE_AAAA = 28;
export const DNS_CLASS_IN = 1;

/** Header flag bits (the 16 bits after the ID). */
export const DNS_FLAG_QR = 0x8000;
export const DNS_FLAG_TC = 0x0200;
export const DNS_FLAG_RD = 0x0100;
export const DNS_OPCODE_MASK = 0x7800;
export const DNS_RCODE_MASK = 0x000f;

export const DNS_RCODE_NOERROR = 0;
export const DNS_RCODE_FORMERR = 1;
export const DNS_RCODE_SERVFAIL = 2;
export const DNS_RCODE_NXDOMAIN = 3;
export const DNS_RCODE_REFUSED = 5;

/** Compression pointers followed in one name before it is taken for a loop. */
const MAX_POINTERS = 16;

/** ASCII upper case to lower case, the comparison DNS names use (RFC 4343). */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * String.prototype.charCodeAt, called on the text directly: on XS, `text.charCodeAt(i)` and
 * `text.length` each make a String wrapper (2 slots, measured), so a 14-character name cost 30
 * slots; the function called with `call` makes none, and NaN past the end replaces `length`.
 */
const charCodeAt = String.prototype.charCodeAt;

/**
 * Writes `text` ("host.example.", the final dot optional) in wire form, lower-cased, at `out[at]`:
 * the offset after it, or -1 when it is no host name we would ask for (an empty label, a label
 * over 63 bytes, a name over 255 bytes, a byte outside printable ASCII). By character: no string
 * is built.
 */
export function encodeName(text: string, out: Uint8Array, at: number): number {
  if (at + DNS_NAME_MAX > out.length) return -1;
  let lengthAt = at;
  let w = at + 1;
  let label = 0;
  for (let i = 0; ; i++) {
    const c: number = charCodeAt.call(text, i);
    if (c !== c) break; // NaN: the end of the text
    if (w - at >= DNS_NAME_MAX) return -1;
    if (c === 46) {
      if (label === 0) return -1;
      out[lengthAt] = label;
      lengthAt = w++;
      label = 0;
      if (charCodeAt.call(text, i + 1) !== charCodeAt.call(text, i + 1)) {
        // A final dot: the name is already complete.
        out[lengthAt] = 0;
        return w;
      }
      continue;
    }
    if (c <= 32 || c >= 127 || ++label > 63) return -1;
    out[w++] = lower(c);
  }
  if (label === 0) return -1;
  out[lengthAt] = label;
  out[w++] = 0;
  return w - at <= DNS_NAME_MAX ? w : -1;
}

/** The offset after the (possibly compressed) name at `b[at]`, or -1 when malformed. */
export function skipName(b: Uint8Array, at: number, end: number): number {
  let total = 0;
  for (;;) {
    if (at >= end) return -1;
    const len = b[at];
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2 <= end ? at + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    total += len + 1;
    if (total > DNS_NAME_MAX) return -1;
    at += len + 1;
  }
}

/**
 * Whether the name at `b[at]` (compression pointers followed, only backwards and at most 16)
 * equals the uncompressed, lower-case name at `ref[refAt]`, ignoring ASCII case. A malformed
 * name equals nothing.
 */
export function nameEquals(
  b: Uint8Array,
  at: number,
  end: number,
  ref: Uint8Array,
  refAt: number,
): boolean {
  let pointers = 0;
  let r = refAt;
  for (;;) {
    if (at >= end) return false;
    const len = b[at];
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= end || ++pointers > MAX_POINTERS) return false;
      const to = ((len & 0x3f) << 8) | b[at + 1];
      if (to >= at) return false;
      at = to;
      continue;
    }
    if ((len & 0xc0) !== 0) return false;
    if (len !== ref[r]) return false;
    if (len === 0) return true;
    if (at + 1 + len > end) return false;
    for (let i = 1; i <= len; i++) if (lower(b[at + i]) !== ref[r + i]) return false;
    at += len + 1;
    r += len + 1;
    if (r - refAt >= DNS_NAME_MAX) return false;
  }
}

/**
 * Copies the name at `b[at]` uncompressed and lower-cased to `out[outAt]`: its length, or -1 when
 * malformed or longer than 255 bytes. (A CNAME's target becomes the name to look for next.)
 */
export function copyName(
  b: Uint8Array,
  at: number,
  end: number,
  out: Uint8Array,
  outAt: number,
): number {
  let pointers = 0;
  let w = outAt;
  for (;;) {
    if (at >= end) return -1;
    const len = b[at];
    if ((len & 0xc0) === 0xc0) {
      if (at + 1 >= end || ++pointers > MAX_POINTERS) return -1;
      const to = ((len & 0x3f) << 8) | b[at + 1];
      if (to >= at) return -1;
      at = to;
      continue;
    }
    if ((len & 0xc0) !== 0) return -1;
    if (w - outAt + len + 1 > DNS_NAME_MAX || w + len + 1 > out.length) return -1;
    out[w++] = len;
    if (len === 0) return w - outAt;
    if (at + 1 + len > end) return -1;
    for (let i = 1; i <= len; i++) out[w++] = lower(b[at + i]);
    at += len + 1;
  }
}

/** The length of the uncompressed wire name at `b[at]` (as encodeName wrote it). */
export function nameLength(b: Uint8Array, at: number): number {
  let p = at;
  while (b[p] !== 0) p += b[p] + 1;
  return p + 1 - at;
}

/**
 * A TTL in seconds: a value with the top bit set counts as 0 (RFC 2181 §8). Kept a small integer,
 * so it is never a heap number on V8.
 */
export function readTtl(b: Uint8Array, at: number): number {
  const v = (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
  return v < 0 ? 0 : v;
}

/** The header's counts, by index: 0 questions, 1 answers, 2 authority, 3 additional. */
export function sectionCount(b: Uint8Array, section: number): number {
  return readU16(b, 4 + 2 * section);
}
