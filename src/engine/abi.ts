// TS mirror of assembly/abi.ts. test/unit/engine/abi-mirror.test.ts checks it against the module.

export const ABI_VERSION = 3;
export const OP_SIZE_BYTES = 16;
export const OP_WORDS = 4;

export const Op = {
  NOP: 0, ALLOC: 1, CALLOC: 2, ALIGNED_ALLOC: 3, REALLOC: 4, FREE: 5, MARK: 6, TICK: 7, TRIM: 8,
  HEAP_CREATE: 9, HEAP_DESTROY: 10, TOUCH: 11, SKIP: 12, THREAD: 13, THREAD_END: 14, DEBUG_TRAP: 255,
} as const;

export const STATUS_NAMES = [
  'OK', 'MISALIGNED', 'OUT_OF_RANGE', 'NOT_RESERVED', 'OVERLAP', 'NOT_REGION_BASE', 'NO_ADDRESS_SPACE',
  'BAD_SIZE', 'NOT_COMMITTED', 'UNKNOWN_ID', 'ID_IN_USE', 'BAD_HEAP', 'BAD_OPCODE', 'OUT_OF_MEMORY',
  'BAD_PARAM', 'HEAP_HAS_CHILDREN', 'ID_OUT_OF_RANGE', 'TOO_MANY_THREADS', 'UNKNOWN_THREAD',
] as const;
export type StatusName = (typeof STATUS_NAMES)[number];
export const Status = Object.fromEntries(STATUS_NAMES.map((n, i) => [n, i])) as { [K in StatusName]: number };

export const ARCHS = { x86: 0, 'x86-3gb': 1, x64: 2 } as const;
export type ArchName = keyof typeof ARCHS;

export const RegionType = { private: 0, mapped: 1, image: 2 } as const;
export const Usage = {
  other: 0, heap: 1, stack: 2, image: 3, teb: 4, peb: 5, processParameters: 6, environmentBlock: 7,
  pageHeap: 8, mappedFile: 9,
} as const;
export const USAGE_COUNT = 10;
export const REGION_TYPE_COUNT = 3;

export const MAX_HEAPS = 8;
export const NO_OWNER = 255;
export const PAGE_SIZE_BYTES = 4096;
export const ALLOC_GRANULARITY_BYTES = 65536;

export const SAMPLE_HEADER_SLOTS = 8;
export const VM_SLOTS = 48;
export const HEAP_SLOTS = 64;
export const RUN_HEAP_SLOTS = 8;
export const RUN_SLOTS = 24 + MAX_HEAPS * RUN_HEAP_SLOTS;
export const RUN_BASE = SAMPLE_HEADER_SLOTS + VM_SLOTS + MAX_HEAPS * HEAP_SLOTS;
export const SAMPLE_SLOTS = RUN_BASE + RUN_SLOTS;

export const H = { EVENT: 0, MARK: 1, TICK: 2, HEAPS: 3, FAILED_OPS: 4 } as const;
export const V = {
  TOTAL: 0, RESERVED: 1, COMMITTED: 2, RESIDENT: 3, FREE: 4, LARGEST_FREE: 5, REGIONS: 6,
  COMMITTED_RUNS: 7, UNCOMMITTED_RUNS: 8, FREE_RUNS: 9, COMMITTED_PEAK: 10, RESIDENT_PEAK: 11,
  COMMIT_CALLS: 12, DECOMMIT_CALLS: 13, USAGE_BYTES: 14, USAGE_REGIONS: 24, TYPE_BYTES: 34,
  TYPE_REGIONS: 37, LARGEST_FREE_BASE: 40,
} as const;
export const K = {
  POLICY: 0, RESERVED: 1, COMMITTED: 2, RESIDENT: 3, BUSY: 4, REQUESTED: 5, LIVE_BLOCKS: 6, FREE: 7,
  FREE_BLOCKS: 8, LARGEST_FREE: 9, UNCOMMITTED_RANGES: 10, SEGMENTS: 11, VIRTUAL_BLOCKS: 12,
  VIRTUAL_BYTES: 13, ALLOCS: 14, FREES: 15, FAILED_ALLOCS: 16, PEAK_COMMITTED: 17, PEAK_REQUESTED: 18,
  PARENT: 19, EXTRAS_AT: 20, EXTRAS_COUNT: 21, POLICY_BASE: 32,
} as const;
/** Run slots: the program's own figures and the exact peaks (assembly/abi.ts R_*, P_*). */
export const R = {
  LIVE_BYTES: 0, LIVE_BLOCKS: 1, LIVE_PEAK: 2, LIVE_PEAK_EVENT: 3, HEAPS_COMMITTED: 4, HEAPS_COMMITTED_PEAK: 5,
  HEAPS_COMMITTED_PEAK_EVENT: 6, HEAPS_RESIDENT: 7, HEAPS_RESIDENT_PEAK: 8, HEAPS_RESIDENT_PEAK_EVENT: 9,
  PROCESS_COMMITTED_PEAK: 10, PROCESS_COMMITTED_PEAK_EVENT: 11, PROCESS_RESIDENT_PEAK: 12, PROCESS_RESIDENT_PEAK_EVENT: 13,
  FAILED_ALLOCS: 14, FAILED_BYTES: 15, FIRST_FAIL_EVENT: 16, FIRST_FAIL_BYTES: 17, FIRST_FAIL_REASON: 18,
  FIRST_FAIL_HEAP: 19, IMPLICIT_FREES: 20, AT_PEAK_LIVE: 21, AT_PEAK_RESIDENT: 22, HEAP_PEAKS: 24,
} as const;
export const P = {
  COMMITTED: 0, COMMITTED_EVENT: 1, RESIDENT: 2, RESIDENT_EVENT: 3, RESERVED: 4, RESERVED_EVENT: 5,
  REQUESTED: 6, REQUESTED_EVENT: 7,
} as const;
/** FailReason of assembly/abi.ts, by value. */
export const FAIL_REASONS = ['none', 'address-space', 'policy-limit'] as const;
export type FailReasonName = (typeof FAIL_REASONS)[number];
/** FREE op arg bit: the free is implicit (not an event). */
export const FREE_IMPLICIT = 1;
/** Counters of its own a policy has room for in every sample (slots K.POLICY_BASE .. HEAP_SLOTS-1). */
export const POLICY_COUNTERS = HEAP_SLOTS - K.POLICY_BASE;
