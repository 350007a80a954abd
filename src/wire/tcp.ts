// The TCP header (RFC 9293) and its options: MSS, window scale (RFC 7323), SACK-permitted and SACK
// blocks (RFC 2018), timestamps (RFC 7323). Parsing fills a TcpOptions made once per table, so a
// segment's options are read without allocating; malformed options end the parse, never throw.
//
// Sequence numbers, acknowledgments and timestamps are kept as signed 32-bit integers (`| 0`),
// which V8 and XS hold unboxed; compare them with seqLt/seqLe (serial arithmetic, RFC 1982).

import { readI32, readU16, writeU16, writeU32 } from "./address.js";
import { WireView } from "./view.js";

export const TCP_HEADER_LENGTH = 20;
/** The longest header: data offset 15. */
export const TCP_MAX_HEADER_LENGTH = 60;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const OPTION_END = 0;
export const OPTION_NOP = 1;
export const OPTION_MSS = 2;
export const OPTION_WSCALE = 3;
export const OPTION_SACK_PERMITTED = 4;
export const OPTION_SACK = 5;
export const OPTION_TIMESTAMP = 8;

/** RFC 7323 §2.3: shifts above 14 are used as 14. */
export const MAX_WSCALE = 14;
/** SACK blocks a segment can carry (4 without timestamps, 3 with). */
export const MAX_SACK_BLOCKS = 4;

/** a < b in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in sequence space. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** b - a in sequence space, as a signed 32-bit number. */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}

export class TcpSegment extends WireView {
  get sourcePort(): number {
    return readU16(this.bytes, this.at);
  }

  get destinationPort(): number {
    return readU16(this.bytes, this.at + 2);
  }

  get seq(): number {
    return readI32(this.bytes, this.at + 4);
  }

  get ack(): number {
    return readI32(this.bytes, this.at + 8);
  }

  /** Header length in bytes (data offset times 4). */
  get headerLength(): number {
    return (this.bytes[this.at + 12] >>> 4) << 2;
  }

  get flags(): number {
    return this.bytes[this.at + 13];
  }

  get window(): number {
    return readU16(this.bytes, this.at + 14);
  }

  get checksum(): number {
    return readU16(this.bytes, this.at + 16);
  }

  get urgent(): number {
    return readU16(this.bytes, this.at + 18);
  }

  /** Writes the fixed header; the checksum is left 0 for the caller to fill. */
  writeHeader(
    sourcePort: number,
    destinationPort: number,
    seq: number,
    ack: number,
    headerLength: number,
    flags: number,
    window: number,
  ): void {
    const b = this.bytes;
    const at = this.at;
    writeU16(b, at, sourcePort);
    writeU16(b, at + 2, destinationPort);
    writeU32(b, at + 4, seq);
    writeU32(b, at + 8, ack);
    b[at + 12] = (headerLength >>> 2) << 4;
    b[at + 13] = flags;
    writeU16(b, at + 14, window);
    writeU16(b, at + 16, 0);
    writeU16(b, at + 18, 0);
  }
}

/** The options of one segment, parsed; reused for every segment. */
export class TcpOptions {
  /** Maximum segment size, 0 when absent. */
  mss = 0;
  /** Window scale shift (clamped to 14), -1 when absent. */
  wscale = -1;
  sackPermitted = false;
  hasTimestamp = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks carried, and their edges. */
  sackCount = 0;
  readonly sackStart = new Int32Array(MAX_SACK_BLOCKS);
  readonly sackEnd = new Int32Array(MAX_SACK_BLOCKS);

  clear(): void {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.hasTimestamp = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }

