// === ptmalloc: glibc 2.36 malloc, main arena, x86-64, one thread ===
//
// A model of the allocator Debian 12 ships, precise enough that mallinfo2() comes out byte for
// byte as the real one after the same calls (checked against the real glibc by test/oracle/).
// The rules were read from glibc-2.36 malloc/malloc.c and arena.c and are restated here in our
// own words; docs/glibc-malloc.md summarises them with the measured facts.
//
// What a call does, in order (one process, one thread, so only the main arena exists):
//   malloc(n)   nb = max(32, (n + 8 + 15) & ~15). A per-thread cache ("tcache", 64 sizes of
//               32…1040 bytes, up to 7 chunks each) answers first. Then the arena: fastbin of
//               nb (LIFO, chunks ≤ 128 bytes, never coalesced), small bin of nb (FIFO, exact
//               size), else for big requests a consolidation of every fastbin first. Then the
//               unsorted list is drained from its oldest end: the last remainder may be split
//               for a small request, an exact fit is taken (or parked in the tcache while it
//               has room), everything else is filed into its small or large bin. Then best fit
//               in nb's large bin, then the smallest chunk of the next non-empty bin, then the
//               top chunk, then (once) consolidation and a retry, and only then the system:
//               a private mapping when nb ≥ the mmap threshold, else the break grows by
//               nb + top_pad + 32 − top, rounded up to whole pages.
//   free(p)     mapped chunk: the dynamic threshold rule, then unmap. Else tcache, else
//               fastbin, else coalesce with free neighbours (into top when it borders top) and
//               put the result at the head of the unsorted list. A coalesced size of 64 KiB or
//               more consolidates the fastbins and, when top ≥ trim_threshold, shrinks the
//               break to leave top_pad (+ one page fraction) in top.
//   realloc, calloc, memalign, malloc_trim: see the functions below.
//
// Simulated layout: the break segment is one VM region (bottom-up, page aligned) grown and shrunk
// in place with vmResize; every mapped chunk is its own region (top-down, page aligned). Chunks
// are records in a pool (nothing of the simulated heap lives in linear memory):
//
// ╒════════════════════ chunk record (REC_BYTES = 40) ════════════════════╕
// │ 0 addr u64           chunk address (user pointer = addr + 16)          │
// │ 8 sizeG u32          chunk size / 16                                   │
// │ 12 state u8 │ 13 bin u8 │ 14-15 spare                                  │
// │ 16 fd u32 │ 20 bk u32        bin / fastbin / tcache links (0 = the bin) │
// │ 24 fdNext u32 │ 28 bkNext u32  large-bin size links (0 = not a head);   │
// │                                mapped chunks: offset in its mapping     │
// │ 32 prevPhys u32 │ 36 nextPhys u32   address-order neighbours            │
// ╘════════════════════════════════════════════════════════════════════════╛
//   Bin lists keep glibc's orientation: a bin's `first` is the newest (head), `last` the oldest,
//   chunk.fd points towards `last`. Large bins are sorted by size, largest first; the first chunk
//   of each size is the size-list head and later chunks of that size go right behind it.
//
// Invariants (ptCheck returns the number of the first that fails):
//   P1 the break segment's records tile [base, base + arena) in address order and end with top
//   P2 no chunk in a bin borders another chunk in a bin or top (free chunks are coalesced)
//   P3 every bin list is consistent (links, bin index, size range), large bins sorted, size
//      links exactly the heads; fastbin and tcache lists hold chunks of their size
//   P4 the counters (bin, fastbin, tcache, mapped) equal a recount

import { resize } from "../../mem";
import { Status, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_SEGMENTS, K_VIRTUAL_BLOCKS,
  K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage } from "../../abi";
import { PAGE_SIZE_BYTES, alignUp, alignDown, KiB, MiB } from "../../vm/constants";
import { vmReserve, vmCommit, vmRelease, vmResize, vmPurge, touchPages, vmOwnerResident,
  RESERVE_TOP_DOWN, RESERVE_PAGE_ALIGNED } from "../../vm/space";
import { CHECKS } from "../../checks";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, poolBytes } from "../../kit/records";
import { paramValue as param } from "../../kit/params";

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

// Model limits (ours): sizes are kept in 16-byte units in a u32.
const MAX_CHUNK_BYTES: u64 = (<u64>0xFFFFFFFF) << 4;
const MAX_TOP_PAD: u64 = <u64>1 << 40;        // keeps nb + top_pad + 32 far from overflow

// Parameters (slot index in the HEAP_CREATE params block; NaN = not set, glibc's default).
export const PT_TCACHE_COUNT = 0;           // glibc.malloc.tcache_count, default 7, ≤ 65535
export const PT_TCACHE_MAX = 1;             // glibc.malloc.tcache_max, default 1032 (bytes), ≤ 1032
export const PT_MXFAST = 2;                 // glibc.malloc.mxfast / M_MXFAST, default 128, ≤ 160
export const PT_TRIM_THRESHOLD = 3;         // M_TRIM_THRESHOLD, default 128 KiB (dynamic)
export const PT_MMAP_THRESHOLD = 4;         // M_MMAP_THRESHOLD, default 128 KiB (dynamic)
export const PT_TOP_PAD = 5;                // M_TOP_PAD, default 128 KiB
export const PT_MMAP_MAX = 6;               // M_MMAP_MAX, default 65536
export const PT_TCACHE_UNSORTED_LIMIT = 7;  // glibc.malloc.tcache_unsorted_limit, default 0 (none)
export const PT_PARAM_COUNT = 8;

// Policy counter slots: mallinfo2() in its field order, then two of ours.
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
const S_TCACHE_BYTES = K_POLICY_BASE + 10;   // chunks parked in the tcache (counted in uordblks)
const S_MMAP_THRESHOLD = K_POLICY_BASE + 11; // current mmap threshold (moves with the dynamic rule)

// ---------------------------------------------------------------- records

const REC_BYTES: usize = 40;
const R_ADDR: usize = 0;
const R_SIZEG: usize = 8;
const R_STATE: usize = 12;
const R_BIN: usize = 13;
const R_FD: usize = 16;
const R_BK: usize = 20;
const R_FDNEXT: usize = 24;
const R_BKNEXT: usize = 28;
const R_PREV: usize = 32;
const R_NEXT: usize = 36;

