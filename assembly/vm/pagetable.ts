// === Page table: one state per simulated page ===
//
// ╒═══ page state (u8) ═══╕   C: committed   R: resident (touched since commit or purge)
// │ 0 … 0 │ R │ C │       │   invariant P1: R implies C
// ╘═══════════════════════╛
//
// Two layouts, chosen at init:
//  - flat (32-bit spaces): one byte per page of [0, userHigh), allocated at init (512 KiB for x86).
//  - sparse (x64, 2^35 pages): a 4-level radix tree, 8 + 9 + 9 + 9 bits of the page number.
//    Interior tables hold 512 (top: 256) u32 slots; leaves hold 512 state bytes (2 MiB of address
//    space). A slot is
//        0             every page below it has state 0 (nothing was ever committed there)
//        odd           every page below it has state (slot >> 1): a *uniform* subtree, no table
//        even, not 0   the address of the child table or leaf
//    Range operations (ptApply, ptScan) take a uniform slot as a whole, split one only where a
//    range ends inside it, and fold a table back into one slot when all its pages share a state.
//    So engine memory and work follow the *boundaries* of what is committed and resident, never
//    the bytes: committing and touching a 1 TiB block costs a few tables, not 256 MiB of leaves.
//    A small direct-mapped cache of leaves (LEAF_CACHE_ENTRIES, by the low bits of the leaf's key)
//    finds a page's leaf at one compare, without the three-load walk from the top, for pages spread
//    over a heap's working set of up to that many leaves (a pool's chunks all over 100 MiB).
//    A uniform slot is cached too, as one of four read-only leaves filled with its state (one per
//    state), so pages in a wholly resident 2 MiB span (a compact heap's middle) are found at the
//    same compare; ptApply drops those entries for the spans it changes before it changes them.

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
// Pages covered by one slot of the top table, of a level-1 table, of a level-2 table: 2^shift.
const SPAN_TOP_SHIFT: u64 = LEAF_BITS + 2 * LEVEL_BITS;
const SPAN_L1_SHIFT: u64 = LEAF_BITS + LEVEL_BITS;
const SPAN_L2_SHIFT: u64 = LEAF_BITS;

// What ptApply does to each page's state.
export const PT_COMMIT: i32 = 0;    // s | C
export const PT_DECOMMIT: i32 = 1;  // 0
export const PT_TOUCH: i32 = 2;     // C -> C|R (callers guarantee the pages are committed)
export const PT_PURGE: i32 = 3;     // s & ~R

let sparse = false;
let flatBase: usize = 0;
let flatPages: u64 = 0;
let topTable: usize = 0;

// ╒═══ leaf cache entry (16 bytes) ═══╕   key NO_LEAF = empty; a uniform slot is cached as its
// │ 0 u64: page >> LEAF_BITS │ 8 u32: leaf address │   state's filled leaf (uniformLeaf)
// ╘════════════════════════════════════╛
// 64 entries cover 128 MiB of address space in 2 MiB leaves (1 KiB of engine memory).
const LEAF_CACHE_ENTRIES: usize = 64;
const LEAF_CACHE_MASK: u64 = <u64>LEAF_CACHE_ENTRIES - 1;
const NO_LEAF: u64 = <u64>-1;   // never a key: keys are below 2^(35 - LEAF_BITS)
const leafCache = memory.data(<i32>(LEAF_CACHE_ENTRIES * 16));

// @ts-ignore: decorator
@inline function cacheEntry(key: u64): usize { return leafCache + (<usize>(key & LEAF_CACHE_MASK) << 4); }
// The last leaf found, in globals: pages next to each other (a heap that grows in one place) cost
// one compare, as before the cache had more entries.
let lastKey: u64 = NO_LEAF;
let lastLeaf: usize = 0;

// Read-only leaves, one per page state (0, C, R without C never stored, C|R), each filled with
// its state: what a uniform slot of that state would hold if it were a leaf. Never written after
// ptInit, never freed; ptApply never applies an op to one (leafOrSlot hands back the slot instead).
const PAGE_STATES: usize = 4;
const uniformLeaves = memory.data(<i32>(PAGE_STATES * LEAF_ENTRIES));
// Whether any cache entry may hold a uniform leaf (since ptInit): if not, ptApply skips its drop.
let uniformCached: bool = false;
// @ts-ignore: decorator
@inline function uniformLeaf(state: u8): usize { return uniformLeaves + (<usize>state << <usize>LEAF_BITS); }
// @ts-ignore: decorator
@inline function isUniformLeaf(leaf: usize): bool { return leaf - uniformLeaves < PAGE_STATES * LEAF_ENTRIES; }

