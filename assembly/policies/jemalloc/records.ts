// === jemalloc model: extent records, allocation records, slab bitmaps, and the ordered sets ===
//
// An extent is a run of whole pages of one mapping, in one state (active, dirty, muzzy, retained).
// jemalloc describes each with an edata_t; the model keeps one record per extent in a kit record
// pool shared by every jemalloc heap (indices, never pointers, so the pool may grow).
//
// ╒══════════════════ extent record (EXT_BYTES = 128) ═════════════════╕
// │ 0 addr u64        first byte of the extent                          │
// │ 8 size u64        bytes (whole pages)                               │
// │ 16 sn u32         serial number of the mapping it came from         │
// │ 20 state u8 │ 21 flags u8 │ 22 arena u8 (slot) │ 23 szind u8        │
// │ 24 prev u32 │ 28 next u32      neighbours inside the same mapping   │
// │ 32 left u32 │ 36 right u32     links of the ordered set it is in    │
// │ 40 lruPrev u32 │ 44 lruNext u32   age order inside its extent cache │
// │ 48 nfree u16 (slabs) │ 50 userOffset u16 (large: random cache line) │
// │ 52 free-list link u32 │ 56 resEpoch u32 │ 60 resFrom u16 │ 62 resEnd u16 │
// │ 64 slab bitmap (64 bytes)                                           │
// ╘════════════════════════════════════════════════════════════════════╛
// The slab bitmap has one bit per region (512 regions at most: 8-byte class, one page). An
// allocation handed to the program (or parked in the thread cache) is an allocation record: 8
// bytes, the extent and the region index (ALLOC_LARGE for a large allocation); its index is the
// handle the engine stores.
//
// Ordered sets ("heaps" in jemalloc, pairing heaps ordered by serial number, then address) are kit
// treaps here: same order, so the same first element.

import { RecordPool, RECORD_POOL_BYTES, initPool, recordAtOf, takeRecordOf, dropRecordOf, poolBytes, reserveForHint, reserveRecords } from "../../kit/records";
import { hintLiveBlocks } from "../../kit/hint";
import { treeInsert, treeRemove, treeFirst } from "../../kit/tree";

export const EXT_BYTES: usize = 128;
const X_ADDR: usize = 0;
const X_SIZE: usize = 8;
const X_SN: usize = 16;
const X_STATE: usize = 20;
const X_FLAGS: usize = 21;
const X_ARENA: usize = 22;
const X_SZIND: usize = 23;
const X_PREV: usize = 24;
const X_NEXT: usize = 28;
const X_LEFT: usize = 32;
const X_RIGHT: usize = 36;
const X_LRU_PREV: usize = 40;
const X_LRU_NEXT: usize = 44;
const X_NFREE: usize = 48;
const X_UOFF: usize = 50;
const X_LINK: usize = 52;
const X_RES_EPOCH: usize = 56;   // slabs: the VM's residency epoch the run below was resident at, 0 = none
const X_RES_FROM: usize = 60;    // slabs: the run's first page, counted from the slab's first page
const X_RES_END: usize = 62;     // slabs: the page after the run, counted likewise (jemalloc.ts touchRegion)
const X_BITMAP: usize = 64;
export const BITMAP_BYTES: usize = 64;   // 512 regions: the most a slab has (8-byte class, one page)

// Extent states (extent_state_t), and DEAD for a record on the free list.
export const ST_DEAD: u8 = 0;
export const ST_ACTIVE: u8 = 1;
export const ST_DIRTY: u8 = 2;
export const ST_MUZZY: u8 = 3;
export const ST_RETAINED: u8 = 4;

// Flags.
export const F_HEAD: u8 = 1;     // first extent of a mapping (edata is_head): nothing merges into it
export const F_SLAB: u8 = 2;

export const SZIND_NONE: u8 = 232;  // SC_NSIZES: no size class (an inactive extent)