// Chunk states.
const ST_DEAD: u8 = 0;      // record on the pool's free list
const ST_INUSE: u8 = 1;     // handed to the program
const ST_TCACHE: u8 = 2;    // parked in the tcache (in use for the arena)
const ST_FAST: u8 = 3;      // in a fastbin (in use for the arena)
const ST_BIN: u8 = 4;       // in the unsorted list or a small/large bin (R_BIN says which)
const ST_TOP: u8 = 5;
const ST_MMAPPED: u8 = 6;   // its own mapping; R_FDNEXT = offset of the chunk in the mapping

// Every ptmalloc heap's chunk records, one kit pool (dropped records link through R_FD).
const RECS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(RECS, <u32>REC_BYTES, <u32>R_FD, 1024);

// @ts-ignore: decorator
@inline function R(c: u32): usize { return RECS.base + <usize>c * REC_BYTES; }
// @ts-ignore: decorator
@inline function addrOf(c: u32): u64 { return load<u64>(R(c) + R_ADDR); }
// @ts-ignore: decorator
@inline function setAddr(c: u32, a: u64): void { store<u64>(R(c) + R_ADDR, a); }
// @ts-ignore: decorator
@inline function sizeOf(c: u32): u64 { return <u64>load<u32>(R(c) + R_SIZEG) << 4; }
// @ts-ignore: decorator
@inline function setSize(c: u32, s: u64): void { store<u32>(R(c) + R_SIZEG, <u32>(s >> 4)); }
// @ts-ignore: decorator
@inline function stateOf(c: u32): u8 { return load<u8>(R(c) + R_STATE); }
// @ts-ignore: decorator
@inline function setState(c: u32, s: u8): void { store<u8>(R(c) + R_STATE, s); }
// @ts-ignore: decorator
@inline function binOf(c: u32): i32 { return <i32>load<u8>(R(c) + R_BIN); }
// @ts-ignore: decorator
@inline function setBin(c: u32, b: i32): void { store<u8>(R(c) + R_BIN, <u8>b); }
// @ts-ignore: decorator
@inline function fd(c: u32): u32 { return load<u32>(R(c) + R_FD); }
// @ts-ignore: decorator
@inline function bk(c: u32): u32 { return load<u32>(R(c) + R_BK); }
// @ts-ignore: decorator
@inline function setFd(c: u32, v: u32): void { store<u32>(R(c) + R_FD, v); }
// @ts-ignore: decorator
@inline function setBk(c: u32, v: u32): void { store<u32>(R(c) + R_BK, v); }
// @ts-ignore: decorator
@inline function fdNext(c: u32): u32 { return load<u32>(R(c) + R_FDNEXT); }
// @ts-ignore: decorator
@inline function bkNext(c: u32): u32 { return load<u32>(R(c) + R_BKNEXT); }
// @ts-ignore: decorator
@inline function setFdNext(c: u32, v: u32): void { store<u32>(R(c) + R_FDNEXT, v); }
// @ts-ignore: decorator
@inline function setBkNext(c: u32, v: u32): void { store<u32>(R(c) + R_BKNEXT, v); }
// @ts-ignore: decorator
@inline function prevP(c: u32): u32 { return load<u32>(R(c) + R_PREV); }
// @ts-ignore: decorator
@inline function nextP(c: u32): u32 { return load<u32>(R(c) + R_NEXT); }
// @ts-ignore: decorator
@inline function setPrevP(c: u32, v: u32): void { store<u32>(R(c) + R_PREV, v); }
// @ts-ignore: decorator
@inline function setNextP(c: u32, v: u32): void { store<u32>(R(c) + R_NEXT, v); }

function newRec(a: u64, size: u64, state: u8): u32 {
  const c = takeRecord(RECS);
  const p = R(c);
  memory.fill(p, 0, REC_BYTES);
  store<u64>(p + R_ADDR, a);
  store<u32>(p + R_SIZEG, <u32>(size >> 4));
  store<u8>(p + R_STATE, state);
  return c;
}

function dropRec(c: u32): void {
  setState(c, ST_DEAD);
  dropRecord(RECS, c);
}

// Engine bytes per record, for the memory benchmark.
export function ptRecordBytes(): usize { return REC_BYTES; }
export function ptEngineBytes(): usize { return poolBytes(RECS); }

// ---------------------------------------------------------------- heap state

// ╒═══ heap state (HS_BYTES), one per ptmalloc heap, in a static table indexed by heap ═══╕
const H_BASE: usize = 0;              // u64 first byte of the break segment (0: no sbrk yet)
const H_SYSTEM_MEM: usize = 8;        // u64 bytes obtained by sbrk (mallinfo2.arena)
const H_TOP: usize = 16;              // u32 top chunk record (0: glibc's initial top, size 0)
const H_FIRST: usize = 20;            // u32 first chunk of the break segment
const H_LAST_REMAINDER: usize = 24;   // u64 address of the last remainder (glibc keeps a pointer)
const H_HAVE_FAST: usize = 32;        // u32 have_fastchunks
const H_TCACHE_ON: usize = 36;        // u32 the tcache exists (tcache_init ran)
const H_N_MMAPS: usize = 40;          // u64
const H_MMAPPED_MEM: usize = 48;      // u64
const H_MMAP_THRESHOLD: usize = 56;   // u64
const H_TRIM_THRESHOLD: usize = 64;   // u64
const H_TOP_PAD: usize = 72;          // u64
const H_MAX_FAST: usize = 80;         // u64 global_max_fast
const H_N_MMAPS_MAX: usize = 88;      // u64
const H_TCACHE_COUNT: usize = 96;     // u64
const H_TCACHE_BINS: usize = 104;     // u64
const H_UNSORTED_LIMIT: usize = 112;  // u64
const H_NO_DYN: usize = 120;          // u32 no_dyn_threshold
const H_MMAP_HEAD: usize = 124;       // u32 list of mapped chunks (through fd/bk)
const H_BIN_CHUNKS: usize = 128;      // u64 chunks in bins 1..127
const H_BIN_BYTES: usize = 136;       // u64
const H_FAST_CHUNKS: usize = 144;     // u64
const H_FAST_BYTES: usize = 152;      // u64
const H_TC_CHUNKS: usize = 160;       // u64
const H_TC_BYTES: usize = 168;        // u64
const H_NONEMPTY: usize = 184;        // 4 × u32 bitmap of non-empty bins (exact, unlike glibc's)
const H_BIN_FIRST: usize = 200;       // NBINS × u32
const H_BIN_LAST: usize = H_BIN_FIRST + 4 * <usize>NBINS;      // NBINS × u32
const H_FASTBINS: usize = H_BIN_LAST + 4 * <usize>NBINS;       // NFASTBINS × u32
const H_TC_HEADS: usize = H_FASTBINS + 4 * <usize>NFASTBINS;   // TCACHE_MAX_BINS × u32
const H_TC_COUNTS: usize = H_TC_HEADS + 4 * <usize>TCACHE_MAX_BINS; // TCACHE_MAX_BINS × u32
const HS_BYTES: usize = H_TC_COUNTS + 4 * <usize>TCACHE_MAX_BINS;