// The cached leaf of `key`, or 0.
// @ts-ignore: decorator
@inline function cachedLeafOf(key: u64): usize {
  if (key == lastKey) return lastLeaf;
  const e = cacheEntry(key);
  if (load<u64>(e) != key) return 0;
  lastKey = key;
  lastLeaf = <usize>load<u32>(e, 8);
  return lastLeaf;
}
// @ts-ignore: decorator
@inline function cacheLeaf(key: u64, leaf: usize): void {
  const e = cacheEntry(key);
  store<u64>(e, key);
  store<u32>(e, <u32>leaf, 8);
  lastKey = key;
  lastLeaf = leaf;
}
function clearLeafCache(): void {
  for (let i: usize = 0; i < LEAF_CACHE_ENTRIES; i++) store<u64>(leafCache + (i << 4), NO_LEAF);
  lastKey = NO_LEAF;
  lastLeaf = 0;
  uniformCached = false;
  for (let st: usize = 0; st < PAGE_STATES; st++) memory.fill(uniformLeaf(<u8>st), <u8>st, LEAF_ENTRIES);
}

// A uniform slot of `state` over leaf `key` goes into the cache.
function cacheUniform(key: u64, state: u8): void {
  if (CHECKS) assert(<usize>state < PAGE_STATES, "uniform state");
  cacheLeaf(key, uniformLeaf(state));
  uniformCached = true;
}

// Drops the cached uniform leaves of the leaf keys [k0, k1] (ptApply is about to change their
// pages' states, so a uniform slot there may split or change state). Real leaves stay: they are
// changed in place, and forgetLeaf drops one that a fold frees.
// (A key sits only in its own entry: a short range looks at its keys' entries, a long one at all.)
function dropUniform(k0: u64, k1: u64): void {
  if (lastKey >= k0 && lastKey <= k1 && isUniformLeaf(lastLeaf)) { lastKey = NO_LEAF; lastLeaf = 0; }
  if (k1 - k0 < <u64>LEAF_CACHE_ENTRIES) {
    for (let key = k0; key <= k1; key++) {
      const e = cacheEntry(key);
      if (load<u64>(e) == key && isUniformLeaf(<usize>load<u32>(e, 8))) store<u64>(e, NO_LEAF);
    }
    return;
  }
  for (let i: usize = 0; i < LEAF_CACHE_ENTRIES; i++) {
    const e = leafCache + (i << 4);
    const key = load<u64>(e);
    if (key != NO_LEAF && key >= k0 && key <= k1 && isUniformLeaf(<usize>load<u32>(e, 8))) store<u64>(e, NO_LEAF);
  }
}
let tableBytes: usize = 0; // engine bytes spent on the page table

export function ptInit(isSparse: bool, pages: u64): void {
  sparse = isSparse;
  clearLeafCache();
  if (isSparse) {
    topTable = allocFilled(TOP_ENTRIES * 4, 0);
  } else {
    flatPages = pages;
    flatBase = allocFilled(<usize>pages, 0);
  }
}

export function ptBytes(): usize { return tableBytes; }

function allocFilled(bytes: usize, value: u8): usize {
  const p = heap.alloc(bytes);
  memory.fill(p, value, bytes);
  tableBytes += bytes;
  return p;
}

// @ts-ignore: decorator
@inline function isUniform(slot: u32): bool { return slot == 0 || (slot & 1) != 0; }
// @ts-ignore: decorator
@inline function uniformState(slot: u32): u8 { return <u8>(slot >> 1); }
// @ts-ignore: decorator
@inline function uniformSlot(state: u8): u32 { return state ? (<u32>state << 1) | 1 : 0; }

// @ts-ignore: decorator
@inline function transform(s: u8, op: i32): u8 {
  if (op == PT_COMMIT) return s | PAGE_COMMITTED;
  if (op == PT_DECOMMIT) return 0;
  if (op == PT_TOUCH) return s == PAGE_COMMITTED ? PAGE_COMMITTED | PAGE_RESIDENT : s;
  return s & ~PAGE_RESIDENT;
}

// ---------------------------------------------------------------- single pages

