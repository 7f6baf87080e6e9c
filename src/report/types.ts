// The shapes every report speaks: one for a simulated checkpoint, one for a parsed WinDbg dump,
// and the address-space summary they share. All sizes are integer bytes.

/** Usage names of `!address -summary`, old-format spelling (new-format names in windbg code). */
export const USAGE_NAMES = [
  'other',             // RegionUsageIsVAD / <unknown>
  'heap',              // RegionUsageHeap / Heap
  'stack',             // RegionUsageStack / Stack
  'image',             // RegionUsageImage / Image
  'teb',               // RegionUsageTeb / TEB
  'peb',               // RegionUsagePeb / PEB
  'processParameters', // RegionUsageProcessParametrs
  'environmentBlock',  // RegionUsageEnvironmentBlock
  'pageHeap',          // RegionUsagePageHeap / PageHeap
  'mappedFile',        // (old format: counted as IsVAD) / MappedFile
] as const;
export type UsageName = (typeof USAGE_NAMES)[number];

export const TYPE_NAMES = ['private', 'mapped', 'image'] as const;
export type TypeName = (typeof TYPE_NAMES)[number];

export interface SizeAndCount {
  bytes: number;
  /** VirtualQuery-style region count, when known. */
  regions?: number;
}

/** What `!address -summary` shows, in bytes. */
export interface AddressSummary {
  totalBytes: number;
  busyBytes: number;
  state: { commit: SizeAndCount; reserve: SizeAndCount; free: SizeAndCount };
  type: Record<TypeName, SizeAndCount>;
  usage: Partial<Record<UsageName | 'free', SizeAndCount>>;
  largestFree?: { base: number; bytes: number };
  /**
   * Usage rows under the debugger's own names, in printed order (e.g. `RegionUsageIsVAD`,
   * `<unknown>`, `Other`, `Heap32`). Set by the WinDbg parsers so that names with no slot of
   * their own in `usage` survive a parse/format round trip.
   */
  usageByName?: Record<string, SizeAndCount>;
  /** New-format `Protect Summary (for commit)` rows by protection name, in printed order. */
  protect?: Record<string, SizeAndCount>;
  /** New-format `Largest Region by Usage` rows by the debugger's usage name. */
  largestByUsage?: Record<string, { base: number; bytes: number }>;
}

/** One heap as `!heap -s` shows it, plus the counters only a simulation knows. */
export interface HeapCounters {
  /** Heap handle (base address) for WinDbg-style output. */
  address?: number;
  flags?: number;
  policy?: string;
  reservedBytes: number;
  committedBytes: number;
  /** Reserv minus the large-UCR correction (WinDbg "Virt"). */
  virtBytes: number;
  freeBytes: number;
  freeBlocks: number;
  uncommittedRanges: number;
  virtualBlocks: number;
  virtualBytes?: number;
  busyBytes: number;
  requestedBytes?: number;
  liveBlocks?: number;
  largestFreeBytes?: number;
  residentBytes?: number;
  lockContention?: number;
  /** 'LFH', 'L' (lookaside) or '' as the Fast heap column prints it. */
  fastHeap?: string;
  externalFragmentationPct: number;
  virtualAddressFragmentationPct: number;
  /** Policy-specific counters by name (e.g. ptmalloc's mallinfo fields). */
  [extra: string]: unknown;
}

/** One moment of a simulation: a mark or a periodic sample. */
export interface Checkpoint {
  label: string;
  event: number;
  /** The primary heap (heap 0), flattened for the common case. */
  heap: HeapCounters;
  /** Every heap of the engine, in creation order (layers included). */
  heaps?: HeapCounters[];
  address: {
    state: { commit: number; reserve: number; free: number };
    type: Record<TypeName, number>;
    usage: Record<UsageName, number>;
    totalBytes: number;
    residentBytes: number;
  };
}

export interface DiagnosisCause {
  mechanism: string;
  bytes: number;
  layer?: string;
}

export interface Diagnosis {
  kind: 'first-order' | 'second-order' | 'none';
  retainedBytes: number;
  causes: DiagnosisCause[];
  summary: string;
}

/** The document `heapsim run --json` prints. */
export interface RunDocument {
  policy: string;
  arch: string;
  profile?: string;
  workload: string;
  seed?: number;
  events: number;
  checkpoints: Checkpoint[];
  diagnosis?: Diagnosis;
  [extra: string]: unknown;
}