const heapState = memory.data(<i32>(HS_BYTES * <usize>MAX_HEAPS));
let owner: u8 = 0;
let hs: usize = 0;

// @ts-ignore: decorator
@inline function ld64(o: usize): u64 { return load<u64>(hs + o); }
// @ts-ignore: decorator
@inline function st64(o: usize, v: u64): void { store<u64>(hs + o, v); }
// @ts-ignore: decorator
@inline function ld32(o: usize): u32 { return load<u32>(hs + o); }
// @ts-ignore: decorator
@inline function st32(o: usize, v: u32): void { store<u32>(hs + o, v); }
// @ts-ignore: decorator
@inline function add64(o: usize, d: i64): void { store<i64>(hs + o, load<i64>(hs + o) + d); }

function use(heapIndex: i32): void {
  owner = <u8>heapIndex;
  hs = heapState + <usize>heapIndex * HS_BYTES;
}

// @ts-ignore: decorator
@inline function topRec(): u32 { return ld32(H_TOP); }
// @ts-ignore: decorator
@inline function topSize(): u64 { const t = topRec(); return t ? sizeOf(t) : 0; }

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
// @ts-ignore: decorator
@inline function tcIndex(sz: u64): u64 { return (sz - MINSIZE + MALLOC_ALIGNMENT - 1) / MALLOC_ALIGNMENT; }

// ---------------------------------------------------------------- touching (resident pages)

// The allocator writes a chunk's size word (and the program its payload): pages become resident.
function touch(a: u64, bytes: u64): void { if (bytes) touchPages(a, bytes, owner); }
// Header + free-list links of a free chunk (fd/bk, and the size links of a large one).
function touchFreeLinks(c: u32): void {
  const s = sizeOf(c);
  touch(addrOf(c) + SIZE_SZ, inSmallRange(s) ? 3 * SIZE_SZ : 5 * SIZE_SZ);
}
function touchHeader(c: u32): void { touch(addrOf(c) + SIZE_SZ, SIZE_SZ); }

// ---------------------------------------------------------------- bins

// @ts-ignore: decorator
@inline function binFirst(b: i32): u32 { return ld32(H_BIN_FIRST + (<usize>b << 2)); }
// @ts-ignore: decorator
@inline function binLast(b: i32): u32 { return ld32(H_BIN_LAST + (<usize>b << 2)); }
// @ts-ignore: decorator
@inline function setBinFirst(b: i32, c: u32): void { st32(H_BIN_FIRST + (<usize>b << 2), c); }
// @ts-ignore: decorator
@inline function setBinLast(b: i32, c: u32): void { st32(H_BIN_LAST + (<usize>b << 2), c); }

function markNonEmpty(b: i32): void {
  const o = H_NONEMPTY + (<usize>(b >> 5) << 2);
  st32(o, ld32(o) | (<u32>1 << <u32>(b & 31)));
}
function markEmpty(b: i32): void {
  const o = H_NONEMPTY + (<usize>(b >> 5) << 2);
  st32(o, ld32(o) & ~(<u32>1 << <u32>(b & 31)));
}

// Links c into bin b between bck (towards first) and fwd (towards last); 0 = the bin itself.
function linkBetween(b: i32, c: u32, bck: u32, fwd: u32): void {
  setBk(c, bck);
  setFd(c, fwd);
  if (fwd) setBk(fwd, c); else setBinLast(b, c);
  if (bck) setFd(bck, c); else setBinFirst(b, c);
  setState(c, ST_BIN);
  setBin(c, b);
  markNonEmpty(b);
  add64(H_BIN_CHUNKS, 1);
  add64(H_BIN_BYTES, <i64>sizeOf(c));
  touchFreeLinks(c);
}

// Takes c off its bin, keeping a large bin's size list right (unlink_chunk).
function unlinkChunk(c: u32): void {
  const b = binOf(c);
  const f = fd(c), k = bk(c);
  if (f) setBk(f, k); else setBinLast(b, k);
  if (k) setFd(k, f); else setBinFirst(b, f);
  if (!binFirst(b)) markEmpty(b);
  if (!inSmallRange(sizeOf(c)) && fdNext(c)) {
    // c heads its size: the next chunk of the same size takes over, or the size leaves the list.
    if (f && !fdNext(f)) {
      if (fdNext(c) == c) {
        setFdNext(f, f); setBkNext(f, f);
      } else {
        setFdNext(f, fdNext(c)); setBkNext(f, bkNext(c));
        setBkNext(fdNext(c), f); setFdNext(bkNext(c), f);
      }
    } else {
      setBkNext(fdNext(c), bkNext(c));
      setFdNext(bkNext(c), fdNext(c));
    }
  }
  setFdNext(c, 0); setBkNext(c, 0);
  add64(H_BIN_CHUNKS, -1);
  add64(H_BIN_BYTES, -<i64>sizeOf(c));
}

// At the head of the unsorted list (free, consolidation, split remainders).
function toUnsortedFront(c: u32): void {
  setFdNext(c, 0); setBkNext(c, 0);
  linkBetween(UNSORTED, c, 0, binFirst(UNSORTED));
}

// Files an unsorted chunk into its small or large bin (the sorting step of malloc).
function fileChunk(c: u32): void {
  const size = sizeOf(c);
  if (inSmallRange(size)) {
    const b = smallIndex(size);
    linkBetween(b, c, 0, binFirst(b));
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
      setFdNext(c, first);
      setBkNext(c, bkNext(first));
      setBkNext(first, c);
      setFdNext(bkNext(c), c);
    } else {
      while (size < sizeOf(fwd)) fwd = fdNext(fwd);
      if (size == sizeOf(fwd)) {
        fwd = fd(fwd); // same size: second place, not a head
        setFdNext(c, 0); setBkNext(c, 0);
      } else {
        setFdNext(c, fwd);
        setBkNext(c, bkNext(fwd));
        setBkNext(fwd, c);
        setFdNext(bkNext(c), c);
      }
      bck = fwd ? bk(fwd) : binLast(b);
    }
  } else {
    setFdNext(c, c); setBkNext(c, c);
  }
  linkBetween(b, c, bck, fwd);
}