const EXTS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(EXTS, <u32>EXT_BYTES, <u32>X_LINK, 1024);

// @ts-ignore: decorator
@inline function X(e: u32): usize { return recordAtOf(EXTS, e, EXT_BYTES); }

export function newExt(addr: u64, size: u64, sn: u32, state: u8, flags: u8, arena: u8): u32 {
  const e = takeRecordOf(EXTS, EXT_BYTES, X_LINK);
  const p = X(e);
  memory.fill(p, 0, X_BITMAP);
  store<u64>(p + X_ADDR, addr);
  store<u64>(p + X_SIZE, size);
  store<u32>(p + X_SN, sn);
  store<u8>(p + X_STATE, state);
  store<u8>(p + X_FLAGS, flags);
  store<u8>(p + X_ARENA, arena);
  store<u8>(p + X_SZIND, SZIND_NONE);
  return e;
}

export function freeExt(e: u32): void {
  store<u8>(X(e) + X_STATE, ST_DEAD);
  dropRecordOf(EXTS, e, EXT_BYTES, X_LINK);
}

export function extRecordCount(): u32 { return EXTS.inUse; }
// Records ever handed out: 1 .. extHighWater() − 1 (dead ones have state ST_DEAD).
export function extHighWater(): u32 { return EXTS.high; }
export function extEngineBytes(): usize { return poolBytes(EXTS); }

// @ts-ignore: decorator
@inline export function eAddr(e: u32): u64 { return load<u64>(X(e) + X_ADDR); }
// @ts-ignore: decorator
@inline export function eSize(e: u32): u64 { return load<u64>(X(e) + X_SIZE); }
// @ts-ignore: decorator
@inline export function eEnd(e: u32): u64 { return eAddr(e) + eSize(e); }
// @ts-ignore: decorator
@inline export function eSn(e: u32): u32 { return load<u32>(X(e) + X_SN); }
// @ts-ignore: decorator
@inline export function eState(e: u32): u8 { return load<u8>(X(e) + X_STATE); }
// @ts-ignore: decorator
@inline export function eFlags(e: u32): u8 { return load<u8>(X(e) + X_FLAGS); }
// @ts-ignore: decorator
@inline export function eIsHead(e: u32): bool { return (eFlags(e) & F_HEAD) != 0; }
// @ts-ignore: decorator
@inline export function eIsSlab(e: u32): bool { return (eFlags(e) & F_SLAB) != 0; }
// @ts-ignore: decorator
@inline export function eArena(e: u32): u8 { return load<u8>(X(e) + X_ARENA); }
// @ts-ignore: decorator
@inline export function eSzind(e: u32): u8 { return load<u8>(X(e) + X_SZIND); }
// @ts-ignore: decorator
@inline export function ePrev(e: u32): u32 { return load<u32>(X(e) + X_PREV); }
// @ts-ignore: decorator
@inline export function eNext(e: u32): u32 { return load<u32>(X(e) + X_NEXT); }
// @ts-ignore: decorator
@inline export function eLruPrev(e: u32): u32 { return load<u32>(X(e) + X_LRU_PREV); }
// @ts-ignore: decorator
@inline export function eLruNext(e: u32): u32 { return load<u32>(X(e) + X_LRU_NEXT); }
// @ts-ignore: decorator
@inline export function eNfree(e: u32): u32 { return <u32>load<u16>(X(e) + X_NFREE); }
// @ts-ignore: decorator
@inline export function eUserOffset(e: u32): u64 { return <u64>load<u16>(X(e) + X_UOFF); }

