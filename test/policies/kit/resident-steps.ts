// Steps shared by the residency tests of the policies that skip a touch on a page they made resident
// themselves (pool, segregated, nt, tlsf): apply one batch that must not fail, and read a heap's
// resident bytes.
import { expect } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

/** Ops one test batch holds at most. */
const BATCH_OPS = 4096;

/** Applies the ops `fill` writes as one batch; every op must succeed (the first failure is shown). */
export function applyOk(e: Engine, fill: (ops: OpBuffer) => void): void {
  const ops = new OpBuffer(BATCH_OPS);
  fill(ops);
  const r = e.apply(ops);
  expect(r.failedOps, JSON.stringify(r.firstFailure)).toBe(0);
}

/** Heap `h`'s resident bytes in a sample taken now. */
export function residentBytes(e: Engine, h: number): number {
  return e.sample().heaps.find((x) => x.heap === h)!.residentBytes;
}
