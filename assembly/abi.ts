// === heapsim ABI: what crosses the JS/WASM boundary ===
//
// Glossary (used the same way in every file of assembly/ and src/):
//   page     the simulated OS page, always PAGE_SIZE_BYTES (4 KiB). Never a policy's run of memory.
//   region   one reservation of the simulated address space (VirtualAlloc MEM_RESERVE / mmap),
//            64 KiB aligned, with a type, a usage and an owner heap.
//   heap     one allocator instance (a policy plus its state) inside an engine, index 0..MAX_HEAPS-1.
//   block    what a policy hands out or keeps free: address + size, in the policy's own records.
//   handle   a policy's u32 name for one of its live blocks (0 = none); the engine maps ids to handles.
//   id       the host's dense u32 name for a live block; chosen by the host, reused after free.
//   granule  a policy's allocation unit (8 or 16 bytes).
//
// ╒═══════════════ op record (16 bytes, 4 × u32, little endian) ═══════════════╕
// │ w0: opcode (bits 0-7) | heap (bits 8-15) | arg (bits 16-31)                │
// │ w1: id                                                                     │
// │ w2: size, low 32 bits                                                      │
// │ w3: size, high 32 bits                                                     │
// ╘════════════════════════════════════════════════════════════════════════════╛
//   ALLOC / CALLOC           heap, id, size                  (calloc: size = n × m, computed by the host)
//   ALIGNED_ALLOC            heap, id, size, arg = log2(alignment)
//   REALLOC                  heap, id, size                  (id must be live; the id keeps its name)
//   FREE                     heap, id; arg bit 0 = implicit: the free is not an event (a trace's
//                            allocator handed the block's address out again, so it was freed)
//   MARK                     arg = label index (host-side string table); takes a sample
//   TICK                     size = simulated time in nanoseconds to add (kit/clock.ts)
//   TRIM                     heap, size = pad bytes           (HeapCompact / malloc_trim)
//   HEAP_CREATE              heap = new index, arg = policy id, id = parent heap + 1 (0: the VM),
//                            size low = first params slot, size high = params count
//   HEAP_DESTROY             heap
//   TOUCH                    heap, id, size = bytes written from the block start (resident pages)
//   SKIP                     size = events that produced no op (e.g. an unmatched free in a trace)
//   THREAD                   size = thread id (< 2^53): the following ops run on that thread
//                            (threads.ts maps ids to the dense slots kit/clock.ts clockThread() gives)
//   THREAD_END               size = thread id: the thread exited (each heap's threadEnd hook runs on
//                            it: thread caches flushed, arenas detached); not an event

// Version of everything in this file; bumped on every incompatible change. Mirrored in src/engine/abi.ts.
export const ABI_VERSION: i32 = 3;

export const OP_SIZE_BYTES: i32 = 16;
export const OP_WORDS: i32 = 4;

export const enum Op {
  NOP = 0,
  ALLOC = 1,
  CALLOC = 2,
  ALIGNED_ALLOC = 3,
  REALLOC = 4,
  FREE = 5,
  MARK = 6,
  TICK = 7,
  TRIM = 8,
  HEAP_CREATE = 9,
  HEAP_DESTROY = 10,
  TOUCH = 11,
  SKIP = 12,
  THREAD = 13,
  THREAD_END = 14,
  DEBUG_TRAP = 255, // debug builds only: traps on purpose, to test the host's trap path
}

// Outcome of a VM call or of one op. Expected failures are values, never traps.
export const enum Status {
  OK = 0,
  MISALIGNED = 1,          // address or size not on the required boundary
  OUT_OF_RANGE = 2,        // outside the user address range of the architecture
  NOT_RESERVED = 3,        // range not inside one reservation
  OVERLAP = 4,             // reserve-at over an existing reservation
  NOT_REGION_BASE = 5,     // release/resize not at a reservation's base
  NO_ADDRESS_SPACE = 6,    // no free range large enough
  BAD_SIZE = 7,            // zero, or not a multiple of the page size
  NOT_COMMITTED = 8,       // touch/purge of pages that are not committed
  UNKNOWN_ID = 9,          // free/realloc of an id that is not live (double free, never allocated)
  ID_IN_USE = 10,          // alloc into an id that is still live
  BAD_HEAP = 11,           // heap index not created, or already created
  BAD_OPCODE = 12,
  OUT_OF_MEMORY = 13,      // the policy could not satisfy the request (heap limit, address space)
  BAD_PARAM = 14,          // unknown policy or parameter value out of range
  HEAP_HAS_CHILDREN = 15,  // destroy of a heap that other heaps take memory from
  ID_OUT_OF_RANGE = 16,    // id >= id table capacity limit
  TOO_MANY_THREADS = 17,   // more threads alive at once than threads.ts MAX_THREADS
  UNKNOWN_THREAD = 18,     // THREAD_END of a thread id that has no slot (never seen, or ended)
}