// State of one page.
// @ts-ignore: decorator
@inline export function ptGet(page: u64): u8 {
  if (!sparse) {
    if (CHECKS) assert(page < flatPages, "page beyond flat table");
    return load<u8>(flatBase + <usize>page);
  }
  const leaf = cachedLeafOf(page >> LEAF_BITS);
  if (leaf) {
    const s = load<u8>(leaf + <usize>(page & (LEAF_ENTRIES - 1)));
    if (CHECKS) assert(s == walkState(page), "leaf cache differs from the table");
    return s;
  }
  return ptWalkGet(page);
}

// The state of a page by a walk from the top, nothing cached (debug builds' check of the cache).
function walkState(page: u64): u8 {
  let slot = load<u32>(topTable + (<usize>(page >> (LEAF_BITS + 2 * LEVEL_BITS)) << 2));
  if (isUniform(slot)) return uniformState(slot);
  slot = load<u32>(<usize>slot + (<usize>((page >> (LEAF_BITS + LEVEL_BITS)) & (LEVEL_ENTRIES - 1)) << 2));
  if (isUniform(slot)) return uniformState(slot);
  slot = load<u32>(<usize>slot + (<usize>((page >> LEAF_BITS) & (LEVEL_ENTRIES - 1)) << 2));
  if (isUniform(slot)) return uniformState(slot);
  return load<u8>(<usize>slot + <usize>(page & (LEAF_ENTRIES - 1)));
}

function ptWalkGet(page: u64): u8 {
  const i0 = <usize>(page >> (LEAF_BITS + 2 * LEVEL_BITS));
  const i1 = <usize>((page >> (LEAF_BITS + LEVEL_BITS)) & (LEVEL_ENTRIES - 1));
  const i2 = <usize>((page >> LEAF_BITS) & (LEVEL_ENTRIES - 1));
  if (CHECKS) assert(i0 < TOP_ENTRIES, "page beyond sparse table");
  let slot = load<u32>(topTable + (i0 << 2));
  if (!isUniform(slot)) {
    slot = load<u32>(<usize>slot + (i1 << 2));
    if (!isUniform(slot)) slot = load<u32>(<usize>slot + (i2 << 2));
  }
  if (isUniform(slot)) {
    cacheUniform(page >> LEAF_BITS, uniformState(slot));
    return uniformState(slot);
  }
  cacheLeaf(page >> LEAF_BITS, <usize>slot);
  return load<u8>(<usize>slot + <usize>(page & (LEAF_ENTRIES - 1)));
}

// True when every page of [a, b) is committed and resident, found at one compare per page in the
// cached leaf (or the flat table), or by a walk to the page's leaf when it is not the cached one
// (a free or a chunk handed out anywhere in a large heap): a touch of them changes nothing. False
// when it does not know (a range of more than TOUCH_FAST_PAGES pages): the caller then applies the
// touch.
const TOUCH_FAST_PAGES: u64 = 2;
const RESIDENT: u8 = PAGE_COMMITTED | PAGE_RESIDENT;
// @ts-ignore: decorator
@inline export function ptAllResident(a: u64, b: u64): bool {
  if (a >= b || b - a > TOUCH_FAST_PAGES) return false;
  let p: usize;
  if (!sparse) {
    p = flatBase + <usize>a;
  } else {
    const key = a >> LEAF_BITS;
    const leaf = cachedLeafOf(key);
    if (!leaf || (b - 1) >> LEAF_BITS != key) return allResidentWalk(a, b);
    p = leaf + <usize>(a & (LEAF_ENTRIES - 1));
    if (CHECKS) for (let page = a; page < b; page++) assert(load<u8>(leaf + <usize>(page & (LEAF_ENTRIES - 1))) == walkState(page), "leaf cache differs from the table");
  }
  if (load<u8>(p) != RESIDENT) return false;
  return b - a == 1 || load<u8>(p, 1) == RESIDENT;
}

// ptAllResident's answer for pages outside the cached leaf: each page's state by a walk (which
// caches the leaf it reaches).
function allResidentWalk(a: u64, b: u64): bool {
  for (let page = a; page < b; page++) if (ptWalkGet(page) != RESIDENT) return false;
  return true;
}

// ---------------------------------------------------------------- ptApply

// Pages of [a, b) by their state before the last ptApply: 0, C, and C|R.
export let oldState0: u64 = 0;
export let oldStateC: u64 = 0;
export let oldStateCR: u64 = 0;

// @ts-ignore: decorator
@inline function countOld(s: u8, n: u64): void {
  if (s == 0) oldState0 += n;
  else if (s == PAGE_COMMITTED) oldStateC += n;
  else oldStateCR += n;
}

