// Named size distributions for synthetic workloads.
import type { Prng } from './prng.js';

export interface SizeClass {
  name: string;
  /** Share of allocations drawn from this class (shares of a mix add up to 1). */
  share: number;
  medianBytes: number;
  /** Log-normal shape (standard deviation of ln size). */
  sigma: number;
  minBytes: number;
  maxBytes: number;
}

export type SizeMix = SizeClass[];

/** A service-like mix: many small objects, some medium buffers, a few large ones. */
export const SERVICE_MIX: SizeMix = [
  { name: 'small', share: 0.75, medianBytes: 64, sigma: 0.9, minBytes: 8, maxBytes: 1024 },
  { name: 'medium', share: 0.22, medianBytes: 2048, sigma: 0.8, minBytes: 1025, maxBytes: 32 * 1024 },
  { name: 'large', share: 0.03, medianBytes: 96 * 1024, sigma: 0.7, minBytes: 32 * 1024 + 1, maxBytes: 1024 * 1024 },
];

export function checkMix(mix: SizeMix): void {
  const total = mix.reduce((a, c) => a + c.share, 0);
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`size mix shares add up to ${total}, not 1`);
}

/** Draws one size in bytes (an integer within the class bounds). */
export function drawSize(rng: Prng, mix: SizeMix): number {
  let u = rng.next();
  let c = mix[mix.length - 1]!;
  for (const k of mix) {
    if (u < k.share) { c = k; break; }
    u -= k.share;
  }
  const v = Math.round(rng.logNormal(c.medianBytes, c.sigma));
  return Math.min(c.maxBytes, Math.max(c.minBytes, v));
}
