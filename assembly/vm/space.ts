// === The simulated address space (layers 2 and 3 of the seed's picture) ===
//
// Contract of every operation (VirtualAlloc/VirtualFree meaning; Linux policies use the same calls):
//   reserve(size, at)   size > 0, a multiple of PAGE_SIZE_BYTES; `at` 0 = anywhere (lowest fit, 64 KiB
//                       aligned) or a 64 KiB aligned address. Returns the base, 0 on failure.
//                       Placement flags: RESERVE_TOP_DOWN (highest fit), RESERVE_PAGE_ALIGNED (Linux
//                       mmap granularity: 4 KiB instead of 64 KiB).
//   commit(addr, size)  page aligned, size > 0 and whole pages, inside one reservation. Committing
//                       committed pages is allowed and changes nothing (MEM_COMMIT semantics).
//   decommit(addr,size) same rules; uncommitted pages stay uncommitted.
//   release(base)       the whole reservation, only at its base (MEM_RELEASE).
//   resize(base, size)  grow or shrink a reservation in place (brk-like); shrinking decommits the tail.
//   touch(addr, size)   any byte range inside committed pages: those pages become resident.
//   purge(addr, size)   madvise(MADV_DONTNEED)-like: resident pages stop being resident, stay committed.
// Every call validates everything first and then applies; on a non-OK Status nothing has changed.
//
// Structure: one treap (randomised balanced BST, deterministic priorities) of *ranges* that
// partitions the whole user space: each node is either a reservation (a "region") or a free gap.
// Keyed by start address; every node carries the largest free gap of its subtree, both raw and
// "effective" (usable by a 64 KiB aligned reservation). So:
//   - the region containing an address:          one descent, O(log n)
//   - the lowest free range that fits a request: one descent guided by the subtree maxima, O(log n)
//   - neighbours of a range:                      the nodes containing start-1 and end, O(log n)
// A treap was chosen over an AVL or red-black tree because insert/delete are short recursive
// functions with rotations only, and deterministic priorities keep runs byte-for-byte repeatable.
//
// ╒═══════════════════ range node (NODE_BYTES = 64) ═══════════════════╕
// │ 0 start u64 │ 8 end u64 │ 16 left u32 │ 20 right u32 │ 24 prio u32 │
// │ 28 kind u8 │ 29 type u8 │ 30 usage u8 │ 31 owner u8                 │
// │ 32 maxEff u64 │ 40 maxRaw u64                                       │
// │ 48 committedPages u64 │ 56 committedRuns u32 │ 60 uncommittedRuns u32│
// │ (a free node: 0 nextFree u32, the node pool's free list)            │
// ╘═════════════════════════════════════════════════════════════════════╛
// Invariants (checked by vmCheck in debug builds):
//   S1 nodes are ordered, contiguous and cover [USER_LOW, userHigh) exactly
//   S2 no two adjacent free gaps; region bases and sizes are whole pages
//   S3 maxEff/maxRaw equal the recomputed subtree maxima; treap heap order on prio
//   S4 per-region committed pages and runs equal a recount of the page table
//   S5 global, per-usage, per-type and per-owner counters equal the sums over regions

import { resize, u64Add } from "../mem";
import { Status, Arch, USAGE_COUNT, REGION_TYPE_COUNT, MAX_HEAPS, NO_OWNER } from "../abi";
import { CHECKS } from "../checks";
import {
  PAGE_SHIFT, PAGE_SIZE_BYTES, PAGE_MASK, ALLOC_GRANULARITY_BYTES, ALLOC_GRANULARITY_MASK,
  USER_LOW, USER_HIGH_X86, USER_HIGH_X86_3GB, USER_HIGH_X64, alignUp, alignDown,
} from "./constants";
import {
  ptInit, ptGet, ptBytes, ptApply, ptAllResident, ptScan, PAGE_COMMITTED, PAGE_RESIDENT, PT_COMMIT, PT_DECOMMIT, PT_TOUCH,
  PT_PURGE, oldStateC, oldStateCR, oldState0, scanCommitted, scanBad, scanCStarts, scanUStarts, scanLast,
} from "./pagetable";

// ---------------------------------------------------------------- node pool

const NODE_BYTES: usize = 64;
const N_START: usize = 0;
const N_END: usize = 8;
const N_LEFT: usize = 16;
const N_RIGHT: usize = 20;
const N_PRIO: usize = 24;
const N_KIND: usize = 28;
const N_TYPE: usize = 29;
const N_USAGE: usize = 30;
const N_OWNER: usize = 31;
const N_MAXEFF: usize = 32;
const N_MAXRAW: usize = 40;
const N_COMMITTED: usize = 48;  // u64 pages: a region may hold more than 2^32 pages (16 TiB) on x64
const N_CRUNS: usize = 56;
const N_URUNS: usize = 60;
const N_NEXTFREE: usize = 0;    // overlays N_START: only free nodes use it

const KIND_GAP: u8 = 0;
const KIND_REGION: u8 = 1;

let nodes: usize = 0;        // base of the pool; node 0 is the null node
let nodeCap: u32 = 0;
let nodeCount: u32 = 1;
let nodeFree: u32 = 0;
let root: u32 = 0;
let prioState: u32 = 0x9E3779B9;