function applyBytes(p: usize, from: usize, to: usize, op: i32): void {
  for (let i = from; i < to; i++) {
    const s = load<u8>(p + i);
    countOld(s, 1);
    const t = transform(s, op);
    if (t != s) store<u8>(p + i, t);
  }
}

// Applies `op` to every page of [a, b); the counts of old states land in oldState*.
export function ptApply(a: u64, b: u64, op: i32): void {
  oldState0 = 0; oldStateC = 0; oldStateCR = 0;
  if (a >= b) return;
  if (!sparse) {
    if (CHECKS) assert(b <= flatPages, "page beyond flat table");
    applyBytes(flatBase, <usize>a, <usize>b, op);
    return;
  }
  // Fast paths for a range inside one leaf's span (the common case: a block's pages): the leaf
  // exists, or a uniform slot above it covers the range and the op leaves its state as it is (a
  // touch of pages already resident: most touches once a heap has warmed up). The second is what
  // applyTable would do for that range (count the old states, change nothing; the interior tables
  // it passes are never left foldable, so its folds would find nothing), without its walk.
  if (a >> LEAF_BITS == (b - 1) >> LEAF_BITS) {
    const leaf = leafOrSlot(a);
    if (!isUniform(<u32>leaf)) {
      applyBytes(leaf, <usize>(a & (LEAF_ENTRIES - 1)), <usize>((b - 1) & (LEAF_ENTRIES - 1)) + 1, op);
      return;
    }
    const s = uniformState(<u32>leaf);
    if (transform(s, op) == s) { countOld(s, b - a); return; }
  }
  if (uniformCached) dropUniform(a >> LEAF_BITS, (b - 1) >> LEAF_BITS);
  applyTable(topTable, 0, 0, a, b, op);
}

// The materialized leaf holding `page` (cached: single pages next to each other cost one compare),
// or the uniform slot that covers it (0 or odd: never a leaf address, which is even and not 0).
function leafOrSlot(page: u64): usize {
  const cached = cachedLeafOf(page >> LEAF_BITS);
  if (cached) return isUniformLeaf(cached) ? <usize>uniformSlot(load<u8>(cached)) : cached;
  let slot = load<u32>(topTable + (<usize>(page >> (LEAF_BITS + 2 * LEVEL_BITS)) << 2));
  if (isUniform(slot)) return <usize>slot;
  slot = load<u32>(<usize>slot + (<usize>((page >> (LEAF_BITS + LEVEL_BITS)) & (LEVEL_ENTRIES - 1)) << 2));
  if (isUniform(slot)) return <usize>slot;
  slot = load<u32>(<usize>slot + (<usize>((page >> LEAF_BITS) & (LEVEL_ENTRIES - 1)) << 2));
  if (isUniform(slot)) return <usize>slot;
  cacheLeaf(page >> LEAF_BITS, <usize>slot);
  return <usize>slot;
}

// log2 of the pages one slot of a table of `level` covers (slot indices by shifts, not u64 divisions).
// @ts-ignore: decorator
@inline function spanShiftOf(level: i32): u64 { return level == 0 ? SPAN_TOP_SHIFT : level == 1 ? SPAN_L1_SHIFT : SPAN_L2_SHIFT; }

// Applies op to [a, b) (inside this table's span, which starts at page `base`) in a table of `level`.
function applyTable(table: usize, level: i32, base: u64, a: u64, b: u64, op: i32): void {
  const shift = spanShiftOf(level), span = <u64>1 << shift;
  const first = <usize>((a - base) >> shift), last = <usize>((b - 1 - base) >> shift);
  for (let i = first; i <= last; i++) {
    const slotBase = base + <u64>i * span, slotEnd = slotBase + span;
    const lo = a > slotBase ? a : slotBase, hi = b < slotEnd ? b : slotEnd;
    const at = table + (i << 2);
    let slot = load<u32>(at);
    if (isUniform(slot)) {
      const s = uniformState(slot);
      countOld(s, hi - lo);
      const t = transform(s, op);
      if (t == s) continue;
      if (lo == slotBase && hi == slotEnd) { store<u32>(at, uniformSlot(t)); continue; }
      // Split: a child filled with the uniform state, then apply to the part in range.
      slot = level == 2 ? <u32>allocFilled(LEAF_ENTRIES, s) : <u32>newTableFilled(uniformSlot(s));
      store<u32>(at, slot);
      // The split's old-state counts were just taken: apply without counting again.
      const k0 = oldState0, kc = oldStateC, kcr = oldStateCR;
      applyChild(<usize>slot, level, slotBase, lo, hi, op);
      oldState0 = k0; oldStateC = kc; oldStateCR = kcr;
    } else {
      applyChild(<usize>slot, level, slotBase, lo, hi, op);
    }
    foldSlot(at, level);
  }
}

