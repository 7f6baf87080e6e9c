// === jemalloc model: mappings, the base (metadata) allocator and the radix tree's leaves ===
//
// Mappings. jemalloc asks the kernel for memory with mmap and, with opt.retain (Debian's default),
// never gives address space back. Each mapping is one VM region here (reserved and committed: a
// private read-write mapping under Linux overcommit), placed top-down at page granularity as the
// kernel places mmaps. An aligned mapping is made as pages.c makes one when the first try is not
// aligned: map size + alignment − page, keep the aligned middle (here: reserve exactly there).
//
// The base allocator (base.c) hands out jemalloc's metadata and never frees it. A base owns
// blocks mapped 2 MiB-aligned; each new block is the next page-size class after the previous
// block's (at least the request), rounded up to 2 MiB: 2, 4, 6, 8, 10, 12, 14, 16, 20, … MiB. A
// block starts with its header (BLOCK_HEADER_BYTES). Requests are bump-allocated: each block's
// unused tail is on offer in the size-class bin of its size rounded down; a request of size s
// with alignment a takes the smallest bin that holds s + a − 16 bytes (ties: the oldest block,
// then the lowest address) and leaves the rest on offer. Statistics, as base.c keeps them:
// allocated = the requested bytes (rounded to the alignment) plus block headers; resident = the
// pages from the start of each allocation's alignment gap to its end, counted once per page
// boundary crossed (an upper bound jemalloc reports, whether or not the pages were touched);
// mapped = the blocks.
//
// The radix tree (rtree.c) maps every page that starts or ends an extent to its descriptor. With
// 48-bit addresses it has two levels: a static root of 2^18 entries and leaves of 2^18 eight-byte
// entries, 2 MiB each, one per 1 GiB of address space, allocated from base 0 the first time an
// extent boundary falls in that gigabyte, and never freed.

import { Status, RegionType, Usage } from "../../abi";
import { vmReserve, vmCommit, vmRelease, touchPages, RESERVE_TOP_DOWN, RESERVE_PAGE_ALIGNED } from "../../vm/space";
import {
  PAGE, QUANTUM, HUGEPAGE, LARGE_MAXCLASS, alignCeil, pageCeil, size2index, psz2ind, pind2sz, psz2u, NSIZES,
} from "./sizes";
import {
  BSB, BLK, BS_ALLOCATED, BS_RESIDENT, BS_MAPPED, BS_PIND_LAST, BS_SN_NEXT, BS_NBLOCKS, MAX_BASE_BLOCKS,
  BLK_ADDR, BLK_SIZE, BLK_CUR, BLK_LEFT, BLK_SN, BLK_AVAIL, HB, H_NLEAVES, H_LEAVES, MAX_LEAVES,
  ld64, st64, ld32, st32, add64, arenaSlot, SLOT_A0,
} from "./state";

// Sizes of jemalloc 5.3.0's own structures in Debian's build (measured with the oracle: each one
// is the size base_alloc was asked for; docs/jemalloc.md lists where each comes from).
export const BLOCK_HEADER_BYTES: u64 = 144;      // base.c: sizeof(base_block_t)
export const BASE_T_BYTES: u64 = 3968;           // base.c: sizeof(base_t), rounded to a cache line
export const EDATA_BYTES: u64 = 128;             // edata.h: sizeof(edata_t) (also its alignment)
export const RTREE_LEAF_BYTES: u64 = 2 * 1024 * 1024;  // rtree.h: 2^18 entries × 8 bytes
const LG_LEAF_SPAN: u64 = 30;                    // rtree.h: one leaf covers 2^(18 + LG_PAGE) bytes

// ---------------------------------------------------------------- mappings

// mmap(size) at page granularity, top-down (0 on failure). `alignment` > PAGE: as pages_map.
export function mapPages(owner: i32, size: u64, alignment: u64): u64 {
  const flags = RESERVE_TOP_DOWN | RESERVE_PAGE_ALIGNED;
  const a = vmReserve(size, 0, RegionType.PRIVATE, Usage.HEAP, owner, flags);
  if (!a) return 0;
  let base = a;
  if (alignment > PAGE && (a & (alignment - 1))) {
    vmRelease(a);
    const wide = vmReserve(size + alignment - PAGE, 0, RegionType.PRIVATE, Usage.HEAP, owner, flags);
    if (!wide) return 0;
    base = alignCeil(wide, alignment);
    vmRelease(wide);
    if (vmReserve(size, base, RegionType.PRIVATE, Usage.HEAP, owner, RESERVE_PAGE_ALIGNED) != base) return 0;
  }
  if (vmCommit(base, size) != Status.OK) { vmRelease(base); return 0; }
  return base;
}