// A slab's run of VM pages known resident (jemalloc.ts touchRegion): [from, end) counted in pages
// from the slab's first page, resident while the VM's residency epoch is `epoch` (0 = none known).
// @ts-ignore: decorator
@inline export function eResEpoch(e: u32): u32 { return load<u32>(X(e) + X_RES_EPOCH); }
// @ts-ignore: decorator
@inline export function eResFrom(e: u32): u32 { return <u32>load<u16>(X(e) + X_RES_FROM); }
// @ts-ignore: decorator
@inline export function eResEnd(e: u32): u32 { return <u32>load<u16>(X(e) + X_RES_END); }
// @ts-ignore: decorator
@inline export function setRes(e: u32, epoch: u32, from: u32, end: u32): void {
  store<u32>(X(e) + X_RES_EPOCH, epoch);
  store<u16>(X(e) + X_RES_FROM, <u16>from);
  store<u16>(X(e) + X_RES_END, <u16>end);
}

// @ts-ignore: decorator
@inline export function setAddr(e: u32, v: u64): void { store<u64>(X(e) + X_ADDR, v); }
// @ts-ignore: decorator
@inline export function setSize(e: u32, v: u64): void { store<u64>(X(e) + X_SIZE, v); }
// @ts-ignore: decorator
@inline export function setSn(e: u32, v: u32): void { store<u32>(X(e) + X_SN, v); }
// @ts-ignore: decorator
@inline export function setState(e: u32, v: u8): void { store<u8>(X(e) + X_STATE, v); }
// @ts-ignore: decorator
@inline export function setFlags(e: u32, v: u8): void { store<u8>(X(e) + X_FLAGS, v); }
// @ts-ignore: decorator
@inline export function setSzind(e: u32, v: u8): void { store<u8>(X(e) + X_SZIND, v); }
// @ts-ignore: decorator
@inline export function setPrev(e: u32, v: u32): void { store<u32>(X(e) + X_PREV, v); }
// @ts-ignore: decorator
@inline export function setNext(e: u32, v: u32): void { store<u32>(X(e) + X_NEXT, v); }
// @ts-ignore: decorator
@inline export function setLruPrev(e: u32, v: u32): void { store<u32>(X(e) + X_LRU_PREV, v); }
// @ts-ignore: decorator
@inline export function setLruNext(e: u32, v: u32): void { store<u32>(X(e) + X_LRU_NEXT, v); }
// @ts-ignore: decorator
@inline export function setNfree(e: u32, v: u32): void { store<u16>(X(e) + X_NFREE, <u16>v); }
// @ts-ignore: decorator
@inline export function setUserOffset(e: u32, v: u64): void { store<u16>(X(e) + X_UOFF, <u16>v); }

// ---------------------------------------------------------------- slab bitmaps (1 = region in use)

// @ts-ignore: decorator
@inline function B(e: u32): usize { return X(e) + X_BITMAP; }

export function bitmapClear(e: u32): void { memory.fill(B(e), 0, BITMAP_BYTES); }

// bitmap_sfu: the lowest free region, marked in use.
export function bitmapTakeFirst(e: u32, nregs: u32): u32 {
  const words = (nregs + 63) >> 6;
  for (let w: u32 = 0; w < words; w++) {
    const p = B(e) + (<usize>w << 3);
    const used = load<u64>(p);
    if (used != <u64>-1) {
      const bit = <u32>ctz(~used);
      const reg = (w << 6) + bit;
      if (reg >= nregs) break;
      store<u64>(p, used | (<u64>1 << <u64>bit));
      return reg;
    }
  }
  unreachable();
  return 0;
}

// bitmap_sfu `count` times over extent e (arena_cache_bin_fill_small's loop): its `count` lowest
// free regions marked in use, lowest first, an allocation record for each written to out[0..count)
// (0 when the handle bits are exhausted, as newAlloc). The scan goes on from the word of the region
// taken last (the words before it are full) and keeps that word in a local; the caller has seen at
// least `count` free regions (the extent's nfree, which it lowers).
// @ts-ignore: decorator
@inline export function takeRegionsInto(e: u32, nregs: u32, count: u32, out: usize): void {
  const bm = B(e); // newAlloc may grow the allocation records, never the extents
  const words = (nregs + 63) >> 6;
  let w: u32 = 0;
  let used = load<u64>(bm);
  for (let i: u32 = 0; i < count; i++) {
    while (used == <u64>-1) {
      if (++w >= words) unreachable();
      used = load<u64>(bm + (<usize>w << 3));
    }
    const bit = <u32>ctz(~used);
    const reg = (w << 6) + bit;
    if (reg >= nregs) unreachable();
    used |= <u64>1 << <u64>bit;
    store<u64>(bm + (<usize>w << 3), used);
    store<u32>(out + (<usize>i << 2), newAlloc(e, reg));
  }
}