// @ts-ignore: decorator
@inline function P(n: u32): usize { return nodes + <usize>n * NODE_BYTES; }
// @ts-ignore: decorator
@inline function start(n: u32): u64 { return load<u64>(P(n) + N_START); }
// @ts-ignore: decorator
@inline function end(n: u32): u64 { return load<u64>(P(n) + N_END); }
// @ts-ignore: decorator
@inline function left(n: u32): u32 { return load<u32>(P(n) + N_LEFT); }
// @ts-ignore: decorator
@inline function right(n: u32): u32 { return load<u32>(P(n) + N_RIGHT); }
// @ts-ignore: decorator
@inline function kind(n: u32): u8 { return load<u8>(P(n) + N_KIND); }

function newNode(s: u64, e: u64, k: u8): u32 {
  let n = nodeFree;
  if (n) {
    nodeFree = load<u32>(P(n) + N_NEXTFREE);
  } else {
    if (nodeCount >= nodeCap) {
      nodeCap = nodeCap ? nodeCap * 2 : 256;
      nodes = resize(nodes, <usize>nodeCap * NODE_BYTES);
    }
    n = nodeCount++;
  }
  const p = P(n);
  memory.fill(p, 0, NODE_BYTES);
  store<u64>(p + N_START, s);
  store<u64>(p + N_END, e);
  store<u8>(p + N_KIND, k);
  store<u8>(p + N_OWNER, NO_OWNER);
  // xorshift32: deterministic priorities, so the same calls always build the same tree.
  let x = prioState;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  prioState = x;
  store<u32>(p + N_PRIO, x);
  pull(n);
  return n;
}

function freeNode(n: u32): void {
  store<u8>(P(n) + N_KIND, 0xFF);
  store<u32>(P(n) + N_NEXTFREE, nodeFree);
  nodeFree = n;
}

// ---------------------------------------------------------------- treap

function effSize(n: u32): u64 {
  if (kind(n) != KIND_GAP) return 0;
  const s = alignUp(start(n), ALLOC_GRANULARITY_BYTES);
  const e = end(n);
  return e > s ? e - s : 0;
}

function rawSize(n: u32): u64 {
  return kind(n) == KIND_GAP ? end(n) - start(n) : 0;
}

function pull(n: u32): void {
  let me = effSize(n);
  let mr = rawSize(n);
  const l = left(n), r = right(n);
  if (l) {
    const a = load<u64>(P(l) + N_MAXEFF); if (a > me) me = a;
    const b = load<u64>(P(l) + N_MAXRAW); if (b > mr) mr = b;
  }
  if (r) {
    const a = load<u64>(P(r) + N_MAXEFF); if (a > me) me = a;
    const b = load<u64>(P(r) + N_MAXRAW); if (b > mr) mr = b;
  }
  store<u64>(P(n) + N_MAXEFF, me);
  store<u64>(P(n) + N_MAXRAW, mr);
}

function rotRight(n: u32): u32 {
  const l = left(n);
  store<u32>(P(n) + N_LEFT, right(l));
  store<u32>(P(l) + N_RIGHT, n);
  pull(n); pull(l);
  return l;
}

function rotLeft(n: u32): u32 {
  const r = right(n);
  store<u32>(P(n) + N_RIGHT, left(r));
  store<u32>(P(r) + N_LEFT, n);
  pull(n); pull(r);
  return r;
}

function insert(t: u32, n: u32): u32 {
  if (!t) return n;
  if (start(n) < start(t)) {
    store<u32>(P(t) + N_LEFT, insert(left(t), n));
    if (load<u32>(P(left(t)) + N_PRIO) > load<u32>(P(t) + N_PRIO)) return rotRight(t);
  } else {
    store<u32>(P(t) + N_RIGHT, insert(right(t), n));
    if (load<u32>(P(right(t)) + N_PRIO) > load<u32>(P(t) + N_PRIO)) return rotLeft(t);
  }
  pull(t);
  return t;
}

function merge(a: u32, b: u32): u32 {
  if (!a) return b;
  if (!b) return a;
  if (load<u32>(P(a) + N_PRIO) > load<u32>(P(b) + N_PRIO)) {
    store<u32>(P(a) + N_RIGHT, merge(right(a), b));
    pull(a);
    return a;
  }
  store<u32>(P(b) + N_LEFT, merge(a, left(b)));
  pull(b);
  return b;
}

// Removes the node with start key `s` (which must exist) from subtree t.
function remove(t: u32, s: u64): u32 {
  const k = start(t);
  if (s == k) return merge(left(t), right(t));
  if (s < k) store<u32>(P(t) + N_LEFT, remove(left(t), s));
  else store<u32>(P(t) + N_RIGHT, remove(right(t), s));
  pull(t);
  return t;
}

// Recomputes the maxima on the path to the node with start key `s`.
function refresh(t: u32, s: u64): void {
  if (!t) return;
  const k = start(t);
  if (s < k) refresh(left(t), s);
  else if (s > k) refresh(right(t), s);
  pull(t);
}

function findContaining(addr: u64): u32 {
  let t = root;
  while (t) {
    if (addr < start(t)) t = left(t);
    else if (addr >= end(t)) t = right(t);
    else return t;
  }
  return 0;
}