// ---------------------------------------------------------------- base allocator

// A new block for a request of `size` bytes aligned to `alignment` (base_block_alloc).
function newBlock(b: i32, owner: i32, size: u64, alignment: u64): i32 {
  const bs = BSB(b);
  const n = ld32(bs + BS_NBLOCKS);
  if (n >= MAX_BASE_BLOCKS) return -1;
  alignment = alignCeil(alignment, QUANTUM);
  const usize = alignCeil(size, alignment);
  const gap = alignCeil(BLOCK_HEADER_BYTES, alignment) - BLOCK_HEADER_BYTES;
  const minBlock = alignCeil(psz2u(BLOCK_HEADER_BYTES + gap + usize), HUGEPAGE);
  const last = ld32(bs + BS_PIND_LAST);
  const pindNext = last + 1 < psz2ind(LARGE_MAXCLASS) ? last + 1 : last;
  const nextBlock = alignCeil(pind2sz(pindNext), HUGEPAGE);
  const blockSize = minBlock > nextBlock ? minBlock : nextBlock;
  const addr = mapPages(owner, blockSize, HUGEPAGE);
  if (!addr) return -1;
  st32(bs + BS_PIND_LAST, psz2ind(blockSize));
  const k = BLK(b, n);
  st64(k + BLK_ADDR, addr);
  st64(k + BLK_SIZE, blockSize);
  st64(k + BLK_CUR, addr + BLOCK_HEADER_BYTES);
  st64(k + BLK_LEFT, blockSize - BLOCK_HEADER_BYTES);
  const sn = ld32(bs + BS_SN_NEXT);
  st32(k + BLK_SN, sn);
  st32(bs + BS_SN_NEXT, sn + 1);
  st32(k + BLK_AVAIL, 0);
  st32(bs + BS_NBLOCKS, n + 1);
  add64(bs + BS_ALLOCATED, <i64>BLOCK_HEADER_BYTES);
  add64(bs + BS_RESIDENT, <i64>pageCeil(BLOCK_HEADER_BYTES));
  add64(bs + BS_MAPPED, <i64>blockSize);
  touchPages(addr, BLOCK_HEADER_BYTES, <u8>owner);
  return <i32>n;
}

// The size-class bin a block's unused tail is filed under: its size rounded down to a class.
// @ts-ignore: decorator
@inline function availBin(left: u64): u32 { return size2index(left + 1) - 1; }

// Bump-allocates from block i (base_extent_bump_alloc): returns the address.
function bump(b: i32, owner: i32, i: u32, usize: u64, alignment: u64, touch: bool): u64 {
  const bs = BSB(b);
  const k = BLK(b, i);
  const cur = ld64(k + BLK_CUR);
  const gap = alignCeil(cur, alignment) - cur;
  const ret = cur + gap;
  st64(k + BLK_CUR, ret + usize);
  st64(k + BLK_LEFT, ld64(k + BLK_LEFT) - gap - usize);
  st32(k + BLK_AVAIL, ld64(k + BLK_LEFT) > 0 ? 1 : 0);
  add64(bs + BS_ALLOCATED, <i64>usize);
  add64(bs + BS_RESIDENT, <i64>(pageCeil(ret + usize) - pageCeil(ret - gap)));
  if (touch && usize) touchPages(ret, usize, <u8>owner);
  return ret;
}