  /**
   * Parses the options in `bytes[at ..+ length)`. Returns false when they are malformed (a length
   * byte below 2 or running past the end, a known option of the wrong size); what was read before
   * the fault is kept, as Linux's tcp_parse_options does, and the segment is still usable.
   */
  parse(bytes: Uint8Array, at: number, length: number): boolean {
    this.clear();
    const end = at + length;
    let i = at;
    while (i < end) {
      const kind = bytes[i];
      if (kind === OPTION_END) return true;
      if (kind === OPTION_NOP) {
        i++;
        continue;
      }
      if (i + 1 >= end) return false;
      const size = bytes[i + 1];
      if (size < 2 || i + size > end) return false;
      switch (kind) {
        case OPTION_MSS:
          if (size !== 4) return false;
          this.mss = readU16(bytes, i + 2);
          break;
        case OPTION_WSCALE: {
          if (size !== 3) return false;
          const shift = bytes[i + 2];
          this.wscale = shift > MAX_WSCALE ? MAX_WSCALE : shift;
          break;
        }
        case OPTION_SACK_PERMITTED:
          if (size !== 2) return false;
          this.sackPermitted = true;
          break;
        case OPTION_SACK: {
          if (size < 10 || ((size - 2) & 7) !== 0) return false;
          let n = (size - 2) >>> 3;
          if (n > MAX_SACK_BLOCKS) n = MAX_SACK_BLOCKS;
          for (let k = 0; k < n; k++) {
            this.sackStart[k] = readI32(bytes, i + 2 + 8 * k);
            this.sackEnd[k] = readI32(bytes, i + 6 + 8 * k);
          }
          this.sackCount = n;
          break;
        }
        case OPTION_TIMESTAMP:
          if (size !== 10) return false;
          this.hasTimestamp = true;
          this.tsVal = readI32(bytes, i + 2);
          this.tsEcr = readI32(bytes, i + 6);
          break;
        default:
          break;
      }
      i += size;
    }
    return true;
  }
}

// Writers: each puts one option at `at` and returns the bytes written. Callers keep the total a
// multiple of 4 with NOPs, as the layouts below (those of Linux) do.

/** MSS: 4 bytes. */
export function writeMss(b: Uint8Array, at: number, mss: number): number {
  b[at] = OPTION_MSS;
  b[at + 1] = 4;
  writeU16(b, at + 2, mss);
  return 4;
}

/** NOP then window scale: 4 bytes. */
export function writeWscale(b: Uint8Array, at: number, shift: number): number {
  b[at] = OPTION_NOP;
  b[at + 1] = OPTION_WSCALE;
  b[at + 2] = 3;
  b[at + 3] = shift;
  return 4;
}

/** SACK-permitted, then NOP NOP when `pad` (no timestamp to share the word with): 2 or 4 bytes. */
export function writeSackPermitted(b: Uint8Array, at: number, pad: boolean): number {
  b[at] = OPTION_SACK_PERMITTED;
  b[at + 1] = 2;
  if (!pad) return 2;
  b[at + 2] = OPTION_NOP;
  b[at + 3] = OPTION_NOP;
  return 4;
}

/** Timestamps: 10 bytes; put two NOPs (or SACK-permitted) before it to align. */
export function writeTimestamp(b: Uint8Array, at: number, tsVal: number, tsEcr: number): number {
  b[at] = OPTION_TIMESTAMP;
  b[at + 1] = 10;
  writeU32(b, at + 2, tsVal);
  writeU32(b, at + 6, tsEcr);
  return 10;
}

/** Two NOPs: 2 bytes. */
export function writeNops(b: Uint8Array, at: number): number {
  b[at] = OPTION_NOP;
  b[at + 1] = OPTION_NOP;
  return 2;
}

/** NOP NOP then a SACK option with `count` blocks from the arrays: 4 + 8 * count bytes. */
export function writeSack(
  b: Uint8Array,
  at: number,
  starts: Int32Array,
  ends: Int32Array,
  count: number,
): number {
  b[at] = OPTION_NOP;
  b[at + 1] = OPTION_NOP;
  b[at + 2] = OPTION_SACK;
  b[at + 3] = 2 + 8 * count;
  for (let k = 0; k < count; k++) {
    writeU32(b, at + 4 + 8 * k, starts[k]);
    writeU32(b, at + 8 + 8 * k, ends[k]);
  }
  return 4 + 8 * count;
}