// Lowest (or, topDown, highest) gap that can hold `size`: 64 KiB aligned, or page aligned when
// `pages` (gap bounds are always page aligned, so the raw size is what counts then).
function findFit(size: u64, pages: bool, topDown: bool): u32 {
  const key = pages ? N_MAXRAW : N_MAXEFF;
  let t = root;
  if (!t || load<u64>(P(t) + key) < size) return 0;
  while (t) {
    const near = topDown ? right(t) : left(t);
    if (near && load<u64>(P(near) + key) >= size) { t = near; continue; }
    if ((pages ? rawSize(t) : effSize(t)) >= size) return t;
    t = topDown ? left(t) : right(t);
  }
  return 0;
}

// ---------------------------------------------------------------- counters

let archId: i32 = 0;
let userHigh: u64 = 0;
let reservedBytes: u64 = 0;
let committedBytes: u64 = 0;
let residentBytes: u64 = 0;
let committedPeak: u64 = 0;
let residentPeak: u64 = 0;
let regionCount: u32 = 0;
let gapCount: u32 = 0;
let committedRuns: u64 = 0;
let uncommittedRuns: u64 = 0;
let commitCalls: u64 = 0;
let decommitCalls: u64 = 0;

// Per usage / per type: bytes and regions; per owner heap: reserved, committed, resident, regions.
const usageBytes = memory.data(8 * 16);
const usageRegions = memory.data(8 * 16);
const typeBytes = memory.data(8 * 4);
const typeRegions = memory.data(8 * 4);
const ownerReserved = memory.data(8 * 8);
const ownerCommitted = memory.data(8 * 8);
const ownerResident = memory.data(8 * 8);
const ownerRegions = memory.data(8 * 8);
if (USAGE_COUNT > 16 || REGION_TYPE_COUNT > 4 || MAX_HEAPS > 8) ERROR("counter arrays too small");

// @ts-ignore: decorator
@inline function addAt(base: usize, i: u32, delta: i64): void { u64Add(base, <i32>i, delta); }

function addOwner(base: usize, owner: u8, delta: i64): void {
  if (owner != NO_OWNER) addAt(base, <u32>owner, delta);
}

// What every heap together holds (regions with an owner): the engine's exact peaks read these
// after each op (engine.ts), so they are kept here rather than summed per op.
let heapsCommittedBytes: u64 = 0;
let heapsResidentBytes: u64 = 0;
// Bumped whenever reserved, committed or resident bytes grow anywhere: the engine skips its VM peak
// checks after an op that left it unchanged (most ops: the pages were already there).
let growthCount: u32 = 0;
// Reservations refused for lack of address space (vmReserve found no free range, vmResize could
// not grow): the engine reads it around a failed allocation to name the reason.
let noAddressSpaceCount: u32 = 0;
// Bumped whenever a page anywhere stops being resident (decommit, release, purge): pages a caller
// found all resident stay so while it has not moved, so a touch of them may be skipped (a pool's
// chunks). It starts at 1 (0 never matches: "not known") and stops at RESIDENCY_EPOCH_SATURATED,
// which a caller never stores, so after 2^32 - 2 drops nothing is trusted any more.
export const RESIDENCY_EPOCH_SATURATED: u32 = 0xFFFFFFFF;
let residencyEpoch: u32 = 1;

function addCommitted(owner: u8, pages: i64): void {
  committedBytes += <u64>(pages << PAGE_SHIFT);
  if (committedBytes > committedPeak) committedPeak = committedBytes;
  addOwner(ownerCommitted, owner, pages << PAGE_SHIFT);
  if (owner != NO_OWNER) heapsCommittedBytes += <u64>(pages << PAGE_SHIFT);
  if (pages > 0) growthCount++;
}

function addResident(owner: u8, pages: i64): void {
  residentBytes += <u64>(pages << PAGE_SHIFT);
  if (residentBytes > residentPeak) residentPeak = residentBytes;
  addOwner(ownerResident, owner, pages << PAGE_SHIFT);
  if (owner != NO_OWNER) heapsResidentBytes += <u64>(pages << PAGE_SHIFT);
  if (pages > 0) growthCount++;
  else if (pages < 0 && residencyEpoch != RESIDENCY_EPOCH_SATURATED) residencyEpoch++;
}

// @ts-ignore: decorator
@inline export function vmCommittedBytes(): u64 { return committedBytes; }
// @ts-ignore: decorator
@inline export function vmResidentBytes(): u64 { return residentBytes; }
// @ts-ignore: decorator
@inline export function vmHeapsCommittedBytes(): u64 { return heapsCommittedBytes; }
// @ts-ignore: decorator
@inline export function vmHeapsResidentBytes(): u64 { return heapsResidentBytes; }
// @ts-ignore: decorator
@inline export function vmNoAddressSpaceCount(): u32 { return noAddressSpaceCount; }
// @ts-ignore: decorator
@inline export function vmGrowthCount(): u32 { return growthCount; }
// @ts-ignore: decorator
@inline export function vmResidencyEpoch(): u32 { return residencyEpoch; }
// Whether `seen`, an epoch a caller noted when it knew its pages resident, is still the VM's: no page
// anywhere has stopped being resident since. Never true once the epoch has saturated.
// @ts-ignore: decorator
@inline export function vmResidencyHolds(seen: u32): bool { return seen == residencyEpoch && seen != RESIDENCY_EPOCH_SATURATED; }

// ---------------------------------------------------------------- init

export let lastStatus: Status = Status.OK;

