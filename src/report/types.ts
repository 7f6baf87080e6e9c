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
  /** Exact peaks of this heap (maxima after every op) with the event of each. */
  peaks?: { committedBytes: PeakValue; residentBytes: PeakValue; reservedBytes: PeakValue; requestedBytes: PeakValue };
  /** 'LFH', 'L' (lookaside) or '' as the Fast heap column prints it. */
  fastHeap?: string;
  externalFragmentationPct: number;
  virtualAddressFragmentationPct: number;
  /** Policy-specific counters by name (e.g. ptmalloc's mallinfo fields). */
  [extra: string]: unknown;
}

/** The program's side of a checkpoint, counted apart from every policy (engine ProgramCounters). */
export interface ProgramAtCheckpoint {
  /** Bytes the program asked for and has not freed (failed allocations included). */
  liveBytes: number;
  liveBlocks: number;
  /** Committed and resident bytes of every region a heap owns: what the allocator stack holds. */
  heapsCommittedBytes: number;
  heapsResidentBytes: number;
  failedAllocs: number;
}

/** A maximum and the event count after which it was first reached (0 = before the first event). */
export interface PeakValue {
  bytes: number;
  event: number;
}

/** Exact peaks of a run (maxima after every op), the document's top-level `peaks`. */
export interface RunPeaks {
  /** Committed bytes of every region a heap owns (for glibc: arena + hblkhd). */
  committedBytes: PeakValue;
  residentBytes: PeakValue;
  /** Bytes the program had asked for and not freed (the same under every policy). */
  requestedBytes: PeakValue;
  processCommittedBytes: PeakValue;
  processResidentBytes: PeakValue;
}

/** The first allocation the policy refused. */
export interface FailureInfo {
  event: number;
  sizeBytes: number;
  reason: 'address-space' | 'policy-limit';
  heap: number;
}

/** The program's side of a whole run. */
export interface ProgramSummary {
  liveBytes: number;
  liveBlocks: number;
  failedAllocs: number;
  failedBytes: number;
  firstFailure: FailureInfo | null;
  implicitFrees: number;
  /** At the committed peak: the program's live bytes and the heaps' resident bytes then. */
  atCommittedPeak: { liveBytes: number; residentBytes: number };
}

/** One moment of a simulation: a mark or a periodic sample. */
export interface Checkpoint {
  label: string;
  event: number;
  /** The program's live bytes and the allocator stack's hold at this moment. */
  program?: ProgramAtCheckpoint;
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

export type DiagnosisKind = 'out-of-memory' | 'first-order' | 'second-order' | 'none';

/** One problem a run shows, with its bytes (see src/report/verdict.ts for the rules). */
export interface Finding {
  kind: Exclude<DiagnosisKind, 'none'>;
  /** out-of-memory: bytes the failed calls asked for; first-order: live growth kept; second-order: retained at the end. */
  bytes: number;
  summary: string;
}

export interface Diagnosis {
  kind: DiagnosisKind;
  /** second-order: committed − live at the end; first-order: live growth; out-of-memory: the larger leak's, else 0. */
  retainedBytes: number;
  causes: DiagnosisCause[];
  summary: string;
  /** Every problem found, largest first (runs only; dump series leave it out). */
  findings?: Finding[];
  [extra: string]: unknown;
}

/** The document `heapsim run --json` prints. */
export interface RunDocument {
  policy: string;
  arch: string;
  profile?: string;
  /** Report vocabulary: 'linux' (RSS, brk/mmap, mallinfo2), 'windows' (WinDbg) or 'any'. */
  platform?: 'linux' | 'windows' | 'any';
  workload: string;
  seed?: number;
  events: number;
  /** The process before the first event (heaps created, profile laid out). */
  start?: Checkpoint;
  checkpoints: Checkpoint[];
  peaks?: RunPeaks;
  program?: ProgramSummary;
  diagnosis?: Diagnosis;
  [extra: string]: unknown;
}

/** One trim what-if (`--trim-at`, and the one at the end beside the verdict). */
export interface TrimResult {
  at: string;
  /** What the trim is, in the library's words (e.g. `malloc_trim(0)`). */
  call: string;
  /** Heap the trim was made on. */
  heap: number;
  /** Event number where the trim ran. */
  event: number;
  residentBeforeBytes: number;
  residentAfterBytes: number;
  /** Resident bytes the trim gave back. */
  releasedBytes: number;
  committedBeforeBytes: number;
  committedAfterBytes: number;
  /** The process just before and just after the trim. */
  before: Checkpoint;
  after: Checkpoint;
}
