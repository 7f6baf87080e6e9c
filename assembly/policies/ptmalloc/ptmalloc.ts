// === ptmalloc: glibc 2.36 malloc, x86-64: the main arena, thread arenas, a tcache per thread ===
//
// A model of the allocator Debian 12 ships, precise enough that mallinfo2() and malloc_stats()'s
// per-arena figures come out byte for byte as the real ones after the same calls from the same
// threads (checked against the real glibc by test/oracle/). The rules were read from glibc-2.36
// malloc/malloc.c and arena.c and are restated here in our own words; docs/glibc-malloc.md and
// docs/ptmalloc.md summarise them with the measured facts.
//
// What a call does, in order:
//   malloc(n)   nb = max(32, (n + 8 + 15) & ~15). The calling thread's cache ("tcache", 64 sizes
//               of 32…1040 bytes, up to 7 chunks each) answers first. Then the thread's arena:
//               fastbin of nb (LIFO, chunks ≤ 128 bytes, never coalesced), small bin of nb (FIFO,
//               exact size), else for big requests a consolidation of every fastbin first. Then
//               the unsorted list is drained from its oldest end: the last remainder may be split
//               for a small request, an exact fit is taken (or parked in the tcache while it has
//               room), everything else is filed into its small or large bin. Then best fit in
//               nb's large bin, then the smallest chunk of the next non-empty bin, then the top
//               chunk, then (once) consolidation and a retry, and only then the system: a private
//               mapping when nb ≥ the mmap threshold, else the main arena's break grows by
//               nb + top_pad + 32 − top, rounded up to whole pages, and a thread arena's heap
//               grows in place or a new heap is mapped.
//   free(p)     mapped chunk: the dynamic threshold rule, then unmap. Else the *calling* thread's
//               tcache, else into the arena the chunk belongs to (whoever frees it): fastbin, or
//               coalesce with free neighbours (into top when it borders top) and put the result
//               at the head of the unsorted list. A coalesced size of 64 KiB or more
//               consolidates the fastbins and then trims: the main arena shrinks its break when
//               top ≥ trim_threshold (systrim), a thread arena drops heaps that hold nothing but
//               top and shrinks its last heap (heap_trim).
//   realloc, calloc, memalign, malloc_trim: see the functions below.
//
// Threads (the kit clock's clockThread() is the calling thread's slot; the engine frees a slot at
// THREAD_END, after threadEnd below has run):
//   - the thread that makes the process's first call gets the main arena (ptmalloc_init);
//   - any other thread gets an arena at its first call that needs one (malloc, calloc, realloc
//     and a free of a non-mapped chunk set up the tcache first, which takes its 640 bytes from
//     the thread's arena; memalign asks for an arena directly): the head of the free list (arenas
//     whose threads all exited) if there is one; else a new arena while fewer than the limit exist
//     (arena_max, else 8 × cores once more than arena_test arenas exist, else no limit); else the
//     next arena of the circular list main → newest → … → oldest after the one handed out last
//     (reused_arena: one event at a time, every trylock succeeds);
//   - a thread arena lives in heaps: HEAP_MAX_SIZE (64 MiB) regions aligned to their size, of which
//     a prefix is read-write (heap.size, page multiple); the first holds heap_info, the arena's
//     malloc_state and then chunks; a new heap is mapped when the last cannot grow, and the old
//     top is freed leaving a 32-byte fencepost at the end of the old heap;
//   - at a thread's exit its tcache chunks are freed (each into its own arena, no tcache), then the
//     tcache itself, and its arena goes on the free list when no other thread is attached to it.
//
// Simulated layout: the break segment is one VM region (bottom-up, page aligned) grown and shrunk
// in place with vmResize; every mapped chunk is its own region (top-down, page aligned); every
// thread-arena heap is a 64 MiB region at a 64 MiB aligned address, committed up to the most it
// ever was (mprotect_size; shrinking purges, as madvise(MADV_DONTNEED) does). Chunks are records
// in a pool (nothing of the simulated heap lives in linear memory):
//
// ╒════════════════════ chunk record (REC_BYTES = 20) ════════════════════╕
// │ 0 u64: bits 0..42 addrG (chunk address / 16; user pointer = addr + 16) │
// │        bits 43..47 arena code │ byte 6 state u8 │ byte 7 bin u7 + HEAD │
// │ 8 nextPhys u32 (address-order next; a mapped chunk: its list's fd)     │
// │ 12 sizeG u32 (chunk size / 16) in a sized state, else fd               │
// │ 16 bk u32                    bin / fastbin / tcache links (0 = the bin) │
// ╘════════════════════════════════════════════════════════════════════════╝
//   A chunk in a bin, a tcache or a fastbin (ST_BIN, ST_TCACHE, ST_FAST) keeps its list's fd where
//   the others keep their size: its size is its successor's address less its own (such a chunk
//   always has a successor: top or a fence ends every chain), read where the successor's record is
//   in hand or the size is known otherwise (a tcache or fastbin holds one size; a merge knows both
//   ends). The size is stored again when the chunk leaves for a sized state (setStateAt). In use,
//   top, a fence and a mapped chunk (the sized states) keep it stored: free's tcache index and
//   the hand-out read it alone. A mapped chunk has no successor and links its list through
//   nextPhys and bk.
//   Chunk addresses are 16-byte aligned and below 2^47 (x64's user space), so an address is 43
//   bits of granules. The arena code is the arena's index for the first ARENA_CODE_WIDE arenas,
//   ARENA_CODE_NONE for a mapped chunk (NO_ARENA), else ARENA_CODE_WIDE: the index is in the wide
//   arena table (u32 per record index, its pages touched only where such a chunk's index falls).
//   There is no prevPhys: coalescing looks back only at a binned chunk (glibc reads prev_size only
//   when PREV_INUSE is clear), so the chunk after a binned chunk names it in its own bk, which no
//   chunk out of the bins uses (tcache and fastbin lists link through fd only): the binned-prev
//   link. It is written when a chunk is linked into a bin with a new successor (and where a binned
//   chunk's successor changes in place) and may go stale once that chunk leaves its bin, so a
//   reader trusts bk = q only when q is in a bin and q's nextPhys is the reader (binnedPrev).
//   A record is 12 bytes smaller than the 32 of prevPhys, a u64 address with a u16 arena and a
//   size beside fd: ~1.2 M records at a large replay's high-water mark are ~3,500 fewer fresh
//   pages a process (4 of them, ~1,070 pages, the size shared with fd).
//   Two fields only a few chunks need live in a side table indexed like the records (SIDE_BYTES
//   = 8, its pages touched only where such a chunk's index falls): a large-bin chunk that heads
//   its size (HEAD bit set) keeps its size links there (fdNext u32 │ bkNext u32), a mapped chunk
//   the offset of the chunk in its mapping (u32 at 0). Any other chunk's side entry is stale and
//   never read.
//   Bin lists keep glibc's orientation: a bin's `first` is the newest (head), `last` the oldest,
//   chunk.fd points towards `last`. Large bins are sorted by size, largest first; the first chunk
//   of each size is the size-list head and later chunks of that size go right behind it.
//   A thread-arena heap's chunks are chained from its first chunk; every heap but the arena's
//   last ends with a FENCE record (glibc's two fenceposts, 32 bytes, in use).
//
// Invariants (ptCheck returns the number of the first that fails):
//   P1 the break segment's records tile [base, base + arena) in address order and end with top;
//      each thread-arena heap's records tile it from its first chunk to its end, the last heap
//      ending with top, the others with a fence
//   P2 no chunk in a bin borders another chunk in a bin or top (free chunks are coalesced)
//   P3 every bin list is consistent (links, bin index, size range), large bins sorted, size
//      links exactly the heads; the bin bitmap's bit set exactly for the bins holding a chunk;
//      fastbin and tcache lists hold chunks of their size; every list ends (no walk meets more
//      chunks than records exist: a cycle fails here, see listBound)
//   P4 the counters (bin, fastbin, tcache, mapped, system memory) equal a recount; the residency
//      epoch the heap noted is never the saturated one (epochTrusted's one compare counts on it)
//   P5 the arena list, free list and attachments are consistent (each thread's arena exists;
//      attached counts equal the threads attached; free-list arenas have none)

import { resize, resizeZeroed } from "../../mem";
import { Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_SEGMENTS, K_VIRTUAL_BLOCKS,
  K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage } from "../../abi";
import { PAGE_SIZE_BYTES, PAGE_SHIFT, alignUp, alignDown, KiB, MiB } from "../../vm/constants";
import { vmReserve, vmCommit, vmRelease, vmResize, vmPurge, touchPages, vmOwnerResident, vmAllResident,
  vmResidencyEpoch, vmResidencyHolds, RESIDENCY_EPOCH_SATURATED, RESERVE_TOP_DOWN, RESERVE_PAGE_ALIGNED } from "../../vm/space";
import { CHECKS } from "../../checks";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, poolBytes, reserveForHint } from "../../kit/records";
import { paramValue as param } from "../../kit/params";
import { clockThread } from "../../kit/clock";
import { sampleExtra } from "../../kit/extras";

// ---------------------------------------------------------------- glibc constants (x86-64)

const SIZE_SZ: u64 = 8;                       // malloc-size.h: SIZE_SZ
const MALLOC_ALIGNMENT: u64 = 16;             // malloc-alignment.h: MALLOC_ALIGNMENT
const ALIGN_MASK: u64 = MALLOC_ALIGNMENT - 1; // malloc.c: MALLOC_ALIGN_MASK
const CHUNK_HDR_SZ: u64 = 16;                 // malloc.c: CHUNK_HDR_SZ
const MINSIZE: u64 = 32;                      // malloc.c: MINSIZE
const MALLOC_CHUNK_BYTES: u64 = 48;           // malloc.c: sizeof (struct malloc_chunk)
const MIN_LARGE_SIZE: u64 = 1024;             // malloc.c: MIN_LARGE_SIZE
const NBINS: i32 = 128;                       // malloc.c: NBINS
const UNSORTED: i32 = 1;                      // malloc.c: unsorted_chunks is bin 1
const NFASTBINS: i32 = 10;                    // malloc.c: NFASTBINS
const MAX_FAST_SIZE: u64 = 160;               // malloc.c: MAX_FAST_SIZE
const DEFAULT_MXFAST: u64 = 128;              // malloc.c: DEFAULT_MXFAST
const TCACHE_MAX_BINS: u32 = 64;              // malloc.c: TCACHE_MAX_BINS
const TCACHE_FILL_COUNT: u32 = 7;             // malloc.c: TCACHE_FILL_COUNT
const MAX_TCACHE_COUNT: u64 = 65535;          // malloc.c: MAX_TCACHE_COUNT
const MAX_TCACHE_SIZE: u64 = 1032;            // malloc.c: MAX_TCACHE_SIZE = tidx2usize (63)
const TCACHE_STRUCT_BYTES: u64 = 640;         // malloc.c: sizeof (tcache_perthread_struct)
const FASTBIN_CONSOLIDATION_THRESHOLD: u64 = 65536; // malloc.c: FASTBIN_CONSOLIDATION_THRESHOLD
const MAX_ITERS: i32 = 10000;                 // malloc.c: MAX_ITERS (unsorted chunks per pass)
const DEFAULT_MMAP_THRESHOLD: u64 = 128 * KiB;       // malloc.c: DEFAULT_MMAP_THRESHOLD_MIN
const DEFAULT_MMAP_THRESHOLD_MAX: u64 = 32 * MiB;    // malloc.c: 4 * 1024 * 1024 * sizeof (long)
const DEFAULT_TRIM_THRESHOLD: u64 = 128 * KiB;       // malloc.c: DEFAULT_TRIM_THRESHOLD
const DEFAULT_TOP_PAD: u64 = 128 * KiB;              // malloc-machine.h: DEFAULT_TOP_PAD
const DEFAULT_MMAP_MAX: u64 = 65536;                 // malloc.c: DEFAULT_MMAP_MAX
const IS_MMAPPED: u64 = 2;                    // malloc.c: IS_MMAPPED flag bit in the size word
const PTRDIFF_MAX: u64 = 0x7FFFFFFFFFFFFFFF;  // checked_request2size's limit
const HEAP_MIN_SIZE: u64 = 32 * KiB;          // arena.c: HEAP_MIN_SIZE
const HEAP_MAX_SIZE: u64 = 2 * DEFAULT_MMAP_THRESHOLD_MAX; // arena.c: HEAP_MAX_SIZE (64 MiB)
const HEAP_INFO_BYTES: u64 = 48;              // arena.c: sizeof (heap_info)
const MALLOC_STATE_BYTES: u64 = 2200;         // malloc.c: sizeof (struct malloc_state)
const FENCE_BYTES: u64 = 2 * CHUNK_HDR_SZ;    // malloc.c sysmalloc: two fenceposts end an old heap
const NARENAS_PER_CORE: u64 = 8;              // arena.c: NARENAS_FROM_NCORES (64-bit)
const DEFAULT_ARENA_TEST: u64 = 8;            // malloc.c: NARENAS_FROM_NCORES (1)
const DEFAULT_CORES: u64 = 2;                 // arena.c arena_get2: "Assume two cores" when unknown

// Model limits (ours): sizes are kept in 16-byte units in a u32; arena indexes in a u16.
const MAX_CHUNK_BYTES: u64 = (<u64>0xFFFFFFFF) << 4;
const MAX_TOP_PAD: u64 = <u64>1 << 40;        // keeps nb + top_pad + 32 far from overflow
const MAX_ARENAS: u64 = 65535;                // more arenas are never made: threads reuse
const NO_ARENA: u32 = 0xFFFF;
const MAIN: u32 = 0;
const MAX_CORES: u64 = 1 << 20;

// Parameters (slot index in the HEAP_CREATE params block; NaN = not set, glibc's default).
export const PT_TCACHE_COUNT = 0;           // glibc.malloc.tcache_count, default 7, ≤ 65535
export const PT_TCACHE_MAX = 1;             // glibc.malloc.tcache_max, default 1032 (bytes), ≤ 1032
export const PT_MXFAST = 2;                 // glibc.malloc.mxfast / M_MXFAST, default 128, ≤ 160
export const PT_TRIM_THRESHOLD = 3;         // M_TRIM_THRESHOLD, default 128 KiB (dynamic)
export const PT_MMAP_THRESHOLD = 4;         // M_MMAP_THRESHOLD, default 128 KiB (dynamic)
export const PT_TOP_PAD = 5;                // M_TOP_PAD, default 128 KiB
export const PT_MMAP_MAX = 6;               // M_MMAP_MAX, default 65536
export const PT_TCACHE_UNSORTED_LIMIT = 7;  // glibc.malloc.tcache_unsorted_limit, default 0 (none)
export const PT_ARENA_MAX = 8;              // glibc.malloc.arena_max / MALLOC_ARENA_MAX, 0 = from cores
export const PT_ARENA_TEST = 9;             // glibc.malloc.arena_test / MALLOC_ARENA_TEST, default 8
export const PT_CORES = 10;                 // the machine's cores (get_nprocs), default 2
export const PT_PARAM_COUNT = 11;

// Policy counter slots: mallinfo2() in its field order, then ours.
const S_ARENA = K_POLICY_BASE + 0;
const S_ORDBLKS = K_POLICY_BASE + 1;
const S_SMBLKS = K_POLICY_BASE + 2;
const S_HBLKS = K_POLICY_BASE + 3;
const S_HBLKHD = K_POLICY_BASE + 4;
const S_USMBLKS = K_POLICY_BASE + 5;
const S_FSMBLKS = K_POLICY_BASE + 6;
const S_UORDBLKS = K_POLICY_BASE + 7;
const S_FORDBLKS = K_POLICY_BASE + 8;
const S_KEEPCOST = K_POLICY_BASE + 9;
const S_TCACHE_BYTES = K_POLICY_BASE + 10;   // chunks parked in tcaches (counted in uordblks)
const S_MMAP_THRESHOLD = K_POLICY_BASE + 11; // current mmap threshold (moves with the dynamic rule)
const S_ARENAS = K_POLICY_BASE + 12;         // arenas (main included)
const S_ARENA_HEAPS = K_POLICY_BASE + 13;    // heaps of the thread arenas
const S_ARENA_LIMIT = K_POLICY_BASE + 14;    // narenas_limit once glibc has fixed it (0 = not yet: no limit)
const S_FREE_ARENAS = K_POLICY_BASE + 15;    // arenas on the free list (no thread attached)

/** Values per arena in the sample extras (kit/extras.ts), in this order, arenas in glibc's list order. */
export const PT_ARENA_EXTRAS: i32 = 8;       // system, in use, free, top, tcache, attached threads, heaps, fastbins

// ---------------------------------------------------------------- records

const REC_BYTES: usize = 20;
const R_ADDR: usize = 0;            // u64: address granules, arena code, state, bin byte
const R_ARENA: usize = 5;           // the byte holding the arena code (its top ARENA_CODE_BITS)
const R_STATE: usize = 6;
const R_BIN: usize = 7;
const R_NEXT: usize = 8;            // the next chunk in address order; a mapped chunk: its list's fd
const R_SIZEG: usize = 12;          // size granules of a chunk in a sized state (see isSizedState)
const R_FD: usize = 12;             // ... and the list link of one in a bin, a tcache or a fastbin
const R_BK: usize = 16;             // bin link; out of the bins: the binned-prev link
const ADDR_G_BITS: u64 = 43;        // x64 user addresses are below 2^47: 43 bits of 16-byte granules
const ADDR_G_MASK: u64 = (<u64>1 << ADDR_G_BITS) - 1;
const ARENA_CODE_BITS: u32 = 5;     // bits ADDR_G_BITS.. of the first word (the top of byte R_ARENA)
const ARENA_CODE_SHIFT: u32 = 8 - ARENA_CODE_BITS; // the code's place in byte R_ARENA
const ARENA_CODE_MASK: u32 = (1 << ARENA_CODE_BITS) - 1;
const ADDR_AND_ARENA_MASK: u64 = (<u64>1 << (ADDR_G_BITS + <u64>ARENA_CODE_BITS)) - 1; // below the state byte
const ARENA_CODE_WIDE: u32 = 30;    // arena index >= this: in the wide arena table
const ARENA_CODE_NONE: u32 = 31;    // NO_ARENA (a mapped chunk)
const STATE_SHIFT: u64 = <u64>R_STATE << 3;
const BIN_SHIFT: u64 = <u64>R_BIN << 3;
const STATE_FIELD: u64 = <u64>0xFF << STATE_SHIFT;
const BIN_FIELD: u64 = <u64>0xFF << BIN_SHIFT;
const POOL_ALIGN_BYTES: u32 = 64;   // a cache line
const BIN_MASK: u8 = 0x7F;          // R_BIN: the bin index (NBINS = 128)
const HEAD_BIT: u8 = 0x80;          // R_BIN: a large-bin chunk heading its size (links in the side table)
// R_BIN of a chunk outside the bins (in use, tcache, fastbin) whose whole span [addr + 8, addr +
// size + 8) has been touched: the HEAD bit with bin 0, which no binned chunk has ("Touches it can
// skip" below). Anything else in R_BIN (a new record's 0, a bin index left by an unlink) = not known.
const WHOLE: u8 = HEAD_BIT;

// Side table entry (SIDE_BYTES), indexed like the records.
const SIDE_BYTES: usize = 8;
const S_FDNEXT: usize = 0;          // head of a size: next smaller size's head
const S_BKNEXT: usize = 4;          // head of a size: next larger size's head
const S_MAP_OFFSET: usize = 0;      // mapped chunk: offset of the chunk in its mapping

// Chunk states.
const ST_DEAD: u8 = 0;      // record on the dropped-record stack (newRec)
const ST_INUSE: u8 = 1;     // handed to the program (or the tcache struct)
const ST_TCACHE: u8 = 2;    // parked in a tcache (in use for the arena)
const ST_FAST: u8 = 3;      // in a fastbin (in use for the arena)
const ST_BIN: u8 = 4;       // in the unsorted list or a small/large bin (R_BIN says which)
const ST_TOP: u8 = 5;
const ST_MMAPPED: u8 = 6;   // its own mapping; the side entry holds the chunk's offset in it
const ST_FENCE: u8 = 7;     // the fenceposts at the end of an old thread-arena heap (in use)

// Every ptmalloc heap's chunk records, one kit pool (dropped records are bits in newRec's bitmap,
// not on the pool's free list).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>R_FD, 1024, POOL_ALIGN_BYTES);
// Chunk records per live block the pool is sized for from the replay's hint (kit/hint.ts): each
// in-use chunk, and at most one free chunk beside it (free neighbours coalesce; fastbin and tcache
// chunks count as in use).
const RECORDS_PER_LIVE_BLOCK: u32 = 2;

