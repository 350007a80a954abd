// SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed PRF Linux uses for TCP's initial sequence
// numbers, ephemeral ports and SYN cookies, written with 32-bit halves so it runs on XS without
// BigInt and allocates nothing: the key and the four state words live in one Int32Array made with
// the hasher. A hash leaves its 64-bit result in `high` and returns the low half.
//
// The words a caller hashes are the little-endian bytes of 32-bit integers, so hashWords(a, b, c)
// equals hashBytes over those 12 bytes; the reference vectors check hashBytes.

// State layout: v0..v3 as (low, high) pairs, then the key k0 and k1 the same way.
const V0L = 0;
const V0H = 1;
const V1L = 2;
const V1H = 3;
const V2L = 4;
const V2H = 5;
const V3L = 6;
const V3H = 7;
const K0L = 8;
const K0H = 9;
const K1L = 10;
const K1H = 11;

export class SipHash {
  /** The high 32 bits of the last result. */
  high = 0;
  private readonly s = new Int32Array(12);

  /** Sets the 128-bit key as four 32-bit words, k0 low half first. */
  setKey(k0: number, k1: number, k2: number, k3: number): void {
    const s = this.s;
    s[K0L] = k0;
    s[K0H] = k1;
    s[K1L] = k2;
    s[K1H] = k3;
  }

  /** The key from 16 bytes, as the reference implementation reads it (little-endian). */
  setKeyBytes(key: Uint8Array, at: number): void {
    this.setKey(le32(key, at), le32(key, at + 4), le32(key, at + 8), le32(key, at + 12));
  }

  /** SipHash-2-4 of `length` bytes at `bytes[at]`: the low 32 bits (the high ones in `high`). */
  hashBytes(bytes: Uint8Array, at: number, length: number): number {
    this.start();
    const whole = length & ~7;
    for (let i = 0; i < whole; i += 8) this.word(le32(bytes, at + i), le32(bytes, at + i + 4));
    // The last word: the remaining bytes, and the length's low byte at the top.
    let lo = 0;
    let hi = (length & 0xff) << 24;
    for (let i = whole; i < length; i++) {
      const b = bytes[at + i];
      const k = i - whole;
      if (k < 4) lo |= b << (8 * k);
      else hi |= b << (8 * (k - 4));
    }
    this.word(lo, hi);
    return this.finish();
  }

  /** The hash of the 12 bytes of three 32-bit words. */
  hashWords(a: number, b: number, c: number): number {
    this.start();
    this.word(a, b);
    this.word(c, 12 << 24);
    return this.finish();
  }

  /** The hash of the 20 bytes of five 32-bit words. */
  hashWords5(a: number, b: number, c: number, d: number, e: number): number {
    this.start();
    this.word(a, b);
    this.word(c, d);
    this.word(e, 20 << 24);
    return this.finish();
  }

  private start(): void {
    const s = this.s;
    // "somepseudorandomlygeneratedbytes", xored into the key.
    s[V0L] = s[K0L] ^ 0x70736575;
    s[V0H] = s[K0H] ^ 0x736f6d65;
    s[V1L] = s[K1L] ^ 0x6e646f6d;
    s[V1H] = s[K1H] ^ 0x646f7261;
    s[V2L] = s[K0L] ^ 0x6e657261;
    s[V2H] = s[K0H] ^ 0x6c796765;
    s[V3L] = s[K1L] ^ 0x79746573;
    s[V3H] = s[K1H] ^ 0x74656462;
  }

  /** One message word: v3 ^= m, two rounds, v0 ^= m. */
  private word(lo: number, hi: number): void {
    const s = this.s;
    s[V3L] ^= lo;
    s[V3H] ^= hi;
    this.rounds(2);
    s[V0L] ^= lo;
    s[V0H] ^= hi;
  }

  private finish(): number {
    const s = this.s;
    s[V2L] ^= 0xff;
    this.rounds(4);
    this.high = s[V0H] ^ s[V1H] ^ s[V2H] ^ s[V3H];
    return s[V0L] ^ s[V1L] ^ s[V2L] ^ s[V3L];
  }

  /** `n` SipRounds on the state, each 64-bit add as two halves with the carry. */
  private rounds(n: number): void {
    const s = this.s;
    let v0l = s[V0L],
      v0h = s[V0H],
      v1l = s[V1L],
      v1h = s[V1H],
      v2l = s[V2L],
      v2h = s[V2H],
      v3l = s[V3L],
      v3h = s[V3H];
    let l = 0;
    let h = 0;
    for (let r = 0; r < n; r++) {
      // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
      l = (v0l + v1l) | 0;
      v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = l;
      h = (v1h << 13) | (v1l >>> 19);
      l = (v1l << 13) | (v1h >>> 19);
      v1l = l ^ v0l;
      v1h = h ^ v0h;
      l = v0l;
      v0l = v0h;
      v0h = l;
      // v2 += v3; v3 <<<= 16; v3 ^= v2
      l = (v2l + v3l) | 0;
      v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = l;
      h = (v3h << 16) | (v3l >>> 16);
      l = (v3l << 16) | (v3h >>> 16);
      v3l = l ^ v2l;
      v3h = h ^ v2h;
      // v0 += v3; v3 <<<= 21; v3 ^= v0
      l = (v0l + v3l) | 0;
      v0h = (v0h + v3h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = l;
      h = (v3h << 21) | (v3l >>> 11);
      l = (v3l << 21) | (v3h >>> 11);
      v3l = l ^ v0l;
      v3h = h ^ v0h;
      // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
      l = (v2l + v1l) | 0;
      v2h = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = l;
      h = (v1h << 17) | (v1l >>> 15);
      l = (v1l << 17) | (v1h >>> 15);
      v1l = l ^ v2l;
      v1h = h ^ v2h;
      l = v2l;
      v2l = v2h;
      v2h = l;
    }
    s[V0L] = v0l;
    s[V0H] = v0h;
    s[V1L] = v1l;
    s[V1H] = v1h;
    s[V2L] = v2l;
    s[V2H] = v2h;
    s[V3L] = v3l;
    s[V3H] = v3h;
  }
}

function le32(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}
