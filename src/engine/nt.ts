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

/** `floor(part × 100 / whole)`, 0 when whole is 0: WinDbg's integer truncation (nt-heap.md §4.3). */
export function truncPct(part: number, whole: number): number {
  return whole > 0 ? Math.floor((part * 100) / whole) : 0;
}

/**
 * The `!heap -s` view of one nt heap sample. Reserv and Commit are the segments only (large blocks
 * are counted apart, as WinDbg does); Free and List length are the back end's free blocks;
 * External fragmentation = Free/Commit and Virtual address fragmentation = 1 − Commit/Virt, both
 * truncated (nt-heap.md §4.3).
 */
export function ntHeapCounters(h: HeapSample): HeapCounters {
  const c = h.policyCounters;
  const reserved = c.segmentReservedBytes ?? 0;
  const committed = c.segmentCommittedBytes ?? 0;
  const virt = c.virtBytes ?? reserved;
  return {
    address: c.heapAddress ?? 0,
    flags: c.heapFlags ?? 0,
    policy: h.policy,
    reservedBytes: reserved,
    committedBytes: committed,
    virtBytes: virt,
    freeBytes: h.freeBytes,
    freeBlocks: h.freeBlocks,
    uncommittedRanges: h.uncommittedRanges,
    virtualBlocks: h.virtualBlocks,
    virtualBytes: h.virtualBytes,
    busyBytes: h.busyBytes,
    requestedBytes: h.requestedBytes,
    liveBlocks: h.liveBlocks,
    largestFreeBytes: h.largestFreeBytes,
    residentBytes: h.residentBytes,
    lockContention: 0,
    fastHeap: c.frontEndHeapType === 2 ? 'LFH' : '',
    externalFragmentationPct: truncPct(h.freeBytes, committed),
    virtualAddressFragmentationPct: truncPct(virt - committed, virt),
    segments: h.segments,
    freeWholePageBytes: c.freeWholePageBytes ?? 0,
    lfhUserBlocks: c.lfhUserBlocks ?? 0,
    lfhUserBlockBytes: c.lfhUserBlockBytes ?? 0,
    lfhFreeChunkBytes: c.lfhFreeChunkBytes ?? 0,
    lfhLiveChunkBytes: c.lfhLiveChunkBytes ?? 0,
    decommittedBytes: c.decommittedBytes ?? 0,
  };
}