// @ts-ignore: decorator
@inline function R(c: u32): usize { return RECS.base + <usize>c * REC_BYTES; }
// @ts-ignore: decorator
@inline function addrOf(c: u32): u64 { return addrAt(R(c)); }
// @ts-ignore: decorator
@inline function setAddr(c: u32, a: u64): void {
  const p = R(c) + R_ADDR;
  if (CHECKS) assert((a & ALIGN_MASK) == 0 && (a >> 4) <= ADDR_G_MASK, "ptmalloc chunk address out of the record's range");
  store<u64>(p, (load<u64>(p) & ~ADDR_G_MASK) | (a >> 4));
}
// @ts-ignore: decorator
@inline function sizeOf(c: u32): u64 { return sizeAt(R(c)); }
// @ts-ignore: decorator
@inline function setSize(c: u32, s: u64): void { setSizeAt(R(c), s); }
// @ts-ignore: decorator
@inline function stateOf(c: u32): u8 { return load<u8>(R(c) + R_STATE); }
// @ts-ignore: decorator
@inline function setState(c: u32, s: u8): void { setStateAt(R(c), s); }
// @ts-ignore: decorator
@inline function binOf(c: u32): i32 { return <i32>(load<u8>(R(c) + R_BIN) & BIN_MASK); }
// @ts-ignore: decorator
@inline function setBin(c: u32, b: i32): void { const p = R(c); setBinByteAt(p, (load<u8>(p + R_BIN) & HEAD_BIT) | <u8>b); }
// @ts-ignore: decorator
@inline function isHead(c: u32): bool { return (load<u8>(R(c) + R_BIN) & HEAD_BIT) != 0; }
// @ts-ignore: decorator
@inline function arenaOf(c: u32): u32 { return arenaAt(R(c), c); }
// the arena of chunk c at p = R(c)
// @ts-ignore: decorator
@inline function arenaAt(p: usize, c: u32): u32 {
  const code = <u32>(load<u8>(p + R_ARENA) >> <u8>ARENA_CODE_SHIFT);
  return code < ARENA_CODE_WIDE ? code : arenaWide(c, code);
}
// @ts-ignore: decorator
@inline function fd(c: u32): u32 { return load<u32>(R(c) + R_FD); }
// @ts-ignore: decorator
@inline function bk(c: u32): u32 { return load<u32>(R(c) + R_BK); }
// @ts-ignore: decorator
@inline function setFd(c: u32, v: u32): void { store<u32>(R(c) + R_FD, v); }
// @ts-ignore: decorator
@inline function setBk(c: u32, v: u32): void { store<u32>(R(c) + R_BK, v); }
// Pointer style, for the hot paths. R(c) loads the pool's base (RECS.base, in linear memory) and
// the compiled code loads it again after every store (a store might have changed it), so a path
// that reads and writes several fields of several records pays a load, a shift and an add per
// field. The hot paths instead take the base once into a local (`rb`), address record c as
// at(rb, c) and read and write its fields through that pointer (the *At accessors). Only newRec
// (takeRecord: the pool may grow and move) makes rb and every pointer derived from it stale: a
// path that takes a record takes rb again after it.
// @ts-ignore: decorator
@inline function at(rb: usize, c: u32): usize { return rb + <usize>c * REC_BYTES; }
// @ts-ignore: decorator
@inline function addrAt(p: usize): u64 { return (load<u64>(p + R_ADDR) << (64 - ADDR_G_BITS)) >> (64 - ADDR_G_BITS - 4); }
// @ts-ignore: decorator
@inline function sizeAt(p: usize): u64 { return isSizedState(stateAt(p)) ? storedSizeAt(p) : nextSizeAt(RECS.base, p); }
// A chunk's size where its state is known (pointer style, see at()): stored (a sized state), or
// from its successor's address (in a bin, a tcache or a fastbin).
// @ts-ignore: decorator
@inline function storedSizeAt(p: usize): u64 {
  if (CHECKS) assert(isSizedState(stateAt(p)), "ptmalloc read a stored size of a chunk that keeps a link there");
  return <u64>load<u32>(p + R_SIZEG) << 4;
}
// @ts-ignore: decorator
@inline function nextSizeAt(rb: usize, p: usize): u64 {
  const n = nextAt(p);
  if (CHECKS) assert(n != 0, "ptmalloc derived the size of a chunk with no successor");
  return addrAt(at(rb, n)) - addrAt(p);
}
// The size of a chunk in a sized state is stored; setting it on any other is a no-op (its size
// follows from its successor's address, kept right by the caller).
// @ts-ignore: decorator
@inline function setSizeAt(p: usize, s: u64): void { if (isSizedState(stateAt(p))) store<u32>(p + R_SIZEG, <u32>(s >> 4)); }
// @ts-ignore: decorator
@inline function setStoredSizeAt(p: usize, s: u64): void { store<u32>(p + R_SIZEG, <u32>(s >> 4)); }
// @ts-ignore: decorator
@inline function stateAt(p: usize): u8 { return load<u8>(p + R_STATE); }
// A state change; from a linked state (bin, tcache, fastbin) to a sized one the size is stored,
// from the successor's address as it is now.
// @ts-ignore: decorator
@inline function setStateAt(p: usize, s: u8): void {
  if (isSizedState(s)) sizeForState(p);
  setMetaAt(p, STATE_FIELD, <u64>s << STATE_SHIFT);
}
// setStateAt where p's size needs no store (see setStateBinRawAt)
// @ts-ignore: decorator
@inline function setStateRawAt(p: usize, s: u8): void { setMetaAt(p, STATE_FIELD, <u64>s << STATE_SHIFT); }
// Before p enters a sized state: its size stored if it was in a linked one.
// @ts-ignore: decorator
@inline function sizeForState(p: usize): void {
  if (!isSizedState(stateAt(p))) setStoredSizeAt(p, nextSizeAt(RECS.base, p));
}
// The states whose record stores the size at R_SIZEG; the others (ST_TCACHE, ST_FAST, ST_BIN) keep
// the list link there (R_FD) and always have a successor.
// @ts-ignore: decorator
@inline function isSizedState(s: u8): bool { return <u32>(s - ST_TCACHE) > <u32>(ST_BIN - ST_TCACHE); }
// The state and bin bytes share the first word with the address, which the hot paths read as one
// u64 soon after they change a state: a byte store followed by a wider load of the same word stalls
// (the load cannot take its value from the store), so every store into the word is a whole-word
// store: bits of `field` replaced by `bits`.
// @ts-ignore: decorator
@inline function setMetaAt(p: usize, field: u64, bits: u64): void { store<u64>(p + R_ADDR, (load<u64>(p + R_ADDR) & ~field) | bits); }
// @ts-ignore: decorator
@inline function setBinByteAt(p: usize, b: u8): void { setMetaAt(p, BIN_FIELD, <u64>b << BIN_SHIFT); }
// Byte stores, for the few hot paths that read the address before them and whose record is not
// read as a whole word again right after (the hand-out, the tcache put, a link into a bin, a drop).
// @ts-ignore: decorator
@inline function setStateByteAt(p: usize, s: u8): void { store<u8>(p + R_STATE, s); }
// @ts-ignore: decorator
@inline function setStateBinAt(p: usize, s: u8, b: u8): void {
  if (isSizedState(s)) sizeForState(p);
  setStateBinRawAt(p, s, b);
}
// setStateBinAt where p's size needs no store (p stays in or enters a linked state, or its stored
// size is written by the caller)
// @ts-ignore: decorator
@inline function setStateBinRawAt(p: usize, s: u8, b: u8): void { store<u16>(p + R_STATE, <u16>s | (<u16>b << <u16>((R_BIN - R_STATE) << 3))); }
// @ts-ignore: decorator
@inline function fdAt(p: usize): u32 { return load<u32>(p + R_FD); }
// @ts-ignore: decorator
@inline function bkAt(p: usize): u32 { return load<u32>(p + R_BK); }
// @ts-ignore: decorator
@inline function nextAt(p: usize): u32 { return load<u32>(p + R_NEXT); }
// @ts-ignore: decorator
@inline function isWholeAt(p: usize): bool { return load<u8>(p + R_BIN) == WHOLE; }
// c is in a bin (c = 0: no chunk)
// @ts-ignore: decorator
@inline function isBinnedIn(rb: usize, c: u32): bool { return c != 0 && stateAt(at(rb, c)) == ST_BIN; }

// The side table (SIDE_BYTES per record index; sideCap entries, grown to the pool's capacity).
let sideBase: usize = 0;
let sideCap: u32 = 0;

function growSide(): void {
  const cap = RECS.cap;
  const base = heap.alloc(<usize>cap * SIDE_BYTES);
  // Entries are meaningful only while their record says so (HEAD bit, ST_MMAPPED): the old ones
  // move, the rest is left as it is (no first touch of pages no such chunk will ever use).
  if (sideBase) { memory.copy(base, sideBase, <usize>sideCap * SIDE_BYTES); heap.free(sideBase); }
  sideBase = base;
  sideCap = cap;
}
// @ts-ignore: decorator
@inline function side(c: u32): usize { return sideBase + <usize>c * SIDE_BYTES; }
// @ts-ignore: decorator
@inline function sideForWrite(c: u32): usize { if (c >= sideCap) growSide(); return side(c); }

// Large-bin size links: 0 for a chunk that heads no size.
// @ts-ignore: decorator
@inline function fdNext(c: u32): u32 { return isHead(c) ? load<u32>(side(c) + S_FDNEXT) : 0; }
// @ts-ignore: decorator
@inline function bkNext(c: u32): u32 { return isHead(c) ? load<u32>(side(c) + S_BKNEXT) : 0; }
// c heads its size, between the heads fwd (smaller) and bck (larger).
function setHeadLinks(c: u32, fwd: u32, bck: u32): void {
  const e = sideForWrite(c);
  store<u32>(e + S_FDNEXT, fwd);
  store<u32>(e + S_BKNEXT, bck);
  const p = R(c);
  setBinByteAt(p, load<u8>(p + R_BIN) | HEAD_BIT);
}
// @ts-ignore: decorator
@inline function setFdNext(c: u32, v: u32): void { store<u32>(side(c) + S_FDNEXT, v); }
// @ts-ignore: decorator
@inline function setBkNext(c: u32, v: u32): void { store<u32>(side(c) + S_BKNEXT, v); }
// c heads no size (any more).
// @ts-ignore: decorator
@inline function clearHead(c: u32): void { const p = R(c); setBinByteAt(p, load<u8>(p + R_BIN) & BIN_MASK); }
// @ts-ignore: decorator
@inline function isWhole(c: u32): bool { return load<u8>(R(c) + R_BIN) == WHOLE; }
// @ts-ignore: decorator
@inline function setWhole(c: u32): void { setBinByteAt(R(c), WHOLE); }
// @ts-ignore: decorator
@inline function clearWhole(c: u32): void { setBinByteAt(R(c), 0); }

// A mapped chunk's offset in its mapping.
// @ts-ignore: decorator
@inline function mapOffset(c: u32): u64 { return <u64>load<u32>(side(c) + S_MAP_OFFSET); }
// @ts-ignore: decorator
@inline function setMapOffset(c: u32, v: u64): void { store<u32>(sideForWrite(c) + S_MAP_OFFSET, <u32>v); }
// @ts-ignore: decorator
@inline function nextP(c: u32): u32 { return load<u32>(R(c) + R_NEXT); }
// A mapped chunk has no next chunk: its R_NEXT links the list of mapped chunks (its R_SIZEG holds
// its size, its bk the list's other link).
// @ts-ignore: decorator
@inline function mapFd(c: u32): u32 { return load<u32>(R(c) + R_NEXT); }
// @ts-ignore: decorator
@inline function setMapFd(c: u32, v: u32): void { store<u32>(R(c) + R_NEXT, v); }
// @ts-ignore: decorator
@inline function setNextP(c: u32, v: u32): void { store<u32>(R(c) + R_NEXT, v); }

// The binned-prev link (see the record): chunk c at p = R(c), not in a bin, names the chunk before
// it when that chunk is in a bin; 0 when the chunk before c is not in a bin (or there is none).
// @ts-ignore: decorator
@inline function binnedPrevIn(rb: usize, p: usize, c: u32): u32 {
  const q = bkAt(p);
  if (q) {
    const qp = at(rb, q);
    if (stateAt(qp) == ST_BIN) {
      if (nextAt(qp) == c) return q;
    }
  }
  return 0;
}
// @ts-ignore: decorator
@inline function binnedPrev(c: u32): u32 { return binnedPrevIn(RECS.base, R(c), c); }
// Binned chunk c at p (pool base rb): its successor names it (after c was linked into a bin with a
// successor it did not have there, or its successor changed in place).
// @ts-ignore: decorator
@inline function linkBack(rb: usize, p: usize, c: u32): void {
  const n = nextAt(p);
  if (n) store<u32>(at(rb, n) + R_BK, c);
}

// The wide arena table: the arena index of chunks whose arena code is ARENA_CODE_WIDE (u32 per
// record index, wideCap entries, grown to the pool's capacity; an entry is read only while its
// record says so).
let wideBase: usize = 0;
let wideCap: u32 = 0;

function growWide(): void {
  const cap = RECS.cap;
  const base = heap.alloc(<usize>cap << 2);
  if (wideBase) { memory.copy(base, wideBase, <usize>wideCap << 2); heap.free(wideBase); }
  wideBase = base;
  wideCap = cap;
}

// The arena of a chunk whose code is ARENA_CODE_WIDE or ARENA_CODE_NONE.
function arenaWide(c: u32, code: u32): u32 {
  return code == ARENA_CODE_NONE ? NO_ARENA : load<u32>(wideBase + (<usize>c << 2));
}

// A split's new record r takes c's wide arena entry.
function copyWideArena(r: u32, c: u32): void {
  if (r >= wideCap) growWide();
  store<u32>(wideBase + (<usize>r << 2), load<u32>(wideBase + (<usize>c << 2)));
}

// The arena code of arena a (>= ARENA_CODE_WIDE, or NO_ARENA) for record c (its wide entry written).
function arenaCodeWide(c: u32, a: u32): u32 {
  if (a == NO_ARENA) return ARENA_CODE_NONE;
  if (c >= wideCap) growWide();
  store<u32>(wideBase + (<usize>c << 2), a);
  return ARENA_CODE_WIDE;
}

// Dropped records: a bitmap over record indices (a set bit = dropped), with a summary bit per
// bitmap word that has a set bit. A new record is taken near a record the caller names (`near`:
// the chunk it is split from, the physical neighbour): the other record of near's pair (index
// xor 1, adjacent in memory) if it is dropped, else the dropped record closest to near in its 64-record word, else the first
// dropped record after near's word (wrapping round), and only when none is dropped a fresh one
// from the pool. Physical neighbours so get records in the same or nearby cache lines, as glibc's
// neighbouring chunks share lines, and coalescing (which reads both neighbours' records) misses
// less. Fresh records are still taken only when no dropped one is left, so the table grows no
// further than with any other reuse order. The kit pool's own free list is not used.
let freeBits: usize = 0;      // u64 per 64 record indices
let freeSummary: usize = 0;   // u64 per 64 bitmap words
let freeWords: u32 = 0;       // bitmap words allocated (a multiple of 64)
let droppedCount: u32 = 0;
const BITS_PER_WORD: u32 = 64;

// @ts-ignore: decorator
@inline function newRec(a: u64, size: u64, state: u8, arena: u32, near: u32): u32 {
  return newRecBefore(a, size, state, arena, near, 0);
}

// newRec with its address-order successor next (the neighbours' own links are the caller's). Its
// bk is 0: no binned-prev link (the caller writes one where the chunk before it is in a bin).
// @ts-ignore: decorator
@inline function newRecBefore(a: u64, size: u64, state: u8, arena: u32, near: u32, next: u32): u32 {
  const c = droppedCount ? takeDroppedNear(near) : takeRecord(RECS);
  const code = arena < ARENA_CODE_WIDE ? arena : arenaCodeWide(c, arena);
  const p = R(c);
  if (CHECKS) assert((a & ALIGN_MASK) == 0 && (a >> 4) <= ADDR_G_MASK, "ptmalloc chunk address out of the record's range");
  // Every field written with three stores (memory.fill is a call out of the WASM code in V8):
  // address granules, arena code, state, bin 0 (no HEAD bit); next, size granules (fd 0 in a linked
  // state); bk = 0.
  store<u64>(p + R_ADDR, (a >> 4) | (<u64>code << ADDR_G_BITS) | (<u64>state << STATE_SHIFT));
  const sizeG: u32 = isSizedState(state) ? <u32>(size >> 4) : 0;
  store<u64>(p + R_NEXT, <u64>next | (<u64>sizeG << ((R_SIZEG - R_NEXT) << 3)));
  store<u32>(p + R_BK, 0);
  return c;
}

// @ts-ignore: decorator
@inline function dropRec(c: u32): void { dropRecAt(R(c), c); }

// dropRec of c at p = R(c)
// @ts-ignore: decorator
@inline function dropRecAt(p: usize, c: u32): void { dropRecIn(p, c, false); }

// dropRecAt; covered (a constant): the bitmap is known to cover c (consolidation makes it cover
// every record taken before its loop, which takes none)
// @ts-ignore: decorator
@inline function dropRecIn(p: usize, c: u32, covered: bool): void {
  setStateByteAt(p, ST_DEAD); // (nothing reads a dropped record's first word as a whole)
  const wi = c >> 6;
  if (covered) {
    if (CHECKS) assert(wi < freeWords, "ptmalloc's dropped-record bitmap does not cover a record consolidation drops");
  } else if (wi >= freeWords) {
    growFreeBits(wi);
  }
  const wp = freeBits + (<usize>wi << 3);
  const w = load<u64>(wp);
  if (!w) {
    const sp = freeSummary + (<usize>(wi >> 6) << 3);
    store<u64>(sp, load<u64>(sp) | (<u64>1 << <u64>(wi & 63)));
  }
  store<u64>(wp, w | (<u64>1 << <u64>(c & 63)));
  droppedCount++;
}

// takeDroppedNear with its common case, a dropped record in near's own word, inline where `inl` (a
// constant): the last remainder's split (python.hst: 706 K of its 717 K takes a warm pass), the one
// frequent caller.
// @ts-ignore: decorator
@inline function takeDroppedNearIn(near: u32, inl: bool): u32 {
  if (!inl) return takeDroppedNear(near);
  const wi = near >> 6;
  if (wi < freeWords) {
    const w = load<u64>(freeBits + (<usize>wi << 3));
    if (w) return takeDroppedInWord(wi, w, near);
  }
  return takeDroppedNear(near);
}

// The dropped record nearest near in near's word wi (w: the word, not 0).
// @ts-ignore: decorator
@inline function takeDroppedInWord(wi: u32, w: u64, near: u32): u32 {
  const b = <u64>(near & 63);
  let bit: u64;
  if (w & (<u64>1 << (b ^ 1))) {
    bit = b ^ 1;                                   // near's pair
  } else {
    const up = w >> b;                             // b itself is not dropped (near is live)
    const down = w << (63 - b);
    const du: u64 = up ? ctz(up) : 64;
    const dd: u64 = down ? clz(down) : 64;
    bit = du <= dd ? b + du : b - dd;
  }
  return takeDroppedBit(wi, w, bit);
}

// Takes the dropped record nearest `near` (see above); at least one is dropped.
function takeDroppedNear(near: u32): u32 {
  const wi = near >> 6;
  let si: u32 = 0;
  let s: u64;
  if (wi < freeWords) {
    const w = load<u64>(freeBits + (<usize>wi << 3));
    if (w) return takeDroppedInWord(wi, w, near);
    // The first word with a dropped record after near's, wrapping round to the start.
    si = wi >> 6;
    s = load<u64>(freeSummary + (<usize>si << 3)) & ~((<u64>2 << <u64>(wi & 63)) - 1);
  } else {
    s = load<u64>(freeSummary);
  }
  const summaryWords = freeWords >> 6;
  while (!s) {
    si = si + 1 == summaryWords ? 0 : si + 1;
    s = load<u64>(freeSummary + (<usize>si << 3));
  }
  const at = (si << 6) + <u32>ctz(s);
  const w = load<u64>(freeBits + (<usize>at << 3));
  return takeDroppedBit(at, w, ctz(w));
}

