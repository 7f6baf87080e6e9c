// Shared by the pool tests: a debug engine, and a batch that must succeed with every invariant kept.
import { expect } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

export const KiB = 1024;
export const CHUNK_BYTES = 64 * KiB;

export async function engine(): Promise<Engine> { return createEngine({ build: 'debug' }); }

export function run(e: Engine, fill: (ops: OpBuffer) => void): void {
  const ops = new OpBuffer(65536);
  fill(ops);
  const r = e.apply(ops);
  expect(r.failedOps, JSON.stringify(r.firstFailure)).toBe(0);
  expect(e.check()).toBe(0);
}