// Architectures.
export const enum Arch {
  X86 = 0,      // 2 GiB user space 0x00010000..0x7FFEFFFF
  X86_3GB = 1,  // /3GB: 0x00010000..0xBFFEFFFF
  X64 = 2,      // 128 TiB user space 0x00010000..0x7FFFFFFEFFFF
}

// Region types (MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE).
export const enum RegionType {
  PRIVATE = 0,
  MAPPED = 1,
  IMAGE = 2,
}
export const REGION_TYPE_COUNT: i32 = 3;

// Region usages, as !address names them (old name / new name).
export const enum Usage {
  OTHER = 0,              // RegionUsageIsVAD / <unknown>
  HEAP = 1,               // RegionUsageHeap / Heap
  STACK = 2,              // RegionUsageStack / Stack
  IMAGE = 3,              // RegionUsageImage / Image
  TEB = 4,                // RegionUsageTeb / TEB
  PEB = 5,                // RegionUsagePeb / PEB
  PROCESS_PARAMETERS = 6, // RegionUsageProcessParametrs / Other
  ENVIRONMENT_BLOCK = 7,  // RegionUsageEnvironmentBlock / Other
  PAGE_HEAP = 8,          // RegionUsagePageHeap / PageHeap
  MAPPED_FILE = 9,        // (old: IsVAD) / MappedFile
}
export const USAGE_COUNT: i32 = 10;

// Policies: ids are positions in assembly/policies/registry.ts (1, 2, ...); see assembly/kit/policy.ts.

export const MAX_HEAPS: i32 = 8;
export const NO_OWNER: u8 = 255;

// ╒═══ sample record: SAMPLE_SLOTS × f64 ═══╕
// │ header (8) │ vm (48) │ heap 0 (64) │ … │ heap MAX_HEAPS-1 (64) │ run (RUN_SLOTS) │
// ╘═════════════════════════════════════════╛
export const SAMPLE_HEADER_SLOTS: i32 = 8;
export const VM_SLOTS: i32 = 48;
export const HEAP_SLOTS: i32 = 64;
export const RUN_HEAP_SLOTS: i32 = 8;
export const RUN_SLOTS: i32 = 24 + MAX_HEAPS * RUN_HEAP_SLOTS;
export const RUN_BASE: i32 = SAMPLE_HEADER_SLOTS + VM_SLOTS + MAX_HEAPS * HEAP_SLOTS;
export const SAMPLE_SLOTS: i32 = RUN_BASE + RUN_SLOTS;

// Header slots.
export const H_EVENT: i32 = 0;       // ops executed since engine creation, after this op
export const H_MARK: i32 = 1;        // label index for MARK samples, -1 for periodic samples
export const H_TICK: i32 = 2;        // simulated time
export const H_HEAPS: i32 = 3;       // bitmask of live heaps
export const H_FAILED_OPS: i32 = 4;  // ops that returned a non-OK status so far

// VM slots (offset inside the vm block).
export const V_TOTAL: i32 = 0;             // user address space size
export const V_RESERVED: i32 = 1;          // bytes in reservations (committed or not)
export const V_COMMITTED: i32 = 2;
export const V_RESIDENT: i32 = 3;
export const V_FREE: i32 = 4;              // address space not reserved
export const V_LARGEST_FREE: i32 = 5;      // largest free range
export const V_REGIONS: i32 = 6;
export const V_COMMITTED_RUNS: i32 = 7;    // VirtualQuery-style committed ranges
export const V_UNCOMMITTED_RUNS: i32 = 8;  // reserved-not-committed ranges
export const V_FREE_RUNS: i32 = 9;
export const V_COMMITTED_PEAK: i32 = 10;
export const V_RESIDENT_PEAK: i32 = 11;
export const V_COMMIT_CALLS: i32 = 12;
export const V_DECOMMIT_CALLS: i32 = 13;
export const V_USAGE_BYTES: i32 = 14;      // + Usage, USAGE_COUNT slots
export const V_USAGE_REGIONS: i32 = 24;    // + Usage
export const V_TYPE_BYTES: i32 = 34;       // + RegionType
export const V_TYPE_REGIONS: i32 = 37;     // + RegionType
export const V_LARGEST_FREE_BASE: i32 = 40;
if (V_TYPE_REGIONS + REGION_TYPE_COUNT > VM_SLOTS) ERROR("VM slots overflow");
if (V_USAGE_REGIONS + USAGE_COUNT > V_TYPE_BYTES) ERROR("usage slots overlap");

