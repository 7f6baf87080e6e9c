// Host side of the `nt` policy: the heap walk (tests, reports) and the mapping from a sample to the
// counters `!heap -s` prints (docs/nt-heap.md §4.2, §4.3).
import type { HeapSample } from '../../engine/sample.js';
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';
import type { EngineHandle } from '../kit/spec.js';

/** The nt queries of the WASM module (assembly/policies/nt/index.ts). */
interface NtExports {
  memory: WebAssembly.Memory;
  ntWalk(heap: number, out: number, max: number): number;
  ntWalkBuffer(records: number): number;
}

/** Record kinds of assembly/policies/nt/core.ts (RK_*), plus live LFH chunks. */
export const NT_KINDS = ['busy', 'free', 'ucr', 'header', 'userBlock', 'large', 'chunk'] as const;
export type NtKind = (typeof NT_KINDS)[number];

export interface NtRecord {
  address: number;
  bytes: number;
  kind: NtKind;
  /** Segment index (segment records), bucket (chunks), -1 (large blocks). */
  where: number;
}

/**
 * Every record of an nt heap: segment records in address order, large blocks, then live LFH chunks
 * (subsegment by subsegment, each in address order).
 */
export function ntWalk(engine: EngineHandle, heap: number): NtRecord[] {
  if (engine.heapPolicy(heap) !== 'nt') throw new Error(`heap ${heap} is not an nt heap`);
  const x = engine.raw as NtExports;
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
 * what the program holds inside the segments (its blocks and live LFH chunks, plus the heap's header
 * blocks), so Commit = busy + Free + the LFH user blocks' free chunks and slack; large blocks are in
 * virtualBytes. The fragmentation percentages are computed by the checkpoint builder.
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

/** The three ways an nt heap holds committed memory the program does not use (docs/scenarios.md). */
export const NT_MECHANISMS = {
  thresholds: 'free blocks below the decommit thresholds',
  trapped: 'free space trapped between live blocks',
  lfhPinned: 'LFH user blocks pinned by live chunks',
} as const;

/**
 * Splits what one nt heap holds committed but unused, at one moment, by mechanism:
 * - whole pages inside back-end free blocks: the decommit rule left them committed (the block was
 *   below decommitFreeBlockThreshold, the heap's free total below decommitTotalFreeThreshold, or the
 *   block is a split remainder the rule never looked at); lowering the thresholds or a trim returns them;
 * - the rest of the free blocks: partial pages shared with live neighbours, which no threshold can
 *   return until the neighbours go;
 * - LFH user blocks minus their live chunks: free chunks and slack kept by at least one live chunk.
 * Sorted by bytes, largest first; every mechanism is listed, with 0 when it holds nothing.
 */
export function ntRetentionCauses(h: HeapCounters): DiagnosisCause[] {
  const num = (k: string): number => (typeof h[k] === 'number' ? (h[k] as number) : 0);
  const whole = num('freeWholePageBytes');
  const causes: DiagnosisCause[] = [
    { mechanism: NT_MECHANISMS.thresholds, bytes: whole, layer: 'nt back end' },
    { mechanism: NT_MECHANISMS.trapped, bytes: Math.max(0, h.freeBytes - whole), layer: 'nt back end' },
    { mechanism: NT_MECHANISMS.lfhPinned, bytes: Math.max(0, num('lfhUserBlockBytes') - num('lfhLiveChunkBytes')), layer: 'LFH' },
  ];
  return causes.sort((a, b) => b.bytes - a.bytes);
}
