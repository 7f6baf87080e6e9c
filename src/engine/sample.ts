// The typed samples an engine hands back (one per MARK and per --every interval): the address
// space and every heap. Types only, so the policy specs can name them without importing the engine.
import type { TypeName, UsageName } from '../report/types.js';

export interface VmCounters {
  totalBytes: number;
  reservedBytes: number;
  committedBytes: number;
  residentBytes: number;
  freeBytes: number;
  largestFreeBytes: number;
  largestFreeBase: number;
  regions: number;
  committedRanges: number;
  uncommittedRanges: number;
  freeRanges: number;
  committedPeakBytes: number;
  residentPeakBytes: number;
  commitCalls: number;
  decommitCalls: number;
  usageBytes: Record<UsageName, number>;
  usageRegions: Record<UsageName, number>;
  typeBytes: Record<TypeName, number>;
  typeRegions: Record<TypeName, number>;
}

/** The largest value a counter reached, and the event count after which it was first reached (0 = before any event). */
export interface Peak {
  bytes: number;
  event: number;
}

/** Exact peaks of one heap: the maxima after every op, not over samples. */
export interface HeapPeaks {
  /** Committed bytes the heap owns (a stacked heap: what it holds from its parent). */
  committedBytes: Peak;
  residentBytes: Peak;
  reservedBytes: Peak;
  /** What the heap's callers asked for (requestedBytes). */
  requestedBytes: Peak;
}

/** The first allocation a policy refused: the program's failure. */
export interface AllocationFailure {
  event: number;
  sizeBytes: number;
  /** 'address-space': no free range for a reservation; 'policy-limit': the policy refused the size. */
  reason: 'address-space' | 'policy-limit';
  heap: number;
}

/**
 * The program's side of a sample, counted apart from every policy: what the workload or trace
 * asked for and has not freed (failed allocations included, so it is the same under every policy),
 * its allocation failures, and the exact peaks of the heaps together and of the process.
 */
export interface ProgramCounters {
  liveBytes: number;
  liveBlocks: number;
  failedAllocs: number;
  failedBytes: number;
  firstFailure: AllocationFailure | null;
  /** Frees that were not events: a trace's allocator handed out a live block's address again. */
  implicitFrees: number;
  /** Committed and resident bytes of every region a heap owns (the allocator stack's hold on memory). */
  heapsCommittedBytes: number;
  heapsResidentBytes: number;
  /** At the heaps' committed peak: the program's live bytes and the heaps' resident bytes then. */
  atCommittedPeak: { liveBytes: number; heapsResidentBytes: number };
  peaks: {
    liveBytes: Peak;
    heapsCommittedBytes: Peak;
    heapsResidentBytes: Peak;
    processCommittedBytes: Peak;
    processResidentBytes: Peak;
  };
}

export interface HeapSample {
  heap: number;
  policy: string;
  /** Heap this one takes its memory from; -1 = the VM. */
  parent: number;
  reservedBytes: number;
  committedBytes: number;
  residentBytes: number;
  busyBytes: number;
  /**
   * Bytes this heap's callers asked for, live blocks only. A parent heap's callers are the program
   * (blocks with ids) and the heaps stacked on it (their chunks and pass-through blocks, which have
   * no ids): both count, so busy − requested stays the heap's own overhead at every layer.
   */
  requestedBytes: number;
  /** Live blocks, counted the same way as requestedBytes (a parent includes the blocks its children hold). */
  liveBlocks: number;
  freeBytes: number;
  freeBlocks: number;
  largestFreeBytes: number;
  uncommittedRanges: number;
  segments: number;
  virtualBlocks: number;
  virtualBytes: number;
  /** Successful alloc-like requests, cumulative (a parent also counts its children's requests). */
  allocs: number;
  frees: number;
  failedAllocs: number;
  peakCommittedBytes: number;
  peakRequestedBytes: number;
  /** Exact peaks of this heap with their events. */
  peaks: HeapPeaks;
  /** The policy's own counters, by the names in its spec (src/policies/<name>/index.ts). */
  policyCounters: Record<string, number>;
  /** The parameters the heap was created with (only those set; the rest are the policy's defaults). */
  params: Readonly<Record<string, number>>;
  /**
   * Values of a variable count the policy added to this sample (assembly/kit/extras.ts), e.g.
   * ptmalloc's system and in-use bytes per arena; the policy's spec (heapView) names them.
   */
  extras?: readonly number[];
}

export interface Sample {
  event: number;
  /** Mark label, or null for a periodic sample. */
  label: string | null;
  tick: number;
  failedOps: number;
  vm: VmCounters;
  heaps: HeapSample[];
  program: ProgramCounters;
}