// First non-empty bin with index ≥ from (0 when none).
function nextNonEmptyBin(from: i32): i32 {
  for (let w = from >> 5; w < (NBINS >> 5); w++) {
    let m = ld32(H_NONEMPTY + (<usize>w << 2));
    if (w == (from >> 5)) m &= ~((<u32>1 << <u32>(from & 31)) - 1);
    if (m) return (w << 5) + <i32>ctz(m);
  }
  return 0;
}

// ---------------------------------------------------------------- physical neighbours

// Splits chunk c at nb: c keeps the front, a new record the rest. Returns the new record.
function splitAt(c: u32, nb: u64, restState: u8): u32 {
  const r = newRec(addrOf(c) + nb, sizeOf(c) - nb, restState);
  const n = nextP(c);
  setPrevP(r, c); setNextP(r, n);
  if (n) setPrevP(n, r);
  setNextP(c, r);
  setSize(c, nb);
  return r;
}

// Absorbs c's physical successor n into c (n's record is dropped).
function absorbNext(c: u32): void {
  const n = nextP(c);
  setSize(c, sizeOf(c) + sizeOf(n));
  const nn = nextP(n);
  setNextP(c, nn);
  if (nn) setPrevP(nn, c);
  if (topRec() == n) { st32(H_TOP, c); setState(c, ST_TOP); }
  dropRec(n);
}

// @ts-ignore: decorator
@inline function isBinned(c: u32): bool { return c != 0 && stateOf(c) == ST_BIN; }

// Coalesces chunk p (just released by the arena) with free neighbours and files it into the
// unsorted list or top. Returns the size of the merged chunk (glibc compares it with 64 KiB).
function releaseChunk(p: u32): u64 {
  const prev = prevP(p);
  if (isBinned(prev)) {
    unlinkChunk(prev);
    absorbNext(prev);
    p = prev;
  }
  const next = nextP(p);
  if (next != topRec()) {
    if (isBinned(next)) { unlinkChunk(next); absorbNext(p); }
    toUnsortedFront(p);
    // the next chunk's prev_size (footer) is written
    touch(addrOf(p) + sizeOf(p), SIZE_SZ);
    return sizeOf(p);
  }
  absorbNext(p);
  // p is top now
  touchHeader(p);
  return sizeOf(p);
}

// ---------------------------------------------------------------- tcache and fastbins

// @ts-ignore: decorator
@inline function tcCount(i: u64): u32 { return ld32(H_TC_COUNTS + (<usize>i << 2)); }

function tcachePut(c: u32, i: u64): void {
  const o = H_TC_HEADS + (<usize>i << 2);
  setFd(c, ld32(o));
  st32(o, c);
  st32(H_TC_COUNTS + (<usize>i << 2), tcCount(i) + 1);
  setState(c, ST_TCACHE);
  add64(H_TC_CHUNKS, 1);
  add64(H_TC_BYTES, <i64>sizeOf(c));
  touch(addrOf(c) + CHUNK_HDR_SZ, 2 * SIZE_SZ); // next + key
}

function tcacheGet(i: u64): u32 {
  const o = H_TC_HEADS + (<usize>i << 2);
  const c = ld32(o);
  st32(o, fd(c));
  st32(H_TC_COUNTS + (<usize>i << 2), tcCount(i) - 1);
  setState(c, ST_INUSE);
  add64(H_TC_CHUNKS, -1);
  add64(H_TC_BYTES, -<i64>sizeOf(c));
  return c;
}

