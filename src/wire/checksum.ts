// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// Sums are ones'-complement 16-bit sums in network byte order, not yet inverted; `~sum & 0xffff`
// is what goes on the wire. Every intermediate stays below 2^30, a small integer on V8 and XS, so
// no sum ever makes a heap number.

import { onesSum } from "../memops.js";

/** One summer per stack; the sum itself lives in memops (native on Moddable). */
export class Checksum {
  /** The ones'-complement sum of `bytes[offset .. offset + length)`, added to `initial`. */
  sum(bytes: Uint8Array, offset: number, length: number, initial: number): number {
    return onesSum(bytes, offset, length, initial);
  }
}

/** The same sum, two bytes at a time; for short spans and arrays without an aligned view. */
export function sumBytes(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial: number,
): number {
  let s = fold(initial);
  const end = offset + (length & ~1);
  let i = offset;
  while (i < end) {
    // 16384 pairs of at most 0xffff stay below 2^30.
    const stop = end - i > 32768 ? i + 32768 : end;
    for (; i < stop; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
    s = fold(s);
  }
  if ((length & 1) !== 0) s += bytes[end] << 8;
  return fold(s);
}

/**
 * The sum of a 20-byte IPv4 header, unrolled: every datagram in and out sums one, and the general
 * sum's set-up costs more than these ten loads.
 */
export function headerSum20(b: Uint8Array, at: number): number {
  const s =
    ((b[at] << 8) | b[at + 1]) +
    ((b[at + 2] << 8) | b[at + 3]) +
    ((b[at + 4] << 8) | b[at + 5]) +
    ((b[at + 6] << 8) | b[at + 7]) +
    ((b[at + 8] << 8) | b[at + 9]) +
    ((b[at + 10] << 8) | b[at + 11]) +
    ((b[at + 12] << 8) | b[at + 13]) +
    ((b[at + 14] << 8) | b[at + 15]) +
    ((b[at + 16] << 8) | b[at + 17]) +
    ((b[at + 18] << 8) | b[at + 19]);
  // Ten halfwords stay below 2^20: two folds are enough.
  const t = (s & 0xffff) + (s >>> 16);
  return (t & 0xffff) + (t >>> 16);
}

/** Folds carries back in until the sum fits 16 bits (end-around carry). */
export function fold(sum: number): number {
  // Past 32 bits a shift would lose carries; only a caller's own large sum gets here.
  while (sum > 0xffffffff) {
    const high = Math.floor(sum / 65536);
    sum = sum - high * 65536 + high;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * RFC 1624 eqn. 3: the checksum field after one 16-bit word of the covered data changes from
 * `oldWord` to `newWord`, without summing the data again: HC' = ~(~HC + ~m + m').
 *
 * The result is never 0x0000. Eqn. 3 cannot tell a sum of zero (all the data zero, as in an echo
 * reply with no identifier, sequence or payload) from ones'-complement -0, and gives 0x0000 for
 * both; a full computation gives 0xffff for the first, and receivers reject 0x0000 there. 0xffff
 * verifies in both cases, since a non-zero sum of -0 plus 0xffff still folds to 0xffff.
 */
export function checksumAdjust(checksum: number, oldWord: number, newWord: number): number {
  const adjusted = ~fold((~checksum & 0xffff) + (~oldWord & 0xffff) + newWord) & 0xffff;
  return adjusted === 0 ? 0xffff : adjusted;
}

/** The sum of the IPv4 pseudo-header for UDP and TCP (RFC 768, RFC 793), addresses as numbers. */
export function pseudoHeaderSumV4(
  source: number,
  destination: number,
  protocol: number,
  length: number,
): number {
  return (
    (source >>> 16) +
    (source & 0xffff) +
    (destination >>> 16) +
    (destination & 0xffff) +
    protocol +
    length
  );
}