export function bitmapRelease(e: u32, reg: u32): void {
  const p = B(e) + (<usize>(reg >> 6) << 3);
  store<u64>(p, load<u64>(p) & ~(<u64>1 << <u64>(reg & 63)));
}

export function bitmapIsSet(e: u32, reg: u32): bool {
  return (load<u64>(B(e) + (<usize>(reg >> 6) << 3)) & (<u64>1 << <u64>(reg & 63))) != 0;
}

export function bitmapCount(e: u32, nregs: u32): u32 {
  let n: u32 = 0;
  for (let w: u32 = 0; w < ((nregs + 63) >> 6); w++) n += <u32>popcnt(load<u64>(B(e) + (<usize>w << 3)));
  return n;
}

// ---------------------------------------------------------------- allocation records (handles)

export const ALLOC_LARGE: u32 = 0xFFFFFFFF;
const ALLOC_FREE: u32 = 0xFFFFFFFE;   // region index of a record on the free list
const MAX_HANDLE: u32 = (1 << 29) - 1; // the engine's handle bits
const ALLOCS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
const ALLOC_BYTES: usize = 8;    // 0 extent u32, 4 region index u32 (ALLOC_LARGE, ALLOC_FREE)
const ALLOC_LINK: usize = 0;     // a free record's free-list link, over its extent
initPool(ALLOCS, <u32>ALLOC_BYTES, <u32>ALLOC_LINK, 4096, 8, MAX_HANDLE);

// @ts-ignore: decorator
@inline function A(h: u32): usize { return recordAtOf(ALLOCS, h, ALLOC_BYTES); }

// Allocation records reserved per block live at the replay's peak (kit/hint.ts). A region keeps its
// record while it waits in a tcache (a fill makes one per region), so a peak holds more records than
// live blocks (python.hst: more than its 1.2 M). With one per live block the table doubled once and
// the copy touched ~1,900 fresh pages; reserved pages never written cost address space only.
const ALLOC_RECORDS_PER_LIVE_BLOCK: u32 = 2;

// Live blocks per extent record reserved from the replay's hint. Extents follow slabs and large
// blocks, not blocks (python.hst: ~12,000 extents at most for its 1.2 M live blocks, one per ~100);
// one per 16 reserves enough for recordings with fewer regions per slab, and a table of 16,384 records
// grown from 1,024 by doubling copied ~2 MB into fresh pages (~480 page faults).
const LIVE_BLOCKS_PER_EXTENT: u32 = 16;

// Sizes the allocation and extent records once for the replay's hint.
export function allocReserve(): void {
  reserveForHint(ALLOCS, ALLOC_RECORDS_PER_LIVE_BLOCK);
  reserveRecords(EXTS, hintLiveBlocks() / LIVE_BLOCKS_PER_EXTENT);
}

// A new allocation record (0 when the handle bits are exhausted). Inline (the fill makes one per
// region).
// @ts-ignore: decorator
@inline export function newAlloc(ext: u32, reg: u32): u32 {
  const h = takeRecordOf(ALLOCS, ALLOC_BYTES, ALLOC_LINK);
  if (!h) return 0;
  store<u32>(A(h), ext);
  store<u32>(A(h) + 4, reg);
  return h;
}

// @ts-ignore: decorator
@inline export function freeAlloc(h: u32): void {
  store<u32>(A(h) + 4, ALLOC_FREE);
  dropRecordOf(ALLOCS, h, ALLOC_BYTES, ALLOC_LINK);
}