export function vmInit(arch: i32): Status {
  if (arch == Arch.X86) userHigh = USER_HIGH_X86;
  else if (arch == Arch.X86_3GB) userHigh = USER_HIGH_X86_3GB;
  else if (arch == Arch.X64) userHigh = USER_HIGH_X64;
  else return Status.BAD_PARAM;
  archId = arch;
  ptInit(arch == Arch.X64, userHigh >> PAGE_SHIFT);
  root = newNode(USER_LOW, userHigh, KIND_GAP);
  gapCount = 1;
  return Status.OK;
}

export function vmArch(): i32 { return archId; }
// Total as !address counts it: from address 0 (the unusable first 64 KiB counts as free) to userHigh.
export function vmTotalBytes(): u64 { return userHigh; }

// Engine bytes used by the VM's own structures (node pool + page table).
export function vmEngineBytes(): usize { return <usize>nodeCap * NODE_BYTES + ptBytes(); }

// ---------------------------------------------------------------- run accounting

function applyRunDelta(n: u32, before: u64, after: u64): void {
  const dc = <i64>(after >> 32) - <i64>(before >> 32);
  const du = <i64>(after & 0xFFFFFFFF) - <i64>(before & 0xFFFFFFFF);
  const p = P(n);
  store<u32>(p + N_CRUNS, <u32>(<i64>load<u32>(p + N_CRUNS) + dc));
  store<u32>(p + N_URUNS, <u32>(<i64>load<u32>(p + N_URUNS) + du));
  committedRuns += <u64>dc;
  uncommittedRuns += <u64>du;
}

// ---------------------------------------------------------------- reserve / release

function validRange(addr: u64, size: u64): bool {
  return addr >= USER_LOW && size <= userHigh - USER_LOW && addr <= userHigh - size;
}

// Reserve `size` bytes. Returns the base or 0 (lastStatus says why).
// Placement flags of vmReserve.
export const RESERVE_TOP_DOWN: i32 = 1;      // highest fitting range (MEM_TOP_DOWN; Linux mmap)
export const RESERVE_PAGE_ALIGNED: i32 = 2;  // page granularity instead of 64 KiB (Linux mmap)

export function vmReserve(size: u64, at: u64, typeId: i32, usageId: i32, ownerId: i32, placement: i32): u64 {
  lastStatus = Status.OK;
  const type = <u8>typeId, usage = <u8>usageId, owner = <u8>ownerId;
  if (size == 0 || (size & PAGE_MASK)) { lastStatus = size == 0 ? Status.BAD_SIZE : Status.MISALIGNED; return 0; }
  if (typeId < 0 || typeId >= REGION_TYPE_COUNT || usageId < 0 || usageId >= USAGE_COUNT ||
    (ownerId != <i32>NO_OWNER && (ownerId < 0 || ownerId >= MAX_HEAPS))) {
    lastStatus = Status.BAD_PARAM; return 0;
  }
  let gap: u32;
  let base: u64;
  const pages = (placement & RESERVE_PAGE_ALIGNED) != 0;
  const granule = pages ? PAGE_SIZE_BYTES : ALLOC_GRANULARITY_BYTES;
  if (at) {
    if (at & (granule - 1)) { lastStatus = Status.MISALIGNED; return 0; }
    if (!validRange(at, size)) { lastStatus = Status.OUT_OF_RANGE; return 0; }
    gap = findContaining(at);
    if (!gap || kind(gap) != KIND_GAP || end(gap) < at + size) { lastStatus = Status.OVERLAP; return 0; }
    base = at;
  } else {
    const topDown = (placement & RESERVE_TOP_DOWN) != 0;
    gap = findFit(size, pages, topDown);
    if (!gap) { lastStatus = Status.NO_ADDRESS_SPACE; noAddressSpaceCount++; return 0; }
    base = topDown ? alignDown(end(gap) - size, granule) : alignUp(start(gap), granule);
  }
  const gs = start(gap), ge = end(gap), re = base + size;
  // The gap node becomes the region (its key moves up inside its own slot); the pieces on either
  // side become new gaps.
  const p = P(gap);
  store<u64>(p + N_START, base);
  store<u64>(p + N_END, re);
  store<u8>(p + N_KIND, KIND_REGION);
  store<u8>(p + N_TYPE, type);
  store<u8>(p + N_USAGE, usage);
  store<u8>(p + N_OWNER, owner);
  store<u64>(p + N_COMMITTED, 0);
  store<u32>(p + N_CRUNS, 0);
  store<u32>(p + N_URUNS, 1);
  gapCount--;
  if (base > gs) { root = insert(root, newNode(gs, base, KIND_GAP)); gapCount++; }
  if (ge > re) { root = insert(root, newNode(re, ge, KIND_GAP)); gapCount++; }
  refresh(root, base);
  reservedBytes += size;
  regionCount++;
  uncommittedRuns++;
  addAt(usageBytes, usage, <i64>size);
  addAt(usageRegions, usage, 1);
  addAt(typeBytes, type, <i64>size);
  addAt(typeRegions, type, 1);
  addOwner(ownerReserved, owner, <i64>size);
  addOwner(ownerRegions, owner, 1);
  growthCount++;
  return base;
}