// base_alloc: `size` bytes aligned to `alignment` from base slot b (0 on failure). `touch` false
// for memory jemalloc only writes sparsely (the radix-tree leaves: see touchLeafEntry).
export function baseAlloc(b: i32, owner: i32, size: u64, alignment: u64, touch: bool = true): u64 {
  alignment = alignCeil(alignment, QUANTUM);
  const usize = alignCeil(size, alignment);
  const asize = usize + alignment - QUANTUM;
  const bs = BSB(b);
  const n = ld32(bs + BS_NBLOCKS);
  const want = size2index(asize);
  let best: i32 = -1;
  let bestBin: u32 = NSIZES;
  for (let i: u32 = 0; i < n; i++) {
    const k = BLK(b, i);
    if (!ld32(k + BLK_AVAIL)) continue;
    const bin = availBin(ld64(k + BLK_LEFT));
    if (bin < want) continue;
    // lowest bin first; inside a bin the oldest block (its serial number), then the lowest address
    if (bin < bestBin || (bin == bestBin && (ld32(k + BLK_SN) < ld32(BLK(b, best) + BLK_SN) ||
      (ld32(k + BLK_SN) == ld32(BLK(b, best) + BLK_SN) && ld64(k + BLK_CUR) < ld64(BLK(b, best) + BLK_CUR))))) {
      best = <i32>i; bestBin = bin;
    }
  }
  if (best < 0) {
    best = newBlock(b, owner, usize, alignment);
    if (best < 0) return 0;
  }
  return bump(b, owner, <u32>best, usize, alignment, touch);
}

// base_new: the first block of a base, with the base_t at its start (BASE_T_BYTES, cache-line
// aligned). Returns false when the address space is exhausted.
export function baseNew(b: i32, owner: i32): bool {
  const bs = BSB(b);
  st32(bs + BS_PIND_LAST, 0);
  st32(bs + BS_SN_NEXT, 0);
  st32(bs + BS_NBLOCKS, 0);
  if (newBlock(b, owner, BASE_T_BYTES, 64) < 0) return false;
  bump(b, owner, 0, BASE_T_BYTES, 64, true);
  return true;
}

export function baseAllocated(b: i32): u64 { return ld64(BSB(b) + BS_ALLOCATED); }
export function baseResident(b: i32): u64 { return ld64(BSB(b) + BS_RESIDENT); }
export function baseMapped(b: i32): u64 { return ld64(BSB(b) + BS_MAPPED); }
export function baseBlocks(b: i32): u32 { return ld32(BSB(b) + BS_NBLOCKS); }
export function baseBlockAddr(b: i32, i: u32): u64 { return ld64(BLK(b, i) + BLK_ADDR); }

// ---------------------------------------------------------------- radix-tree leaves

// Makes sure the leaf holding the entry of address `key` exists (rtree_leaf_elm_lookup with
// init_missing); a new leaf is a base 0 allocation. Returns false when it cannot be allocated.
export function ensureLeaf(h: i32, key: u64): bool {
  const hb = HB(h);
  const id = key >> LG_LEAF_SPAN;
  const n = ld32(hb + H_NLEAVES);
  for (let i: u32 = 0; i < n; i++) if (ld64(hb + H_LEAVES + (<usize>i << 3)) == id) return true;
  if (n >= MAX_LEAVES) return false;
  const addr = baseAlloc(arenaSlot(h, SLOT_A0), h, RTREE_LEAF_BYTES, 64, false);
  if (!addr) return false;
  st64(hb + H_LEAVES + (<usize>n << 3), id);
  st64(hb + H_LEAVES + (<usize>(n + MAX_LEAVES) << 3), addr);
  st32(hb + H_NLEAVES, n + 1);
  return true;
}

// The page of the leaf that holds `key`'s entry becomes resident (jemalloc writes the entry).
export function touchLeafEntry(h: i32, key: u64): void {
  const hb = HB(h);
  const id = key >> LG_LEAF_SPAN;
  const n = ld32(hb + H_NLEAVES);
  for (let i: u32 = 0; i < n; i++) {
    if (ld64(hb + H_LEAVES + (<usize>i << 3)) != id) continue;
    const leaf = ld64(hb + H_LEAVES + (<usize>(i + MAX_LEAVES) << 3));
    const entry = (key >> 12) & ((<u64>1 << (LG_LEAF_SPAN - 12)) - 1);
    touchPages(leaf + entry * 8, 8, <u8>h);
    return;
  }
}

export function leafCount(h: i32): u32 { return ld32(HB(h) + H_NLEAVES); }
