// The diagnosis names tcmalloc's layers with the bytes the library's own statistics give them.
import { it, expect } from 'vitest';
import { tcmallocRetentionCauses } from '../../../src/policies/tcmalloc/causes.js';
import type { HeapCounters } from '../../../src/report/types.js';

it('names the page heap, central lists, transfer and thread caches, biggest first, and leaves empty layers out', () => {
  const h = {
    reservedBytes: 0, committedBytes: 0, virtBytes: 0, freeBytes: 0, freeBlocks: 0, uncommittedRanges: 0, virtualBlocks: 0,
    busyBytes: 0, externalFragmentationPct: 0, virtualAddressFragmentationPct: 0,
    pageheapFree: 4096 * 100, pageheapUnmapped: 999, centralFree: 5000, transferFree: 0, threadFree: 700000,
  } as HeapCounters;
  const causes = tcmallocRetentionCauses(h);
  expect(causes.map((c) => c.bytes)).toEqual([700000, 409600, 5000]);
  expect(causes[0]!.mechanism).toMatch(/^thread cache/);
  expect(causes[1]!.mechanism).toMatch(/^page heap: free spans not yet released \(the scavenger starts after 2 GiB/);
  expect(causes[2]!.mechanism).toMatch(/^central free lists/);
  expect(causes.every((c) => c.layer === 'tcmalloc')).toBe(true);
});
