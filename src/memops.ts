// Byte copies and Internet-checksum sums between any two arrays, with nothing allocated after the
// first use of an ArrayBuffer: chip drivers, the TAP and an application's read(buffer) copy
// between separate arrays on every packet, and `set(subarray())` would cost a view each time
// (4 slots on XS, a heap object on V8).
//
// Each ArrayBuffer carries its own whole-buffer views, made on first use and kept under a symbol
// on the buffer itself (the module may hold no cache: preload freezes it). The buffer rather than
// the typed array carries them so every view of one buffer shares them and the typed arrays that
// the stack indexes keep a single shape. A buffer that cannot take the property (frozen) falls
// back to byte loops.
//
// This is the portable version, for Node and the xsnap runner. On Moddable, manifest.json maps
// this module to native/memops.js, whose host functions do the same with memmove and a C sum, so
// it exports only those two functions.
//
// Figures behind the choices, 1472 bytes (ns on V8 / on xsnap): across arrays a 4x-unrolled Int32
// loop (770 / 56,000; unrolled 8x, 25% more bytes per second again on 64 KB spans on V8) beats bytes (4,600 / 219,000) and Uint16 (1,050 / 100,000); unaligned spans
// stitch words from two reads (1,000 / 76,000). set(subarray()) is faster (160 / 20,000) but makes
// a view per call. Below 32 bytes a byte loop wins on V8. The sum reads Int32 words, eight per
// round, and adds their low and high halves into two sums, so every intermediate is a small
// integer that V8 never boxes: on V8 2.5x the speed of reading Uint16 halfwords, and on xsnap the
// 512-byte echo step costs 3 % fewer compute units.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Where a byte at an even / odd absolute offset lands in a host-order 16-bit word. */
const EVEN_SHIFT = LITTLE_ENDIAN ? 0 : 8;
const ODD_SHIFT = 8 - EVEN_SHIFT;

/** Below this many bytes a plain byte loop wins over looking up word views. */
const SMALL_COPY = 32;
const SMALL_SUM = 32;
/** Words summed between folds: 2 * 4096 * 0xffff stays below 2^30, a V8 small integer. */
const SUM_CHUNK = 4096;

const VIEWS = Symbol("netstack.views");

/** Whole-buffer views of one ArrayBuffer, addressed by absolute byte offset. */
class BufferViews {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;

  constructor(buffer: ArrayBufferLike) {
    const length = buffer.byteLength;
    this.bytes = new Uint8Array(buffer, 0, length);
    this.words = new Int32Array(buffer, 0, length >> 2);
  }
}

/**
 * What one typed array carries: its buffer's views and where it starts in them. Reading `buffer`
 * and `byteOffset` costs 20-45 ns each on V8 (neither is inlined), more than summing a 64-byte
 * datagram; a property of the array itself is one inline-cached load.
 */
class ArrayViews {
  readonly views: BufferViews;
  readonly base: number;

  constructor(views: BufferViews, base: number) {
    this.views = views;
    this.base = base;
  }
}

type BufferCarrier = ArrayBufferLike & { [VIEWS]?: BufferViews };
type ArrayCarrier = Uint8Array & { [VIEWS]?: ArrayViews };

/** The views of `array`'s buffer and its offset, made on first use; null when it cannot carry them. */
function viewsOf(array: Uint8Array): ArrayViews | null {
  const carried = (array as ArrayCarrier)[VIEWS];
  if (carried !== undefined) return carried;
  const buffer = array.buffer as BufferCarrier;
  if (!Object.isExtensible(array) || !Object.isExtensible(buffer)) return null;
  let views = buffer[VIEWS];
  if (views === undefined) {
    views = new BufferViews(buffer);
    Object.defineProperty(buffer, VIEWS, { value: views });
  }
  const made = new ArrayViews(views, array.byteOffset);
  Object.defineProperty(array, VIEWS, { value: made });
  return made;
}

/**
 * Copies `length` bytes from `src[srcOffset..]` to `dst[dstOffset..]`, as memmove does when both
 * lie in one buffer. Clamped to both arrays, as copyWithin clamps: nothing is written outside
 * `dst`, even when it is a window on a larger buffer.
 */