// @ts-ignore: decorator
@inline function takeDroppedBit(wi: u32, w: u64, bit: u64): u32 {
  const rest = w & ~(<u64>1 << bit);
  store<u64>(freeBits + (<usize>wi << 3), rest);
  if (!rest) {
    const sp = freeSummary + (<usize>(wi >> 6) << 3);
    store<u64>(sp, load<u64>(sp) & ~(<u64>1 << <u64>(wi & 63)));
  }
  droppedCount--;
  const c = (wi << 6) + <u32>bit;
  if (CHECKS) assert(stateOf(c) == ST_DEAD, "ptmalloc took a chunk record that was not dropped");
  return c;
}

// The bitmap covers word wi (and the summary its bit); new words are zero.
function growFreeBits(wi: u32): void {
  let words: u32 = freeWords ? freeWords : BITS_PER_WORD;
  while (words <= wi) words <<= 1;
  freeBits = resizeZeroed(freeBits, <usize>freeWords << 3, <usize>words << 3);
  freeSummary = resizeZeroed(freeSummary, <usize>(freeWords >> 6) << 3, <usize>(words >> 6) << 3);
  freeWords = words;
}

// ╒═══ heap record (HREC_BYTES = 48): one mapped heap of a thread arena ═══╕
// │ 0 base u64 │ 8 size u64 (read-write part, heap_info.size) │ 16 mprotect u64  │
// │ 24 prev u32 (older heap of the arena, 0 = none) │ 28 first chunk u32     │
// │ 32 arena u32 │ 36 fence u32 (the record ending the heap once a newer one  │
// │ exists) │ 40 next u32 (pool free list) │ 44 spare                          │
// ╘══════════════════════════════════════════════════════════════════════════╛
const HREC_BYTES: usize = 48;
const HR_BASE: usize = 0;
const HR_SIZE: usize = 8;
const HR_MPROTECT: usize = 16;
const HR_PREV: usize = 24;
const HR_FIRST: usize = 28;
const HR_ARENA: usize = 32;
const HR_FENCE: usize = 36;
const HR_LINK: usize = 40;
const HEAPS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(HEAPS, <u32>HREC_BYTES, <u32>HR_LINK, 64);
// @ts-ignore: decorator
@inline function HR(h: u32): usize { return HEAPS.base + <usize>h * HREC_BYTES; }

// Engine bytes per record, for the memory benchmark.
export function ptRecordBytes(): usize { return REC_BYTES; }
export function ptEngineBytes(): usize {
  return poolBytes(RECS) + poolBytes(HEAPS) + <usize>sideCap * SIDE_BYTES + (<usize>wideCap << 2) +
    (<usize>freeWords << 3) + (<usize>(freeWords >> 6) << 3);
}

// ---------------------------------------------------------------- state: heap, arenas, threads

// ╒═══ heap state (G_BYTES), one per ptmalloc heap: glibc's mp_ and the arena/thread tables ═══╕
const G_N_MMAPS: usize = 0;           // u64
const G_MMAPPED_MEM: usize = 8;       // u64
const G_MMAP_THRESHOLD: usize = 16;   // u64
const G_TRIM_THRESHOLD: usize = 24;   // u64
const G_TOP_PAD: usize = 32;          // u64
const G_MAX_FAST: usize = 40;         // u64 global_max_fast
const G_N_MMAPS_MAX: usize = 48;      // u64
const G_TCACHE_COUNT: usize = 56;     // u64
const G_TCACHE_BINS: usize = 64;      // u64
const G_UNSORTED_LIMIT: usize = 72;   // u64
const G_ARENA_MAX: usize = 80;        // u64 (0 = not set)
const G_ARENA_TEST: usize = 88;       // u64
const G_CORES: usize = 96;            // u64
const G_NARENAS: usize = 104;         // u64 arenas made (narenas)
const G_NARENAS_LIMIT: usize = 112;   // u64 (0 = not fixed yet)
// 120..135 spare (the tcache totals are derived: ptSample sums A_TC_BYTES, ptCheck counts the lists)
const G_ARENAS: usize = 136;          // usize: table of arena state pointers (index = arena)
const G_ARENA_CAP: usize = 144;       // u32
const G_ARENA_COUNT: usize = 148;     // u32 arenas in the table (= narenas)
const G_THREADS: usize = 152;         // usize: table of thread state pointers (index = thread slot)
const G_THREAD_CAP: usize = 160;      // u32
const G_NO_DYN: usize = 164;          // u32 no_dyn_threshold
const G_MMAP_HEAD: usize = 168;       // u32 list of mapped chunks (through mapFd/bk)
const G_FREE_LIST: usize = 172;       // u32 arena on the free list's head (NO_ARENA = none)
const G_NEXT_TO_USE: usize = 176;     // u32 reused_arena's next_to_use (NO_ARENA = not set)
const G_INITIALIZED: usize = 180;     // u32 ptmalloc_init ran
const G_MULTI: usize = 184;           // u32 more than one thread has called (not SINGLE_THREAD_P)
const G_INIT_SLOT: usize = 188;       // u32 the thread slot that ran ptmalloc_init
const G_EPOCH_SEEN: usize = 192;      // u32 vmResidencyEpoch() after this heap's last own drop (skipped touches)
const G_BYTES: usize = 200;

// ╒═══ arena state (A_BYTES), allocated per arena ═══╕
const A_BASE: usize = 0;              // u64 main: first byte of the break segment (0: no sbrk yet)
const A_SYSTEM_MEM: usize = 8;        // u64 system_mem
const A_TOP: usize = 16;              // u32 top chunk record (0: glibc's initial top, size 0)
const A_FIRST: usize = 20;            // u32 main: first chunk of the break segment
const A_LAST_REMAINDER: usize = 24;   // u64 address of the last remainder (glibc keeps a pointer)
const A_HAVE_FAST: usize = 32;        // u32 have_fastchunks
const A_NEXT: usize = 36;             // u32 next arena of the circular list (main → newest → …)
const A_NEXT_FREE: usize = 40;        // u32 next on the free list (NO_ARENA = end)
const A_ATTACHED: usize = 44;         // u32 attached_threads
const A_HEAP: usize = 48;             // u32 thread arena: its last heap record (heap_for_ptr (top))
const A_HEAP_COUNT: usize = 52;       // u32 thread arena: its heaps
const A_BIN_CHUNKS: usize = 56;       // u64 chunks in bins 1..127
const A_BIN_BYTES: usize = 64;        // u64
const A_FAST_CHUNKS: usize = 72;      // u64
const A_FAST_BYTES: usize = 80;       // u64
const A_TC_BYTES: usize = 88;         // u64 bytes of this arena's chunks parked in tcaches
const A_NONEMPTY: usize = 96;         // 4 × u32 bitmap of non-empty bins (exact, unlike glibc's)
const A_BIN_FIRST: usize = 112;       // NBINS × u32
const A_BIN_LAST: usize = A_BIN_FIRST + 4 * <usize>NBINS;      // NBINS × u32
const A_FASTBINS: usize = A_BIN_LAST + 4 * <usize>NBINS;       // NFASTBINS × u32
const A_BYTES: usize = A_FASTBINS + 4 * <usize>NFASTBINS;

// ╒═══ thread state (T_BYTES), allocated per thread slot when the thread first calls ═══╕
const T_TCACHE_ON: usize = 0;         // u32 tcache != NULL
const T_SHUTTING_DOWN: usize = 4;     // u32 tcache_shutting_down
const T_ARENA: usize = 8;             // u32 thread_arena (NO_ARENA = NULL)
const T_TCACHE_CHUNK: usize = 12;     // u32 the chunk holding the tcache struct
const T_TC_HEADS: usize = 16;         // TCACHE_MAX_BINS × u32
const T_TC_COUNTS: usize = T_TC_HEADS + 4 * <usize>TCACHE_MAX_BINS; // TCACHE_MAX_BINS × u32
const T_BYTES: usize = T_TC_COUNTS + 4 * <usize>TCACHE_MAX_BINS;

const heapState = memory.data(<i32>(G_BYTES * <usize>MAX_HEAPS));
let owner: u8 = 0;
let hs: usize = 0;      // the heap's state
let as: usize = 0;      // the current arena's state
let cur: u32 = 0;       // the current arena's index
let ts: usize = 0;      // the calling thread's state

// @ts-ignore: decorator
@inline function g64(o: usize): u64 { return load<u64>(hs + o); }
// @ts-ignore: decorator
@inline function gs64(o: usize, v: u64): void { store<u64>(hs + o, v); }
// @ts-ignore: decorator
@inline function g32(o: usize): u32 { return load<u32>(hs + o); }
// @ts-ignore: decorator
@inline function gs32(o: usize, v: u32): void { store<u32>(hs + o, v); }
// @ts-ignore: decorator
@inline function gadd(o: usize, d: i64): void { store<i64>(hs + o, load<i64>(hs + o) + d); }
// @ts-ignore: decorator
@inline function a64(o: usize): u64 { return load<u64>(as + o); }
// @ts-ignore: decorator
@inline function as64(o: usize, v: u64): void { store<u64>(as + o, v); }
// @ts-ignore: decorator
@inline function a32(o: usize): u32 { return load<u32>(as + o); }
// @ts-ignore: decorator
@inline function as32(o: usize, v: u32): void { store<u32>(as + o, v); }
// @ts-ignore: decorator
@inline function aadd(o: usize, d: i64): void { store<i64>(as + o, load<i64>(as + o) + d); }
// @ts-ignore: decorator
@inline function t32(o: usize): u32 { return load<u32>(ts + o); }
// @ts-ignore: decorator
@inline function ts32(o: usize, v: u32): void { store<u32>(ts + o, v); }