// Drops commit and residency of every page of region n in [a, b) (page numbers), no validation.
function dropPages(n: u32, a: u64, b: u64): void {
  const owner = load<u8>(P(n) + N_OWNER);
  ptApply(a, b, PT_DECOMMIT);
  const dropped = <i64>(oldStateC + oldStateCR), droppedResident = <i64>oldStateCR;
  if (dropped) {
    store<u64>(P(n) + N_COMMITTED, load<u64>(P(n) + N_COMMITTED) - <u64>dropped);
    addCommitted(owner, -dropped);
    addResident(owner, -droppedResident);
  }
}

export function vmRelease(base: u64): Status {
  const n = findContaining(base);
  if (!n || kind(n) != KIND_REGION) return Status.NOT_RESERVED;
  if (start(n) != base) return Status.NOT_REGION_BASE;
  const p = P(n);
  const s = start(n), e = end(n), size = e - s;
  const owner = load<u8>(p + N_OWNER), usage = load<u8>(p + N_USAGE), type = load<u8>(p + N_TYPE);
  if (load<u64>(p + N_COMMITTED)) dropPages(n, s >> PAGE_SHIFT, e >> PAGE_SHIFT);
  committedRuns -= load<u32>(p + N_CRUNS);
  uncommittedRuns -= load<u32>(p + N_URUNS);
  reservedBytes -= size;
  regionCount--;
  addAt(usageBytes, usage, -<i64>size);
  addAt(usageRegions, usage, -1);
  addAt(typeBytes, type, -<i64>size);
  addAt(typeRegions, type, -1);
  addOwner(ownerReserved, owner, -<i64>size);
  addOwner(ownerRegions, owner, -1);
  store<u8>(p + N_KIND, KIND_GAP);
  store<u8>(p + N_OWNER, NO_OWNER);
  gapCount++;
  // Merge with free neighbours: the node keeps its slot and takes over their ranges.
  if (s > USER_LOW) {
    const prev = findContaining(s - 1);
    if (kind(prev) == KIND_GAP) {
      const ps = start(prev);
      root = remove(root, ps);
      freeNode(prev);
      store<u64>(p + N_START, ps);
      gapCount--;
    }
  }
  if (e < userHigh) {
    const next = findContaining(e);
    if (kind(next) == KIND_GAP) {
      const ne = end(next);
      root = remove(root, start(next));
      freeNode(next);
      store<u64>(p + N_END, ne);
      gapCount--;
    }
  }
  refresh(root, start(n));
  return Status.OK;
}

// Grow or shrink a reservation in place (the brk of a Linux main heap). New pages are reserved only.
export function vmResize(base: u64, newSize: u64): Status {
  if (newSize == 0) return Status.BAD_SIZE;
  if (newSize & PAGE_MASK) return Status.MISALIGNED;
  const n = findContaining(base);
  if (!n || kind(n) != KIND_REGION) return Status.NOT_RESERVED;
  if (start(n) != base) return Status.NOT_REGION_BASE;
  const p = P(n);
  const oldEnd = end(n), newEnd = base + newSize;
  if (newEnd == oldEnd) return Status.OK;
  const owner = load<u8>(p + N_OWNER), usage = load<u8>(p + N_USAGE), type = load<u8>(p + N_TYPE);
  if (newEnd > oldEnd) {
    if (!validRange(base, newSize)) { noAddressSpaceCount++; return Status.OUT_OF_RANGE; }
    const next = oldEnd < userHigh ? findContaining(oldEnd) : 0;
    if (!next || kind(next) != KIND_GAP || end(next) < newEnd) { noAddressSpaceCount++; return Status.NO_ADDRESS_SPACE; }
    const lastCommitted = ptGet((oldEnd >> PAGE_SHIFT) - 1) & PAGE_COMMITTED;
    if (end(next) == newEnd) {
      root = remove(root, start(next));
      freeNode(next);
      gapCount--;
    } else {
      store<u64>(P(next) + N_START, newEnd);
    }
    store<u64>(p + N_END, newEnd);
    if (lastCommitted) { store<u32>(p + N_URUNS, load<u32>(p + N_URUNS) + 1); uncommittedRuns++; }
    if (end(next) > newEnd && kind(next) == KIND_GAP) refresh(root, newEnd);
    refresh(root, base);
  } else {
    // Decommit the tail through the normal path (keeps run counts right), then cut it off.
    const st = vmDecommit(newEnd, oldEnd - newEnd);
    if (st != Status.OK) return st;
    decommitCalls--;
    if (ptGet((newEnd >> PAGE_SHIFT) - 1) & PAGE_COMMITTED) {
      store<u32>(p + N_URUNS, load<u32>(p + N_URUNS) - 1); uncommittedRuns--;
    }
    store<u64>(p + N_END, newEnd);
    const next = oldEnd < userHigh ? findContaining(oldEnd) : 0;
    if (next && kind(next) == KIND_GAP) {
      const ns = start(next);
      root = remove(root, ns);
      store<u64>(P(next) + N_START, newEnd);
      store<u32>(P(next) + N_LEFT, 0);
      store<u32>(P(next) + N_RIGHT, 0);
      pull(next);
      root = insert(root, next);
    } else {
      root = insert(root, newNode(newEnd, oldEnd, KIND_GAP));
      gapCount++;
    }
    refresh(root, base);
  }
  const delta = <i64>newEnd - <i64>oldEnd;
  if (delta > 0) growthCount++;
  reservedBytes += <u64>delta;
  addAt(usageBytes, usage, delta);
  addAt(typeBytes, type, delta);
  addOwner(ownerReserved, owner, delta);
  return Status.OK;
}

