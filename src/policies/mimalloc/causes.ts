// The mimalloc policy's contribution to the diagnosis: where mimalloc 2.0.9 keeps committed memory
// that holds no live block (docs/mimalloc.md), from the policy's counters at one checkpoint.
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';

function counter(h: HeapCounters, name: string): number {
  const v = h[name];
  return typeof v === 'number' ? v : 0;
}

/** PolicySpec.retentionCauses: each mechanism's committed bytes, biggest first (empty ones left out). */
export function mimallocRetentionCauses(h: HeapCounters): DiagnosisCause[] {
  const causes: DiagnosisCause[] = [
    {
      layer: 'mimalloc',
      mechanism: 'eager segment commit: free slices of segments committed whole when created (MIMALLOC_EAGER_COMMIT=1), ' +
        'never scheduled for decommit until a neighbouring page is freed (all free slices with MIMALLOC_ALLOW_DECOMMIT=0)',
      bytes: counter(h, 'eagerFreeSliceBytes'),
    },
    {
      layer: 'mimalloc',
      mechanism: 'free slices not yet decommitted: waiting for MIMALLOC_DECOMMIT_DELAY (25 ms), done at the next page ' +
        'allocation in their segment after it',
      bytes: counter(h, 'pendingDecommitBytes'),
    },
    {
      layer: 'mimalloc',
      mechanism: 'segment cache: empty 32 MiB segments kept committed for MIMALLOC_SEGMENT_DECOMMIT_DELAY (500 ms), ' +
        'checked when another segment is cached; mi_collect(true) unmaps them',
      bytes: counter(h, 'cachedSegmentBytes'),
    },
    {
      layer: 'mimalloc',
      mechanism: 'free pages not yet retired: an empty page alone in its size class waits 9 (3 for blocks above 16 KiB) ' +
        'fresh-page countdowns; mi_collect(true) frees it',
      bytes: counter(h, 'retiredPageBytes'),
    },
    {
      layer: 'mimalloc',
      mechanism: 'free blocks in pages that still hold a live block (a page goes back only when all its blocks are free)',
      bytes: counter(h, 'livePageFreeBytes'),
    },
    {
      layer: 'mimalloc',
      mechanism: 'page parts not yet carved into blocks (a page grows its free list 4 KiB of blocks at a time)',
      bytes: counter(h, 'pageSlackBytes'),
    },
  ];
  return causes.filter((c) => c.bytes > 0).sort((a, b) => b.bytes - a.bytes);
}
