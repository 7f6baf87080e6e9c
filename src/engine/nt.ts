// Host side of the `nt` policy: the heap walk (tests, reports) and the mapping from a sample to the
// counters `!heap -s` prints (docs/nt-heap.md §4.2, §4.3).
import type { Engine, HeapSample } from './engine.js';
import type { HeapCounters } from '../report/types.js';

/** Record kinds of assembly/policies/nt-core.ts (RK_*), plus live LFH chunks. */
export const NT_KINDS = ['busy', 'free', 'ucr', 'header', 'userBlock', 'large', 'chunk'] as const;
export type NtKind = (typeof NT_KINDS)[number];

export interface NtRecord {
  address: number;
  bytes: number;
  kind: NtKind;
  /** Segment index (segment records), bucket (chunks), -1 (large blocks). */
  where: number;
}

/** Every record of an nt heap: segment records in address order, large blocks, live LFH chunks. */
export function ntWalk(engine: Engine, heap: number): NtRecord[] {
  if (engine.heapPolicy(heap) !== 'nt') throw new Error(`heap ${heap} is not an nt heap`);
  const x = engine.raw;
  const count = x.ntWalk(heap, 0, 0);
  const ptr = x.ntWalkBuffer(Math.max(count, 1));
  x.ntWalk(heap, ptr, count);
  const f = new Float64Array(x.memory.buffer, ptr, count * 4);
  const out: NtRecord[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ address: f[i * 4]!, bytes: f[i * 4 + 1]!, kind: NT_KINDS[f[i * 4 + 2]!]!, where: f[i * 4 + 3]! });
  }
  return out;
}

/**
 * The `!heap -s` view of one nt heap sample (the policy's heapView): Reserv and Commit are the
 * segments only, large blocks are counted apart as WinDbg does (nt-heap.md §4.2); Virt follows the
 * heap's virtCorrection rule; Lock contention is not simulated (0); Fast heap is LFH once the front
 * end exists. Free and List length are the back end's free blocks (the common slots). busyBytes is
 * the segments' busy blocks (so Commit = busy + Free exactly); large blocks are in virtualBytes. The
 * fragmentation percentages are computed by the checkpoint builder from these fields.
 */
export function ntHeapView(h: HeapSample): Partial<HeapCounters> {
  const c = h.policyCounters;
  return {
    address: c.heapAddress ?? 0,
    flags: c.heapFlags ?? 0,
    reservedBytes: c.segmentReservedBytes ?? h.reservedBytes,
    committedBytes: c.segmentCommittedBytes ?? h.committedBytes,
    virtBytes: c.virtBytes ?? h.reservedBytes,
    busyBytes: h.busyBytes - h.virtualBytes,
    lockContention: 0,
    fastHeap: c.frontEndHeapType === 2 ? 'LFH' : '',
  };
}