// ---------------------------------------------------------------- commit / decommit

// Validates a page range and returns its region (0 with lastStatus set on failure).
function regionOfPages(addr: u64, size: u64): u32 {
  if (size == 0) { lastStatus = Status.BAD_SIZE; return 0; }
  if ((addr | size) & PAGE_MASK) { lastStatus = Status.MISALIGNED; return 0; }
  if (!validRange(addr, size)) { lastStatus = Status.OUT_OF_RANGE; return 0; }
  const n = findContaining(addr);
  if (!n || kind(n) != KIND_REGION || end(n) < addr + size) { lastStatus = Status.NOT_RESERVED; return 0; }
  lastStatus = Status.OK;
  return n;
}

// Ranges of at most this many pages are first checked page by page for "already committed" (a
// policy recommitting the pages of a block it frees or hands out: buddy does it on every call).
const COMMIT_RECHECK_PAGES: u64 = 16;

export function vmCommit(addr: u64, size: u64): Status {
  // One page that is committed already: it lies in exactly one region (release and shrink decommit
  // their pages first), so the call is valid and changes nothing but the call count; no region lookup.
  if (size == PAGE_SIZE_BYTES && !(addr & PAGE_MASK) && validRange(addr, size) &&
    (ptGet(addr >> PAGE_SHIFT) & PAGE_COMMITTED)) {
    commitCalls++;
    lastStatus = Status.OK;
    return Status.OK;
  }
  const n = regionOfPages(addr, size);
  if (!n) return lastStatus;
  commitCalls++;
  const a = addr >> PAGE_SHIFT, b = (addr + size) >> PAGE_SHIFT;
  // A few pages, all committed already: nothing changes, no scan.
  if (b - a <= COMMIT_RECHECK_PAGES) {
    let page = a;
    while (page < b && (ptGet(page) & PAGE_COMMITTED)) page++;
    if (page == b) return Status.OK;
  }
  const r0 = start(n) >> PAGE_SHIFT, r1 = end(n) >> PAGE_SHIFT;
  // Run starts over [a, b] (b only when it is inside the region) are counted on the old states in
  // the same pass that commits; afterwards [a, b) is one committed run, so the new count is direct.
  const prev0: u8 = a > r0 ? (ptGet(a - 1) & PAGE_COMMITTED) : 0xFF;
  ptScan(a, b, prev0);
  let c0 = scanCStarts, u0 = scanUStarts;
  const prev = scanLast;
  const added = <i64>(b - a - scanCommitted);
  if (added) {
    ptApply(a, b, PT_COMMIT);
    const p = P(n);
    store<u64>(p + N_COMMITTED, load<u64>(p + N_COMMITTED) + <u64>added);
    addCommitted(load<u8>(p + N_OWNER), added);
    let c1: u64 = prev0 != PAGE_COMMITTED ? 1 : 0, u1: u64 = 0;
    if (b < r1) {
      const c = ptGet(b) & PAGE_COMMITTED;
      if (c != prev) { if (c) c0++; else u0++; }
      if (!c) u1 = 1;
    }
    applyRunDelta(n, (c0 << 32) | u0, (c1 << 32) | u1);
  }
  return Status.OK;
}

// vmCommit of pages the caller knows are committed already (buddy: a block it hands out or frees
// that lies in the first page of a free block, B4): that call would change nothing but the call
// count, so only the count is kept, inline at the caller, with no call and no page-table lookup.
// Debug builds check the caller's knowledge: every page of [addr, addr + size) committed.
// @ts-ignore: decorator
@inline export function vmRecommit(addr: u64, size: u64): void {
  if (CHECKS) {
    assert(size != 0 && !((addr | size) & PAGE_MASK) && validRange(addr, size), "recommit of a bad range");
    for (let page = addr >> PAGE_SHIFT; page < (addr + size) >> PAGE_SHIFT; page++) {
      assert(ptGet(page) & PAGE_COMMITTED, "recommit of an uncommitted page");
    }
  }
  commitCalls++;
  lastStatus = Status.OK;
}

export function vmDecommit(addr: u64, size: u64): Status {
  const n = regionOfPages(addr, size);
  if (!n) return lastStatus;
  decommitCalls++;
  if (!load<u64>(P(n) + N_COMMITTED)) return Status.OK;
  const r0 = start(n) >> PAGE_SHIFT, r1 = end(n) >> PAGE_SHIFT;
  const a = addr >> PAGE_SHIFT, b = (addr + size) >> PAGE_SHIFT;
  // As in vmCommit: old run starts counted in the dropping pass; [a, b) ends as one uncommitted run.
  const prev0: u8 = a > r0 ? (ptGet(a - 1) & PAGE_COMMITTED) : 0xFF;
  ptScan(a, b, prev0);
  let c0 = scanCStarts, u0 = scanUStarts;
  const prev = scanLast;
  const dropped = <i64>scanCommitted;
  let droppedResident: i64 = 0;
  if (dropped) {
    ptApply(a, b, PT_DECOMMIT);
    droppedResident = <i64>oldStateCR;
  }
  const p = P(n);
  if (dropped) {
    store<u64>(p + N_COMMITTED, load<u64>(p + N_COMMITTED) - <u64>dropped);
    const owner = load<u8>(p + N_OWNER);
    addCommitted(owner, -dropped);
    addResident(owner, -droppedResident);
  }
  let c1: u64 = 0, u1: u64 = prev0 != 0 ? 1 : 0;
  if (b < r1) {
    const c = ptGet(b) & PAGE_COMMITTED;
    if (c != prev) { if (c) c0++; else u0++; }
    if (c) c1 = 1;
  }
  applyRunDelta(n, (c0 << 32) | u0, (c1 << 32) | u1);
  return Status.OK;
}