// @ts-ignore: decorator
@inline function fastHead(i: i32): u32 { return ld32(H_FASTBINS + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setFastHead(i: i32, c: u32): void { st32(H_FASTBINS + (<usize>i << 2), c); }

function fastPop(i: i32): u32 {
  const c = fastHead(i);
  setFastHead(i, fd(c));
  setState(c, ST_INUSE);
  add64(H_FAST_CHUNKS, -1);
  add64(H_FAST_BYTES, -<i64>sizeOf(c));
  return c;
}

// malloc_consolidate: every fastbin chunk is coalesced and filed into unsorted (or top).
function consolidate(): void {
  st32(H_HAVE_FAST, 0);
  for (let i = 0; i < NFASTBINS; i++) {
    let p = fastHead(i);
    setFastHead(i, 0);
    while (p) {
      const nextInBin = fd(p);
      add64(H_FAST_CHUNKS, -1);
      add64(H_FAST_BYTES, -<i64>sizeOf(p));
      setState(p, ST_INUSE);
      releaseChunk(p);
      p = nextInBin;
    }
  }
}

// tcache_init: the cache itself is a chunk of the arena, taken on the first call that needs it.
function maybeInitTcache(): void {
  if (ld32(H_TCACHE_ON)) return;
  const c = intMalloc(request2size(TCACHE_STRUCT_BYTES));
  if (!c) return;
  touch(addrOf(c) + CHUNK_HDR_SZ, TCACHE_STRUCT_BYTES);
  st32(H_TCACHE_ON, 1);
}

// ---------------------------------------------------------------- system memory

function mmapChunk(nb: u64): u32 {
  const size = alignUp(nb + SIZE_SZ, PAGE_SIZE_BYTES);
  if (size <= nb || size > MAX_CHUNK_BYTES) return 0;
  const base = vmReserve(size, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED);
  if (!base) return 0;
  if (vmCommit(base, size) != Status.OK) { vmRelease(base); return 0; }
  const c = newRec(base, size, ST_MMAPPED);
  setFdNext(c, 0); // offset of the chunk in its mapping
  const head = ld32(H_MMAP_HEAD);
  setFd(c, head);
  setBk(c, 0);
  if (head) setBk(head, c);
  st32(H_MMAP_HEAD, c);
  add64(H_N_MMAPS, 1);
  add64(H_MMAPPED_MEM, <i64>size);
  touchHeader(c);
  return c;
}

function unmapChunk(c: u32): void {
  const offset = <u64>fdNext(c);
  const total = offset + sizeOf(c);
  const f = fd(c), k = bk(c);
  if (f) setBk(f, k);
  if (k) setFd(k, f); else st32(H_MMAP_HEAD, f);
  add64(H_N_MMAPS, -1);
  add64(H_MMAPPED_MEM, -<i64>total);
  vmRelease(addrOf(c) - offset);
  dropRec(c);
}

// Splits nb off the front of top; the rest stays top.
function splitTop(nb: u64): u32 {
  const t = topRec();
  const rest = splitAt(t, nb, ST_TOP);
  setState(t, ST_INUSE);
  st32(H_TOP, rest);
  touchHeader(rest);
  return t;
}

// sysmalloc: a mapping for big requests, else more break.
function sysMalloc(nb: u64): u32 {
  if (nb >= ld64(H_MMAP_THRESHOLD) && ld64(H_N_MMAPS) < ld64(H_N_MMAPS_MAX)) {
    const c = mmapChunk(nb);
    if (c) return c;
  }
  const old = topSize();
  let size = alignUp(nb + ld64(H_TOP_PAD) + MINSIZE - old, PAGE_SIZE_BYTES);
  if (size > MAX_CHUNK_BYTES) return 0;
  const base = ld64(H_BASE);
  if (!base) {
    const b = vmReserve(size, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_PAGE_ALIGNED);
    if (!b) return 0;
    if (vmCommit(b, size) != Status.OK) { vmRelease(b); return 0; }
    st64(H_BASE, b);
    st64(H_SYSTEM_MEM, size);
    const t = newRec(b, size, ST_TOP);
    st32(H_TOP, t);
    st32(H_FIRST, t);
    touchHeader(t);
  } else {
    const sys = ld64(H_SYSTEM_MEM);
    if (sys + size > MAX_CHUNK_BYTES) return 0;
    // The break cannot move (address space): glibc would fall back to a mapping; we fail.
    if (vmResize(base, sys + size) != Status.OK) return 0;
    if (vmCommit(base + sys, size) != Status.OK) { vmResize(base, sys); return 0; }
    st64(H_SYSTEM_MEM, sys + size);
    setSize(topRec(), old + size);
  }
  if (topSize() >= nb + MINSIZE) return splitTop(nb);
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
  const sys = ld64(H_SYSTEM_MEM);
  const newSys = <u64>(<i64>sys - extra);
  if (extra < 0 && newSys > MAX_CHUNK_BYTES) return 0;
  if (vmResize(ld64(H_BASE), newSys) != Status.OK) return 0;
  if (extra < 0 && vmCommit(ld64(H_BASE) + sys, newSys - sys) != Status.OK) { vmResize(ld64(H_BASE), sys); return 0; }
  st64(H_SYSTEM_MEM, newSys);
  setSize(t, <u64>(<i64>top - extra));
  touchHeader(t);
  return extra > 0 ? <u64>extra : 0;
}

// ---------------------------------------------------------------- _int_malloc

// Takes the last chunk of a small bin (and refills the tcache from the same bin).
function smallBinTake(b: i32, nb: u64): u32 {
  const victim = binLast(b);
  unlinkChunk(victim);
  setState(victim, ST_INUSE);
  const ti = tcIndex(nb);
  if (ld32(H_TCACHE_ON) && ti < ld64(H_TCACHE_BINS)) {
    while (<u64>tcCount(ti) < ld64(H_TCACHE_COUNT) && binLast(b)) {
      const t = binLast(b);
      unlinkChunk(t);
      tcachePut(t, ti);
    }
  }
  return victim;
}

// Puts the part of `victim` beyond nb at the head of unsorted; returns victim (in use).
function splitToUnsorted(victim: u32, nb: u64, advertise: bool): void {
  if (sizeOf(victim) - nb < MINSIZE) return;
  const r = splitAt(victim, nb, ST_INUSE);
  toUnsortedFront(r);
  if (advertise) st64(H_LAST_REMAINDER, addrOf(r));
}

function intMalloc(nb: u64): u32 {
  const tcOn = ld32(H_TCACHE_ON) != 0;
  const ti = tcIndex(nb);
  // fastbin
  if (nb <= ld64(H_MAX_FAST)) {
    const fi = fastIndex(nb);
    if (fastHead(fi)) {
      const victim = fastPop(fi);
      if (tcOn && ti < ld64(H_TCACHE_BINS)) {
        while (<u64>tcCount(ti) < ld64(H_TCACHE_COUNT) && fastHead(fi)) {
          const t = fastPop(fi);
          tcachePut(t, ti);
        }
      }
      return victim;
    }
  }
  let idx: i32;
  if (inSmallRange(nb)) {
    idx = smallIndex(nb);
    if (binLast(idx)) return smallBinTake(idx, nb);
  } else {
    idx = largeIndex(nb);
    if (ld32(H_HAVE_FAST)) consolidate();
  }

  const tcacheNb = tcOn && ti < ld64(H_TCACHE_BINS);
  let returnCached = false;
  let unsortedCount: u64 = 0;
  const limit = ld64(H_UNSORTED_LIMIT);

  for (;;) {
    let iters = 0;
    let victim: u32;
    while ((victim = binLast(UNSORTED)) != 0) {
      const size = sizeOf(victim);
      if (inSmallRange(nb) && bk(victim) == 0 && addrOf(victim) == ld64(H_LAST_REMAINDER) &&
        size > nb + MINSIZE) {
        // The last remainder alone in unsorted: split it again (locality for runs of small requests).
        unlinkChunk(victim);
        setState(victim, ST_INUSE);
        const r = splitAt(victim, nb, ST_INUSE);
        toUnsortedFront(r);
        st64(H_LAST_REMAINDER, addrOf(r));
        touch(addrOf(r) + sizeOf(r), SIZE_SZ);
        return victim;
      }
      unlinkChunk(victim);
      if (size == nb) {
        if (tcacheNb && <u64>tcCount(ti) < ld64(H_TCACHE_COUNT)) {
          tcachePut(victim, ti);
          returnCached = true;
          continue;
        }
        setState(victim, ST_INUSE);
        return victim;
      }
      fileChunk(victim);
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

    if (topSize() >= nb + MINSIZE) return splitTop(nb);
    if (ld32(H_HAVE_FAST)) {
      consolidate();
      idx = inSmallRange(nb) ? smallIndex(nb) : largeIndex(nb);
      continue;
    }
    return sysMalloc(nb);
  }
  return 0;
}

// ---------------------------------------------------------------- _int_free

function intFree(p: u32): void {
  const size = sizeOf(p);
  const ti = tcIndex(size);
  if (ld32(H_TCACHE_ON) && ti < ld64(H_TCACHE_BINS) && <u64>tcCount(ti) < ld64(H_TCACHE_COUNT)) {
    tcachePut(p, ti);
    return;
  }
  if (size <= ld64(H_MAX_FAST)) {
    const fi = fastIndex(size);
    setFd(p, fastHead(fi));
    setFastHead(fi, p);
    setState(p, ST_FAST);
    st32(H_HAVE_FAST, 1);
    add64(H_FAST_CHUNKS, 1);
    add64(H_FAST_BYTES, <i64>size);
    touch(addrOf(p) + CHUNK_HDR_SZ, SIZE_SZ);
    return;
  }
  const merged = releaseChunk(p);
  if (merged >= FASTBIN_CONSOLIDATION_THRESHOLD) {
    if (ld32(H_HAVE_FAST)) consolidate();
    if (topSize() >= ld64(H_TRIM_THRESHOLD)) sysTrim(ld64(H_TOP_PAD));
  }
}

// ---------------------------------------------------------------- public calls

// __libc_malloc
function libcMalloc(bytes: u64): u32 {
  if (bytes > PTRDIFF_MAX) return 0;
  const nb = request2size(bytes);
  if (nb > MAX_CHUNK_BYTES) return 0;
  const ti = tcIndex(nb);
  maybeInitTcache();
  if (ti < ld64(H_TCACHE_BINS) && ld32(H_TCACHE_ON) && tcCount(ti) > 0) return tcacheGet(ti);
  return intMalloc(nb);
}

// Bookkeeping and page touching for a chunk handed to the program.
function handOut(c: u32): u32 {
  if (!c) return 0;
  if (stateOf(c) == ST_MMAPPED) {
    const offset = <u64>fdNext(c);
    touch(addrOf(c) - offset, offset + sizeOf(c));
  } else {
    setState(c, ST_INUSE);
    // header + payload (the payload runs into the next chunk's prev_size word)
    touch(addrOf(c) + SIZE_SZ, sizeOf(c));
  }
  return c;
}

// _int_memalign (alignment > 16, a power of two)
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
      setFdNext(p, fdNext(p) + <u32>lead);
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

// _int_realloc (p in the break segment, nb its new padded size)
function intRealloc(p: u32, nb: u64): u32 {
  const oldsize = sizeOf(p);
  const next = nextP(p);
  let newsize: u64;
  if (oldsize >= nb) {
    newsize = oldsize;
  } else if (next == topRec() && oldsize + sizeOf(next) >= nb + MINSIZE) {
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
  // Values glibc would refuse are errors here (glibc ignores them silently).
  if (!isNaN(tcCountP) && (tcCountP < 0 || tcCountP > <f64>MAX_TCACHE_COUNT)) return Status.BAD_PARAM;
  if (!isNaN(tcMaxP) && (tcMaxP < 0 || tcMaxP > <f64>MAX_TCACHE_SIZE)) return Status.BAD_PARAM;
  if (!isNaN(mxfastP) && (mxfastP < 0 || mxfastP > <f64>MAX_FAST_SIZE)) return Status.BAD_PARAM;
  if (!isNaN(trimP) && trimP < 0) return Status.BAD_PARAM;
  if (!isNaN(mmapP) && mmapP < 0) return Status.BAD_PARAM;
  if (!isNaN(padP) && (padP < 0 || padP > <f64>MAX_TOP_PAD)) return Status.BAD_PARAM;
  if (!isNaN(mmapMaxP) && (mmapMaxP < 0 || mmapMaxP > 2147483647)) return Status.BAD_PARAM;
  if (!isNaN(limitP) && limitP < 0) return Status.BAD_PARAM;
  use(heapIndex);
  memory.fill(hs, 0, HS_BYTES);
  st64(H_TCACHE_COUNT, isNaN(tcCountP) ? TCACHE_FILL_COUNT : <u64>tcCountP);
  st64(H_TCACHE_BINS, isNaN(tcMaxP) ? TCACHE_MAX_BINS : tcIndex(request2size(<u64>tcMaxP)) + 1);
  const mx = isNaN(mxfastP) ? DEFAULT_MXFAST : <u64>mxfastP;
  // set_max_fast: 0 (and anything below a chunk) leaves no chunk size fast
  st64(H_MAX_FAST, mx <= ALIGN_MASK - SIZE_SZ ? MINSIZE / 2 : (mx + SIZE_SZ) & ~ALIGN_MASK);
  st64(H_TRIM_THRESHOLD, isNaN(trimP) ? DEFAULT_TRIM_THRESHOLD : <u64>trimP);
  st64(H_MMAP_THRESHOLD, isNaN(mmapP) ? DEFAULT_MMAP_THRESHOLD : <u64>mmapP);
  st64(H_TOP_PAD, isNaN(padP) ? DEFAULT_TOP_PAD : <u64>padP);
  st64(H_N_MMAPS_MAX, isNaN(mmapMaxP) ? DEFAULT_MMAP_MAX : <u64>mmapMaxP);
  st64(H_UNSORTED_LIMIT, isNaN(limitP) ? 0 : <u64>limitP);
  // Setting any of these turns the dynamic mmap/trim threshold off (do_set_* in malloc.c).
  st32(H_NO_DYN, !isNaN(trimP) || !isNaN(mmapP) || !isNaN(padP) || !isNaN(mmapMaxP) ? 1 : 0);
  st64(H_LAST_REMAINDER, 0);
  return Status.OK;
}

export function ptAlloc(heapIndex: i32, size: u64, alignLog2: u32): u32 {
  use(heapIndex);
  if (alignLog2 > 4) {
    const alignment = <u64>1 << alignLog2;
    return handOut(intMemalign(alignment < MINSIZE ? MINSIZE : alignment, size));
  }
  return handOut(libcMalloc(size));
}

// __libc_calloc: like malloc, but the tcache is never consulted (only _int_malloc).
export function ptCalloc(heapIndex: i32, size: u64): u32 {
  use(heapIndex);
  if (size > PTRDIFF_MAX) return 0;
  const nb = request2size(size);
  if (nb > MAX_CHUNK_BYTES) return 0;
  maybeInitTcache();
  return handOut(intMalloc(nb));
}

export function ptFree(heapIndex: i32, c: u32): void {
  use(heapIndex);
  if (stateOf(c) == ST_MMAPPED) {
    // The dynamic threshold rule compares the size word, IS_MMAPPED bit included.
    const word = sizeOf(c) | IS_MMAPPED;
    if (!ld32(H_NO_DYN) && word > ld64(H_MMAP_THRESHOLD) && word <= DEFAULT_MMAP_THRESHOLD_MAX) {
      st64(H_MMAP_THRESHOLD, sizeOf(c));
      st64(H_TRIM_THRESHOLD, 2 * sizeOf(c));
    }
    unmapChunk(c);
    return;
  }
  maybeInitTcache();
  intFree(c);
}

// __libc_realloc. A size of 0 is treated as a request for the smallest chunk (the engine's
// REALLOC keeps the block alive; glibc's realloc(p, 0) frees, which traces record as a free).
export function ptRealloc(heapIndex: i32, c: u32, size: u64): u32 {
  use(heapIndex);
  if (size > PTRDIFF_MAX) return 0;
  const nb = request2size(size);
  if (nb > MAX_CHUNK_BYTES) return 0;
  if (stateOf(c) == ST_MMAPPED) {
    // mremap_chunk: same page count → nothing; else the mapping grows, shrinks or moves.
    const offset = <u64>fdNext(c);
    const total = offset + sizeOf(c);
    const newTotal = alignUp(nb + offset + SIZE_SZ, PAGE_SIZE_BYTES);
    if (newTotal == total) return c;
    const base = addrOf(c) - offset;
    if (vmResize(base, newTotal) == Status.OK) {
      if (newTotal > total) vmCommit(base + total, newTotal - total);
      setSize(c, newTotal - offset);
      add64(H_MMAPPED_MEM, <i64>newTotal - <i64>total);
      touch(base, newTotal);
      return c;
    }
    const nbase = vmReserve(newTotal, 0, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED);
    if (nbase && vmCommit(nbase, newTotal) == Status.OK) {
      vmRelease(base);
      setAddr(c, nbase + offset);
      setSize(c, newTotal - offset);
      add64(H_MMAPPED_MEM, <i64>newTotal - <i64>total);
      touch(nbase, newTotal);
      return c;
    }
    if (nbase) vmRelease(nbase);
    if (sizeOf(c) - SIZE_SZ >= nb) return c;
    const n = handOut(libcMalloc(size));
    if (!n) return 0;
    unmapChunk(c);
    return n;
  }
  maybeInitTcache();
  const r = intRealloc(c, nb);
  return r;
}

// malloc_trim(pad): consolidate, madvise the whole pages inside big free chunks (resident drops,
// arena does not), then trim top like free does. Returns the resident bytes given back.
export function ptTrim(heapIndex: i32, padBytes: u64): u64 {
  use(heapIndex);
  const before = vmOwnerResident(owner);
  consolidate();
  const first = binIndex(PAGE_SIZE_BYTES);
  for (let b = UNSORTED; b < NBINS; b++) {
    if (b != UNSORTED && b < first) continue;
    for (let p = binLast(b); p; p = bk(p)) {
      const size = sizeOf(p);
      if (size <= PAGE_SIZE_BYTES - 1 + MALLOC_CHUNK_BYTES) continue;
      const paligned = alignUp(addrOf(p) + MALLOC_CHUNK_BYTES, PAGE_SIZE_BYTES);
      const rest = addrOf(p) + size - paligned;
      if (rest > PAGE_SIZE_BYTES - 1) vmPurge(paligned, alignDown(rest, PAGE_SIZE_BYTES));
    }
  }
  sysTrim(padBytes);
  const after = vmOwnerResident(owner);
  return before > after ? before - after : 0;
}

export function ptDestroy(heapIndex: i32): void {
  use(heapIndex);
  let c = ld32(H_FIRST);
  while (c) { const n = nextP(c); dropRec(c); c = n; }
  if (ld64(H_BASE)) vmRelease(ld64(H_BASE));
  c = ld32(H_MMAP_HEAD);
  while (c) {
    const n = fd(c);
    vmRelease(addrOf(c) - <u64>fdNext(c));
    dropRec(c);
    c = n;
  }
  memory.fill(hs, 0, HS_BYTES);
}

export function ptUserAddress(heapIndex: i32, c: u32): u64 { return addrOf(c) + CHUNK_HDR_SZ; }

// malloc_usable_size
export function ptUsableBytes(c: u32): u64 {
  return stateOf(c) == ST_MMAPPED ? sizeOf(c) - CHUNK_HDR_SZ : sizeOf(c) - SIZE_SZ;
}

export function ptSample(heapIndex: i32, out: usize): void {
  use(heapIndex);
  const top = topSize();
  const fastBytes = ld64(H_FAST_BYTES);
  const avail = top + fastBytes + ld64(H_BIN_BYTES);
  const sys = ld64(H_SYSTEM_MEM);
  store<f64>(out + <usize>S_ARENA * 8, <f64>sys);
  store<f64>(out + <usize>S_ORDBLKS * 8, <f64>(ld64(H_BIN_CHUNKS) + 1));
  store<f64>(out + <usize>S_SMBLKS * 8, <f64>ld64(H_FAST_CHUNKS));
  store<f64>(out + <usize>S_HBLKS * 8, <f64>ld64(H_N_MMAPS));
  store<f64>(out + <usize>S_HBLKHD * 8, <f64>ld64(H_MMAPPED_MEM));
  store<f64>(out + <usize>S_USMBLKS * 8, 0);
  store<f64>(out + <usize>S_FSMBLKS * 8, <f64>fastBytes);
  store<f64>(out + <usize>S_UORDBLKS * 8, <f64>(sys - avail));
  store<f64>(out + <usize>S_FORDBLKS * 8, <f64>avail);
  store<f64>(out + <usize>S_KEEPCOST * 8, <f64>top);
  store<f64>(out + <usize>S_TCACHE_BYTES * 8, <f64>ld64(H_TC_BYTES));
  store<f64>(out + <usize>S_MMAP_THRESHOLD * 8, <f64>ld64(H_MMAP_THRESHOLD));
  // The engine's common view: busy = in use by the program or parked in the tcache/fastbins
  // (the arena counts those as in use); free = top + bins.
  store<f64>(out + <usize>K_BUSY * 8, <f64>(sys - avail + ld64(H_MMAPPED_MEM)));
  store<f64>(out + <usize>K_FREE * 8, <f64>avail);
  store<f64>(out + <usize>K_FREE_BLOCKS * 8, <f64>(ld64(H_BIN_CHUNKS) + ld64(H_FAST_CHUNKS) + (top ? 1 : 0)));
  store<f64>(out + <usize>K_LARGEST_FREE * 8, <f64>largestFree());
  store<f64>(out + <usize>K_SEGMENTS * 8, ld64(H_BASE) ? 1 : 0);
  store<f64>(out + <usize>K_VIRTUAL_BLOCKS * 8, <f64>ld64(H_N_MMAPS));
  store<f64>(out + <usize>K_VIRTUAL_BYTES * 8, <f64>ld64(H_MMAPPED_MEM));
}

// Largest free chunk: top, the biggest chunk of the highest non-empty large bin, or a scan of
// the unsorted list and the highest small bin (all bounded by the bin structure).
function largestFree(): u64 {
  let best = topSize();
  for (let p = binFirst(UNSORTED); p; p = fd(p)) if (sizeOf(p) > best) best = sizeOf(p);
  for (let b = NBINS - 1; b > UNSORTED; b--) {
    const f = binFirst(b);
    if (f) { if (sizeOf(f) > best) best = sizeOf(f); break; }
  }
  return best;
}

// Free bytes that malloc_trim(0) would hand back now (madvise of whole pages inside free
// chunks that are not fastbin chunks, plus the trimmable tail of top), for the diagnosis.
export function ptPurgeableBytes(heapIndex: i32): u64 {
  use(heapIndex);
  let total: u64 = 0;
  for (let b = UNSORTED; b < NBINS; b++) {
    for (let p = binLast(b); p; p = bk(p)) {
      const size = sizeOf(p);
      if (size <= PAGE_SIZE_BYTES - 1 + MALLOC_CHUNK_BYTES) continue;
      const paligned = alignUp(addrOf(p) + MALLOC_CHUNK_BYTES, PAGE_SIZE_BYTES);
      const rest = addrOf(p) + size - paligned;
      if (rest > PAGE_SIZE_BYTES - 1) total += alignDown(rest, PAGE_SIZE_BYTES);
    }
  }
  const top = topSize();
  if (top > MINSIZE + 1) total += alignDown(top - MINSIZE - 1, PAGE_SIZE_BYTES);
  return total;
}

// Bytes of free chunks (bins and fastbins) that lie below the highest chunk in use by the program
// or parked in the tcache: the memory that chunk pins (only malloc_trim's madvise reaches it).
export function ptPinnedBelowBytes(heapIndex: i32): u64 {
  use(heapIndex);
  const t = topRec();
  if (!t) return 0;
  // Walk down from top to the highest chunk that the program or the tcache holds.
  let c = prevP(t);
  while (c && (stateOf(c) == ST_BIN || stateOf(c) == ST_FAST)) c = prevP(c);
  if (!c) return 0;
  let total: u64 = 0;
  for (let p = prevP(c); p; p = prevP(p)) if (stateOf(p) == ST_BIN || stateOf(p) == ST_FAST) total += sizeOf(p);
  return total;
}

// ---------------------------------------------------------------- invariant check (P1..P4)

export function ptCheck(heapIndex: i32): i32 {
  use(heapIndex);
  // P1 tiling, P2 coalescing
  let binChunks: u64 = 0, binBytes: u64 = 0, fastChunks: u64 = 0, fastBytes: u64 = 0;
  let tcChunks: u64 = 0, tcBytes: u64 = 0;
  const base = ld64(H_BASE);
  if (base) {
    let at = base;
    let prev: u32 = 0;
    let c = ld32(H_FIRST);
    if (prevP(c)) return 1;
    while (c) {
      if (addrOf(c) != at || prevP(c) != prev || sizeOf(c) < MINSIZE) return 1;
      const s = stateOf(c);
      if (s == ST_TOP && (c != topRec() || nextP(c))) return 1;
      if (s == ST_BIN) {
        binChunks++; binBytes += sizeOf(c);
        if (isBinned(prev) || isBinned(nextP(c)) || nextP(c) == topRec()) return 2;
      }
      if (s == ST_FAST) { fastChunks++; fastBytes += sizeOf(c); }
      if (s == ST_TCACHE) { tcChunks++; tcBytes += sizeOf(c); }
      if (s == ST_DEAD || s == ST_MMAPPED) return 1;
      at += sizeOf(c);
      prev = c;
      c = nextP(c);
    }
    if (prev != topRec() || at != base + ld64(H_SYSTEM_MEM)) return 1;
  }
  // P3 lists
  let listed: u64 = 0;
  for (let b = UNSORTED; b < NBINS; b++) {
    let prev: u32 = 0;
    let heads: u32 = 0;
    for (let p = binFirst(b); p; p = fd(p)) {
      if (stateOf(p) != ST_BIN || binOf(p) != b || bk(p) != prev) return 3;
      const s = sizeOf(p);
      if (b != UNSORTED && binIndex(s) != b) return 3;
      if (b >= 64 && prev && s > sizeOf(prev)) return 3;
      if (b >= 64) {
        const head = !prev || sizeOf(prev) != s;
        if (head != (fdNext(p) != 0)) return 3;
        if (head) heads++;
      }
      listed++;
      prev = p;
    }
    if (binLast(b) != prev) return 3;
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
  if (listed != ld64(H_BIN_CHUNKS)) return 3;
  for (let i = 0; i < NFASTBINS; i++) {
    for (let p = fastHead(i); p; p = fd(p)) if (stateOf(p) != ST_FAST || fastIndex(sizeOf(p)) != i) return 3;
  }
  for (let i: u64 = 0; i < <u64>TCACHE_MAX_BINS; i++) {
    let n: u32 = 0;
    for (let p = ld32(H_TC_HEADS + (<usize>i << 2)); p; p = fd(p)) {
      if (stateOf(p) != ST_TCACHE || tcIndex(sizeOf(p)) != i) return 3;
      n++;
    }
    if (n != tcCount(i)) return 3;
  }
  // P4 counters
  if (binChunks != ld64(H_BIN_CHUNKS) || binBytes != ld64(H_BIN_BYTES)) return 4;
  if (fastChunks != ld64(H_FAST_CHUNKS) || fastBytes != ld64(H_FAST_BYTES)) return 4;
  if (tcChunks != ld64(H_TC_CHUNKS) || tcBytes != ld64(H_TC_BYTES)) return 4;
  let maps: u64 = 0, mapBytes: u64 = 0;
  for (let c = ld32(H_MMAP_HEAD); c; c = fd(c)) {
    if (stateOf(c) != ST_MMAPPED) return 4;
    maps++;
    mapBytes += <u64>fdNext(c) + sizeOf(c);
  }
  if (maps != ld64(H_N_MMAPS) || mapBytes != ld64(H_MMAPPED_MEM)) return 4;
  return 0;
}

if (CHECKS && HS_BYTES % 8) ERROR("heap state must stay 8-byte aligned");
