// === Page table: one state byte per simulated page ===
//
// ╒═══ page entry (u8) ═══╕   C: committed   R: resident (touched since commit or purge)
// │ 0 … 0 │ R │ C │       │   invariant P1: R implies C
// ╘═══════════════════════╛
//
// Two layouts, chosen at init:
//  - flat (32-bit spaces): one byte per page of [0, userHigh), allocated at init (512 KiB for x86).
//  - sparse (x64, 2^35 pages): a 4-level radix tree, 8 + 9 + 9 + 9 bits of the page number.
//    Interior tables hold 32-bit pointers (2 KiB each); leaves hold 512 state bytes (2 MiB of
//    address space). Tables are created only when a page below them is committed, so engine memory
//    grows with what is committed, not with what is reserved or with the size of the space.
//    Pages with no leaf read as 0 (not committed). A one-entry cache of the last leaf keeps the
//    common case (neighbouring pages) at one compare.

import { CHECKS } from "../checks";

export const PAGE_COMMITTED: u8 = 1;
export const PAGE_RESIDENT: u8 = 2;

const LEAF_BITS: u64 = 9;
const LEVEL_BITS: u64 = 9;
const TOP_BITS: u64 = 8;
const LEAF_ENTRIES: usize = 1 << <usize>LEAF_BITS;
const LEVEL_ENTRIES: usize = 1 << <usize>LEVEL_BITS;
const TOP_ENTRIES: usize = 1 << <usize>TOP_BITS;
if (TOP_BITS + 2 * LEVEL_BITS + LEAF_BITS != 35) ERROR("sparse table must cover 2^35 pages (128 TiB)");

let sparse = false;
let flatBase: usize = 0;
let flatPages: u64 = 0;
let topTable: usize = 0;
let cachedLeafKey: u64 = <u64>-1;
let cachedLeaf: usize = 0;
let tableBytes: usize = 0; // engine bytes spent on the page table

export function ptInit(isSparse: bool, pages: u64): void {
  sparse = isSparse;
  cachedLeafKey = <u64>-1;
  cachedLeaf = 0;
  if (isSparse) {
    topTable = allocZeroed(TOP_ENTRIES * 4);
  } else {
    flatPages = pages;
    flatBase = allocZeroed(<usize>pages);
  }
}

export function ptBytes(): usize { return tableBytes; }

function allocZeroed(bytes: usize): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  tableBytes += bytes;
  return p;
}

// Pointer to the entry of `page`, creating tables when `create`; 0 when absent and not created.
// The flat table and the cached leaf are answered inline; the walk down the tree is not.
// @ts-ignore: decorator
@inline export function ptEntry(page: u64, create: bool): usize {
  if (!sparse) {
    if (CHECKS) assert(page < flatPages, "page beyond flat table");
    return flatBase + <usize>page;
  }
  if (page >> LEAF_BITS == cachedLeafKey) return cachedLeaf + <usize>(page & (LEAF_ENTRIES - 1));
  return ptWalk(page, create);
}

function ptWalk(page: u64, create: bool): usize {
  const key = page >> LEAF_BITS;
  let table = topTable;
  const i0 = <usize>(page >> (LEAF_BITS + 2 * LEVEL_BITS));
  const i1 = <usize>((page >> (LEAF_BITS + LEVEL_BITS)) & (LEVEL_ENTRIES - 1));
  const i2 = <usize>((page >> LEAF_BITS) & (LEVEL_ENTRIES - 1));
  if (CHECKS) assert(i0 < TOP_ENTRIES, "page beyond sparse table");
  let next = <usize>load<u32>(table + (i0 << 2));
  if (!next) {
    if (!create) return 0;
    next = allocZeroed(LEVEL_ENTRIES * 4);
    store<u32>(table + (i0 << 2), <u32>next);
  }
  table = next;
  next = <usize>load<u32>(table + (i1 << 2));
  if (!next) {
    if (!create) return 0;
    next = allocZeroed(LEVEL_ENTRIES * 4);
    store<u32>(table + (i1 << 2), <u32>next);
  }
  table = next;
  next = <usize>load<u32>(table + (i2 << 2));
  if (!next) {
    if (!create) return 0;
    next = allocZeroed(LEAF_ENTRIES);
    store<u32>(table + (i2 << 2), <u32>next);
  }
  cachedLeafKey = key;
  cachedLeaf = next;
  return next + <usize>(page & (LEAF_ENTRIES - 1));
}

// @ts-ignore: decorator
@inline export function ptGet(page: u64): u8 {
  const p = ptEntry(page, false);
  return p ? load<u8>(p) : 0;
}