// ---------------------------------------------------------------- residency

// Checked touch: every page of [addr, addr+size) must be committed and inside one reservation.
export function vmTouch(addr: u64, size: u64): Status {
  if (size == 0) return Status.BAD_SIZE;
  if (!validRange(addr, size)) return Status.OUT_OF_RANGE;
  const n = findContaining(addr);
  if (!n || kind(n) != KIND_REGION || end(n) < addr + size) return Status.NOT_RESERVED;
  const a = addr >> PAGE_SHIFT, b = (addr + size + PAGE_MASK) >> PAGE_SHIFT;
  ptScan(a, b, 0xFF);
  if (scanCommitted != b - a) return Status.NOT_COMMITTED;
  touchPages(addr, size, load<u8>(P(n) + N_OWNER));
  return Status.OK;
}

// Unchecked touch for policies, which know their pages are committed and who owns them.
// The common case, a block on pages the heap touched before, is found inline at the caller.
// @ts-ignore: decorator
@inline export function touchPages(addr: u64, size: u64, owner: u8): void {
  const a = addr >> PAGE_SHIFT, b = (addr + size + PAGE_MASK) >> PAGE_SHIFT;
  if (!ptAllResident(a, b)) touchApply(a, b, owner);
}

function touchApply(a: u64, b: u64, owner: u8): void {
  ptApply(a, b, PT_TOUCH);
  if (CHECKS) assert(oldState0 == 0, "touch of an uncommitted page");
  const added = <i64>oldStateC;
  if (added) addResident(owner, added);
}

// madvise(MADV_DONTNEED): pages stay committed and stop being resident. Returns bytes purged.
export function vmPurge(addr: u64, size: u64): u64 {
  const n = regionOfPages(addr, size);
  if (!n) return 0;
  const a = addr >> PAGE_SHIFT, b = (addr + size) >> PAGE_SHIFT;
  ptApply(a, b, PT_PURGE);
  const dropped = <i64>oldStateCR;
  if (dropped) addResident(load<u8>(P(n) + N_OWNER), -dropped);
  return <u64>(dropped << PAGE_SHIFT);
}

// ---------------------------------------------------------------- queries

export function vmIsCommitted(addr: u64): bool { return (ptGet(addr >> PAGE_SHIFT) & PAGE_COMMITTED) != 0; }
export function vmIsResident(addr: u64): bool { return (ptGet(addr >> PAGE_SHIFT) & PAGE_RESIDENT) != 0; }
// Whether every page of [addr, addr + size) is resident (a page at a time: for small ranges).
export function vmAllResident(addr: u64, size: u64): bool {
  const b = (addr + size + PAGE_MASK) >> PAGE_SHIFT;
  for (let page = addr >> PAGE_SHIFT; page < b; page++) if (!(ptGet(page) & PAGE_RESIDENT)) return false;
  return true;
}

// Region id (its node) containing addr, 0 if addr is free. Ids stay valid until release.
export function vmRegionAt(addr: u64): u32 {
  const n = findContaining(addr);
  return n && kind(n) == KIND_REGION ? n : 0;
}
export function vmRegionBase(r: u32): u64 { return start(r); }
export function vmRegionEnd(r: u32): u64 { return end(r); }
export function vmRegionCommittedPages(r: u32): u64 { return load<u64>(P(r) + N_COMMITTED); }

export function vmOwnerReserved(o: u8): u64 { return load<u64>(ownerReserved + (<usize>o << 3)); }
export function vmOwnerCommitted(o: u8): u64 { return load<u64>(ownerCommitted + (<usize>o << 3)); }
export function vmOwnerResident(o: u8): u64 { return load<u64>(ownerResident + (<usize>o << 3)); }
export function vmOwnerRegions(o: u8): u64 { return load<u64>(ownerRegions + (<usize>o << 3)); }

// Writes the VM block of a sample (slot order in abi.ts).
export function vmSample(out: usize): void {
  const total = vmTotalBytes();
  store<f64>(out + 0 * 8, <f64>total);
  store<f64>(out + 1 * 8, <f64>reservedBytes);
  store<f64>(out + 2 * 8, <f64>committedBytes);
  store<f64>(out + 3 * 8, <f64>residentBytes);
  store<f64>(out + 4 * 8, <f64>(total - reservedBytes));
  store<f64>(out + 5 * 8, root ? <f64>load<u64>(P(root) + N_MAXRAW) : 0);
  store<f64>(out + 6 * 8, <f64>regionCount);
  store<f64>(out + 7 * 8, <f64>committedRuns);
  store<f64>(out + 8 * 8, <f64>uncommittedRuns);
  store<f64>(out + 9 * 8, <f64>gapCount);
  store<f64>(out + 10 * 8, <f64>committedPeak);
  store<f64>(out + 11 * 8, <f64>residentPeak);
  store<f64>(out + 12 * 8, <f64>commitCalls);
  store<f64>(out + 13 * 8, <f64>decommitCalls);
  for (let i = 0; i < USAGE_COUNT; i++) {
    store<f64>(out + <usize>(14 + i) * 8, <f64>load<u64>(usageBytes + (<usize>i << 3)));
    store<f64>(out + <usize>(24 + i) * 8, <f64>load<u64>(usageRegions + (<usize>i << 3)));
  }
  for (let i = 0; i < REGION_TYPE_COUNT; i++) {
    store<f64>(out + <usize>(34 + i) * 8, <f64>load<u64>(typeBytes + (<usize>i << 3)));
    store<f64>(out + <usize>(37 + i) * 8, <f64>load<u64>(typeRegions + (<usize>i << 3)));
  }
  store<f64>(out + 40 * 8, <f64>largestFreeBase());
}

