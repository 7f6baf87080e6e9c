// The tcmalloc policy's contribution to the diagnosis: the layers of gperftools' allocator that hold
// memory the program has freed (docs/tcmalloc.md), by the library's own statistics at one checkpoint.
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';

const RELEASE_DELAY_PAGES = 1 << 18; // page_heap.cc: kDefaultReleaseDelay
const PAGE_BYTES = 8192;             // common.h: kPageSize

function counter(h: HeapCounters, name: string): number {
  const v = h[name];
  return typeof v === 'number' ? v : 0;
}

/** PolicySpec.retentionCauses: what each tcmalloc layer holds, biggest first (zero layers left out). */
export function tcmallocRetentionCauses(h: HeapCounters): DiagnosisCause[] {
  const causes: DiagnosisCause[] = [
    {
      layer: 'tcmalloc',
      mechanism: `page heap: free spans not yet released (the scavenger starts after ${RELEASE_DELAY_PAGES * PAGE_BYTES / 2 ** 30} GiB of spans freed, ` +
        'then releases one span per 1000 / TCMALLOC_RELEASE_RATE pages; ReleaseFreeMemory() or TCMALLOC_AGGRESSIVE_DECOMMIT=1 return them at once)',
      bytes: counter(h, 'pageheapFree'),
    },
    {
      layer: 'tcmalloc',
      mechanism: 'central free lists: free objects in spans that still hold a live object (a span returns to the page heap only when all its objects are free)',
      bytes: counter(h, 'centralFree'),
    },
    {
      layer: 'tcmalloc',
      mechanism: 'transfer cache: batches of free objects parked per size class (up to 1 MiB each)',
      bytes: counter(h, 'transferFree'),
    },
    {
      layer: 'tcmalloc',
      mechanism: 'thread cache: objects the thread freed, kept up to its ceiling (a 32 MiB budget by default, TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES)',
      bytes: counter(h, 'threadFree'),
    },
  ];
  return causes.filter((c) => c.bytes > 0).sort((a, b) => b.bytes - a.bytes);
}