export function copy(
  dst: Uint8Array,
  dstOffset: number,
  src: Uint8Array,
  srcOffset: number,
  length: number,
): void {
  if (dstOffset < 0 || srcOffset < 0 || length <= 0) return;
  if (dst === src) {
    // copyWithin clamps to the array itself; the hot case (one arena) needs no more checks.
    dst.copyWithin(dstOffset, srcOffset, srcOffset + length);
    return;
  }
  if (length > dst.length - dstOffset) length = dst.length - dstOffset;
  if (length > src.length - srcOffset) length = src.length - srcOffset;
  if (length <= 0) return;
  const to = viewsOf(dst);
  const from = viewsOf(src);
  if (to === null || from === null) {
    if (dst.buffer === src.buffer)
      moveBytes(
        dst,
        dstOffset,
        src,
        srcOffset,
        length,
        dst.byteOffset + dstOffset < src.byteOffset + srcOffset,
      );
    else for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
    return;
  }
  const d = to.base + dstOffset;
  const s = from.base + srcOffset;
  const whole = to.views;
  if (whole === from.views) {
    // Two windows on one buffer: a memmove within it.
    whole.bytes.copyWithin(d, s, s + length);
    return;
  }
  if (length < SMALL_COPY) {
    for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
    return;
  }
  if (((d - s) & 3) === 0) copyAligned(whole, from.views, d, s, length);
  else if (LITTLE_ENDIAN) copyShifted(whole, from.views, d, s, length);
  else for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
}

/** A byte loop that is safe for overlapping spans of one buffer. */
function moveBytes(
  dst: Uint8Array,
  dstOffset: number,
  src: Uint8Array,
  srcOffset: number,
  length: number,
  forward: boolean,
): void {
  if (forward) for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
  else for (let i = length - 1; i >= 0; i--) dst[dstOffset + i] = src[srcOffset + i];
}

/** Source and destination share their alignment: whole words, eight per round. */
function copyAligned(to: BufferViews, from: BufferViews, d: number, s: number, length: number) {
  const db = to.bytes;
  const sb = from.bytes;
  const end = d + length;
  while ((d & 3) !== 0 && d < end) db[d++] = sb[s++];
  const dw = to.words;
  const sw = from.words;
  let x = d >> 2;
  let y = s >> 2;
  const words = (end - d) >> 2;
  const last = x + words;
  const last8 = x + (words & ~7);
  for (; x < last8; x += 8, y += 8) {
    dw[x] = sw[y];
    dw[x + 1] = sw[y + 1];
    dw[x + 2] = sw[y + 2];
    dw[x + 3] = sw[y + 3];
    dw[x + 4] = sw[y + 4];
    dw[x + 5] = sw[y + 5];
    dw[x + 6] = sw[y + 6];
    dw[x + 7] = sw[y + 7];
  }
  for (; x < last; x++, y++) dw[x] = sw[y];
  d = last << 2;
  s = y << 2;
  while (d < end) db[d++] = sb[s++];
}

/**
 * Alignments differ (a UDP payload at frame offset 42 into a buffer at 0): each destination word
 * is stitched from two source words. Little-endian hosts only: byte k of a word is bits 8k..8k+7.
 */
function copyShifted(to: BufferViews, from: BufferViews, d: number, s: number, length: number) {
  const db = to.bytes;
  const sb = from.bytes;
  const end = d + length;
  while ((d & 3) !== 0 && d < end) db[d++] = sb[s++];
  const dw = to.words;
  const sw = from.words;
  const low = (s & 3) << 3;
  const high = 32 - low;
  let x = d >> 2;
  let y = s >> 2;
  // Each round reads word y + 1; it must lie inside the source's word view.
  let words = (end - d) >> 2;
  if (y + words >= sw.length) words = sw.length - 1 - y;
  if (words < 0) words = 0;
  const last = x + words;
  const last4 = x + (words & ~3);
  let word = sw[y];
  for (; x < last4; x += 4, y += 4) {
    const w1 = sw[y + 1];
    const w2 = sw[y + 2];
    const w3 = sw[y + 3];
    const w4 = sw[y + 4];
    dw[x] = (word >>> low) | (w1 << high);
    dw[x + 1] = (w1 >>> low) | (w2 << high);
    dw[x + 2] = (w2 >>> low) | (w3 << high);
    dw[x + 3] = (w3 >>> low) | (w4 << high);
    word = w4;
  }
  for (; x < last; x++) {
    const next = sw[++y];
    dw[x] = (word >>> low) | (next << high);
    word = next;
  }
  s += (last << 2) - d;
  d = last << 2;
  while (d < end) db[d++] = sb[s++];
}