function largestFreeBase(): u64 {
  let t = root;
  if (!t) return 0;
  const want = load<u64>(P(t) + N_MAXRAW);
  if (!want) return 0;
  while (t) {
    const l = left(t);
    if (l && load<u64>(P(l) + N_MAXRAW) == want) { t = l; continue; }
    if (rawSize(t) == want) return start(t);
    t = right(t);
  }
  return 0;
}

// Region walk for reports and tests: calls back through a host-visible buffer. Writes up to `max`
// records of 4 × f64 (base, size, type | usage << 8 | owner << 16 | kind << 24, committedPages)
// in address order, gaps included. Returns the number of ranges in the space.
export function vmWalk(out: usize, max: i32): i32 {
  walkOut = out; walkMax = max; walkCount = 0;
  walkNode(root);
  return walkCount;
}
let walkOut: usize = 0;
let walkMax: i32 = 0;
let walkCount: i32 = 0;
function walkNode(t: u32): void {
  if (!t) return;
  walkNode(left(t));
  if (walkCount < walkMax) {
    const o = walkOut + <usize>walkCount * 32;
    const p = P(t);
    store<f64>(o, <f64>start(t));
    store<f64>(o + 8, <f64>(end(t) - start(t)));
    store<f64>(o + 16, <f64>(<u32>load<u8>(p + N_TYPE) | (<u32>load<u8>(p + N_USAGE) << 8) |
      (<u32>load<u8>(p + N_OWNER) << 16) | (<u32>kind(t) << 24)));
    store<f64>(o + 24, <f64>load<u64>(p + N_COMMITTED));
  }
  walkCount++;
  walkNode(right(t));
}

// ---------------------------------------------------------------- invariant check (S1..S5)

let chkPrevEnd: u64 = 0;
let chkPrevKind: u8 = 0;
let chkFail: i32 = 0;
let chkRegions: u32 = 0;
let chkReserved: u64 = 0;
let chkCommitted: u64 = 0;
let chkCRuns: u64 = 0;
let chkURuns: u64 = 0;

// Returns 0 when every invariant holds, else the number of the first one that failed.
export function vmCheck(): i32 {
  chkPrevEnd = USER_LOW; chkPrevKind = 0xFE; chkFail = 0;
  chkRegions = 0; chkReserved = 0; chkCommitted = 0; chkCRuns = 0; chkURuns = 0;
  checkNode(root, 0xFFFFFFFF);
  if (chkFail) return chkFail;
  if (chkPrevEnd != userHigh) return 1;
  if (chkRegions != regionCount || chkReserved != reservedBytes) return 5;
  if (chkCommitted != committedBytes || chkCRuns != committedRuns || chkURuns != uncommittedRuns) return 5;
  return 0;
}

function checkNode(t: u32, parentPrio: u32): void {
  if (!t || chkFail) return;
  const p = P(t);
  if (load<u32>(p + N_PRIO) > parentPrio) { chkFail = 3; return; }
  checkNode(left(t), load<u32>(p + N_PRIO));
  if (chkFail) return;
  const s = start(t), e = end(t), k = kind(t);
  if (s != chkPrevEnd || e <= s) { chkFail = 1; return; }
  if (k == KIND_GAP && chkPrevKind == KIND_GAP) { chkFail = 2; return; }
  if (k == KIND_REGION && ((s & PAGE_MASK) || ((e - s) & PAGE_MASK))) { chkFail = 2; return; }
  const me = load<u64>(p + N_MAXEFF), mr = load<u64>(p + N_MAXRAW);
  pull(t);
  if (me != load<u64>(p + N_MAXEFF) || mr != load<u64>(p + N_MAXRAW)) { chkFail = 3; return; }
  if (k == KIND_REGION) {
    chkRegions++;
    chkReserved += e - s;
    const r0 = s >> PAGE_SHIFT, r1 = e >> PAGE_SHIFT;
    ptScan(r0, r1, 0xFF);
    if (scanBad) { chkFail = 4; return; }
    const committed = scanCommitted, cRuns = scanCStarts, uRuns = scanUStarts;
    if (committed != load<u64>(p + N_COMMITTED) || cRuns != <u64>load<u32>(p + N_CRUNS) ||
      uRuns != <u64>load<u32>(p + N_URUNS)) { chkFail = 4; return; }
    chkCommitted += committed << PAGE_SHIFT;
    chkCRuns += cRuns;
    chkURuns += uRuns;
  }
  chkPrevEnd = e; chkPrevKind = k;
  checkNode(right(t), load<u32>(p + N_PRIO));
}