function applyChild(child: usize, level: i32, base: u64, lo: u64, hi: u64, op: i32): void {
  if (level == 2) applyBytes(child, <usize>(lo - base), <usize>(hi - base), op);
  else applyTable(child, level + 1, base, lo, hi, op);
}

function newTableFilled(slot: u32): usize {
  const bytes = LEVEL_ENTRIES * 4;
  const p = heap.alloc(bytes);
  for (let i: usize = 0; i < LEVEL_ENTRIES; i++) store<u32>(p + (i << 2), slot);
  tableBytes += bytes;
  return p;
}

// Drops a leaf that is being freed from the cache (it may sit in any entry: keys are not known here).
function forgetLeaf(leaf: usize): void {
  if (lastLeaf == leaf) { lastKey = NO_LEAF; lastLeaf = 0; }
  for (let i: usize = 0; i < LEAF_CACHE_ENTRIES; i++) {
    const e = leafCache + (i << 4);
    if (load<u64>(e) != NO_LEAF && <usize>load<u32>(e, 8) == leaf) store<u64>(e, NO_LEAF);
  }
}

// Folds the child behind slot `at` (a table of level + 1, or a leaf when level == 2) into one
// uniform slot when all its pages share a state.
function foldSlot(at: usize, level: i32): void {
  const child = <usize>load<u32>(at);
  if (isUniform(<u32>child)) return;
  if (level == 2) {
    const s = load<u8>(child);
    for (let i: usize = 1; i < LEAF_ENTRIES; i++) if (load<u8>(child + i) != s) return;
    forgetLeaf(child);
    heap.free(child);
    tableBytes -= LEAF_ENTRIES;
    store<u32>(at, uniformSlot(s));
    return;
  }
  const s = load<u32>(child);
  if (!isUniform(s)) return;
  for (let i: usize = 1; i < LEVEL_ENTRIES; i++) if (load<u32>(child + (i << 2)) != s) return;
  heap.free(child);
  tableBytes -= LEVEL_ENTRIES * 4;
  store<u32>(at, s);
}

// ---------------------------------------------------------------- ptScan

// Over the pages of the last ptScan, in address order:
export let scanCommitted: u64 = 0;    // pages with C
export let scanBad: u64 = 0;          // pages with R but not C (P1 broken)
export let scanCStarts: u64 = 0;      // committed runs starting in the range (C differs from the page before)
export let scanUStarts: u64 = 0;      // uncommitted runs starting in the range
export let scanLast: u8 = 0;          // C bit of the last page

// @ts-ignore: decorator
@inline function segment(s: u8, n: u64): void {
  const c = s & PAGE_COMMITTED;
  if (c) scanCommitted += n;
  else if (s & PAGE_RESIDENT) scanBad += n;
  if (c != scanLast) { if (c) scanCStarts++; else scanUStarts++; }
  scanLast = c;
}

function scanBytes(p: usize, from: usize, to: usize): void {
  for (let i = from; i < to; i++) segment(load<u8>(p + i), 1);
}

// Scans [a, b) in order; `prev` is the C bit of page a - 1, or 0xFF when a starts a region (the
// first page then always starts a run).
export function ptScan(a: u64, b: u64, prev: u8): void {
  scanCommitted = 0; scanBad = 0; scanCStarts = 0; scanUStarts = 0; scanLast = prev;
  if (a >= b) return;
  if (!sparse) { scanBytes(flatBase, <usize>a, <usize>b); return; }
  scanTable(topTable, 0, 0, a, b);
}

function scanTable(table: usize, level: i32, base: u64, a: u64, b: u64): void {
  const shift = spanShiftOf(level), span = <u64>1 << shift;
  const first = <usize>((a - base) >> shift), last = <usize>((b - 1 - base) >> shift);
  for (let i = first; i <= last; i++) {
    const slotBase = base + <u64>i * span, slotEnd = slotBase + span;
    const lo = a > slotBase ? a : slotBase, hi = b < slotEnd ? b : slotEnd;
    const slot = load<u32>(table + (i << 2));
    if (isUniform(slot)) segment(uniformState(slot), hi - lo);
    else if (level == 2) scanBytes(<usize>slot, <usize>(lo - slotBase), <usize>(hi - slotBase));
    else scanTable(<usize>slot, level + 1, slotBase, lo, hi);
  }
}