/**
 * The ones'-complement sum (RFC 1071) of `bytes[offset .. offset + length)` in network byte order,
 * added to `initial` and folded to 16 bits; not inverted. Every intermediate stays below 2^30.
 */
export function onesSum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial: number,
): number {
  if (length < SMALL_SUM) return sumPairs(bytes, offset, length, initial);
  if (offset < 0 || offset + length > bytes.length) return sumPairs(bytes, offset, length, initial);
  const carried = viewsOf(bytes);
  if (carried === null) return sumPairs(bytes, offset, length, initial);
  const views = carried.views;
  const start = carried.base + offset;
  const end = start + length;
  const b = views.bytes;
  // Every byte is added where a host-order halfword read at an even address would put it.
  let s = 0;
  let i = start;
  for (; (i & 3) !== 0; i++) s += b[i] << ((i & 1) === 0 ? EVEN_SHIFT : ODD_SHIFT);
  const words = views.words;
  let k = i >> 2;
  const last = end >> 2;
  for (; last - k > SUM_CHUNK; k += SUM_CHUNK) s = fold(s + sumWords(words, k, k + SUM_CHUNK));
  s += sumWords(words, k, last);
  for (i = last << 2; i < end; i++) s += b[i] << ((i & 1) === 0 ? EVEN_SHIFT : ODD_SHIFT);
  s = fold(s);
  // `s` sums host-order halfwords at even addresses. Network order pairs bytes from `start`: on a
  // little-endian host that is the byte-swapped sum when `start` is even.
  if (LITTLE_ENDIAN === ((start & 1) === 0)) s = ((s & 0xff) << 8) | (s >>> 8);
  return fold(s + initial);
}

/**
 * The plain sum of the halfwords in words `from .. to`, eight words per round, the two halves of
 * each word in separate small-integer sums; below 2^30 for up to SUM_CHUNK words.
 */
function sumWords(w: Int32Array, from: number, to: number): number {
  let low = 0;
  let high = 0;
  let k = from;
  const to8 = from + ((to - from) & ~7);
  for (; k < to8; k += 8) {
    const w0 = w[k];
    const w1 = w[k + 1];
    const w2 = w[k + 2];
    const w3 = w[k + 3];
    const w4 = w[k + 4];
    const w5 = w[k + 5];
    const w6 = w[k + 6];
    const w7 = w[k + 7];
    low +=
      (w0 & 0xffff) +
      (w1 & 0xffff) +
      (w2 & 0xffff) +
      (w3 & 0xffff) +
      (w4 & 0xffff) +
      (w5 & 0xffff) +
      (w6 & 0xffff) +
      (w7 & 0xffff);
    high +=
      (w0 >>> 16) +
      (w1 >>> 16) +
      (w2 >>> 16) +
      (w3 >>> 16) +
      (w4 >>> 16) +
      (w5 >>> 16) +
      (w6 >>> 16) +
      (w7 >>> 16);
  }
  for (; k < to; k++) {
    const x = w[k];
    low += x & 0xffff;
    high += x >>> 16;
  }
  return low + high;
}

/** The same sum two bytes at a time, for short spans and buffers without views. */
function sumPairs(bytes: Uint8Array, offset: number, length: number, initial: number): number {
  let s = fold(initial);
  const end = offset + (length & ~1);
  let i = offset;
  while (i < end) {
    const stop = end - i > 2 * SUM_CHUNK ? i + 2 * SUM_CHUNK : end;
    for (; i < stop; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
    s = fold(s);
  }
  if ((length & 1) !== 0) s += bytes[end] << 8;
  return fold(s);
}

/** Folds carries back in until the sum fits 16 bits (end-around carry). */
function fold(sum: number): number {
  // Past 32 bits the shift would lose carries; only a caller's own large `initial` gets here.
  while (sum > 0xffffffff) {
    const high = Math.floor(sum / 65536);
    sum = sum - high * 65536 + high;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