// Records ever handed out: 1 .. allocHighWater() − 1; allocIsLive tells the free ones apart.
export function allocHighWater(): u32 { return ALLOCS.high; }
export function allocIsLive(h: u32): bool { return load<u32>(A(h) + 4) != ALLOC_FREE; }

// @ts-ignore: decorator
@inline export function allocExt(h: u32): u32 { return load<u32>(A(h)); }
// @ts-ignore: decorator
@inline export function allocReg(h: u32): u32 { return load<u32>(A(h) + 4); }
// @ts-ignore: decorator
@inline export function setAllocExt(h: u32, e: u32): void { store<u32>(A(h), e); }
// @ts-ignore: decorator
@inline export function setAllocReg(h: u32, r: u32): void { store<u32>(A(h) + 4, r); }
export function allocEngineBytes(): usize { return poolBytes(ALLOCS); }

// ---------------------------------------------------------------- ordered sets: treaps by (sn, addr)

// edata_snad_comp: serial number first, then address.
// @ts-ignore: decorator
@inline export function snadLess(a: u32, b: u32): bool {
  const sa = eSn(a), sb = eSn(b);
  return sa != sb ? sa < sb : eAddr(a) < eAddr(b);
}

// The shape of the sets for the kit's tree: links at X_LEFT / X_RIGHT, order snadLess, no summary.
@final @unmanaged class SnadSet {
  // @ts-ignore: decorator
  @inline left(n: u32): u32 { return load<u32>(X(n) + X_LEFT); }
  // @ts-ignore: decorator
  @inline setLeft(n: u32, v: u32): void { store<u32>(X(n) + X_LEFT, v); }
  // @ts-ignore: decorator
  @inline right(n: u32): u32 { return load<u32>(X(n) + X_RIGHT); }
  // @ts-ignore: decorator
  @inline setRight(n: u32, v: u32): void { store<u32>(X(n) + X_RIGHT, v); }
  // @ts-ignore: decorator
  @inline less(a: u32, b: u32): bool { return snadLess(a, b); }
  // @ts-ignore: decorator
  @inline pull(n: u32): void {}
}
// @ts-ignore: decorator
@inline function left(e: u32): u32 { return load<u32>(X(e) + X_LEFT); }
// @ts-ignore: decorator
@inline function right(e: u32): u32 { return load<u32>(X(e) + X_RIGHT); }

// The set whose root is stored at `rootPtr` (a u32 slot).
export function setInsert(rootPtr: usize, x: u32): void {
  store<u32>(rootPtr, treeInsert<SnadSet>(load<u32>(rootPtr), x));
}
export function setRemove(rootPtr: usize, x: u32): void {
  store<u32>(rootPtr, treeRemove<SnadSet>(load<u32>(rootPtr), x));
}
export function setFirst(rootPtr: usize): u32 { return treeFirst<SnadSet>(load<u32>(rootPtr)); }
// The links, for walks (largest extent of a set, checks).
export function setLeftOf(t: u32): u32 { return left(t); }
export function setRightOf(t: u32): u32 { return right(t); }
export function setCount(t: u32): u32 { return t ? 1 + setCount(left(t)) + setCount(right(t)) : 0; }
// In-order check of a subtree: ascending (sn, addr). Returns false when the order is broken.
export function setOrdered(t: u32, lo: u32, hi: u32): bool {
  if (!t) return true;
  if (lo && !snadLess(lo, t)) return false;
  if (hi && !snadLess(t, hi)) return false;
  return setOrdered(left(t), lo, t) && setOrdered(right(t), t, hi);
}
export function setContains(rootPtr: usize, x: u32): bool {
  let t = load<u32>(rootPtr);
  while (t) {
    if (t == x) return true;
    t = snadLess(x, t) ? left(t) : right(t);
  }
  return false;
}