// Heap slots: 0..K_POLICY_BASE-1 common to every policy (20..31 free for more), K_POLICY_BASE..
// HEAP_SLOTS-1 the policy's own counters (kit/counters.ts; names in each PolicyDef.counters).
export const K_POLICY: i32 = 0;           // 0 = slot unused
export const K_RESERVED: i32 = 1;         // bytes of regions owned by the heap (segments + large blocks)
export const K_COMMITTED: i32 = 2;
export const K_RESIDENT: i32 = 3;
export const K_BUSY: i32 = 4;             // bytes in busy blocks, headers and rounding included
export const K_REQUESTED: i32 = 5;        // bytes the program asked for, live blocks only
export const K_LIVE_BLOCKS: i32 = 6;
export const K_FREE: i32 = 7;             // bytes in the policy's free blocks (committed)
export const K_FREE_BLOCKS: i32 = 8;
export const K_LARGEST_FREE: i32 = 9;
export const K_UNCOMMITTED_RANGES: i32 = 10;
export const K_SEGMENTS: i32 = 11;
export const K_VIRTUAL_BLOCKS: i32 = 12;  // blocks with their own reservation
export const K_VIRTUAL_BYTES: i32 = 13;
export const K_ALLOCS: i32 = 14;          // successful alloc-like ops, cumulative
export const K_FREES: i32 = 15;
export const K_FAILED_ALLOCS: i32 = 16;
export const K_PEAK_COMMITTED: i32 = 17;
export const K_PEAK_BUSY: i32 = 18;
export const K_PARENT: i32 = 19;          // parent heap index, -1 = the VM
export const K_EXTRAS_AT: i32 = 20;       // first of the heap's sample extras (kit/extras.ts) in the batch's extras
export const K_EXTRAS_COUNT: i32 = 21;    // how many
export const K_POLICY_BASE: i32 = 32;     // 32 policy-specific slots

// Run slots (offset inside the run block): the program's own figures, counted apart from every
// policy, and the exact peaks (taken after every op, not at samples) with the event count at which
// each was first reached (0 = before the first event). "Heaps" = every region a heap owns.
export const R_LIVE_BYTES: i32 = 0;                 // bytes the program asked for and has not freed
export const R_LIVE_BLOCKS: i32 = 1;                //   (failed allocations included: the program
export const R_LIVE_PEAK: i32 = 2;                  //    holds what it asked for under every policy)
export const R_LIVE_PEAK_EVENT: i32 = 3;
export const R_HEAPS_COMMITTED: i32 = 4;
export const R_HEAPS_COMMITTED_PEAK: i32 = 5;
export const R_HEAPS_COMMITTED_PEAK_EVENT: i32 = 6;
export const R_HEAPS_RESIDENT: i32 = 7;
export const R_HEAPS_RESIDENT_PEAK: i32 = 8;
export const R_HEAPS_RESIDENT_PEAK_EVENT: i32 = 9;
export const R_PROCESS_COMMITTED_PEAK: i32 = 10;
export const R_PROCESS_COMMITTED_PEAK_EVENT: i32 = 11;
export const R_PROCESS_RESIDENT_PEAK: i32 = 12;
export const R_PROCESS_RESIDENT_PEAK_EVENT: i32 = 13;
export const R_FAILED_ALLOCS: i32 = 14;             // allocations (and reallocs) the policy refused
export const R_FAILED_BYTES: i32 = 15;              // bytes they asked for
export const R_FIRST_FAIL_EVENT: i32 = 16;          // event number of the first (0 = none)
export const R_FIRST_FAIL_BYTES: i32 = 17;
export const R_FIRST_FAIL_REASON: i32 = 18;         // FailReason
export const R_FIRST_FAIL_HEAP: i32 = 19;
export const R_IMPLICIT_FREES: i32 = 20;            // FREE ops with the implicit bit
export const R_AT_PEAK_LIVE: i32 = 21;              // the program's live bytes when the heaps' committed
export const R_AT_PEAK_RESIDENT: i32 = 22;          //   peak was reached, and the heaps' resident bytes
export const R_HEAP_PEAKS: i32 = 24;                // + heap × RUN_HEAP_SLOTS:
export const P_COMMITTED: i32 = 0;                  //   committed (a stacked heap: what it holds from its parent)
export const P_COMMITTED_EVENT: i32 = 1;
export const P_RESIDENT: i32 = 2;
export const P_RESIDENT_EVENT: i32 = 3;
export const P_RESERVED: i32 = 4;
export const P_RESERVED_EVENT: i32 = 5;
export const P_REQUESTED: i32 = 6;                  //   what its callers asked for (K_REQUESTED)
export const P_REQUESTED_EVENT: i32 = 7;
if (R_AT_PEAK_RESIDENT >= R_HEAP_PEAKS) ERROR("run slots overlap");

// Why an allocation failed.
export const enum FailReason {
  NONE = 0,
  ADDRESS_SPACE = 1,  // the VM had no free range for a reservation the policy needed
  POLICY_LIMIT = 2,   // the policy refused without running out of address space (a size it cannot serve)
}
