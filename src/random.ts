// xoshiro128** (Blackman and Vigna): a small, fast, seedable generator for ephemeral ports, ARP
// jitter and the impairment device. Each user owns an instance, so there is no module state; the
// platform supplies the seed (entropy on a device, a fixed number in tests for reproducible runs).

/** A seedable generator (xoshiro128**) for ports, identifications, jitter and impairments. */
export class Random {
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    this.reseed(seed);
  }

  /** Starts the sequence again from a 32-bit seed. */
  reseed(seed: number): void {
    // splitmix32 spreads one 32-bit seed over the four words and never yields an all-zero state.
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  next(): number {
    return this.step() >>> 0;
  }

  /**
   * The same draw as a signed 32-bit integer: a small integer to V8 whatever its value, so hot paths
   * that call it out of line box nothing (an unsigned value of 2^31 or more is a heap number).
   */
  step(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) | 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return (this.step() >>> 0) / 4294967296;
  }

  /** An integer in [0, bound), for bounds up to 2^21; no double leaves the call. */
  below(bound: number): number {
    return Math.floor(((this.step() >>> 0) * bound) / 4294967296);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
