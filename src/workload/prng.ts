// Seeded pseudo-random numbers for workloads. All randomness of a run comes from here, so the same
// seed gives the same ops, byte for byte, in every JS engine.
//
// Generator: a 32-bit multiply-xorshift counter generator (Weyl sequence step + two mixing rounds);
// period 2^32 per seed, plenty for synthetic workloads, and only 32-bit integer math (Math.imul).

const WEYL_STEP = 0x9e3779b9; // 2^32 / golden ratio
const TWO_POW_32 = 0x1_0000_0000;

export class Prng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.state = (seed ^ 0x5bd1e995) >>> 0;
  }

  nextU32(): number {
    this.state = (this.state + WEYL_STEP) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number { return this.nextU32() / TWO_POW_32; }

  /** Uniform integer in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n); }

  /** Exponential with the given mean. */
  exponential(mean: number): number { return -Math.log(1 - this.next()) * mean; }

  /** Log-normal: exp(N(ln median, sigma)). Box-Muller with two draws, no caching (keeps streams simple). */
  logNormal(median: number, sigma: number): number {
    const u1 = 1 - this.next();
    const u2 = this.next();
    const n = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * n);
  }
}