// @ts-ignore: decorator
@inline function arenaPtr(i: u32): usize { return load<usize>(<usize>g64(G_ARENAS) + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function arenaCount(): u32 { return g32(G_ARENA_COUNT); }

// The heap's state, its main arena current. Forgets enter()'s answer (owner and hs move: the next
// call enters anew).
function use(heapIndex: i32): void {
  enteredKey = NOT_ENTERED;
  owner = <u8>heapIndex;
  hs = heapState + <usize>heapIndex * G_BYTES;
  seenHere = g32(G_EPOCH_SEEN);
  useArena(MAIN);
}

// @ts-ignore: decorator
@inline function useArena(i: u32): void {
  cur = i;
  as = arenaPtr(i);
}

// Arena i's field at offset o, whatever the current arena.
// @ts-ignore: decorator
@inline function arenaField32(i: u32, o: usize): u32 { return load<u32>(arenaPtr(i) + o); }
// @ts-ignore: decorator
@inline function setArenaField32(i: u32, o: usize, v: u32): void { store<u32>(arenaPtr(i) + o, v); }

// A new zeroed arena state at the end of the table; its index (NO_ARENA when the model's limit is reached).
function addArenaState(): u32 {
  const n = arenaCount();
  if (<u64>n >= MAX_ARENAS) return NO_ARENA;
  if (n == g32(G_ARENA_CAP)) {
    const cap: u32 = n ? n << 1 : 4;
    gs64(G_ARENAS, <u64>resize(<usize>g64(G_ARENAS), <usize>cap << 3));
    gs32(G_ARENA_CAP, cap);
  }
  const p = heap.alloc(A_BYTES);
  memory.fill(p, 0, A_BYTES);
  store<u32>(p + A_NEXT_FREE, NO_ARENA);
  store<usize>(<usize>g64(G_ARENAS) + (<usize>n << 3), p);
  gs32(G_ARENA_COUNT, n + 1);
  return n;
}

// The calling thread's state (made on first use; the thread table grows with the slots).
function useThread(): void {
  const slot = clockThread();
  if (slot >= g32(G_THREAD_CAP)) {
    const old = g32(G_THREAD_CAP);
    let cap: u32 = old ? old : 8;
    while (cap <= slot) cap <<= 1;
    gs64(G_THREADS, <u64>resize(<usize>g64(G_THREADS), <usize>cap << 3));
    memory.fill(<usize>g64(G_THREADS) + (<usize>old << 3), 0, <usize>(cap - old) << 3);
    gs32(G_THREAD_CAP, cap);
  }
  const slotAt = <usize>g64(G_THREADS) + (<usize>slot << 3);
  ts = load<usize>(slotAt);
  if (!ts) {
    ts = heap.alloc(T_BYTES);
    memory.fill(ts, 0, T_BYTES);
    store<u32>(ts + T_ARENA, NO_ARENA);
    store<usize>(slotAt, ts);
  }
}

// enter()'s last answer: the heap and thread slot it was called for and the states it found (the
// heap's, its main arena's, the thread's). Those stay where they are until a heap is created or
// destroyed or a thread's state is freed, which forget it (forgetEntered); until then the same heap
// and thread enter again with a few loads (ptmalloc_init and the multi-thread flag, once set for
// them, stay set). owner, hs and ts are not even stored again: while the answer holds they still
// hold what it set, since everything else that sets them forgets it first (use(), ptCreate,
// ptThreadEnd, ptDestroy); only the current arena can have moved (useArena) during the last call.
// The heap and thread slot in one key (enteredKeyOf; NOT_ENTERED: none, which no heap and slot
// make), one compare per call.
const NOT_ENTERED: u64 = <u64>-1;
let enteredKey: u64 = NOT_ENTERED;
let enteredHs: usize = 0;
let enteredMain: usize = 0;
let enteredTs: usize = 0;

function forgetEntered(): void { enteredKey = NOT_ENTERED; touchedPage = 0; footerPage = 0; }
// @ts-ignore: decorator
@inline function enteredKeyOf(heapIndex: i32, slot: u32): u64 { return (<u64>slot << 32) | <u64><u32>heapIndex; }

// Every public call: the heap, the calling thread, and ptmalloc_init on the process's first call
// (that thread gets the main arena).
// @ts-ignore: decorator
@inline function enter(heapIndex: i32): void {
  if (enteredKeyOf(heapIndex, clockThread()) == enteredKey) {
    if (CHECKS) assert(owner == <u8>heapIndex && hs == enteredHs && ts == enteredTs, "ptmalloc's entered heap or thread moved");
    if (cur != MAIN) { cur = MAIN; as = enteredMain; }
    lookAtDrops();
  } else {
    enterAnew(heapIndex);
  }
}

function enterAnew(heapIndex: i32): void {
  enterFirst(heapIndex);
  enteredKey = enteredKeyOf(heapIndex, clockThread());
  enteredHs = hs;
  enteredMain = as;
  enteredTs = ts;
  lookAtDrops();
}

function enterFirst(heapIndex: i32): void {
  use(heapIndex);
  useThread();
  if (!g32(G_INITIALIZED)) {
    gs32(G_INITIALIZED, 1);
    gs32(G_INIT_SLOT, clockThread());
    ts32(T_ARENA, MAIN);
    setArenaField32(MAIN, A_ATTACHED, 1);
  } else if (clockThread() != g32(G_INIT_SLOT)) {
    gs32(G_MULTI, 1);
  }
}

// @ts-ignore: decorator
@inline function topRec(): u32 { return a32(A_TOP); }
// @ts-ignore: decorator
@inline function topSize(): u64 { const t = topRec(); return t ? storedSizeAt(R(t)) : 0; }

// ---------------------------------------------------------------- size arithmetic

// malloc.c request2size
// @ts-ignore: decorator
@inline function request2size(req: u64): u64 {
  return req + SIZE_SZ + ALIGN_MASK < MINSIZE ? MINSIZE : (req + SIZE_SZ + ALIGN_MASK) & ~ALIGN_MASK;
}
// @ts-ignore: decorator
@inline function inSmallRange(sz: u64): bool { return sz < MIN_LARGE_SIZE; }
// @ts-ignore: decorator
@inline function smallIndex(sz: u64): i32 { return <i32>(sz >> 4); }
function largeIndex(sz: u64): i32 {
  if ((sz >> 6) <= 48) return 48 + <i32>(sz >> 6);
  if ((sz >> 9) <= 20) return 91 + <i32>(sz >> 9);
  if ((sz >> 12) <= 10) return 110 + <i32>(sz >> 12);
  if ((sz >> 15) <= 4) return 119 + <i32>(sz >> 15);
  if ((sz >> 18) <= 2) return 124 + <i32>(sz >> 18);
  return 126;
}
// @ts-ignore: decorator
@inline function binIndex(sz: u64): i32 { return inSmallRange(sz) ? smallIndex(sz) : largeIndex(sz); }
// @ts-ignore: decorator
@inline function fastIndex(sz: u64): i32 { return <i32>(sz >> 4) - 2; }
// the size of every chunk of fastbin i
// @ts-ignore: decorator
@inline function fastSize(i: i32): u64 { return <u64>(i + 2) << 4; }
// @ts-ignore: decorator
@inline function tcIndex(sz: u64): u64 { return (sz - MINSIZE + MALLOC_ALIGNMENT - 1) / MALLOC_ALIGNMENT; }
// the size of every chunk of tcache bin i (chunk sizes are multiples of MALLOC_ALIGNMENT)
// @ts-ignore: decorator
@inline function tcSize(i: u64): u64 { return MINSIZE + i * MALLOC_ALIGNMENT; }

// ---------------------------------------------------------------- touching (resident pages)

// The allocator writes a chunk's size word (and the program its payload): pages become resident.
// @ts-ignore: decorator
@inline function touch(a: u64, bytes: u64): void {
  if (!bytes) return;
  const first = a >> PAGE_SHIFT, last = (a + bytes - 1) >> PAGE_SHIFT;
  if (first == last && first + 1 == touchedPage && trusted) { skipTouch(a, bytes); return; }
  touchPages(a, bytes, owner);
  touchedPage = last + 1;
}
// touch() of the 8 bytes at a (8-byte aligned: one page), without the test of a second page.
// @ts-ignore: decorator
@inline function touchWord(a: u64): void {
  if (CHECKS) assert((a & (SIZE_SZ - 1)) == 0, "ptmalloc touched a word that is not aligned");
  const page = a >> PAGE_SHIFT;
  if (page + 1 == touchedPage && trusted) { skipTouch(a, SIZE_SZ); return; }
  touchPages(a, SIZE_SZ, owner);
  touchedPage = page + 1;
}
// Header + free-list links of a free chunk (fd/bk, and the size links of a large one).
// @ts-ignore: decorator
@inline function freeLinkBytes(size: u64): u64 { return inSmallRange(size) ? 3 * SIZE_SZ : 5 * SIZE_SZ; }
// @ts-ignore: decorator
@inline function touchHeader(c: u32): void { touchWord(addrOf(c) + SIZE_SZ); }

// Touches it can skip. A touch of pages that are resident changes nothing, and the model knows
// of three kinds of spans that are, as long as no page anywhere left residence except by its own
// calls (`trusted`, below):
//   - a WHOLE chunk's span [addr + 8, addr + size + 8): touched when it was handed out (or grown
//     in place); the chunk keeps WHOLE while it goes to a tcache or fastbin and back, and loses it
//     when it grows or enters a bin (a shrink keeps it: the span only gets shorter);
//   - a binned chunk's header and links [addr + 8, addr + 8 + freeLinkBytes(size)): touched when
//     it was linked (every way into a bin is linkBetween);
//   - a tcache or fastbin chunk's first link word [addr + 16, addr + 24): touched when it was put
//     there (a 16-byte-aligned 16-byte span never crosses a page: the tcache's next + key too).
// The model's own drops never reach those spans: malloc_trim purges only whole pages from 48 bytes
// into a binned chunk (past its links; a chunk's span ends 8 bytes into the next chunk), the
// break, a heap's tail and a whole heap go back only beyond or with top, and a mapping only with
// its own chunk. Every other drop (the host's vm.purge or decommit, another heap's trim) moves
// vmResidencyEpoch() past what the heap last saw, and from then on the heap touches everything
// (also once the epoch saturates).
// Debug builds check each skipped touch's pages (skipTouch).
let trusted = false;   // set by each public call: no drop but the heap's own since it looked last
// The last page a touch made resident, + 1 (0 = none): a touch within that one page is skipped
// while trusted (a top split's new header lies, most of the time, on the page where the chunk
// handed out just before it ended). Forgotten at the heap's own drops and at create/destroy.
let touchedPage: u64 = 0;
// The page of the footer splitRemainder touched last, + 1 (0 = none), by the same rule: the last
// remainder split again and again keeps its end, so its footer's page was made resident by the
// split before. A memo of its own, so that the footer's touch leaves touchedPage to the header's
// and the chunk's page (one memo for both made every split touch both again). Forgotten with it.
let footerPage: u64 = 0;

// G_EPOCH_SEEN of the heap in `hs`, kept beside it (set wherever hs or the field is set) so that
// every call's trust test reads one global instead of the heap's state.
let seenHere: u32 = 0;
// @ts-ignore: decorator
@inline function lookAtDrops(): void { trusted = epochTrusted(); }
// vmResidencyHolds(seen) in one compare (every public call makes it): G_EPOCH_SEEN never holds
// RESIDENCY_EPOCH_SATURATED (seenEpoch stores EPOCH_NOT_SEEN instead, which no epoch equals), so
// `seen == epoch` alone says the same. Debug builds check the two agree.
// @ts-ignore: decorator
@inline function epochTrusted(): bool {
  const seen = seenHere;
  if (CHECKS) assert(seen == g32(G_EPOCH_SEEN), "ptmalloc's copy of the heap's noted epoch is stale");
  if (CHECKS) assert((seen == vmResidencyEpoch()) == vmResidencyHolds(seen), "ptmalloc's noted epoch is the saturated one");
  return seen == vmResidencyEpoch();
}
// The VM's epoch starts at 1 and only grows: 0 is never the current one.
const EPOCH_NOT_SEEN: u32 = 0;
// The epoch G_EPOCH_SEEN notes for `epoch`: a saturated one is noted as never seen (trust is lost
// for good then, as vmResidencyHolds says).
// @ts-ignore: decorator
@inline function seenEpoch(epoch: u32): u32 { return epoch == RESIDENCY_EPOCH_SATURATED ? EPOCH_NOT_SEEN : epoch; }
// After one of the heap's own drops: it keeps the trust it had (a lost trust is never regained).
// @ts-ignore: decorator
@inline function keepTrust(): void {
  touchedPage = 0; footerPage = 0;
  if (trusted) { const e = seenEpoch(vmResidencyEpoch()); gs32(G_EPOCH_SEEN, e); seenHere = e; }
}

// A touch the model skips: in debug builds, every page of it must be resident already.
// @ts-ignore: decorator
@inline function skipTouch(a: u64, bytes: u64): void {
  if (CHECKS) assert(vmAllResident(a, bytes), "ptmalloc skipped the touch of a page that is not resident");
}
// touch(), or skipTouch() when the span is known resident.
// @ts-ignore: decorator
@inline function touchUnless(known: bool, a: u64, bytes: u64): void { if (known) skipTouch(a, bytes); else touch(a, bytes); }
// touchUnless of one aligned word (touchWord).
// @ts-ignore: decorator
@inline function touchWordUnless(known: bool, a: u64): void { if (known) skipTouch(a, SIZE_SZ); else touchWord(a); }

// The heap's own calls that can drop pages (release, shrink, purge).
function releaseRegion(base: u64): void { vmRelease(base); keepTrust(); }
function resizeRegion(base: u64, size: u64): Status { const st = vmResize(base, size); keepTrust(); return st; }
function purgePages(a: u64, bytes: u64): void { vmPurge(a, bytes); keepTrust(); }

// ---------------------------------------------------------------- bins (of the current arena)

// @ts-ignore: decorator
@inline function binFirst(b: i32): u32 { return a32(A_BIN_FIRST + (<usize>b << 2)); }
// @ts-ignore: decorator
@inline function binLast(b: i32): u32 { return a32(A_BIN_LAST + (<usize>b << 2)); }
// @ts-ignore: decorator
@inline function setBinFirst(b: i32, c: u32): void { as32(A_BIN_FIRST + (<usize>b << 2), c); }
// @ts-ignore: decorator
@inline function setBinLast(b: i32, c: u32): void { as32(A_BIN_LAST + (<usize>b << 2), c); }

// @ts-ignore: decorator
@inline function markNonEmpty(b: i32): void {
  const o = A_NONEMPTY + (<usize>(b >> 5) << 2);
  as32(o, a32(o) | (<u32>1 << <u32>(b & 31)));
}
// @ts-ignore: decorator
@inline function markEmpty(b: i32): void {
  const o = A_NONEMPTY + (<usize>(b >> 5) << 2);
  as32(o, a32(o) & ~(<u32>1 << <u32>(b & 31)));
}

// Links c into bin b between bck (towards first) and fwd (towards last); 0 = the bin itself.
// linksKnown: c's header and links are known resident (skips their touch). back: c comes into the
// bins (its successor is to name it: linkBack); false where c moves from unsorted to its bin.
// @ts-ignore: decorator
@inline function linkBetween(b: i32, c: u32, bck: u32, fwd: u32, linksKnown: bool, back: bool): void {
  linkBetweenIn(RECS.base, b, c, bck, fwd, linksKnown, back);
}

// linkBetween of c of `size` bytes
// @ts-ignore: decorator
@inline function linkBetweenSized(b: i32, c: u32, size: u64, bck: u32, fwd: u32, linksKnown: bool, back: bool): void {
  const rb = RECS.base;
  const p = at(rb, c);
  linkBetweenAt(rb, b, c, addrAt(p), size, bck, fwd, linksKnown, back, true, true);
}

// Takes c off its bin, keeping a large bin's size list right (unlink_chunk).
// @ts-ignore: decorator
@inline function unlinkChunk(c: u32): void { unlinkIn(RECS.base, c); }

// Pointer style (see at()): linkBetween and unlinkChunk with the pool's base rb.
// @ts-ignore: decorator
@inline function linkBetweenIn(rb: usize, b: i32, c: u32, bck: u32, fwd: u32, linksKnown: bool, back: bool): void {
  const p = at(rb, c);
  linkBetweenAt(rb, b, c, addrAt(p), sizeAt(p), bck, fwd, linksKnown, back, true, true); // the address before the state store (see setStateAt)
}

// linkBetweenIn of c at address a (read before any byte store into c's first word), size bytes
// (its stored size is overwritten by its fd); keepHead:
// c's HEAD bit stays (false: cleared); counted (a constant): the bin's bit in the bitmap and the
// arena's bin counters are kept here (false: consolidation sets them once at its end)
// @ts-ignore: decorator
@inline function linkBetweenAt(rb: usize, b: i32, c: u32, a: u64, size: u64, bck: u32, fwd: u32, linksKnown: bool, back: bool, keepHead: bool, counted: bool): void {
  const p = at(rb, c);
  store<u64>(p + R_FD, <u64>fwd | (<u64>bck << ((R_BK - R_FD) << 3)));
  if (back) linkBack(rb, p, c);
  const av = as;
  if (fwd) store<u32>(at(rb, fwd) + R_BK, c); else store<u32>(av + A_BIN_LAST + (<usize>b << 2), c);
  if (bck) store<u32>(at(rb, bck) + R_FD, c); else store<u32>(av + A_BIN_FIRST + (<usize>b << 2), c);
  setStateBinRawAt(p, ST_BIN, keepHead ? (load<u8>(p + R_BIN) & HEAD_BIT) | <u8>b : <u8>b);
  if (counted) {
    const o = av + A_NONEMPTY + (<usize>(b >> 5) << 2);
    store<u32>(o, load<u32>(o) | (<u32>1 << <u32>(b & 31)));
    store<u64>(av + A_BIN_CHUNKS, load<u64>(av + A_BIN_CHUNKS) + 1);
    store<u64>(av + A_BIN_BYTES, load<u64>(av + A_BIN_BYTES) + size);
  }
  touchUnless(linksKnown, a + SIZE_SZ, freeLinkBytes(size));
}

// The bin is left empty exactly when c had no neighbour in it (f = k = 0): no reload of its first.
// @ts-ignore: decorator
@inline function unlinkIn(rb: usize, c: u32): void { unlinkCounted(rb, c, true); }

// unlinkIn; counted (a constant): the arena's bin counters are kept here (false: by consolidation
// at its end; the bitmap is kept either way)
// @ts-ignore: decorator
@inline function unlinkCounted(rb: usize, c: u32, counted: bool): void {
  unlinkSized(rb, c, counted, counted ? nextSizeAt(rb, at(rb, c)) : 0);
}

// unlinkCounted of c of `size` bytes (read only where counted)
// @ts-ignore: decorator
@inline function unlinkSized(rb: usize, c: u32, counted: bool, size: u64): void {
  const p = at(rb, c);
  const bb = load<u8>(p + R_BIN);
  const b = <i32>(bb & BIN_MASK);
  const f = fdAt(p), k = bkAt(p);
  const av = as;
  if (f) store<u32>(at(rb, f) + R_BK, k); else store<u32>(av + A_BIN_LAST + (<usize>b << 2), k);
  if (k) store<u32>(at(rb, k) + R_FD, f); else store<u32>(av + A_BIN_FIRST + (<usize>b << 2), f);
  if (!(f | k)) {
    const o = av + A_NONEMPTY + (<usize>(b >> 5) << 2);
    store<u32>(o, load<u32>(o) & ~(<u32>1 << <u32>(b & 31)));
  }
  if (bb & HEAD_BIT) unlinkHead(c, f);
  if (counted) {
    store<u64>(av + A_BIN_CHUNKS, load<u64>(av + A_BIN_CHUNKS) - 1);
    store<u64>(av + A_BIN_BYTES, load<u64>(av + A_BIN_BYTES) - size);
  }
}

// unlinkChunk of a large-bin chunk that heads its size (f: its successor in the bin): the next chunk
// of the same size takes over, or the size leaves the list.
function unlinkHead(c: u32, f: u32): void {
  const cf = fdNext(c), cb = bkNext(c);
  if (f && !isHead(f)) {
    if (cf == c) {
      setHeadLinks(f, f, f);
    } else {
      setHeadLinks(f, cf, cb);
      setBkNext(cf, f); setFdNext(cb, f);
    }
  } else {
    setBkNext(cf, cb);
    setFdNext(cb, cf);
  }
  clearHead(c);
}

// At the head of the unsorted list (free, consolidation, split remainders).
// @ts-ignore: decorator
@inline function toUnsortedFront(c: u32, linksKnown: bool): void {
  clearHead(c);
  linkBetween(UNSORTED, c, 0, binFirst(UNSORTED), linksKnown, true);
}

// Files an unsorted chunk of `size` bytes into its small or large bin (the sorting step of malloc).
// Its header and links were touched when it was linked into unsorted.
function fileChunk(c: u32, size: u64): void {
  if (inSmallRange(size)) {
    const b = smallIndex(size);
    linkBetweenSized(b, c, size, 0, binFirst(b), trusted, false);
    return;
  }
  const b = largeIndex(size);
  let bck: u32 = 0;
  let fwd = binFirst(b);
  if (fwd) {
    if (size < sizeOf(binLast(b))) {
      // Smaller than everything: last in the bin, a new size head.
      const first = binFirst(b);
      bck = binLast(b);
      fwd = 0;
      const larger = bkNext(first);
      setHeadLinks(c, first, larger);
      setBkNext(first, c);
      setFdNext(larger, c);
    } else {
      while (size < sizeOf(fwd)) fwd = fdNext(fwd);
      if (size == sizeOf(fwd)) {
        fwd = fd(fwd); // same size: second place, not a head
        clearHead(c);
      } else {
        const larger = bkNext(fwd);
        setHeadLinks(c, fwd, larger);
        setBkNext(fwd, c);
        setFdNext(larger, c);
      }
      bck = fwd ? bk(fwd) : binLast(b);
    }
  } else {
    setHeadLinks(c, c, c);
  }
  linkBetweenSized(b, c, size, bck, fwd, trusted, false);
}

// Whether a bin above small bin `b` (2 ≤ b < 64) holds a chunk: nextNonEmptyBin(b + 1) != 0 in
// one test of both halves of the bitmap (bins b + 1..63 of the low half; all of the high half).
// @ts-ignore: decorator
@inline function anyBinAbove(b: i32): bool {
  const p = as + A_NONEMPTY;
  const any = ((load<u64>(p) & ((<u64>-2) << <u64>b)) | load<u64>(p + 8)) != 0;
  if (CHECKS) assert(any == (nextNonEmptyBin(b + 1) != 0), "ptmalloc's test of the bins above a small bin disagrees with nextNonEmptyBin");
  return any;
}

// First non-empty bin with index ≥ from (0 when none; 2 ≤ from < NBINS). The bitmap's four u32
// words read as two u64 halves (little-endian: bins 0..63, then 64..127).
// @ts-ignore: decorator
@inline function nextNonEmptyBin(from: i32): i32 {
  const p = as + A_NONEMPTY;
  const half = from >> 6;                                        // 0: bins 0..63, 1: bins 64..127
  const below = (<u64>1 << <u64>(from & 63)) - 1;                // bins of from's half before from
  const m = load<u64>(p + (<usize>half << 3)) & ~below;
  if (m) return (half << 6) + <i32>ctz(m);
  if (half) return 0;
  const hi = load<u64>(p + 8);
  return hi ? 64 + <i32>ctz(hi) : 0;
}

// ---------------------------------------------------------------- physical neighbours

// Splits chunk c at nb: c keeps the front, a new record the rest. Returns the new record.
// Pointer style: c's fields are read before the new record is taken (which may move the pool),
// the links written after with the pool's base taken again.
// @ts-ignore: decorator
@inline function splitAt(c: u32, nb: u64, restState: u8): u32 { return splitAtBin(c, nb, restState, 0, KEEP_STATE, false, 0); }

// splitAt with the new record's bin byte restBin (its fd and bk 0), and c's new state frontState
// (KEEP_STATE: unchanged) written with c's first word as read here; nearInline (a constant): a
// dropped record is taken by takeDroppedNear's common case inline (takeDroppedNearIn); size: c's
// size where the caller has it (c in a bin), 0 where c is in a sized state (its stored size read).
// @ts-ignore: decorator
@inline function splitAtBin(c: u32, nb: u64, restState: u8, restBin: u8, frontState: u8, nearInline: bool, size: u64): u32 {
  const pc = R(c);
  const n = nextAt(pc);
  const w = load<u64>(pc + R_ADDR);
  const st = <u8>(w >> STATE_SHIFT);
  if (CHECKS) assert(size != 0 || isSizedState(st), "ptmalloc split a chunk of unknown size");
  const sizeG: u32 = size ? <u32>(size >> 4) : load<u32>(pc + R_SIZEG);
  const r = droppedCount ? takeDroppedNearIn(c, nearInline) : takeRecord(RECS);
  // r's first word from c's: the address moved up by nb (granules: no carry out of the 43 bits of
  // an address below 2^47), c's arena code, restState, bin 0; a wide code's entry is copied
  if ((<u32>(w >> ADDR_G_BITS) & ARENA_CODE_MASK) == ARENA_CODE_WIDE) copyWideArena(r, c);
  const rb = RECS.base;
  const q = at(rb, c);
  const pr = at(rb, r);
  store<u64>(pr + R_ADDR, ((w + (nb >> 4)) & ADDR_AND_ARENA_MASK) | (<u64>restState << STATE_SHIFT) | (<u64>restBin << BIN_SHIFT));
  const restG: u32 = isSizedState(restState) ? sizeG - <u32>(nb >> 4) : 0; // (fd 0 in a linked state)
  store<u64>(pr + R_NEXT, <u64>n | (<u64>restG << ((R_SIZEG - R_NEXT) << 3)));
  store<u32>(pr + R_BK, 0);
  if (CHECKS) assert(addrAt(pr) == addrAt(q) + nb && arenaOf(r) == arenaOf(c), "ptmalloc split a record wrong");
  if (frontState != KEEP_STATE) store<u64>(q + R_ADDR, (w & ~STATE_FIELD) | (<u64>frontState << STATE_SHIFT));
  store<u32>(q + R_NEXT, r);
  if (isSizedState(frontState == KEEP_STATE ? st : frontState)) setStoredSizeAt(q, nb);
  return r;
}
const KEEP_STATE: u8 = 0xFF;

// Absorbs c's physical successor n into c (n's record is dropped).
// @ts-ignore: decorator
@inline function absorbNext(c: u32): void { absorbNextIn(RECS.base, c, true, false, true); }

// absorbNext with the pool's base rb (pointer style, see at()); mayBeTop (a constant): the
// successor can be top (false where the caller knows it is not: no test of the arena's top);
// covered (a constant): the dropped-record bitmap covers n (dropRecIn); sized (a constant): c is in
// a sized state and stays in it, so its stored size grows (false: c goes into a bin or becomes top,
// or is in a bin: nothing stored, unless it becomes top here).
// @ts-ignore: decorator
@inline function absorbNextIn(rb: usize, c: u32, mayBeTop: bool, covered: bool, sized: bool): void {
  const pc = at(rb, c);
  const n = nextAt(pc);
  const pn = at(rb, n);
  store<u8>(pc + R_BIN, 0); // clearWhole: c is out of the bins here; its span grows (a byte store:
  // the callers read c's address before, see setStateAt)
  const nn = nextAt(pn);
  if (mayBeTop) {
    if (topRec() == n) {
      // c becomes top: its size stored, in granules (c's own from top's address, top's stored)
      const g = <u32>((addrAt(pn) - addrAt(pc)) >> 4) + load<u32>(pn + R_SIZEG);
      store<u32>(pc + R_SIZEG, g);
      as32(A_TOP, c);
      setStateByteAt(pc, ST_TOP);
    } else if (sized) {
      store<u32>(pc + R_SIZEG, <u32>((addrAt(at(rb, nn)) - addrAt(pc)) >> 4));
    }
  } else {
    if (CHECKS) assert(topRec() != n, "ptmalloc absorbed top where it was known not to be top");
    // n is not top: it has a successor nn
    if (sized) store<u32>(pc + R_SIZEG, <u32>((addrAt(at(rb, nn)) - addrAt(pc)) >> 4));
  }
  if (CHECKS) assert(!sized || isSizedState(stateAt(pc)), "ptmalloc kept a stored size of a chunk that has none");
  store<u32>(pc + R_NEXT, nn); // (nn's binned-prev link, if c stays in a bin, is the caller's)
  dropRecIn(pn, n, covered);
}

// @ts-ignore: decorator
@inline function isBinned(c: u32): bool { return c != 0 && stateOf(c) == ST_BIN; }

// Coalesces chunk p (just released by the arena) with free neighbours and files it into the
// unsorted list or top. Returns the size of the merged chunk (glibc compares it with 64 KiB).
// Known resident ("Touches it can skip"): p's span if p is WHOLE, a binned neighbour's links. The
// merged chunk's header and links lie in p's span, or run from p's span into the next chunk's links,
// or lie in the previous chunk's links when those are as long; its footer lies in p's span unless
// the next chunk was merged.
// A merged neighbour at the front of unsorted lends the merged chunk its place there: glibc unlinks
// it and links the merged chunk at the front, which is the same place (consolidation merges runs of
// neighbours one after the other, so this is the common case); the unlink and link are skipped.
// @ts-ignore: decorator
@inline function releaseChunk(p: u32): u64 { return releaseChunkIn(RECS.base, p, trusted, false); }

// releaseChunk with the pool's base rb (pointer style, see at(): nothing here takes a record) and
// tr = trusted (a constant where the caller knows it: consolidation); consolidating (a constant):
// the arena's bin counters and unsorted's bit are not kept per chunk (consolidation sets them once
// at its end) and the dropped-record bitmap covers every record (see consolidateLoop).
// @ts-ignore: decorator
@inline function releaseChunkIn(rb: usize, p: u32, tr: bool, consolidating: bool): u64 {
  let pp = at(rb, p);
  const whole = tr && isWholeAt(pp);
  let prevLinkBytes: u64 = 0;   // 0: the previous chunk was not merged
  const prev = binnedPrevIn(rb, pp, p); // 0 unless the chunk before p is in a bin
  const next = nextAt(pp);
  // the merged chunk's address, read before the merges' byte stores (see setStateAt)
  let a = addrAt(pp);
  // The tests below are nested ifs, not && (isBinnedIn): V8 turns `a && b` (an if with a result)
  // into a 0/1 value it then tests.
  if (next != 0) {
    if (next == topRec()) {
      if (prev != 0) {
        const pa = addrAt(at(rb, prev));
        const prevSize = a - pa; // (prev's successor is p)
        prevLinkBytes = freeLinkBytes(prevSize);
        a = pa;
        unlinkSized(rb, prev, !consolidating, prevSize);
        absorbNextIn(rb, prev, false, consolidating, false); // p is not top
        p = prev;
        pp = at(rb, p);
      }
      absorbNextIn(rb, p, true, consolidating, false);
      // p is top now
      touchWordUnless(prevLinkBytes ? tr : whole, a + SIZE_SZ);
      return storedSizeAt(pp);
    }
  }
  // The bytes of a neighbour whose place p takes at the front of unsorted leave A_BIN_BYTES when
  // it is merged and p's come in at the end (the front is read again where it matters: fewer
  // values live across the merges).
  let kept = false;             // p sits at the front of unsorted already (a neighbour's place)
  if (prev != 0) {
    const qp = at(rb, prev);
    const pa = addrAt(qp);
    const prevSize = a - pa; // (prev's successor is p)
    a = pa;
    prevLinkBytes = freeLinkBytes(prevSize);
    if (prev == binFirst(UNSORTED)) {
      kept = true;
      if (!consolidating) aadd(A_BIN_BYTES, -<i64>prevSize);
    } else {
      unlinkSized(rb, prev, !consolidating, prevSize);
    }
    absorbNextIn(rb, prev, false, consolidating, false); // p is not top
    p = prev;
    pp = qp;
  }
  let footerKnown = whole;
  if (next != 0) {
    if (stateAt(at(rb, next)) == ST_BIN) { // isBinnedIn(rb, next)
      if (!kept && next == binFirst(UNSORTED)) {
        // p takes next's place: the front of unsorted
        kept = true;
        const pn = at(rb, next);
        if (!consolidating) aadd(A_BIN_BYTES, -<i64>nextSizeAt(rb, pn));
        const f = fdAt(pn);
        store<u64>(pp + R_FD, <u64>f); // fd f, bk 0
        if (f) store<u32>(at(rb, f) + R_BK, p); else setBinLast(UNSORTED, p);
        setBinFirst(UNSORTED, p);
      } else {
        unlinkSized(rb, next, !consolidating, consolidating ? 0 : nextSizeAt(rb, at(rb, next)));
      }
      absorbNextIn(rb, p, false, consolidating, false); // next is not top (the case above)
      footerKnown = false;
    }
  }
  const size = nextSizeAt(rb, pp); // (p's stored size, if it had one, is stale: it goes into a bin)
  const linksKnown = prevLinkBytes ? tr && freeLinkBytes(size) <= prevLinkBytes : whole;
  if (kept) {
    // what toUnsortedFront leaves: in a bin, bin UNSORTED (no HEAD bit); one chunk for one chunk
    setStateBinRawAt(pp, ST_BIN, <u8>UNSORTED);
    linkBack(rb, pp, p); // its successor may be new (a merge)
    if (!consolidating) aadd(A_BIN_BYTES, <i64>size);
    touchUnless(linksKnown, a + SIZE_SZ, freeLinkBytes(size));
  } else {
    linkBetweenAt(rb, UNSORTED, p, a, size, 0, binFirst(UNSORTED), linksKnown, true, false, !consolidating); // (its HEAD bit cleared)
  }
  // the next chunk's prev_size (footer) is written
  touchWordUnless(footerKnown, a + size);
  return size;
}

// ---------------------------------------------------------------- tcache (the calling thread's) and fastbins

// @ts-ignore: decorator
@inline function tcCount(i: u64): u32 { return t32(T_TC_COUNTS + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function tcOn(): bool { return t32(T_TCACHE_ON) != 0; }

// A chunk enters or leaves a tcache: its arena's tcache bytes, the one counter kept per op (the
// heap's total is their sum, taken by ptSample; chunk counts per thread are the lists' counts).
// @ts-ignore: decorator
@inline function tcacheCount(c: u32, sign: i64): void { tcacheCountAt(R(c), c, sign); }
// tcacheCount of the chunk at p = R(c). A chunk of the current arena (every put: free and the
// refills work in the chunk's own arena; most gets) uses `as` (= arenaPtr(cur), see useArena)
// instead of looking its arena up in the table.
// @ts-ignore: decorator
@inline function tcacheCountAt(p: usize, c: u32, sign: i64): void { tcacheBytesAt(p, c, sign * <i64>sizeAt(p)); }
// tcacheCountAt with the bytes known (a chunk of tcache bin i: tcSize(i))
// @ts-ignore: decorator
@inline function tcacheBytesAt(p: usize, c: u32, bytes: i64): void {
  const a = arenaAt(p, c);
  const o = (a == cur ? as : arenaPtr(a)) + A_TC_BYTES;
  store<i64>(o, load<i64>(o) + bytes);
}

// linkKnown: c's [addr + 16, addr + 32) is known resident (skips the touch).
// (pointer style, see at(): the thread's state and c's record each addressed once)
// @ts-ignore: decorator
@inline function tcachePut(c: u32, i: u64, linkKnown: bool): void { tcachePutAt(R(c), c, i, linkKnown); }

// tcachePut of c at p = R(c)
// @ts-ignore: decorator
@inline function tcachePutAt(p: usize, c: u32, i: u64, linkKnown: bool): void {
  const t = ts;
  const o = t + T_TC_HEADS + (<usize>i << 2);
  const n = t + T_TC_COUNTS + (<usize>i << 2);
  store<u32>(p + R_FD, load<u32>(o));
  store<u32>(o, c);
  store<u32>(n, load<u32>(n) + 1);
  const a = addrAt(p); // before the state store (see setStateAt)
  setStateByteAt(p, ST_TCACHE);
  // tcacheCountAt(p, 1) without the arena test: every put is in the chunk's own arena (free and
  // the refills), the current one
  if (CHECKS) assert(arenaAt(p, c) == cur, "ptmalloc put a chunk of another arena in the tcache");
  const tb = as + A_TC_BYTES;
  store<i64>(tb, load<i64>(tb) + <i64>tcSize(i));
  touchUnless(linkKnown, a + CHUNK_HDR_SZ, 2 * SIZE_SZ); // next + key
}

// @ts-ignore: decorator
@inline function tcacheGet(i: u64): u32 { return tcachePop(i, false); }

// Takes the head chunk of the calling thread's tcache bin i (non-empty) off the bin (the bin's head
// and count, the arena's tcache bytes), then marks it in use (tcache_get), or, `handOut`, hands it
// out in place (handOutAt: malloc's path; its state store is the in-use one). The chunk's record
// is addressed once.
// @ts-ignore: decorator
@inline function tcachePop(i: u64, handOut: bool): u32 {
  const t = ts;
  const o = t + T_TC_HEADS + (<usize>i << 2);
  const n = t + T_TC_COUNTS + (<usize>i << 2);
  const c = load<u32>(o);
  const p = R(c);
  store<u32>(o, fdAt(p));
  store<u32>(n, load<u32>(n) - 1);
  const size = tcSize(i);
  tcacheBytesAt(p, c, -<i64>size);
  if (handOut) handOutSizedAt(p, size, true);
  else { setStoredSizeAt(p, size); setStateRawAt(p, ST_INUSE); }
  return c;
}

// @ts-ignore: decorator
@inline function fastHead(i: i32): u32 { return a32(A_FASTBINS + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setFastHead(i: i32, c: u32): void { as32(A_FASTBINS + (<usize>i << 2), c); }

// @ts-ignore: decorator
@inline function fastPop(i: i32): u32 {
  const c = fastHead(i);
  const p = R(c);
  setFastHead(i, fdAt(p));
  const size = fastSize(i);
  setStoredSizeAt(p, size); // (its fd read above)
  setStateRawAt(p, ST_INUSE);
  aadd(A_FAST_CHUNKS, -1);
  aadd(A_FAST_BYTES, -<i64>size);
  return c;
}

// malloc_consolidate: every fastbin chunk is coalesced and filed into unsorted (or top). The
// fastbins end empty, so their counters are zeroed once (releaseChunk reads neither). The bins'
// counters are set once at the end too (releaseChunkIn uncounted), from what is conserved: every
// fastbin chunk ends in a bin or in top, and every merge drops one record (no record is taken), so
// the bins gain the fastbins' chunks less the records dropped, and their bytes less what top grew
// by. Unsorted's bit in the bitmap is set from its first chunk (other bins' bits stay exact). The
// dropped-record bitmap is made to cover every record taken before the loop, so the merges' drops
// skip its grow test (dropRecIn).
// `trusted` cannot change during it: the loop is made for each value (the untrusted one out of
// line), so the trusted loop's known spans need no test of it.
function consolidate(): void {
  if (trusted) consolidateLoop(true); else consolidateUntrusted();
}

function consolidateUntrusted(): void { consolidateLoop(false); }

// @ts-ignore: decorator
@inline function consolidateLoop(tr: bool): void {
  if (CHECKS) assert(tr == trusted, "ptmalloc consolidated with a trust it does not have");
  as32(A_HAVE_FAST, 0);
  const rb = RECS.base; // nothing below takes a record
  const dropped0 = droppedCount;
  const top0 = topSize();
  const lastWord = (RECS.high - 1) >> 6; // the word of the last record taken (dropRecIn's cover)
  if (lastWord >= freeWords) growFreeBits(lastWord);
  for (let i = 0; i < NFASTBINS; i++) {
    let p = fastHead(i);
    setFastHead(i, 0);
    while (p) {
      const pp = at(rb, p);
      const nextInBin = fdAt(pp);
      // (p keeps ST_FAST into releaseChunkIn, which reads no state of p and leaves p in a bin,
      // in top, or dropped: a store of ST_INUSE here would be overwritten)
      releaseChunkIn(rb, p, tr, true);
      p = nextInBin;
    }
  }
  aadd(A_BIN_CHUNKS, <i64>a64(A_FAST_CHUNKS) - <i64>(droppedCount - dropped0));
  aadd(A_BIN_BYTES, <i64>a64(A_FAST_BYTES) - <i64>(topSize() - top0));
  if (binFirst(UNSORTED)) markNonEmpty(UNSORTED); else markEmpty(UNSORTED);
  as64(A_FAST_CHUNKS, 0);
  as64(A_FAST_BYTES, 0);
}

// ---------------------------------------------------------------- arenas (arena.c)

// thread_arena for the calling thread (NO_ARENA = NULL).
// @ts-ignore: decorator
@inline function threadArena(): u32 { return t32(T_ARENA); }

// detach_arena: the thread lets go of its old arena (the free list is not touched).
function detachArena(replaced: u32): void {
  if (replaced != NO_ARENA) setArenaField32(replaced, A_ATTACHED, arenaField32(replaced, A_ATTACHED) - 1);
}

// get_free_list: the head of the free list becomes the thread's arena.
function getFreeList(): u32 {
  const a = g32(G_FREE_LIST);
  if (a == NO_ARENA) return NO_ARENA;
  gs32(G_FREE_LIST, arenaField32(a, A_NEXT_FREE));
  setArenaField32(a, A_NEXT_FREE, NO_ARENA);
  setArenaField32(a, A_ATTACHED, 1);
  detachArena(threadArena());
  ts32(T_ARENA, a);
  return a;
}

function removeFromFreeList(a: u32): void {
  let prev = NO_ARENA;
  for (let p = g32(G_FREE_LIST); p != NO_ARENA; p = arenaField32(p, A_NEXT_FREE)) {
    if (p == a) {
      const next = arenaField32(p, A_NEXT_FREE);
      if (prev == NO_ARENA) gs32(G_FREE_LIST, next); else setArenaField32(prev, A_NEXT_FREE, next);
      setArenaField32(p, A_NEXT_FREE, NO_ARENA);
      return;
    }
    prev = p;
  }
}

// reused_arena: with one call at a time every trylock succeeds, so the arena is next_to_use.
function reusedArena(avoid: u32): u32 {
  if (g32(G_NEXT_TO_USE) == NO_ARENA) gs32(G_NEXT_TO_USE, MAIN);
  const result = g32(G_NEXT_TO_USE);
  detachArena(threadArena());
  removeFromFreeList(result);
  setArenaField32(result, A_ATTACHED, arenaField32(result, A_ATTACHED) + 1);
  ts32(T_ARENA, result);
  gs32(G_NEXT_TO_USE, arenaField32(result, A_NEXT));
  return result;
}

// A 64 MiB region at a 64 MiB aligned address, `size` bytes of it read-write: a heap record, or 0.
function newHeap(size: u64, topPad: u64, arena: u32): u32 {
  if (size + topPad < HEAP_MIN_SIZE) size = HEAP_MIN_SIZE;
  else if (size + topPad <= HEAP_MAX_SIZE) size += topPad;
  else if (size > HEAP_MAX_SIZE) return 0;
  else size = HEAP_MAX_SIZE;
  size = alignUp(size, PAGE_SIZE_BYTES);
  // glibc maps twice the size and keeps the aligned half: the same address, found the same way.
  const wide = vmReserve(2 * HEAP_MAX_SIZE, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED);
  if (!wide) return 0;
  const base = alignUp(wide, HEAP_MAX_SIZE);
  releaseRegion(wide);
  if (vmReserve(HEAP_MAX_SIZE, base, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_PAGE_ALIGNED) != base) return 0;
  if (vmCommit(base, size) != Status.OK) { releaseRegion(base); return 0; }
  const h = takeRecord(HEAPS);
  const p = HR(h);
  memory.fill(p, 0, HREC_BYTES);
  store<u64>(p + HR_BASE, base);
  store<u64>(p + HR_SIZE, size);
  store<u64>(p + HR_MPROTECT, size);
  store<u32>(p + HR_ARENA, arena);
  touch(base, HEAP_INFO_BYTES);
  return h;
}

// grow_heap: the read-write part grows by diff rounded up to pages, within HEAP_MAX_SIZE.
function growHeap(h: u32, diff: u64): bool {
  diff = alignUp(diff, PAGE_SIZE_BYTES);
  const p = HR(h);
  const size = load<u64>(p + HR_SIZE);
  const newSize = size + diff;
  if (newSize > HEAP_MAX_SIZE) return false;
  const prot = load<u64>(p + HR_MPROTECT);
  if (newSize > prot) {
    const base = load<u64>(p + HR_BASE);
    if (vmCommit(base + prot, newSize - prot) != Status.OK) return false;
    store<u64>(HR(h) + HR_MPROTECT, newSize);
  }
  store<u64>(HR(h) + HR_SIZE, newSize);
  return true;
}

// shrink_heap: the tail goes back with madvise(MADV_DONTNEED) (overcommit not strict): it stays
// mapped read-write (mprotect_size) but is no longer resident.
function shrinkHeap(h: u32, diff: u64): bool {
  const p = HR(h);
  const size = load<u64>(p + HR_SIZE);
  if (<i64>size - <i64>diff < <i64>HEAP_INFO_BYTES) return false;
  const newSize = size - diff;
  purgePages(load<u64>(p + HR_BASE) + newSize, diff);
  store<u64>(p + HR_SIZE, newSize);
  return true;
}

// _int_new_arena: a new arena in its first heap (heap_info, malloc_state, then top), attached to
// the calling thread and put right after the main arena in the list. NO_ARENA when it cannot.
function newArena(size: u64): u32 {
  const idx = addArenaState();
  if (idx == NO_ARENA) return NO_ARENA;
  let h = newHeap(size + (HEAP_INFO_BYTES + MALLOC_STATE_BYTES + MALLOC_ALIGNMENT), g64(G_TOP_PAD), idx);
  if (!h) h = newHeap(HEAP_INFO_BYTES + MALLOC_STATE_BYTES + MALLOC_ALIGNMENT, g64(G_TOP_PAD), idx);
  if (!h) {
    // give the state back: it is the last in the table
    heap.free(arenaPtr(idx));
    gs32(G_ARENA_COUNT, idx);
    return NO_ARENA;
  }
  const base = load<u64>(HR(h) + HR_BASE);
  const hsize = load<u64>(HR(h) + HR_SIZE);
  // top after heap_info and malloc_state, moved up so that chunk2mem is 16-byte aligned
  let ptr = base + HEAP_INFO_BYTES + MALLOC_STATE_BYTES;
  const misalign = (ptr + CHUNK_HDR_SZ) & ALIGN_MASK;
  if (misalign) ptr += MALLOC_ALIGNMENT - misalign;
  const saved = cur;
  useArena(idx);
  as64(A_SYSTEM_MEM, hsize);
  as32(A_ATTACHED, 1);
  as32(A_HEAP, h);
  as32(A_HEAP_COUNT, 1);
  const t = newRec(ptr, base + hsize - ptr, ST_TOP, idx, 0);
  as32(A_TOP, t);
  store<u32>(HR(h) + HR_FIRST, t);
  touch(base + HEAP_INFO_BYTES, MALLOC_STATE_BYTES);
  touchHeader(t);
  const replaced = threadArena();
  ts32(T_ARENA, idx);
  as32(A_NEXT, arenaField32(MAIN, A_NEXT));
  setArenaField32(MAIN, A_NEXT, idx);
  detachArena(replaced);
  useArena(saved);
  return idx;
}

// arena_get2: the free list first, then a new arena while under the limit, then reuse.
function arenaGet2(size: u64, avoid: u32): u32 {
  let a = getFreeList();
  if (a != NO_ARENA) return a;
  if (!g64(G_NARENAS_LIMIT)) {
    if (g64(G_ARENA_MAX)) gs64(G_NARENAS_LIMIT, g64(G_ARENA_MAX));
    else if (g64(G_NARENAS) > g64(G_ARENA_TEST)) gs64(G_NARENAS_LIMIT, NARENAS_PER_CORE * g64(G_CORES));
  }
  // narenas <= narenas_limit - 1, unsigned: a limit of 0 (not fixed yet) never stops it
  if (g64(G_NARENAS) <= g64(G_NARENAS_LIMIT) - 1 && g64(G_NARENAS) < MAX_ARENAS) {
    gs64(G_NARENAS, g64(G_NARENAS) + 1);
    a = newArena(size);
    if (a == NO_ARENA) gs64(G_NARENAS, g64(G_NARENAS) - 1);
    return a;
  }
  return reusedArena(avoid);
}

// arena_get: the thread's arena, or one from arena_get2 when it has none. Leaves it current.
// Inline: nearly always the thread has its arena (the call is only for the first).
// @ts-ignore: decorator
@inline function arenaGet(size: u64): u32 {
  const a = threadArena();
  if (a != NO_ARENA) { if (a != cur) useArena(a); return a; } // (`as` = arenaPtr(cur) always)
  return arenaGetFirst(size);
}

// arenaGet for a thread without an arena.
function arenaGetFirst(size: u64): u32 {
  const a = arenaGet2(size, NO_ARENA);
  if (a != NO_ARENA) useArena(a);
  return a;
}

// arena_get_retry: after a failure, a thread arena retries in the main arena and the main
// arena's thread in another arena.
function arenaGetRetry(a: u32, size: u64): u32 {
  if (a != MAIN) { useArena(MAIN); return MAIN; }
  const r = arenaGet2(size, a);
  if (r != NO_ARENA) useArena(r);
  return r;
}

// tcache_init: the cache itself is a chunk of the thread's arena, taken on the first call that needs it.
// @ts-ignore: decorator
@inline function tcacheInit(): void { if (!tcOn() && !t32(T_SHUTTING_DOWN)) tcacheMake(); }

function tcacheMake(): void {
  let a = arenaGet(TCACHE_STRUCT_BYTES);
  let c: u32 = a == NO_ARENA ? sysMallocNoArena(request2size(TCACHE_STRUCT_BYTES)) : intMalloc(request2size(TCACHE_STRUCT_BYTES));
  if (!c && a != NO_ARENA) {
    a = arenaGetRetry(a, TCACHE_STRUCT_BYTES);
    c = a == NO_ARENA ? 0 : intMalloc(request2size(TCACHE_STRUCT_BYTES));
  }
  if (!c) return;
  touch(addrOf(c) + CHUNK_HDR_SZ, TCACHE_STRUCT_BYTES);
  ts32(T_TCACHE_ON, 1);
  ts32(T_TCACHE_CHUNK, c);
}

// ---------------------------------------------------------------- system memory

function mmapChunk(nb: u64): u32 {
  const size = alignUp(nb + SIZE_SZ, PAGE_SIZE_BYTES);
  if (size <= nb || size > MAX_CHUNK_BYTES) return 0;
  const base = vmReserve(size, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED);
  if (!base) return 0;
  if (vmCommit(base, size) != Status.OK) { releaseRegion(base); return 0; }
  const c = newRec(base, size, ST_MMAPPED, NO_ARENA, 0);
  setMapOffset(c, 0);
  const head = g32(G_MMAP_HEAD);
  setMapFd(c, head);
  setBk(c, 0);
  if (head) setBk(head, c);
  gs32(G_MMAP_HEAD, c);
  gadd(G_N_MMAPS, 1);
  gadd(G_MMAPPED_MEM, <i64>size);
  touchHeader(c);
  return c;
}

function unmapChunk(c: u32): void {
  const offset = mapOffset(c);
  const total = offset + sizeOf(c);
  const f = mapFd(c), k = bk(c);
  if (f) setBk(f, k);
  if (k) setMapFd(k, f); else gs32(G_MMAP_HEAD, f);
  gadd(G_N_MMAPS, -1);
  gadd(G_MMAPPED_MEM, -<i64>total);
  releaseRegion(addrOf(c) - offset);
  dropRec(c);
}

// Splits nb off the front of top; the rest stays top.
// @ts-ignore: decorator
@inline function splitTop(nb: u64): u32 {
  const t = topRec();
  const a = addrOf(t);
  const rest = splitAtBin(t, nb, ST_TOP, 0, ST_INUSE, false, 0);
  as32(A_TOP, rest);
  touchWord(a + nb + SIZE_SZ); // rest's header
  return t;
}

// splitTop as a call, for the callers off malloc's own path (intMalloc, its loop, sysmalloc): one
// copy of the split instead of one inline in each (smaller optimising compiles).
function splitTopOut(nb: u64): u32 { return splitTop(nb); }

// sysmalloc with no usable arena: a mapping whatever the threshold.
function sysMallocNoArena(nb: u64): u32 { return mmapChunk(nb); }

// sysmalloc: a mapping for big requests, else more break (main arena) or more heap (thread arena).
function sysMalloc(nb: u64): u32 {
  let triedMmap = false;
  if (nb >= g64(G_MMAP_THRESHOLD) && g64(G_N_MMAPS) < g64(G_N_MMAPS_MAX)) {
    const c = mmapChunk(nb);
    if (c) return c;
    triedMmap = true;
  }
  if (cur != MAIN) return sysMallocHeap(nb, triedMmap);
  const old = topSize();
  let size = alignUp(nb + g64(G_TOP_PAD) + MINSIZE - old, PAGE_SIZE_BYTES);
  if (size > MAX_CHUNK_BYTES) return 0;
  const base = a64(A_BASE);
  if (!base) {
    const b = vmReserve(size, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_PAGE_ALIGNED);
    if (!b) return 0;
    if (vmCommit(b, size) != Status.OK) { releaseRegion(b); return 0; }
    as64(A_BASE, b);
    as64(A_SYSTEM_MEM, size);
    const t = newRec(b, size, ST_TOP, MAIN, 0);
    as32(A_TOP, t);
    as32(A_FIRST, t);
    touchHeader(t);
  } else {
    const sys = a64(A_SYSTEM_MEM);
    if (sys + size > MAX_CHUNK_BYTES) return 0;
    // The break cannot move (address space): glibc would fall back to a mapping; we fail.
    if (resizeRegion(base, sys + size) != Status.OK) return 0;
    if (vmCommit(base + sys, size) != Status.OK) { resizeRegion(base, sys); return 0; }
    as64(A_SYSTEM_MEM, sys + size);
    setSize(topRec(), old + size);
  }
  if (topSize() >= nb + MINSIZE) return splitTopOut(nb);
  return 0;
}

// sysmalloc for a thread arena: grow the last heap, else map a new heap (the old top is freed and
// two fenceposts close the old heap), else (if not tried yet) a mapping.
function sysMallocHeap(nb: u64, triedMmap: bool): u32 {
  const t = topRec();
  const oldSize = sizeOf(t);
  const h = a32(A_HEAP);
  const oldHeapSize = load<u64>(HR(h) + HR_SIZE);
  if (<i64>(MINSIZE + nb) - <i64>oldSize > 0 && growHeap(h, MINSIZE + nb - oldSize)) {
    const grown = load<u64>(HR(h) + HR_SIZE) - oldHeapSize;
    aadd(A_SYSTEM_MEM, <i64>grown);
    setSize(t, oldSize + grown);
    touchHeader(t);
  } else {
    const nh = newHeap(nb + (MINSIZE + HEAP_INFO_BYTES), g64(G_TOP_PAD), cur);
    if (nh) {
      const nbase = load<u64>(HR(nh) + HR_BASE);
      const nsize = load<u64>(HR(nh) + HR_SIZE);
      store<u32>(HR(nh) + HR_PREV, h);
      aadd(A_SYSTEM_MEM, <i64>nsize);
      as32(A_HEAP, nh);
      as32(A_HEAP_COUNT, a32(A_HEAP_COUNT) + 1);
      const nt = newRec(nbase + HEAP_INFO_BYTES, nsize - HEAP_INFO_BYTES, ST_TOP, cur, t);
      store<u32>(HR(nh) + HR_FIRST, nt);
      as32(A_TOP, nt);
      touchHeader(nt);
      // The old top: its last 32 bytes (at least) become the fenceposts, the rest is freed.
      const freed = (oldSize - MINSIZE) & ~ALIGN_MASK;
      if (freed >= MINSIZE) {
        setSize(t, freed);
        const fence = newRec(addrOf(t) + freed, oldSize - freed, ST_FENCE, cur, t);
        setNextP(t, fence);
        touchHeader(fence);
        store<u32>(HR(h) + HR_FENCE, fence);
        setState(t, ST_INUSE);
        intFree(t);
      } else {
        setState(t, ST_FENCE); // too small to free: in use, with the fenceposts
        store<u32>(HR(h) + HR_FENCE, t);
        touchHeader(t);
      }
    } else if (!triedMmap) {
      const c = mmapChunk(nb);
      if (c) return c;
    }
  }
  if (topSize() >= nb + MINSIZE) return splitTopOut(nb);
  return 0;
}

// systrim: give back whole pages at the end of top, keeping `pad` bytes (and MINSIZE) in it.
// glibc computes the top's spare area as a signed number but compares it with the unsigned pad:
// a top of exactly MINSIZE bytes (spare area −1) therefore passes the test, and the page-rounded
// difference comes out negative, so the break *grows* by pad + 1 rounded up to a page. Reproduced
// here on purpose (malloc_trim on a 32-byte top, or free with trim_threshold ≤ 32, does this).
function sysTrim(pad: u64): u64 {
  const t = topRec();
  if (!t) return 0;
  const top = sizeOf(t);
  const area = <i64>top - <i64>MINSIZE - 1;
  if (<u64>area <= pad) return 0;
  const extra = <i64>alignDown(<u64>area - pad, PAGE_SIZE_BYTES);
  if (!extra) return 0;
  const sys = a64(A_SYSTEM_MEM);
  const newSys = <u64>(<i64>sys - extra);
  if (extra < 0 && newSys > MAX_CHUNK_BYTES) return 0;
  if (resizeRegion(a64(A_BASE), newSys) != Status.OK) return 0;
  if (extra < 0 && vmCommit(a64(A_BASE) + sys, newSys - sys) != Status.OK) { resizeRegion(a64(A_BASE), sys); return 0; }
  as64(A_SYSTEM_MEM, newSys);
  setSize(t, <u64>(<i64>top - extra));
  touchHeader(t);
  return extra > 0 ? <u64>extra : 0;
}

// heap_trim for the current thread arena: while its last heap holds nothing but top (and is not
// the first), unmap it if what would be left at the end of the previous heap is big enough, and
// that end (the fenceposts, with a free chunk before them) becomes top; then shrink the last heap
// like systrim shrinks the break.
function heapTrim(pad: u64): void {
  let h = a32(A_HEAP);
  let top = topRec();
  while (addrOf(top) == load<u64>(HR(h) + HR_BASE) + HEAP_INFO_BYTES) {
    const prevHeap = load<u32>(HR(h) + HR_PREV);
    if (!prevHeap) break;
    const prevSize = load<u64>(HR(prevHeap) + HR_SIZE);
    // the fence record ends the previous heap; a binned chunk before it joins the new top
    const fence = load<u32>(HR(prevHeap) + HR_FENCE);
    const before = binnedPrev(fence); // 0 unless in a bin
    let newSize = sizeOf(fence);
    if (isBinned(before)) newSize += sizeOf(before);
    if (newSize + (HEAP_MAX_SIZE - prevSize) < pad + MINSIZE + PAGE_SIZE_BYTES) break;
    const hsize = load<u64>(HR(h) + HR_SIZE);
    aadd(A_SYSTEM_MEM, -<i64>hsize);
    releaseRegion(load<u64>(HR(h) + HR_BASE));
    dropRec(top);
    dropRecord(HEAPS, h);
    h = prevHeap;
    as32(A_HEAP, h);
    as32(A_HEAP_COUNT, a32(A_HEAP_COUNT) - 1);
    if (isBinned(before)) {
      unlinkChunk(before);
      setState(before, ST_TOP); // its size stored (to the fence), then set to the new top's
      setSize(before, newSize);
      setNextP(before, 0);
      dropRec(fence);
      top = before;
    } else {
      top = fence;
    }
    setState(top, ST_TOP);
    as32(A_TOP, top);
    store<u32>(HR(h) + HR_FENCE, 0);
    touchHeader(top);
  }
  const topSz = sizeOf(top);
  if (topSz < g64(G_TRIM_THRESHOLD)) return;
  const area = <i64>topSz - <i64>MINSIZE - 1;
  if (area < 0 || <u64>area <= pad) return;
  const extra = alignDown(<u64>area - pad, PAGE_SIZE_BYTES);
  if (!extra) return;
  if (!shrinkHeap(h, extra)) return;
  aadd(A_SYSTEM_MEM, -<i64>extra);
  setSize(top, topSz - extra);
  touchHeader(top);
}

// ---------------------------------------------------------------- _int_malloc

// Takes the last chunk of a small bin (and refills the tcache from the same bin).
function smallBinTake(b: i32, nb: u64): u32 {
  const victim = binLast(b);
  unlinkChunk(victim);
  setState(victim, ST_INUSE);
  const ti = tcIndex(nb);
  if (tcOn() && ti < g64(G_TCACHE_BINS)) {
    while (<u64>tcCount(ti) < g64(G_TCACHE_COUNT) && binLast(b)) {
      const t = binLast(b);
      unlinkChunk(t);
      tcachePut(t, ti, trusted);
    }
  }
  return victim;
}

// Puts the part of `victim` beyond nb at the head of unsorted; returns victim (in use).
function splitToUnsorted(victim: u32, nb: u64, advertise: bool): void {
  if (sizeOf(victim) - nb < MINSIZE) return;
  const a = addrOf(victim);
  const r = splitAt(victim, nb, ST_INUSE);
  // a new record: bin byte 0 (no HEAD bit to clear); the pool's base after splitAt
  linkBetweenIn(RECS.base, UNSORTED, r, 0, binFirst(UNSORTED), false, true);
  if (advertise) as64(A_LAST_REMAINDER, a + nb);
}

// The last remainder `victim` (at va, size bytes, alone in unsorted) split for nb: victim's record
// keeps the front nb bytes and is returned (in use); a new record takes the rest and is alone in
// unsorted in victim's place (glibc unlinks the remainder and links the new remainder at the front
// of the then empty list: the same list, so only the bin's bytes change). The touches are glibc's,
// in its order: the new remainder's header and links, then its footer's neighbour.
// Inline in intMalloc (a call costs more than its set-up here).
// @ts-ignore: decorator
@inline function splitRemainder(victim: u32, va: u64, size: u64, nb: u64): u32 {
  const r = splitAtBin(victim, nb, ST_BIN, <u8>UNSORTED, ST_INUSE, true, size); // fd, bk 0: alone in unsorted
  const rb = RECS.base; // after the split (the pool may have moved)
  setBinFirst(UNSORTED, r);
  setBinLast(UNSORTED, r);
  linkBack(rb, at(rb, r), r);
  aadd(A_BIN_BYTES, -<i64>nb);
  as64(A_LAST_REMAINDER, va + nb);
  touch(va + nb + SIZE_SZ, freeLinkBytes(size - nb));
  const fp = (va + size) >> PAGE_SHIFT; // 8 bytes at a 16-byte aligned address: one page
  if (fp + 1 == footerPage && trusted) {
    skipTouch(va + size, SIZE_SZ);
  } else {
    touchPages(va + size, SIZE_SZ, owner);
    footerPage = fp + 1;
  }
  return victim;
}

// splitRemainder as a call, for intMalloc and its loop (see splitTopOut).
function splitRemainderOut(victim: u32, va: u64, size: u64, nb: u64): u32 { return splitRemainder(victim, va, size, nb); }

// _int_malloc's cases that need no pass over unsorted: a fastbin or small bin of nb's size, the
// straight-to-top case, and the last remainder alone in unsorted split again (what the pass's first
// step would do); the rest is intMallocLoop, a call (its set-up is not paid by these).
function intMalloc(nb: u64): u32 {
  // fastbin
  if (nb <= g64(G_MAX_FAST)) {
    const fi = fastIndex(nb);
    if (fastHead(fi)) {
      const ti = tcIndex(nb);
      const victim = fastPop(fi);
      if (tcOn() && ti < g64(G_TCACHE_BINS)) {
        while (<u64>tcCount(ti) < g64(G_TCACHE_COUNT) && fastHead(fi)) {
          const t = fastPop(fi);
          tcachePut(t, ti, trusted);
        }
      }
      return victim;
    }
  }
  let idx: i32;
  if (inSmallRange(nb)) {
    idx = smallIndex(nb);
    if (binLast(idx)) return smallBinTake(idx, nb);
    const v = splitSmall(nb, idx, true);
    if (v) return v;
  } else {
    idx = largeIndex(nb);
    if (a32(A_HAVE_FAST)) consolidate();
  }
  return intMallocLoop(nb, idx);
}

// _int_malloc's quick ways for a small request nb (bin idx) that no fastbin and no small bin
// serves: split off top when unsorted is empty and no bin above idx holds a chunk (the loop would
// go straight to top: the common case of runs of small requests), or off the last remainder when
// it is alone in unsorted (the unsorted pass's first step); else 0 (the loop decides). Inline in
// intMalloc and in malloc's own path (libcMallocArena). (nested ifs, not &&: see releaseChunkIn)
// @ts-ignore: decorator
@inline function splitSmall(nb: u64, idx: i32, out: bool): u32 {
  const last = binLast(UNSORTED);
  if (!last) {
    if (!anyBinAbove(idx)) {
      if (topSize() >= nb + MINSIZE) return out ? splitTopOut(nb) : splitTop(nb);
    }
  } else {
    const pv = at(RECS.base, last);
    if (bkAt(pv) == 0) {
      const va = addrAt(pv);
      if (va == a64(A_LAST_REMAINDER)) {
        const size = nextSizeAt(RECS.base, pv); // (in a bin)
        if (size > nb + MINSIZE) return out ? splitRemainderOut(last, va, size, nb) : splitRemainder(last, va, size, nb);
      }
    }
  }
  return 0;
}

// _int_malloc from its pass over unsorted on (idx: nb's bin).
function intMallocLoop(nb: u64, idx: i32): u32 {
  const ti = tcIndex(nb);
  const tcacheNb = tcOn() && ti < g64(G_TCACHE_BINS);
  let returnCached = false;
  let unsortedCount: u64 = 0;
  const limit = g64(G_UNSORTED_LIMIT);

  for (;;) {
    let iters = 0;
    let victim: u32;
    while ((victim = binLast(UNSORTED)) != 0) {
      const rb = RECS.base;
      const pv = at(rb, victim);
      const size = nextSizeAt(rb, pv); // (in a bin)
      const va = addrAt(pv);
      // The last remainder alone in unsorted: split it again (locality for runs of small requests).
      // (nested ifs, not &&: see releaseChunkIn)
      if (inSmallRange(nb)) {
        if (bkAt(pv) == 0) {
          if (va == a64(A_LAST_REMAINDER)) {
            if (size > nb + MINSIZE) return splitRemainderOut(victim, va, size, nb);
          }
        }
      }
      unlinkSized(rb, victim, true, size);
      if (size == nb) {
        if (tcacheNb && <u64>tcCount(ti) < g64(G_TCACHE_COUNT)) {
          tcachePut(victim, ti, trusted);
          returnCached = true;
          continue;
        }
        setStoredSizeAt(pv, size);
        setStateRawAt(pv, ST_INUSE);
        return victim;
      }
      fileChunk(victim, size);
      unsortedCount++;
      if (returnCached && limit > 0 && unsortedCount > limit) return tcacheGet(ti);
      if (++iters >= MAX_ITERS) break;
    }
    if (returnCached) return tcacheGet(ti);

    if (!inSmallRange(nb)) {
      const first = binFirst(idx);
      if (first && sizeOf(first) >= nb) {
        let v = bkNext(first);
        while (sizeOf(v) < nb) v = bkNext(v);
        if (v != binLast(idx) && sizeOf(fd(v)) == sizeOf(v)) v = fd(v);
        unlinkChunk(v);
        setState(v, ST_INUSE);
        splitToUnsorted(v, nb, false);
        return v;
      }
    }

    const b = nextNonEmptyBin(idx + 1);
    if (b) {
      const v = binLast(b);
      unlinkChunk(v);
      setState(v, ST_INUSE);
      splitToUnsorted(v, nb, inSmallRange(nb));
      return v;
    }

    if (topSize() >= nb + MINSIZE) return splitTopOut(nb);
    if (a32(A_HAVE_FAST)) {
      consolidate();
      continue; // idx stays nb's bin
    }
    return sysMalloc(nb);
  }
  return 0;
}

// ---------------------------------------------------------------- _int_free (p belongs to the current arena)

function intFree(p: u32): void { intFreeAt(R(p), p); }

// intFree's body, inline in free's own path: the tcache and fastbin pushes; coalescing is a call.
// pp = R(p) (pointer style, see at(): nothing here takes a record before the call out).
// @ts-ignore: decorator
@inline function intFreeAt(pp: usize, p: u32): void {
  const size = storedSizeAt(pp); // (in use)
  const ti = tcIndex(size);
  const known = trusted && isWholeAt(pp);
  const t = ts, g = hs; // in locals: V8 loads a global again at every use
  // Nested ifs, not &&: V8 turns `a && b` (an if with a result) into a 0/1 value it then tests.
  if (load<u32>(t + T_TCACHE_ON)) {
    if (ti < load<u64>(g + G_TCACHE_BINS)) {
      if (<u64>load<u32>(t + T_TC_COUNTS + (<usize>ti << 2)) < load<u64>(g + G_TCACHE_COUNT)) {
        tcachePutAt(pp, p, ti, known);
        return;
      }
    }
  }
  if (size <= load<u64>(g + G_MAX_FAST)) {
    const fi = fastIndex(size);
    const av = as;
    const h = av + A_FASTBINS + (<usize>fi << 2);
    store<u32>(pp + R_FD, load<u32>(h));
    store<u32>(h, p);
    setStateAt(pp, ST_FAST);
    store<u32>(av + A_HAVE_FAST, 1);
    store<u64>(av + A_FAST_CHUNKS, load<u64>(av + A_FAST_CHUNKS) + 1);
    store<u64>(av + A_FAST_BYTES, load<u64>(av + A_FAST_BYTES) + size);
    touchWordUnless(known, addrAt(pp) + CHUNK_HDR_SZ);
    return;
  }
  intFreeRelease(p);
}

// _int_free for a chunk past the tcache and fastbins: coalesce, and trim after a big merge.
function intFreeRelease(p: u32): void {
  const merged = releaseChunk(p);
  if (merged >= FASTBIN_CONSOLIDATION_THRESHOLD) {
    if (a32(A_HAVE_FAST)) consolidate();
    if (cur == MAIN) {
      if (topSize() >= g64(G_TRIM_THRESHOLD)) sysTrim(g64(G_TOP_PAD));
    } else {
      heapTrim(g64(G_TOP_PAD)); // always tried: the heap might go away
    }
  }
}

// __libc_free's path for a chunk (the calling thread's tcache is set up, or shut down).
// @ts-ignore: decorator
@inline function freeChunk(c: u32): void {
  if (stateOf(c) == ST_MMAPPED) freeMapped(c); else freeArenaChunk(c);
}

// free of a mapped chunk: the dynamic threshold rule, then unmap.
function freeMapped(c: u32): void {
  // The dynamic threshold rule compares the size word, IS_MMAPPED bit included.
  const word = sizeOf(c) | IS_MMAPPED;
  if (!g32(G_NO_DYN) && word > g64(G_MMAP_THRESHOLD) && word <= DEFAULT_MMAP_THRESHOLD_MAX) {
    gs64(G_MMAP_THRESHOLD, sizeOf(c));
    gs64(G_TRIM_THRESHOLD, 2 * sizeOf(c));
  }
  unmapChunk(c);
}

// free of a chunk of an arena, in that arena. useArena only when it is not the current one (the
// same state: `as` = arenaPtr(cur) always); the record addressed once.
// @ts-ignore: decorator
@inline function freeArenaChunk(c: u32): void { freeArenaChunkAt(R(c), c); }

// freeArenaChunk of c at p = R(c)
// @ts-ignore: decorator
@inline function freeArenaChunkAt(p: usize, c: u32): void {
  const a = arenaAt(p, c);
  if (a != cur) useArena(a);
  intFreeAt(p, c);
}

// ---------------------------------------------------------------- public calls

// _int_malloc in arena `a`, or a mapping when there is no arena (sysmalloc with av == NULL).
// @ts-ignore: decorator
@inline function mallocIn(a: u32, nb: u64): u32 { return a == NO_ARENA ? sysMallocNoArena(nb) : intMalloc(nb); }

// __libc_malloc, and the chunk handed out (handOut). A chunk from the tcache is handed out in place:
// it is never mapped, and its record is addressed once (tcachePop).
// @ts-ignore: decorator
@inline function libcMallocOut(bytes: u64): u32 {
  if (bytes > PTRDIFF_MAX) return 0;
  const nb = request2size(bytes);
  if (nb > MAX_CHUNK_BYTES) return 0;
  const ti = tcIndex(nb);
  // the thread's and the heap's states in locals (V8 loads a global again at every use)
  const t = ts;
  if (!load<u32>(t + T_TCACHE_ON)) {
    tcacheInit(); // the first call of the thread (or the tcache shut down): made, maybe
    if (ti < g64(G_TCACHE_BINS) && tcOn() && tcCount(ti) > 0) return tcachePop(ti, true);
  } else if (ti < load<u64>(hs + G_TCACHE_BINS)) {
    // nested, not && (see intFreeAt)
    if (load<u32>(t + T_TC_COUNTS + (<usize>ti << 2))) return tcachePop(ti, true);
  }
  return handOut(libcMallocArena(bytes, nb));
}

// __libc_malloc past the tcache: _int_malloc in the thread's arena (another one on failure).
// Written as early returns, not `!victim && a != NO_ARENA && ...` (V8 keeps such a test as 0/1
// values across the call; see releaseChunkIn).
// @ts-ignore: decorator
@inline function libcMallocArena(bytes: u64, nb: u64): u32 {
  const a = arenaGet(bytes);
  if (a == NO_ARENA) return sysMallocNoArena(nb); // (no retry without an arena)
  // intMalloc's two most common ways (a small request, no fastbin or small-bin chunk of its size:
  // a split of top or of the last remainder) taken here without the call (python.hst: 1.94 M of
  // its 1.99 M calls a warm pass)
  if (inSmallRange(nb)) {
    const idx = smallIndex(nb);
    if (!binLast(idx)) {
      if (nb > g64(G_MAX_FAST) || !fastHead(fastIndex(nb))) {
        const v = splitSmall(nb, idx, false);
        if (v) return v;
      }
    }
  }
  const victim = intMalloc(nb);
  if (victim) return victim;
  if (!g32(G_MULTI)) return 0;
  return mallocIn(arenaGetRetry(a, bytes), nb);
}

// Bookkeeping and page touching for a chunk handed to the program.
// @ts-ignore: decorator
@inline function handOut(c: u32): u32 {
  if (!c) return 0;
  const p = R(c);
  if (stateAt(p) == ST_MMAPPED) handOutMapped(c); else handOutAt(p);
  return c;
}

// handOut of a mapped chunk: its mapping up to the chunk's end (a call: rare, and handOut is inline
// in the batch loop's malloc).
function handOutMapped(c: u32): void {
  const offset = mapOffset(c);
  touch(addrOf(c) - offset, offset + sizeOf(c));
}

// handOut of a chunk that is not mapped, at p = R(c): header + payload (the payload runs into the
// next chunk's prev_size word): the whole span, known resident when the chunk is WHOLE (back from
// a tcache or fastbin)
// @ts-ignore: decorator
@inline function handOutAt(p: usize): void { handOutSizedAt(p, storedSizeAt(p), false); }

// handOutAt of a chunk of `size` bytes (in use, or in a tcache: tcachePop); store (a constant): its
// size is stored here (it comes from a tcache)
// @ts-ignore: decorator
@inline function handOutSizedAt(p: usize, size: u64, store: bool): void {
  const binByte = load<u8>(p + R_BIN); // WHOLE before the store below: known resident
  const a = addrAt(p); // before the state store (see setStateAt)
  if (store) setStoredSizeAt(p, size);
  // state ST_INUSE and bin byte WHOLE in one store
  setStateBinRawAt(p, ST_INUSE, WHOLE);
  // touchUnless(trusted && WHOLE, ...) with nested ifs (see releaseChunkIn)
  if (trusted) {
    if (binByte == WHOLE) { skipTouch(a + SIZE_SZ, size); return; }
  }
  touch(a + SIZE_SZ, size);
}

// _int_memalign (alignment > 16, a power of two), in the current arena
function intMemalign(alignment: u64, bytes: u64): u32 {
  if (bytes > PTRDIFF_MAX) return 0;
  const nb = request2size(bytes);
  const want = request2size(nb + alignment + MINSIZE);
  if (want > MAX_CHUNK_BYTES) return 0;
  let p = intMalloc(want);
  if (!p) return 0;
  const mem = addrOf(p) + CHUNK_HDR_SZ;
  if (mem % alignment) {
    let brk = alignUp(mem, alignment) - CHUNK_HDR_SZ;
    if (brk - addrOf(p) < MINSIZE) brk += alignment;
    const lead = brk - addrOf(p);
    if (stateOf(p) == ST_MMAPPED) {
      // Only the chunk's start moves inside its mapping.
      setMapOffset(p, mapOffset(p) + lead);
      setAddr(p, brk);
      setSize(p, sizeOf(p) - lead);
      return p;
    }
    // Give the leader back, keep the rest.
    const newp = splitAt(p, lead, ST_INUSE);
    setState(p, ST_INUSE);
    intFree(p);
    p = newp;
  }
  if (stateOf(p) != ST_MMAPPED && sizeOf(p) > nb + MINSIZE) {
    const r = splitAt(p, nb, ST_INUSE);
    touchHeader(r);
    intFree(r);
  }
  return p;
}

// _int_realloc (p in the current arena, nb its new padded size)
function intRealloc(p: u32, nb: u64): u32 {
  const oldsize = sizeOf(p);
  const next = nextP(p);
  let newsize: u64;
  if (oldsize >= nb) {
    newsize = oldsize;
  } else if (next != 0 && next == topRec() && oldsize + sizeOf(next) >= nb + MINSIZE) {
    // Grow into top.
    const total = oldsize + sizeOf(next);
    setAddr(next, addrOf(p) + nb);
    setSize(next, total - nb);
    setSize(p, nb);
    touchHeader(next);
    touch(addrOf(p) + oldsize, nb - oldsize);
    return p;
  } else if (next != topRec() && isBinned(next) && oldsize + sizeOf(next) >= nb) {
    // Grow into the free chunk that follows.
    unlinkChunk(next);
    absorbNext(p);
    newsize = sizeOf(p);
  } else {
    // Allocate, copy, free.
    const n = intMalloc(nb);
    if (!n) return 0;
    if (n == next) {
      // malloc handed back the very next chunk (after a consolidation): join the two.
      setState(n, ST_INUSE);
      absorbNext(p);
      newsize = sizeOf(p);
    } else {
      handOut(n);
      intFree(p);
      return n;
    }
  }
  if (newsize - nb >= MINSIZE) {
    const r = splitAt(p, nb, ST_INUSE);
    touchHeader(r);
    intFree(r);
  }
  touch(addrOf(p) + SIZE_SZ, sizeOf(p));
  setWhole(p);
  return p;
}

// ---------------------------------------------------------------- policy surface

export function ptCreate(heapIndex: i32, parent: i32, params: usize, count: i32): Status {
  const tcCountP = param(params, count, PT_TCACHE_COUNT);
  const tcMaxP = param(params, count, PT_TCACHE_MAX);
  const mxfastP = param(params, count, PT_MXFAST);
  const trimP = param(params, count, PT_TRIM_THRESHOLD);
  const mmapP = param(params, count, PT_MMAP_THRESHOLD);
  const padP = param(params, count, PT_TOP_PAD);
  const mmapMaxP = param(params, count, PT_MMAP_MAX);
  const limitP = param(params, count, PT_TCACHE_UNSORTED_LIMIT);
  const arenaMaxP = param(params, count, PT_ARENA_MAX);
  const arenaTestP = param(params, count, PT_ARENA_TEST);
  const coresP = param(params, count, PT_CORES);
  // Values glibc would refuse are errors here (glibc ignores them silently).
  if (!isNaN(tcCountP) && (tcCountP < 0 || tcCountP > <f64>MAX_TCACHE_COUNT)) return Status.BAD_PARAM;
  if (!isNaN(tcMaxP) && (tcMaxP < 0 || tcMaxP > <f64>MAX_TCACHE_SIZE)) return Status.BAD_PARAM;
  if (!isNaN(mxfastP) && (mxfastP < 0 || mxfastP > <f64>MAX_FAST_SIZE)) return Status.BAD_PARAM;
  if (!isNaN(trimP) && trimP < 0) return Status.BAD_PARAM;
  if (!isNaN(mmapP) && mmapP < 0) return Status.BAD_PARAM;
  if (!isNaN(padP) && (padP < 0 || padP > <f64>MAX_TOP_PAD)) return Status.BAD_PARAM;
  if (!isNaN(mmapMaxP) && (mmapMaxP < 0 || mmapMaxP > 2147483647)) return Status.BAD_PARAM;
  if (!isNaN(limitP) && limitP < 0) return Status.BAD_PARAM;
  // arena_max and arena_test: glibc's tunables have a minimum of 1 (0 = not set for arena_max)
  if (!isNaN(arenaMaxP) && (arenaMaxP < 0 || arenaMaxP != Math.floor(arenaMaxP) || arenaMaxP > 9007199254740991)) return Status.BAD_PARAM;
  if (!isNaN(arenaTestP) && (arenaTestP < 1 || arenaTestP != Math.floor(arenaTestP) || arenaTestP > 9007199254740991)) return Status.BAD_PARAM;
  if (!isNaN(coresP) && (coresP < 1 || coresP != Math.floor(coresP) || coresP > <f64>MAX_CORES)) return Status.BAD_PARAM;
  forgetEntered();
  hs = heapState + <usize>heapIndex * G_BYTES;
  owner = <u8>heapIndex;
  reserveForHint(RECS, RECORDS_PER_LIVE_BLOCK);
  memory.fill(hs, 0, G_BYTES);
  gs32(G_EPOCH_SEEN, seenEpoch(vmResidencyEpoch()));
  seenHere = g32(G_EPOCH_SEEN);
  gs64(G_TCACHE_COUNT, isNaN(tcCountP) ? TCACHE_FILL_COUNT : <u64>tcCountP);
  gs64(G_TCACHE_BINS, isNaN(tcMaxP) ? TCACHE_MAX_BINS : tcIndex(request2size(<u64>tcMaxP)) + 1);
  const mx = isNaN(mxfastP) ? DEFAULT_MXFAST : <u64>mxfastP;
  // set_max_fast: 0 (and anything below a chunk) leaves no chunk size fast
  gs64(G_MAX_FAST, mx <= ALIGN_MASK - SIZE_SZ ? MINSIZE / 2 : (mx + SIZE_SZ) & ~ALIGN_MASK);
  gs64(G_TRIM_THRESHOLD, isNaN(trimP) ? DEFAULT_TRIM_THRESHOLD : <u64>trimP);
  gs64(G_MMAP_THRESHOLD, isNaN(mmapP) ? DEFAULT_MMAP_THRESHOLD : <u64>mmapP);
  gs64(G_TOP_PAD, isNaN(padP) ? DEFAULT_TOP_PAD : <u64>padP);
  gs64(G_N_MMAPS_MAX, isNaN(mmapMaxP) ? DEFAULT_MMAP_MAX : <u64>mmapMaxP);
  gs64(G_UNSORTED_LIMIT, isNaN(limitP) ? 0 : <u64>limitP);
  gs64(G_ARENA_MAX, isNaN(arenaMaxP) ? 0 : <u64>arenaMaxP);
  gs64(G_ARENA_TEST, isNaN(arenaTestP) ? DEFAULT_ARENA_TEST : <u64>arenaTestP);
  gs64(G_CORES, isNaN(coresP) ? DEFAULT_CORES : <u64>coresP);
  // Setting any of these turns the dynamic mmap/trim threshold off (do_set_* in malloc.c).
  gs32(G_NO_DYN, !isNaN(trimP) || !isNaN(mmapP) || !isNaN(padP) || !isNaN(mmapMaxP) ? 1 : 0);
  gs32(G_FREE_LIST, NO_ARENA);
  gs32(G_NEXT_TO_USE, NO_ARENA);
  gs64(G_NARENAS, 1);
  // the main arena: alone in the circular list
  addArenaState();
  setArenaField32(MAIN, A_NEXT, MAIN);
  useArena(MAIN);
  return Status.OK;
}

export function ptAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 { return ptAllocInline(heapIndex, size, alignLog2); }

// ptAlloc's body, inline in the engine's batch loop made for ptmalloc (index.ts PtOps); memalign is a call.
// @ts-ignore: decorator
@inline export function ptAllocInline(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  enter(heapIndex);
  if (alignLog2 > 4) return memalignCall(size, alignLog2);
  return libcMallocOut(size);
}

// _mid_memalign: the thread's arena (asked for with the whole span it may need)
function memalignCall(size: u64, alignLog2: u32): u32 {
  const alignment = <u64>1 << alignLog2;
  const al = alignment < MINSIZE ? MINSIZE : alignment;
  let a = arenaGet(size + al + MINSIZE);
  if (a == NO_ARENA) return 0;
  let p = intMemalign(al, size);
  if (!p && g32(G_MULTI)) {
    a = arenaGetRetry(a, size);
    if (a != NO_ARENA) p = intMemalign(al, size);
  }
  return handOut(p);
}

// __libc_calloc: like malloc, but the tcache is never consulted (only _int_malloc).
export function ptCalloc(heapIndex: i32, size: u64): u32 {
  enter(heapIndex);
  if (size > PTRDIFF_MAX) return 0;
  const nb = request2size(size);
  if (nb > MAX_CHUNK_BYTES) return 0;
  tcacheInit();
  let a = arenaGet(size);
  let c = mallocIn(a, nb);
  if (!c && a != NO_ARENA && g32(G_MULTI)) {
    a = arenaGetRetry(a, size);
    c = mallocIn(a, nb);
  }
  return handOut(c);
}

export function ptFree(heapIndex: i32, c: u32): void { ptFreeInline(heapIndex, c); }

// ptFree's body, inline in the engine's batch loop made for ptmalloc (index.ts PtOps).
// @ts-ignore: decorator
@inline export function ptFreeInline(heapIndex: i32, c: u32): void {
  enter(heapIndex);
  let p = R(c);
  if (stateAt(p) == ST_MMAPPED) { freeMapped(c); return; }
  if (!load<u32>(ts + T_TCACHE_ON)) {
    tcacheInit(); // may take records (the tcache's own chunk): c's record is addressed again
    p = R(c);
  }
  freeArenaChunkAt(p, c);
}

// __libc_realloc. A size of 0 is treated as a request for the smallest chunk (the engine's
// REALLOC keeps the block alive; glibc's realloc(p, 0) frees, which traces record as a free).
// The chunk is resized in its own arena, whichever thread calls.
// A path of calls: the mapped chunk's case and malloc (libcMalloc, needed only by the rare ways
// out) are functions of their own, not inline, so that V8's optimising compile of this function,
// which every replay with reallocs makes, stays small (with them inline it was 15 KB of code and
// the largest compiler zone of a ptmalloc run).
export function ptRealloc(heapIndex: i32, c: u32, size: u64): u32 {
  enter(heapIndex);
  if (size > PTRDIFF_MAX) return 0;
  const nb = request2size(size);
  if (nb > MAX_CHUNK_BYTES) return 0;
  if (stateOf(c) == ST_MMAPPED) return reallocMapped(c, nb, size);
  tcacheInit();
  useArena(arenaOf(c));
  const r = intRealloc(c, nb);
  if (r || !g32(G_MULTI)) return r;
  // Try harder in another arena: malloc, copy, free the old chunk in its own arena.
  const n = libcMalloc(size);
  if (!n) return 0;
  useArena(arenaOf(c));
  intFree(c);
  return n;
}

// __libc_malloc as a call (libcMallocOut), for realloc's rare ways out.
function libcMalloc(bytes: u64): u32 { return libcMallocOut(bytes); }

// realloc of a mapped chunk c (nb: the new padded size, size: the request): mremap_chunk (same page
// count: nothing; else the mapping grows, shrinks or moves), else malloc, copy, unmap.
function reallocMapped(c: u32, nb: u64, size: u64): u32 {
  const offset = mapOffset(c);
  const total = offset + sizeOf(c);
  const newTotal = alignUp(nb + offset + SIZE_SZ, PAGE_SIZE_BYTES);
  if (newTotal == total) return c;
  const base = addrOf(c) - offset;
  if (resizeRegion(base, newTotal) == Status.OK) {
    if (newTotal > total) vmCommit(base + total, newTotal - total);
    setSize(c, newTotal - offset);
    gadd(G_MMAPPED_MEM, <i64>newTotal - <i64>total);
    touch(base, newTotal);
    return c;
  }
  const nbase = vmReserve(newTotal, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED);
  if (nbase && vmCommit(nbase, newTotal) == Status.OK) {
    releaseRegion(base);
    setAddr(c, nbase + offset);
    setSize(c, newTotal - offset);
    gadd(G_MMAPPED_MEM, <i64>newTotal - <i64>total);
    touch(nbase, newTotal);
    return c;
  }
  if (nbase) releaseRegion(nbase);
  if (sizeOf(c) - SIZE_SZ >= nb) return c;
  const n = libcMalloc(size);
  if (!n) return 0;
  unmapChunk(c);
  return n;
}

// mtrim for the current arena: consolidate, madvise the whole pages inside big free chunks
// (resident drops, the arena does not); the main arena then trims top like free does.
function mtrim(pad: u64): void {
  consolidate();
  const first = binIndex(PAGE_SIZE_BYTES);
  for (let b = UNSORTED; b < NBINS; b++) {
    if (b != UNSORTED && b < first) continue;
    for (let p = binLast(b); p; p = bk(p)) {
      const size = sizeOf(p);
      if (size <= PAGE_SIZE_BYTES - 1 + MALLOC_CHUNK_BYTES) continue;
      const paligned = alignUp(addrOf(p) + MALLOC_CHUNK_BYTES, PAGE_SIZE_BYTES);
      const rest = addrOf(p) + size - paligned;
      if (rest > PAGE_SIZE_BYTES - 1) purgePages(paligned, alignDown(rest, PAGE_SIZE_BYTES));
    }
  }
  if (cur == MAIN) sysTrim(pad);
}

// malloc_trim(pad): mtrim of every arena in list order. Returns the resident bytes given back.
export function ptTrim(heapIndex: i32, padBytes: u64): u64 {
  enter(heapIndex);
  const before = vmOwnerResident(owner);
  let a = MAIN;
  do {
    useArena(a);
    mtrim(padBytes);
    a = a32(A_NEXT);
  } while (a != MAIN);
  const after = vmOwnerResident(owner);
  return before > after ? before - after : 0;
}

// A thread exited (__malloc_arena_thread_freeres): its tcache chunks go back to their arenas
// (no tcache now), then the tcache itself; its arena goes on the free list when it was the
// last thread attached. The slot's state is then forgotten: a later thread starts afresh.
export function ptThreadEnd(heapIndex: i32): void {
  forgetEntered();
  use(heapIndex);
  lookAtDrops();
  const slot = clockThread();
  if (slot >= g32(G_THREAD_CAP)) return;
  const slotAt = <usize>g64(G_THREADS) + (<usize>slot << 3);
  ts = load<usize>(slotAt);
  if (!ts) return;
  gs32(G_MULTI, 1);
  ts32(T_SHUTTING_DOWN, 1);
  if (tcOn()) {
    ts32(T_TCACHE_ON, 0);
    for (let i: u32 = 0; i < TCACHE_MAX_BINS; i++) {
      const o = T_TC_HEADS + (<usize>i << 2);
      let e: u32;
      while ((e = t32(o)) != 0) {
        ts32(o, fd(e));
        ts32(T_TC_COUNTS + (<usize>i << 2), t32(T_TC_COUNTS + (<usize>i << 2)) - 1);
        setState(e, ST_INUSE);
        tcacheCount(e, -1);
        freeChunk(e);
      }
    }
    freeChunk(t32(T_TCACHE_CHUNK));
  }
  const a = threadArena();
  ts32(T_ARENA, NO_ARENA);
  if (a != NO_ARENA) {
    const n = arenaField32(a, A_ATTACHED) - 1;
    setArenaField32(a, A_ATTACHED, n);
    if (!n) {
      setArenaField32(a, A_NEXT_FREE, g32(G_FREE_LIST));
      gs32(G_FREE_LIST, a);
    }
  }
  heap.free(ts);
  store<usize>(slotAt, 0);
  ts = 0;
}

export function ptDestroy(heapIndex: i32): void {
  forgetEntered();
  use(heapIndex);
  for (let i: u32 = 0; i < arenaCount(); i++) {
    useArena(i);
    if (i == MAIN) {
      let c = a32(A_FIRST);
      while (c) { const n = nextP(c); dropRec(c); c = n; }
      if (a64(A_BASE)) vmRelease(a64(A_BASE));
    } else {
      let h = a32(A_HEAP);
      while (h) {
        let c = load<u32>(HR(h) + HR_FIRST);
        while (c) { const n = nextP(c); dropRec(c); c = n; }
        vmRelease(load<u64>(HR(h) + HR_BASE));
        const prev = load<u32>(HR(h) + HR_PREV);
        dropRecord(HEAPS, h);
        h = prev;
      }
    }
  }
  let c = g32(G_MMAP_HEAD);
  while (c) {
    const n = mapFd(c);
    vmRelease(addrOf(c) - mapOffset(c));
    dropRec(c);
    c = n;
  }
  for (let i: u32 = 0; i < arenaCount(); i++) heap.free(arenaPtr(i));
  if (g64(G_ARENAS)) heap.free(<usize>g64(G_ARENAS));
  for (let s: u32 = 0; s < g32(G_THREAD_CAP); s++) {
    const t = load<usize>(<usize>g64(G_THREADS) + (<usize>s << 3));
    if (t) heap.free(t);
  }
  if (g64(G_THREADS)) heap.free(<usize>g64(G_THREADS));
  memory.fill(hs, 0, G_BYTES);
  as = 0;
  ts = 0;
}

export function ptUserAddress(heapIndex: i32, c: u32): u64 { return addrOf(c) + CHUNK_HDR_SZ; }

// malloc_usable_size
export function ptUsableBytes(c: u32): u64 {
  return stateOf(c) == ST_MMAPPED ? sizeOf(c) - CHUNK_HDR_SZ : sizeOf(c) - SIZE_SZ;
}

// Free bytes of the current arena: top + fastbins + bins (int_mallinfo's avail).
// @ts-ignore: decorator
@inline function arenaAvail(): u64 { return topSize() + a64(A_FAST_BYTES) + a64(A_BIN_BYTES); }

// mallinfo2 summed over the arenas as glibc sums it; per arena (list order) the extras.
export function ptSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  let sysTotal: u64 = 0, avail: u64 = 0, ordblks: u64 = 0, smblks: u64 = 0, fsmblks: u64 = 0;
  let largest: u64 = 0, heaps: u64 = 0, tops: u64 = 0, free: u64 = 0, tcacheBytes: u64 = 0;
  let a = MAIN;
  do {
    useArena(a);
    const av = arenaAvail();
    const sys = a64(A_SYSTEM_MEM);
    sysTotal += sys;
    avail += av;
    ordblks += a64(A_BIN_CHUNKS) + 1;
    smblks += a64(A_FAST_CHUNKS);
    fsmblks += a64(A_FAST_BYTES);
    if (topRec()) tops++;
    const lf = largestFree();
    if (lf > largest) largest = lf;
    if (a != MAIN) heaps += <u64>a32(A_HEAP_COUNT);
    sampleExtra(<f64>sys);
    sampleExtra(<f64>(sys - av));
    sampleExtra(<f64>av);
    sampleExtra(<f64>topSize());
    sampleExtra(<f64>a64(A_TC_BYTES));
    tcacheBytes += a64(A_TC_BYTES);
    sampleExtra(<f64>a32(A_ATTACHED));
    sampleExtra(<f64>(a == MAIN ? (a64(A_BASE) ? 1 : 0) : a32(A_HEAP_COUNT)));
    sampleExtra(<f64>a64(A_FAST_BYTES));
    a = a32(A_NEXT);
  } while (a != MAIN);
  for (let f = g32(G_FREE_LIST); f != NO_ARENA; f = arenaField32(f, A_NEXT_FREE)) free++;
  useArena(MAIN);
  store<f64>(out + <usize>S_ARENA * 8, <f64>sysTotal);
  store<f64>(out + <usize>S_ORDBLKS * 8, <f64>ordblks);
  store<f64>(out + <usize>S_SMBLKS * 8, <f64>smblks);
  store<f64>(out + <usize>S_HBLKS * 8, <f64>g64(G_N_MMAPS));
  store<f64>(out + <usize>S_HBLKHD * 8, <f64>g64(G_MMAPPED_MEM));
  store<f64>(out + <usize>S_USMBLKS * 8, 0);
  store<f64>(out + <usize>S_FSMBLKS * 8, <f64>fsmblks);
  store<f64>(out + <usize>S_UORDBLKS * 8, <f64>(sysTotal - avail));
  store<f64>(out + <usize>S_FORDBLKS * 8, <f64>avail);
  store<f64>(out + <usize>S_KEEPCOST * 8, <f64>topSize());
  store<f64>(out + <usize>S_TCACHE_BYTES * 8, <f64>tcacheBytes);
  store<f64>(out + <usize>S_MMAP_THRESHOLD * 8, <f64>g64(G_MMAP_THRESHOLD));
  store<f64>(out + <usize>S_ARENAS * 8, <f64>arenaCount());
  store<f64>(out + <usize>S_ARENA_HEAPS * 8, <f64>heaps);
  store<f64>(out + <usize>S_ARENA_LIMIT * 8, <f64>g64(G_NARENAS_LIMIT));
  store<f64>(out + <usize>S_FREE_ARENAS * 8, <f64>free);
  // The engine's common view: busy = in use by the program or parked in tcaches/fastbins
  // (the arenas count those as in use); free = tops + bins.
  store<f64>(out + <usize>K_BUSY * 8, <f64>(sysTotal - avail + g64(G_MMAPPED_MEM)));
  store<f64>(out + <usize>K_FREE * 8, <f64>avail);
  let freeBlocks: u64 = tops;
  a = MAIN;
  do { useArena(a); freeBlocks += a64(A_BIN_CHUNKS) + a64(A_FAST_CHUNKS); a = a32(A_NEXT); } while (a != MAIN);
  useArena(MAIN);
  store<f64>(out + <usize>K_FREE_BLOCKS * 8, <f64>freeBlocks);
  store<f64>(out + <usize>K_LARGEST_FREE * 8, <f64>largest);
  store<f64>(out + <usize>K_SEGMENTS * 8, <f64>((a64(A_BASE) ? <u64>1 : <u64>0) + heaps));
  store<f64>(out + <usize>K_VIRTUAL_BLOCKS * 8, <f64>g64(G_N_MMAPS));
  store<f64>(out + <usize>K_VIRTUAL_BYTES * 8, <f64>g64(G_MMAPPED_MEM));
}

// Largest free chunk of the current arena: top, the biggest chunk of the highest non-empty large
// bin, or a scan of the unsorted list and the highest small bin (all bounded by the bin structure).
function largestFree(): u64 {
  let best = topSize();
  // bounded like check()'s walks (listBound): a cyclic list, which check() reports, cannot hang a sample
  let left = listBound();
  let p = binFirst(UNSORTED);
  while (p && left) {
    if (sizeOf(p) > best) best = sizeOf(p);
    p = fd(p);
    left--;
  }
  for (let b = NBINS - 1; b > UNSORTED; b--) {
    const f = binFirst(b);
    if (f) { if (sizeOf(f) > best) best = sizeOf(f); break; }
  }
  return best;
}

// Free bytes that malloc_trim(0) would hand back now (madvise of whole pages inside free chunks
// that are not fastbin chunks, in every arena, plus the trimmable tail of the main arena's top),
// for the diagnosis.
export function ptPurgeableBytes(heapIndex: i32): u64 {
  use(heapIndex);
  let total: u64 = 0;
  let a = MAIN;
  do {
    useArena(a);
    for (let b = UNSORTED; b < NBINS; b++) {
      for (let p = binLast(b); p; p = bk(p)) {
        const size = sizeOf(p);
        if (size <= PAGE_SIZE_BYTES - 1 + MALLOC_CHUNK_BYTES) continue;
        const paligned = alignUp(addrOf(p) + MALLOC_CHUNK_BYTES, PAGE_SIZE_BYTES);
        const rest = addrOf(p) + size - paligned;
        if (rest > PAGE_SIZE_BYTES - 1) total += alignDown(rest, PAGE_SIZE_BYTES);
      }
    }
    a = a32(A_NEXT);
  } while (a != MAIN);
  useArena(MAIN);
  const top = topSize();
  if (top > MINSIZE + 1) total += alignDown(top - MINSIZE - 1, PAGE_SIZE_BYTES);
  return total;
}

// Bytes of free chunks (bins and fastbins) of the main arena that lie below the highest chunk in
// use by the program or parked in a tcache: the memory that chunk pins (only malloc_trim's
// madvise reaches it).
export function ptPinnedBelowBytes(heapIndex: i32): u64 {
  use(heapIndex);
  const t = topRec();
  if (!t) return 0;
  // Walk up from the first chunk to top: the free bytes below each chunk that the program or a
  // tcache holds; the last such chunk's count is the answer.
  let total: u64 = 0, below: u64 = 0;
  for (let c = a32(A_FIRST); c && c != t; c = nextP(c)) {
    const s = stateOf(c);
    if (s == ST_BIN || s == ST_FAST) below += sizeOf(c); else total = below;
  }
  return total;
}

// Where chunk records live in linear memory, for the invariant check's own tests (they corrupt a
// record on purpose, test/policies/ptmalloc/check-cycles.test.ts): the address of the record of the
// main arena's chunk whose user pointer is `user`, or 0 when there is none. Not used by the host.
export function ptChunkRecord(heapIndex: i32, user: u64): usize {
  use(heapIndex);
  let left = listBound();
  for (let c = a32(A_FIRST); c && left; left--) {
    if (addrOf(c) + CHUNK_HDR_SZ == user) return R(c);
    c = nextP(c);
  }
  return 0;
}

// ---------------------------------------------------------------- invariant check (P1..P5)

// The most chunks any list can hold: every record index ever handed out (index 0 is none). A
// check walk that meets more has gone round a cycle (a link written wrong) and fails its invariant
// (P3 bins, fastbins and tcaches, P4 the mapped chunks) instead of walking for ever; the arena
// free list is bounded by the arena count (P5). Debug builds check after every batch, so a bug that
// closes a list on itself fails there with a number (test/policies/ptmalloc/check-cycles.test.ts).
// @ts-ignore: decorator
@inline function listBound(): u32 { return RECS.high; }

// Counts met while walking the chunks of one arena.
let walkBin: u64 = 0, walkBinBytes: u64 = 0, walkFast: u64 = 0, walkFastBytes: u64 = 0;
let walkTc: u64 = 0, walkTcBytes: u64 = 0;

// The heap has seen no drop but its own (ptCheck sets it): the spans below must be resident.
let trustedNow = false;

// The spans "Touches it can skip" counts on are resident: a WHOLE chunk's, a binned chunk's
// header and links, a tcache or fastbin chunk's first link word.
function knownSpansResident(c: u32, s: u8): bool {
  if (isWhole(c) && !vmAllResident(addrOf(c) + SIZE_SZ, sizeOf(c))) return false;
  if (s == ST_BIN) return vmAllResident(addrOf(c) + SIZE_SZ, freeLinkBytes(sizeOf(c)));
  if (s == ST_FAST || s == ST_TCACHE) return vmAllResident(addrOf(c) + CHUNK_HDR_SZ, SIZE_SZ);
  return true;
}

// Walks one chain of chunks from `c`, which must tile [at, end) and finish with `last` state.
function walkChain(c: u32, at: u64, end: u64, lastState: u8, arena: u32): i32 {
  let prev: u32 = 0;
  while (c) {
    if (addrOf(c) != at || sizeOf(c) < MINSIZE || arenaOf(c) != arena) return 1;
    const s = stateOf(c);
    // the binned-prev link: a chunk after a binned chunk (itself out of the bins) names it
    if (s != ST_BIN && isBinned(prev) && binnedPrev(c) != prev) return 1;
    if (s == ST_TOP && (c != topRec() || nextP(c))) return 1;
    if (s == ST_FENCE && nextP(c)) return 1;
    if (s == ST_BIN) {
      walkBin++; walkBinBytes += sizeOf(c);
      if (isBinned(prev) || isBinned(nextP(c)) || (nextP(c) != 0 && nextP(c) == topRec())) return 2;
    }
    if (s == ST_FAST) { walkFast++; walkFastBytes += sizeOf(c); }
    if (s == ST_TCACHE) { walkTc++; walkTcBytes += sizeOf(c); }
    if (s == ST_DEAD || s == ST_MMAPPED) return 1;
    // size links only on chunks in a large bin; WHOLE (the HEAD bit with bin 0) only out of the bins
    if (s != ST_BIN && isHead(c) && (!isWhole(c) || (s != ST_INUSE && s != ST_TCACHE && s != ST_FAST))) return 3;
    if (trustedNow && !knownSpansResident(c, s)) return 3;
    at += sizeOf(c);
    prev = c;
    c = nextP(c);
  }
  if (stateOf(prev) != lastState || at != end) return 1;
  return 0;
}

function checkArena(a: u32): i32 {
  useArena(a);
  walkBin = 0; walkBinBytes = 0; walkFast = 0; walkFastBytes = 0; walkTc = 0; walkTcBytes = 0;
  // P1 tiling, P2 coalescing
  if (a == MAIN) {
    const base = a64(A_BASE);
    if (base) {
      const r = walkChain(a32(A_FIRST), base, base + a64(A_SYSTEM_MEM), ST_TOP, MAIN);
      if (r) return r;
    }
  } else {
    let sys: u64 = 0, n: u32 = 0;
    let h = a32(A_HEAP);
    let last = true;
    while (h) {
      const base = load<u64>(HR(h) + HR_BASE);
      const size = load<u64>(HR(h) + HR_SIZE);
      const first = load<u32>(HR(h) + HR_FIRST);
      const prev = load<u32>(HR(h) + HR_PREV);
      const start = prev ? base + HEAP_INFO_BYTES : addrOf(first);
      if (load<u32>(HR(h) + HR_ARENA) != a || size > load<u64>(HR(h) + HR_MPROTECT)) return 1;
      const r = walkChain(first, start, base + size, last ? ST_TOP : ST_FENCE, a);
      if (r) return r;
      sys += size;
      n++;
      last = false;
      h = prev;
    }
    if (sys != a64(A_SYSTEM_MEM) || n != a32(A_HEAP_COUNT)) return 4;
  }
  // P3 lists
  let listed: u64 = 0;
  for (let b = UNSORTED; b < NBINS; b++) {
    let prev: u32 = 0;
    let heads: u32 = 0;
    let left = listBound();
    for (let p = binFirst(b); p; p = fd(p)) {
      if (!left--) return 3;
      if (stateOf(p) != ST_BIN || binOf(p) != b || bk(p) != prev || arenaOf(p) != a) return 3;
      const s = sizeOf(p);
      if (b != UNSORTED && binIndex(s) != b) return 3;
      if (b >= 64 && prev && s > sizeOf(prev)) return 3;
      if (b < 64 && isHead(p)) return 3;
      if (b >= 64) {
        const head = !prev || sizeOf(prev) != s;
        if (head != isHead(p)) return 3;
        if (head) heads++;
      }
      listed++;
      prev = p;
    }
    if (binLast(b) != prev) return 3;
    // the bitmap's bit says whether the bin holds a chunk (consolidation sets unsorted's at its end)
    if ((((a32(A_NONEMPTY + (<usize>(b >> 5) << 2)) >> <u32>(b & 31)) & 1) != 0) != (prev != 0)) return 3;
    if (b >= 64 && heads) {
      // the size list visits every head once, in decreasing size, and closes
      let h = binFirst(b);
      for (let i: u32 = 0; i < heads; i++) {
        const n = fdNext(h);
        if (bkNext(n) != h) return 3;
        if (i + 1 < heads && sizeOf(n) >= sizeOf(h)) return 3;
        h = n;
      }
      if (h != binFirst(b)) return 3;
    }
  }
  if (listed != a64(A_BIN_CHUNKS)) return 3;
  for (let i = 0; i < NFASTBINS; i++) {
    let left = listBound();
    for (let p = fastHead(i); p; p = fd(p)) {
      if (!left-- || stateOf(p) != ST_FAST || fastIndex(sizeOf(p)) != i || arenaOf(p) != a) return 3;
    }
  }
  // P4 counters
  if (walkBin != a64(A_BIN_CHUNKS) || walkBinBytes != a64(A_BIN_BYTES)) return 4;
  if (walkFast != a64(A_FAST_CHUNKS) || walkFastBytes != a64(A_FAST_BYTES)) return 4;
  if (walkTcBytes != a64(A_TC_BYTES)) return 4;
  return 0;
}

export function ptCheck(heapIndex: i32): i32 {
  use(heapIndex);
  if (g32(G_EPOCH_SEEN) == RESIDENCY_EPOCH_SATURATED) return 4;
  trustedNow = epochTrusted();
  let tcChunks: u64 = 0;
  // P5 the list visits every arena once
  let seen: u32 = 0;
  let a = MAIN;
  do {
    seen++;
    if (seen > arenaCount()) return 5;
    a = arenaField32(a, A_NEXT);
  } while (a != MAIN);
  if (seen != arenaCount()) return 5;
  for (let i: u32 = 0; i < arenaCount(); i++) {
    const r = checkArena(i);
    if (r) return r;
    tcChunks += walkTc;
  }
  useArena(MAIN);
  // tcaches: each list holds chunks of its size; the counts add up
  let attached = new StaticArray<u32>(<i32>arenaCount());
  let threadTcChunks: u64 = 0;
  for (let s: u32 = 0; s < g32(G_THREAD_CAP); s++) {
    const t = load<usize>(<usize>g64(G_THREADS) + (<usize>s << 3));
    if (!t) continue;
    let chunks: u64 = 0;
    for (let i: u64 = 0; i < <u64>TCACHE_MAX_BINS; i++) {
      let n: u32 = 0;
      for (let p = load<u32>(t + T_TC_HEADS + (<usize>i << 2)); p; p = fd(p)) {
        if (n >= listBound() || stateOf(p) != ST_TCACHE || tcIndex(sizeOf(p)) != i) return 3;
        n++;
      }
      if (n != load<u32>(t + T_TC_COUNTS + (<usize>i << 2))) return 3;
      chunks += n;
    }
    threadTcChunks += chunks;
    const ta = load<u32>(t + T_ARENA);
    if (ta != NO_ARENA) {
      if (ta >= arenaCount()) return 5;
      attached[ta]++;
    }
  }
  if (threadTcChunks != tcChunks) return 4;
  // P5 attachments: a free-list arena has none; an arena's count is its threads'
  let freeLeft = arenaCount();
  for (let f = g32(G_FREE_LIST); f != NO_ARENA; f = arenaField32(f, A_NEXT_FREE)) {
    if (!freeLeft-- || f >= arenaCount() || arenaField32(f, A_ATTACHED)) return 5;
  }
  for (let i: u32 = 0; i < arenaCount(); i++) if (arenaField32(i, A_ATTACHED) != attached[i]) return 5;
  // P4 mapped chunks
  let maps: u64 = 0, mapBytes: u64 = 0;
  for (let c = g32(G_MMAP_HEAD); c; c = mapFd(c)) {
    if (maps >= <u64>listBound() || stateOf(c) != ST_MMAPPED) return 4;
    maps++;
    mapBytes += mapOffset(c) + sizeOf(c);
  }
  if (maps != g64(G_N_MMAPS) || mapBytes != g64(G_MMAPPED_MEM)) return 4;
  return 0;
}

if (CHECKS && G_BYTES % 8) ERROR("heap state must stay 8-byte aligned");
if (NBINS != 128 || A_NONEMPTY % 8) ERROR("nextNonEmptyBin reads the bin bitmap as two aligned u64 halves");
if (CHECKS && A_BYTES % 8) ERROR("arena state must stay 8-byte aligned");
