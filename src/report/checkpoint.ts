// Turns engine samples into the checkpoint JSON every report reads (src/report/types.ts).
import type { HeapSample, Sample } from '../engine/engine.js';
import { getPolicy } from '../policies/registry.js';
import { externalFragmentationPct, virtualAddressFragmentationPct } from './windbg-numbers.js';
import { USAGE_NAMES, TYPE_NAMES, type Checkpoint, type HeapCounters, type TypeName, type UsageName } from './types.js';


/** The report view of one heap sample (a policy may override fields through its heapView). */
export function heapCounters(h: HeapSample): HeapCounters {
  const spec = getPolicy(h.policy);
  const base: HeapCounters = {
    policy: h.policy,
    heap: h.heap,
    parent: h.parent,
    reservedBytes: h.reservedBytes,
    committedBytes: h.committedBytes,
    virtBytes: h.reservedBytes,
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
    segments: h.segments,
    allocs: h.allocs,
    frees: h.frees,
    failedAllocs: h.failedAllocs,
    peakCommittedBytes: h.peakCommittedBytes,
    peakRequestedBytes: h.peakRequestedBytes,
    peaks: h.peaks,
    externalFragmentationPct: 0,
    virtualAddressFragmentationPct: 0,
    ...h.policyCounters,
    ...(spec.heapView ? spec.heapView(h) : {}),
    // The library's own statistics under its own names (tcmalloc's, jemalloc's, ...).
    ...(spec.native ? { native: spec.native(h) } : {}),
  };
  base.externalFragmentationPct = externalFragmentationPct(base.freeBytes, base.committedBytes);
  base.virtualAddressFragmentationPct = virtualAddressFragmentationPct(base.virtBytes, base.committedBytes);
  return base;
}

export function checkpointLabel(s: Sample): string {
  return s.label ?? `#${s.event}`;
}

export function toCheckpoint(s: Sample): Checkpoint {
  const heaps = s.heaps.map(heapCounters);
  const usage = {} as Record<UsageName, number>;
  for (const u of USAGE_NAMES) usage[u] = s.vm.usageBytes[u];
  const type = {} as Record<TypeName, number>;
  for (const t of TYPE_NAMES) type[t] = s.vm.typeBytes[t];
  return {
    label: checkpointLabel(s),
    event: s.event,
    program: {
      liveBytes: s.program.liveBytes,
      liveBlocks: s.program.liveBlocks,
      heapsCommittedBytes: s.program.heapsCommittedBytes,
      heapsResidentBytes: s.program.heapsResidentBytes,
      failedAllocs: s.program.failedAllocs,
    },
    heap: heaps[0] ?? emptyHeap(),
    heaps,
    address: {
      state: {
        commit: s.vm.committedBytes,
        reserve: s.vm.reservedBytes - s.vm.committedBytes,
        free: s.vm.freeBytes,
      },
      type,
      usage,
      totalBytes: s.vm.totalBytes,
      residentBytes: s.vm.residentBytes,
    },
  };
}

function emptyHeap(): HeapCounters {
  return {
    reservedBytes: 0, committedBytes: 0, virtBytes: 0, freeBytes: 0, freeBlocks: 0, uncommittedRanges: 0,
    virtualBlocks: 0, busyBytes: 0, externalFragmentationPct: 0, virtualAddressFragmentationPct: 0,
  };
}
