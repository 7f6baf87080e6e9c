// A step shared by the tests of the policies that reserve their record tables from the replay's size
// hint (assembly/kit/hint.ts): with the true peak of live blocks given before the heap is made, a
// workload whose cached free blocks keep records (records above the live peak) must not grow the
// policy's tables. A growth copies the whole table into fresh pages (the page faults the reservation
// is there to avoid); results never depend on it, so only the table's size shows it.
import { expect } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

/** Size classes the first phase spreads its blocks over (16 to 128 bytes). */
const SMALL_CLASSES = 8;
const SMALL_STEP_BYTES = 16;
/** The second phase's request: another class than the first phase's. */
const OTHER_CLASS_BYTES = 200;

/** One batch of ops for heap `h` of a replay whose live peak is `live`. */
export type HintBatch = (ops: OpBuffer, h: number, live: number) => void;

/**
 * `live` blocks of small classes, every other one freed (they wait in the policy's caches and lists
 * with their records), then as many of another class: the live peak stays `live` while the records
 * exceed it.
 */
export const CACHED_ABOVE_LIVE: HintBatch[] = [
  (o, h, live) => { for (let i = 0; i < live; i++) o.alloc(h, i, SMALL_STEP_BYTES * (1 + (i % SMALL_CLASSES))); },
  (o, h, live) => { for (let i = 0; i < live; i += 2) o.free(h, i); },
  (o, h, live) => { for (let i = 0; i < live; i += 2) o.alloc(h, live + i, OTHER_CLASS_BYTES); },
];

/**
 * Runs `batches` (CACHED_ABOVE_LIVE by default) on a heap of `policy` made after the hint (`live`
 * blocks at the peak) was given; expects the policy's table bytes after them to equal those right
 * after the heap was made.
 */
export async function expectNoGrowthWithHint(policy: string, live: number, batches: HintBatch[] = CACHED_ABOVE_LIVE): Promise<void> {
  const e = await createEngine({ arch: 'x64' });
  e.reserve({ idBound: 2 * live, peakLiveBlocks: live });
  const h = e.createHeap(policy);
  const tableBytes = (): number => e.engineTableBytes().policies[policy]!.tableBytes;
  const reserved = tableBytes();
  for (const fill of batches) {
    const ops = new OpBuffer(live);
    fill(ops, h, live);
    expect(e.apply(ops).failedOps).toBe(0);
  }
  expect(tableBytes(), `${policy}: record tables grew beyond the hint's reservation`).toBe(reserved);
}
