// === pool: a custom memory manager that keeps what it frees (layer 1a of the seed) ===
//
// The seed's second example: "a custom memory management library that by design never releases
// virtual memory allocated to accommodate the increased number of allocation requests after all of
// them are freed". Requests are rounded up to a power-of-two size class; each class carves its
// fixed-size objects from chunks it gets from the layer below (the VM, or a parent heap when the
// pool is stacked) and keeps freed objects on its own LIFO free list. A chunk is never given back
// while the heap lives, so after a peak the chunks stay committed and the freed objects sit on the
// lists: "retained by the pool". TRIM does nothing, by design. Only the what-if parameter
// releaseEmptyChunks gives a chunk back, at the free of its last live object.
//
//   size classes   minObjectBytes, 2 × minObjectBytes, ..., maxObjectBytes (powers of two)
//   pass-through   requests above maxObjectBytes, and ALIGNED_ALLOC asking for more than
//                  POOL_ALIGN_BYTES, go straight to the layer below and are returned on free
//   chunks         chunkBytes each, dedicated to one class; VM: one reservation, committed whole,
//                  usage OTHER (a custom library's VirtualAlloc shows as <unknown>/IsVAD in
//                  !address, not as Heap); stacked: one block of the parent heap
//   carving        lazy: a class takes the next never-used object of its newest ("current") chunk
//                  only when its free list is empty; every older chunk of the class is fully carved
//   objects        no per-object header; address = chunk base + slot × object bytes
//
// ╒═══ object handle (u32) ═══════════════╕   ╒═══ pass-through handle ═══╕
// │ 0 │ chunk index │ slot (slotBits)      │   │ 1 (bit 28) │ record index │
// ╘══════════════════════════════════════╛   ╘════════════════════════════╛
//   chunk index >= 1, so a handle is never 0. Capacity: 2^28 object slots of minObjectBytes per
//   heap (4 GiB of 16-byte slots), whatever chunkBytes is.
//
// Per chunk, a u32 link per slot in engine memory (nothing of the simulated heap lives in linear
// memory, so the link the pool writes into a freed object is kept beside it):
//   SLOT_BUSY        the object is live
//   other            the object is free: the next handle on its class list (0 = end)
//   slot >= carved   never handed out (the value is meaningless)
// With releaseEmptyChunks a second u32 per slot holds the previous handle (a doubly linked list,
// so the objects of an emptied chunk leave their class list in O(objects of the chunk)).
//
// Invariants (poolCheck returns the number of the first that fails):
//   P1 the chunk table: every record below the high-water mark is in use or on the record free
//      list, never both; in-use records have a valid class, live <= carved <= slots, link arrays,
//      a residency epoch that is not the saturated one (residentHolds' one compare counts on it)
//   P2 every chunk and pass-through block lies in committed pages, 8-byte aligned, and no two
//      overlap; on the VM a chunk is a whole reservation; stacked, the parent still maps each
//      held handle to the recorded address
//   P3 each class list holds only free, carved objects of that class's chunks (prev links agree
//      with next links under releaseEmptyChunks) and its length equals the class's free count
//   P4 per chunk, live equals the busy slots; per class, busy and chunk counts equal a recount
//   P5 a class's current chunk is 0 or one of its chunks, its carve cursor within it (its other
//      chunks are fully carved: carvedOf)
//   P6 heap counters (chunks, objects and bytes busy/free/uncarved, pass-through) equal a recount
//   P7 the bytes held from the layer below equal that layer's view: VM committed bytes of the
//      heap, or the parent-side layer counters of assembly/heaps.ts
//   P8 with releaseEmptyChunks no chunk is empty
//   P9 the pass-through list is well linked and all its records belong to the heap

import { resize } from "../../mem";
import {
  Status, K_RESERVED, K_COMMITTED, K_BUSY, K_FREE, K_FREE_BLOCKS, K_LARGEST_FREE, K_UNCOMMITTED_RANGES,
  K_SEGMENTS, K_VIRTUAL_BLOCKS, K_VIRTUAL_BYTES, K_POLICY_BASE, MAX_HEAPS, RegionType, Usage,
} from "../../abi";
import { PAGE_SIZE_BYTES, PAGE_SHIFT, ALLOC_GRANULARITY_SHIFT, alignUp, KiB, MiB } from "../../vm/constants";
import { CHECKS } from "../../checks";
import {
  vmReserve, vmCommit, vmDecommit, vmRelease, touchPages, vmIsCommitted, vmRegionAt, vmRegionBase,
  vmRegionEnd, vmOwnerCommitted, vmResidencyEpoch, vmResidencyHolds, vmAllResident, RESIDENCY_EPOCH_SATURATED,
} from "../../vm/space";
import { heapRoot, layerAlloc, layerFree, layerRealloc, layerUserAddress, heldBytes, heldBlocks } from "../../heaps";
import {
  RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, nextRecord, poolBytes, releasePool,
} from "../../kit/records";
import { paramInt as param } from "../../kit/params";
import { counterAdd, counterGet, counterMax, putSlot } from "../../kit/counters";

// Parameters (slot index in the HEAP_CREATE params block; NaN = default).
export const POOL_MIN_OBJECT_BYTES = 0;      // default 16 B: smallest class (a power of two, >= 8)
export const POOL_MAX_OBJECT_BYTES = 1;      // default 4 KiB: largest class; bigger requests pass through
export const POOL_CHUNK_BYTES = 2;           // default 64 KiB: bytes per chunk taken from the layer below
export const POOL_RELEASE_EMPTY_CHUNKS = 3;  // default 0: 1 = give a chunk back when its last object is freed
export const POOL_PARAM_COUNT = 4;

// Defaults. 16 B: the malloc alignment of x64 and the smallest object worth a pool. 4 KiB: one
// page; a 64 KiB chunk still holds 16 objects of the largest class, and power-of-two rounding of
// bigger requests would waste up to half of each, so they are better served below. 64 KiB: the
// Windows allocation granularity, so a chunk on the VM is exactly one reservation with no wasted
// address space, and below the 512 KiB at which first-fit (and NT) give a block its own
// reservation, so a stacked pool's chunks come from its parent's segments.
const DEFAULT_MIN_OBJECT_BYTES: u64 = 16;
const DEFAULT_MAX_OBJECT_BYTES: u64 = 4 * KiB;
const DEFAULT_CHUNK_BYTES: u64 = 64 * KiB;
const MIN_OBJECT_LIMIT_BYTES: u64 = 8;        // smallest allowed class: holds the free-list link
const MAX_CHUNK_BYTES: u64 = 256 * MiB;
const POOL_ALIGN_LOG2: u32 = 3;               // every object is 8-byte aligned (classes are multiples of 8)
const LINK_BYTES: u64 = 8;                    // the pool writes its list link into a freed object
const MAX_CLASSES: i32 = 26;                  // 8 B .. 256 MiB
const MAX_PASS_BYTES: u64 = 1 << 47;          // bigger requests fail at once (no address space is that big)

// Handles.
const HANDLE_OBJECT_BITS: u32 = 28;
const PT_FLAG: u32 = 1 << HANDLE_OBJECT_BITS;
const PT_MASK: u32 = PT_FLAG - 1;
const SLOT_BUSY: u32 = 0xFFFFFFFF;

// Policy counters (names in index.ts, same order). 0..6 are written at sample time; 7..11 live in
// the kit counter block (kit/counters.ts) and are bumped where they happen.
const S_CHUNKS = K_POLICY_BASE + 0;            // chunks held now
const S_CHUNK_BYTES = K_POLICY_BASE + 1;       // chunks × chunkBytes
const S_OBJECT_BUSY_BYTES = K_POLICY_BASE + 2; // bytes of live objects (class sizes)
const S_BUSY_OBJECTS = K_POLICY_BASE + 3;
const S_FREE_OBJECT_BYTES = K_POLICY_BASE + 4; // bytes of freed objects on the class lists: retained
const S_FREE_OBJECTS = K_POLICY_BASE + 5;
const S_UNCARVED_BYTES = K_POLICY_BASE + 6;    // never handed out tails of the current chunks
const C_PEAK_CHUNKS = 7;
const C_RELEASED_CHUNKS = 8;   // chunks given back (releaseEmptyChunks), cumulative
const C_REUSED_OBJECTS = 9;    // allocs served from a free list, cumulative
const C_CARVED_OBJECTS = 10;   // objects carved from chunks, cumulative
const C_IGNORED_TRIMS = 11;    // TRIM ops, each of which gave nothing back

// ---------------------------------------------------------------- heap state

// ╒═══ heap state (HS_BYTES), one per pool heap in a static table ═══╕
const HS_PARENT: usize = 0;         // i32, -1 = the VM
const HS_OWNER: usize = 4;          // u32 VM owner of the pages the pool touches (its root heap)
const HS_MIN_SHIFT: usize = 8;      // u32 log2(minObjectBytes)
const HS_CLASSES: usize = 12;       // u32 number of classes
const HS_SLOT_BITS: usize = 16;     // u32
const HS_RELEASE: usize = 20;       // u32 releaseEmptyChunks
const HS_CHUNK_BYTES: usize = 24;   // u64
const HS_SLOT_MASK: usize = 32;     // u32 (1 << slot bits) - 1
// 36..39 free
const HS_MAX_OBJECT: usize = 40;    // u64 maxObjectBytes: larger requests pass through
const HS_PT_HEAD: usize = 48;       // u32 pass-through list
// 52..55 free
const HS_CHUNKS: usize = 56;        // u64 counters from here
const HS_MIN_MASK: usize = 64;      // u64 minObjectBytes - 1
// 72..103 free. The heap's object totals (busy, free, uncarved: objects and bytes) are not kept per
// op: they are the sums of the class entries' counts (objectTotals), taken at sample time.
const HS_PT_BLOCKS: usize = 104;
const HS_PT_BYTES: usize = 112;
// 120..159 free
const HS_CLASS_TABLE: usize = 160;

// ╒═══ class entry (CL_BYTES) ═══╕
const CL_FREE_HEAD: usize = 0;   // u32 handle, 0 = empty
const CL_CURRENT: usize = 4;     // u32 chunk being carved, 0 = none
const CL_CARVE_NEXT: usize = 8;  // u32 handle of the current chunk's next object to carve
const CL_BUSY: usize = 12;       // u32 live objects
const CL_CHUNKS: usize = 16;     // u32
const CL_CARVE_END: usize = 20;  // u32 handle one past the current chunk's last slot (= CL_CARVE_NEXT: nothing left to carve)
const CL_CARVE_ADDR: usize = 24; // u64 address of the object at CL_CARVE_NEXT
const CL_TOUCHED_END: usize = 32; // u64 end of the page holding the last carved object's last byte (0: none)
const CL_OBJECT_BYTES: usize = 40; // u64 the class's object size (classBytes), set at create
const CL_BYTES: usize = 48;
// The carve cursor (CL_CARVE_NEXT, CL_CARVE_END, CL_CARVE_ADDR) follows the current chunk, so a carve
// reads and writes the class entry only: the current chunk has carved CL_CARVE_NEXT - (its index <<
// slot bits) objects, every other chunk of the class all of its slots (P5), and the objects on the
// class list are the carved ones that are not busy: carvedOf and freeOf derive both, nothing counts
// them per op. No current chunk: the cursor is 0, 0 (nothing to carve).

// The heap's chunk records (a kit pool: indices 1 .. the largest the handle bits allow; released
// chunks' records link through CH_FREE_NEXT).
const HS_CHUNK_POOL: usize = HS_CLASS_TABLE + <usize>MAX_CLASSES * CL_BYTES;
const HS_BYTES: usize = HS_CHUNK_POOL + RECORD_POOL_BYTES;
const heapState = memory.data(<i32>(HS_BYTES * <usize>MAX_HEAPS));

// ╒═══ chunk record (CH_BYTES) ═══╕
const CH_BASE: usize = 0;        // u64 first byte of the chunk (an address the program sees)
const CH_PARENT_HANDLE: usize = 8; // u32 the parent's handle (stacked), 0 on the VM
const CH_CLASS: usize = 12;      // u32 class index, CH_UNUSED = record free
// 16..19 free (slots handed out at least once: carvedOf, from the class's carve cursor)
const CH_LIVE: usize = 20;       // u32 busy slots
const CH_NEXT: usize = 24;       // u32 pointer to the next-link array
const CH_PREV: usize = 28;       // u32 pointer to the prev-link array (releaseEmptyChunks), else 0
const CH_FREE_NEXT: usize = 32;  // u32 record free list
const CH_RESIDENT: usize = 36;   // u32 vmResidencyEpoch() at which every page of the carved objects was resident, 0 = not known
const CH_BYTES: usize = 40;
const CH_UNUSED: u32 = 0xFFFFFFFF;

// @ts-ignore: decorator
@inline function stateOf(h: i32): usize { return heapState + <usize>h * HS_BYTES; }
// @ts-ignore: decorator
@inline function g32(s: usize, o: usize): u32 { return load<u32>(s + o); }
// @ts-ignore: decorator
@inline function p32(s: usize, o: usize, v: u32): void { store<u32>(s + o, v); }
// @ts-ignore: decorator
@inline function g64(s: usize, o: usize): u64 { return load<u64>(s + o); }
// @ts-ignore: decorator
@inline function p64(s: usize, o: usize, v: u64): void { store<u64>(s + o, v); }
// @ts-ignore: decorator
@inline function add64(s: usize, o: usize, d: i64): void { store<i64>(s + o, load<i64>(s + o) + d); }
// @ts-ignore: decorator
@inline function CL(s: usize, c: u32): usize { return s + HS_CLASS_TABLE + <usize>c * CL_BYTES; }
// @ts-ignore: decorator
@inline function chunkPool(s: usize): RecordPool { return changetype<RecordPool>(s + HS_CHUNK_POOL); }
// @ts-ignore: decorator
@inline function CH(s: usize, ci: u32): usize { return chunkPool(s).base + <usize>ci * CH_BYTES; }
// @ts-ignore: decorator
@inline function classShift(s: usize, c: u32): u32 { return g32(s, HS_MIN_SHIFT) + c; }
// @ts-ignore: decorator
@inline function classBytes(s: usize, c: u32): u64 { return <u64>1 << classShift(s, c); }
// @ts-ignore: decorator
@inline function slotsOf(s: usize, c: u32): u32 { return <u32>(g64(s, HS_CHUNK_BYTES) >> classShift(s, c)); }
// @ts-ignore: decorator
@inline function isStacked(s: usize): bool { return load<i32>(s + HS_PARENT) >= 0; }
// @ts-ignore: decorator
@inline function ownerOf(s: usize): u8 { return <u8>g32(s, HS_OWNER); }

// Link arrays of a chunk.
// @ts-ignore: decorator
@inline function nextAt(ch: usize, slot: u32): usize { return <usize>load<u32>(ch + CH_NEXT) + (<usize>slot << 2); }
// @ts-ignore: decorator
@inline function prevAt(ch: usize, slot: u32): usize { return <usize>load<u32>(ch + CH_PREV) + (<usize>slot << 2); }

// @ts-ignore: decorator
@inline function chunkOfHandle(s: usize, handle: u32): u32 { return handle >> g32(s, HS_SLOT_BITS); }
// @ts-ignore: decorator
@inline function slotOfHandle(s: usize, handle: u32): u32 { return handle & g32(s, HS_SLOT_MASK); }
// @ts-ignore: decorator
@inline function objectAddress(s: usize, ch: usize, slot: u32): u64 {
  return load<u64>(ch + CH_BASE) + (<u64>slot << classShift(s, load<u32>(ch + CH_CLASS)));
}

// Objects of chunk ci (class c) handed out at least once: the current chunk's up to the carve
// cursor, every other chunk's all of them.
// @ts-ignore: decorator
@inline function carvedOf(s: usize, ci: u32, c: u32): u32 {
  const cl = CL(s, c);
  return load<u32>(cl + CL_CURRENT) == ci ? load<u32>(cl + CL_CARVE_NEXT) - (ci << g32(s, HS_SLOT_BITS)) : slotsOf(s, c);
}

// Objects of class c left to carve in its current chunk.
// @ts-ignore: decorator
@inline function uncarvedOf(s: usize, c: u32): u32 {
  const cl = CL(s, c);
  return load<u32>(cl + CL_CARVE_END) - load<u32>(cl + CL_CARVE_NEXT);
}

// Objects of class c on its free list: the carved ones that are not busy.
function freeOf(s: usize, c: u32): u32 {
  const cl = CL(s, c);
  return load<u32>(cl + CL_CHUNKS) * slotsOf(s, c) - uncarvedOf(s, c) - load<u32>(cl + CL_BUSY);
}

// ---------------------------------------------------------------- pass-through records (all pool heaps)

// ╒═══ pass-through record (PT_BYTES) ═══╕
const PT_BASE: usize = 0;        // u64 VM: reservation base; stacked: the parent's user address
const PT_ADDR: usize = 8;        // u64 the address the program sees
const PT_HELD: usize = 16;       // u64 bytes held from below: committed pages (VM) or the size asked of the parent
const PT_PARENT_HANDLE: usize = 24; // u32
const PT_HEAP: usize = 28;       // u32 owner pool heap, PT_UNUSED = record free
const PT_ALIGN: usize = 32;      // u32 log2 of the alignment asked for (0 = none)
const PT_PREV: usize = 36;       // u32 heap's list
const PT_NEXT: usize = 40;       // u32 heap's list; also the record free list
const PT_BYTES: usize = 48;
const PT_UNUSED: u32 = 0xFFFFFFFF;

// Pass-through records of every pool heap: one kit pool, indices below PT_FLAG (the handle bit).
const PTS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(PTS, <u32>PT_BYTES, <u32>PT_NEXT, 256, 8, PT_FLAG - 1);

// @ts-ignore: decorator
@inline function PT(r: u32): usize { return PTS.base + <usize>r * PT_BYTES; }

// A free record index, or 0 when the handle bits are exhausted.
function newPtRecord(): u32 { return takeRecord(PTS); }

function dropPtRecord(r: u32): void {
  store<u32>(PT(r) + PT_HEAP, PT_UNUSED);
  dropRecord(PTS, r);
}

// Engine bytes of the pool's own tables (all pool heaps), for the memory benchmark.
export function poolEngineBytes(): usize {
  let total = poolBytes(PTS);
  for (let h = 0; h < MAX_HEAPS; h++) {
    const s = stateOf(h);
    if (!chunkPool(s).raw) continue;
    total += poolBytes(chunkPool(s));
    const high = chunkPool(s).high;
    for (let ci: u32 = 1; ci < high; ci++) {
      const ch = CH(s, ci);
      const c = load<u32>(ch + CH_CLASS);
      if (c == CH_UNUSED) continue;
      total += <usize>slotsOf(s, c) << (load<u32>(ch + CH_PREV) ? 3 : 2);
    }
  }
  return total;
}

// ---------------------------------------------------------------- create

// @ts-ignore: decorator
@inline function isPow2(x: u64): bool { return x != 0 && (x & (x - 1)) == 0; }
// @ts-ignore: decorator
@inline function log2(x: u64): u32 { return <u32>(63 - clz(x)); }
// @ts-ignore: decorator
@inline function ceilLog2(x: u64): u32 { return x <= 1 ? 0 : <u32>(64 - clz(x - 1)); }

export function poolCreate(h: i32, parent: i32, params: usize, count: i32): Status {
  const minB = param(params, count, POOL_MIN_OBJECT_BYTES, DEFAULT_MIN_OBJECT_BYTES);
  const maxB = param(params, count, POOL_MAX_OBJECT_BYTES, DEFAULT_MAX_OBJECT_BYTES);
  const chunk = param(params, count, POOL_CHUNK_BYTES, DEFAULT_CHUNK_BYTES);
  const release = param(params, count, POOL_RELEASE_EMPTY_CHUNKS, 0);
  if (minB < 0 || maxB < 0 || chunk < 0 || release < 0) return Status.BAD_PARAM;
  if (!isPow2(<u64>minB) || <u64>minB < MIN_OBJECT_LIMIT_BYTES) return Status.BAD_PARAM;
  if (!isPow2(<u64>maxB) || maxB < minB) return Status.BAD_PARAM;
  if (<u64>chunk > MAX_CHUNK_BYTES || chunk < maxB || <u64>chunk % PAGE_SIZE_BYTES || chunk % maxB) return Status.BAD_PARAM;
  if (release > 1) return Status.BAD_PARAM;
  const minShift = log2(<u64>minB);
  const classes = log2(<u64>maxB) - minShift + 1;
  if (<i32>classes > MAX_CLASSES) return Status.BAD_PARAM;
  const slotBits = ceilLog2(<u64>chunk >> minShift);
  if (slotBits >= HANDLE_OBJECT_BITS) return Status.BAD_PARAM;
  const s = stateOf(h);
  memory.fill(s, 0, HS_BYTES);
  store<i32>(s + HS_PARENT, parent);
  p32(s, HS_OWNER, parent >= 0 ? <u32>heapRoot(parent) : <u32>h);
  p32(s, HS_MIN_SHIFT, minShift);
  p32(s, HS_CLASSES, classes);
  p32(s, HS_SLOT_BITS, slotBits);
  p32(s, HS_SLOT_MASK, (1 << slotBits) - 1);
  p64(s, HS_MAX_OBJECT, <u64>maxB);
  p64(s, HS_MIN_MASK, <u64>minB - 1);
  for (let c: u32 = 0; c < classes; c++) store<u64>(CL(s, c) + CL_OBJECT_BYTES, classBytes(s, c));
  p32(s, HS_RELEASE, <u32>release);
  p64(s, HS_CHUNK_BYTES, <u64>chunk);
  initPool(chunkPool(s), <u32>CH_BYTES, <u32>CH_FREE_NEXT, 64, 8, (PT_FLAG >> slotBits) - 1);
  return Status.OK;
}

// ---------------------------------------------------------------- chunks

// A new chunk for class c (its index), or 0 when the layer below says no or the handle bits are
// exhausted. The chunk's slots are all uncarved.
function newChunk(h: i32, s: usize, c: u32): u32 {
  // Pick the record first (without taking it): the layer below is asked only if a handle fits.
  const ci = nextRecord(chunkPool(s));
  if (!ci) return 0;
  const chunkBytes = g64(s, HS_CHUNK_BYTES);
  let base: u64 = 0;
  let ph: u32 = 0;
  if (isStacked(s)) {
    ph = layerAlloc(h, chunkBytes, 0);
    if (!ph) return 0;
    base = layerUserAddress(h, ph);
  } else {
    base = vmReserve(chunkBytes, 0, RegionType.PRIVATE, Usage.OTHER, h, 0);
    if (!base) return 0;
    if (vmCommit(base, chunkBytes) != Status.OK) { vmRelease(base); return 0; }
  }
  // The layer below is another heap: it cannot have touched this heap's chunk pool.
  if (takeRecord(chunkPool(s)) != ci) unreachable();
  const slots = slotsOf(s, c);
  const ch = CH(s, ci);
  store<u64>(ch + CH_BASE, base);
  store<u32>(ch + CH_PARENT_HANDLE, ph);
  store<u32>(ch + CH_CLASS, c);
  store<u32>(ch + CH_LIVE, 0);
  store<u32>(ch + CH_NEXT, <u32>heap.alloc(<usize>slots << 2));
  store<u32>(ch + CH_PREV, g32(s, HS_RELEASE) ? <u32>heap.alloc(<usize>slots << 2) : 0);
  store<u32>(ch + CH_FREE_NEXT, 0);
  store<u32>(ch + CH_RESIDENT, epochToNote()); // nothing carved yet: all of it is resident
  const cl = CL(s, c);
  store<u32>(cl + CL_CHUNKS, load<u32>(cl + CL_CHUNKS) + 1);
  add64(s, HS_CHUNKS, 1);
  counterMax(h, C_PEAK_CHUNKS, g64(s, HS_CHUNKS));
  return ci;
}

// Gives chunk ci back to the layer below (releaseEmptyChunks only: ci has no live object).
function releaseChunk(h: i32, s: usize, ci: u32): void {
  const ch = CH(s, ci);
  const c = load<u32>(ch + CH_CLASS);
  const cl = CL(s, c);
  const carved = carvedOf(s, ci, c);
  const bits = g32(s, HS_SLOT_BITS);
  for (let slot: u32 = 0; slot < carved; slot++) unlinkFree(s, cl, (ci << bits) | slot);
  if (load<u32>(cl + CL_CURRENT) == ci) makeCurrent(s, c, 0, 0);
  store<u32>(cl + CL_CHUNKS, load<u32>(cl + CL_CHUNKS) - 1);
  add64(s, HS_CHUNKS, -1);
  counterAdd(h, C_RELEASED_CHUNKS, 1);
  giveBackChunk(h, s, ch);
  const rec = CH(s, ci); // the parent's free cannot move our table, but keep the rule: re-derive
  store<u32>(rec + CH_CLASS, CH_UNUSED);
  dropRecord(chunkPool(s), ci);
}

function giveBackChunk(h: i32, s: usize, ch: usize): void {
  heap.free(<usize>load<u32>(ch + CH_NEXT));
  if (load<u32>(ch + CH_PREV)) heap.free(<usize>load<u32>(ch + CH_PREV));
  store<u32>(ch + CH_NEXT, 0);
  store<u32>(ch + CH_PREV, 0);
  if (isStacked(s)) layerFree(h, load<u32>(ch + CH_PARENT_HANDLE), g64(s, HS_CHUNK_BYTES));
  else vmRelease(load<u64>(ch + CH_BASE));
}

// ---------------------------------------------------------------- class lists

function setPrev(s: usize, handle: u32, v: u32): void {
  const ch = CH(s, chunkOfHandle(s, handle));
  store<u32>(prevAt(ch, slotOfHandle(s, handle)), v);
}

// Removes a free object from its class list (releaseEmptyChunks: the list is doubly linked).
function unlinkFree(s: usize, cl: usize, handle: u32): void {
  const ch = CH(s, chunkOfHandle(s, handle));
  const slot = slotOfHandle(s, handle);
  const n = load<u32>(nextAt(ch, slot));
  const p = load<u32>(prevAt(ch, slot));
  if (p) {
    const pch = CH(s, chunkOfHandle(s, p));
    store<u32>(nextAt(pch, slotOfHandle(s, p)), n);
  } else {
    store<u32>(cl + CL_FREE_HEAD, n);
  }
  if (n) setPrev(s, n, p);
}

// ---------------------------------------------------------------- alloc / free / realloc

// Class index for a request, or -1 when it passes through: the smallest class that holds
// max(size, minObjectBytes), ceil(log2(...)) - log2(minObjectBytes), from one count of leading
// zeros (minObjectBytes - 1 has log2(minObjectBytes) low bits set; size 0 and 1 get class 0).
// @ts-ignore: decorator
@inline function classFor(s: usize, size: u64, alignLog2: u32): i32 {
  if (alignLog2 > POOL_ALIGN_LOG2 || size > g64(s, HS_MAX_OBJECT)) return -1;
  const low = g64(s, HS_MIN_MASK);
  const bits = size ? (size - 1) | low : low;
  return <i32>(64 - <u32>clz(bits)) - <i32>g32(s, HS_MIN_SHIFT);
}

// Touches the first `bytes` bytes of carved object `slot` of chunk ch (the object or its link). Carving goes
// front to back and touches each object it hands out, so the pages of a chunk's carved objects are
// all resident from then on, until some page anywhere stops being resident (the VM's residency epoch
// moves: a purge, a decommit, a release). While the epoch the chunk recorded is the VM's, a touch of
// a carved object changes nothing and the VM is not asked: most allocs and frees of a warm pool.
// @ts-ignore: decorator
@inline function touchObject(s: usize, ch: usize, ci: u32, slot: u32, bytes: u64): void {
  if (!residentHolds(ch)) touchObjectSlow(s, ch, ci, objectAddress(s, ch, slot), bytes);
}

// vmResidencyHolds of chunk ch's epoch at one compare: a chunk never notes the saturated epoch
// (epochToNote, touchObjectSlow; poolCheck P1), which the VM's epoch then never equals.
// @ts-ignore: decorator
@inline function residentHolds(ch: usize): bool {
  const seen = load<u32>(ch + CH_RESIDENT);
  if (CHECKS) assert((seen == vmResidencyEpoch()) == vmResidencyHolds(seen), "pool: a chunk noted the saturated epoch");
  return seen == vmResidencyEpoch();
}

// The VM's residency epoch for a chunk to note, 0 ("not known") once it has saturated.
// @ts-ignore: decorator
@inline function epochToNote(): u32 {
  const epoch = vmResidencyEpoch();
  return epoch == RESIDENCY_EPOCH_SATURATED ? 0 : epoch;
}

// Carved parts up to this many pages are checked page by page when the epoch moved: 1 MiB, sixteen
// default chunks; a bigger carved part always touches through the VM.
const RESIDENT_CHECK_MAX_PAGES: u64 = 256;

function touchObjectSlow(s: usize, ch: usize, ci: u32, addr: u64, bytes: u64): void {
  touchPages(addr, bytes, ownerOf(s));
  const epoch = vmResidencyEpoch();
  if (epoch == RESIDENCY_EPOCH_SATURATED) return;
  const c = load<u32>(ch + CH_CLASS);
  const carvedBytes = <u64>carvedOf(s, ci, c) << classShift(s, c);
  if (carvedBytes > RESIDENT_CHECK_MAX_PAGES * PAGE_SIZE_BYTES) return;
  if (vmAllResident(load<u64>(ch + CH_BASE), carvedBytes)) store<u32>(ch + CH_RESIDENT, epoch);
}

// The touch of an object being carved, which keeps the chunk's carved objects all resident. Carving
// goes front to back, so when the object ends in the page where the one before it ends (before
// CL_TOUCHED_END, the end of that page; 0 at a chunk's first carve), its pages are carved pages
// already: while the chunk's epoch is the VM's they are resident and the touch would change nothing
// (most carves of small classes: 256 objects of 16 bytes share a page).
// @ts-ignore: decorator
@inline function carveTouch(s: usize, cl: usize, ch: usize, addr: u64, bytes: u64): void {
  const end = addr + bytes;
  if (end <= load<u64>(cl + CL_TOUCHED_END)) {
    if (residentHolds(ch)) {
      if (CHECKS) assert(vmAllResident(addr, bytes), "pool: skipped carve touch of a page not resident");
      return;
    }
  }
  touchPages(addr, bytes, ownerOf(s));
  store<u64>(cl + CL_TOUCHED_END, (((end - 1) >> PAGE_SHIFT) + 1) << PAGE_SHIFT);
}

// Makes chunk ci (0: none) class c's current chunk, its carve cursor at slot 0 (`base` = the
// chunk's first byte).
function makeCurrent(s: usize, c: u32, ci: u32, base: u64): void {
  const cl = CL(s, c);
  const first = ci << g32(s, HS_SLOT_BITS);
  store<u32>(cl + CL_CURRENT, ci);
  store<u32>(cl + CL_CARVE_NEXT, first);
  store<u32>(cl + CL_CARVE_END, ci ? first + slotsOf(s, c) : 0);
  store<u64>(cl + CL_CARVE_ADDR, base);
  store<u64>(cl + CL_TOUCHED_END, 0);
}

// The current chunk of class c is carved out (or there is none): a new one becomes current.
// Returns the handle of its first object, 0 when the layer below says no (nothing changes).
function carveNewChunk(h: i32, s: usize, c: u32): u32 {
  const ci = newChunk(h, s, c);
  if (!ci) return 0;
  makeCurrent(s, c, ci, load<u64>(CH(s, ci) + CH_BASE));
  return load<u32>(CL(s, c) + CL_CARVE_NEXT);
}

// @ts-ignore: decorator
@inline function objectAlloc(h: i32, s: usize, c: u32): u32 {
  const cl = CL(s, c);
  const bits = g32(s, HS_SLOT_BITS);
  let handle = load<u32>(cl + CL_FREE_HEAD);
  let ch: usize;
  if (handle) {
    // LIFO: the object freed last is handed out first.
    const ci = handle >> bits;
    const slot = handle & g32(s, HS_SLOT_MASK);
    ch = CH(s, ci);
    const link = nextAt(ch, slot);
    const n = load<u32>(link);
    store<u32>(cl + CL_FREE_HEAD, n);
    if (n && g32(s, HS_RELEASE)) setPrev(s, n, 0);
    store<u32>(link, SLOT_BUSY);
    counterAdd(h, C_REUSED_OBJECTS, 1);
    touchObject(s, ch, ci, slot, load<u64>(cl + CL_OBJECT_BYTES));
  } else {
    // Carve: the class's cursor names the object and its address.
    handle = load<u32>(cl + CL_CARVE_NEXT);
    if (handle == load<u32>(cl + CL_CARVE_END)) {
      handle = carveNewChunk(h, s, c);
      if (!handle) return 0;
    }
    store<u32>(cl + CL_CARVE_NEXT, handle + 1);
    ch = CH(s, handle >> bits);
    const cb = load<u64>(cl + CL_OBJECT_BYTES);
    const addr = load<u64>(cl + CL_CARVE_ADDR);
    store<u64>(cl + CL_CARVE_ADDR, addr + cb);
    counterAdd(h, C_CARVED_OBJECTS, 1);
    carveTouch(s, cl, ch, addr, cb);
    store<u32>(nextAt(ch, handle & g32(s, HS_SLOT_MASK)), SLOT_BUSY);
  }
  store<u32>(ch + CH_LIVE, load<u32>(ch + CH_LIVE) + 1);
  store<u32>(cl + CL_BUSY, load<u32>(cl + CL_BUSY) + 1);
  return handle;
}

// @ts-ignore: decorator
@inline function objectFree(h: i32, s: usize, handle: u32): void {
  const ci = chunkOfHandle(s, handle);
  const slot = slotOfHandle(s, handle);
  const ch = CH(s, ci);
  const c = load<u32>(ch + CH_CLASS);
  const cl = CL(s, c);
  const head = load<u32>(cl + CL_FREE_HEAD);
  store<u32>(nextAt(ch, slot), head);
  if (g32(s, HS_RELEASE)) {
    store<u32>(prevAt(ch, slot), 0);
    if (head) setPrev(s, head, handle);
  }
  store<u32>(cl + CL_FREE_HEAD, handle);
  store<u32>(cl + CL_BUSY, load<u32>(cl + CL_BUSY) - 1);
  const live = load<u32>(ch + CH_LIVE) - 1;
  store<u32>(ch + CH_LIVE, live);
  touchObject(s, ch, ci, slot, LINK_BYTES);
  if (live == 0 && g32(s, HS_RELEASE)) releaseChunk(h, s, ci);
}

// A block straight from the layer below.
function passAlloc(h: i32, s: usize, size: u64, alignLog2: u32): u32 {
  if (size > MAX_PASS_BYTES) return 0;
  let base: u64, addr: u64, held: u64, ph: u32 = 0;
  if (isStacked(s)) {
    ph = layerAlloc(h, size, alignLog2);
    if (!ph) return 0;
    base = layerUserAddress(h, ph);
    addr = base;
    held = size;
  } else {
    held = alignUp(size ? size : 1, PAGE_SIZE_BYTES);
    // Reservations are 64 KiB aligned: stricter alignment needs room to slide the block up.
    const slack: u64 = alignLog2 > <u32>ALLOC_GRANULARITY_SHIFT ? (<u64>1 << alignLog2) - (<u64>1 << ALLOC_GRANULARITY_SHIFT) : 0;
    base = vmReserve(held + slack, 0, RegionType.PRIVATE, Usage.OTHER, h, 0);
    if (!base) return 0;
    addr = alignLog2 ? alignUp(base, <u64>1 << alignLog2) : base;
    if (vmCommit(addr, held) != Status.OK) { vmRelease(base); return 0; }
    touchPages(addr, size ? size : 1, ownerOf(s));
  }
  const r = newPtRecord();
  if (!r) {
    if (isStacked(s)) layerFree(h, ph, held); else vmRelease(base);
    return 0;
  }
  const p = PT(r);
  store<u64>(p + PT_BASE, base);
  store<u64>(p + PT_ADDR, addr);
  store<u64>(p + PT_HELD, held);
  store<u32>(p + PT_PARENT_HANDLE, ph);
  store<u32>(p + PT_HEAP, <u32>h);
  store<u32>(p + PT_ALIGN, alignLog2);
  const head = g32(s, HS_PT_HEAD);
  store<u32>(p + PT_PREV, 0);
  store<u32>(p + PT_NEXT, head);
  if (head) store<u32>(PT(head) + PT_PREV, r);
  p32(s, HS_PT_HEAD, r);
  add64(s, HS_PT_BLOCKS, 1);
  add64(s, HS_PT_BYTES, <i64>held);
  return PT_FLAG | r;
}

function passFree(h: i32, s: usize, r: u32): void {
  const p = PT(r);
  const prev = load<u32>(p + PT_PREV), next = load<u32>(p + PT_NEXT);
  if (prev) store<u32>(PT(prev) + PT_NEXT, next); else p32(s, HS_PT_HEAD, next);
  if (next) store<u32>(PT(next) + PT_PREV, prev);
  const held = load<u64>(p + PT_HELD);
  add64(s, HS_PT_BLOCKS, -1);
  add64(s, HS_PT_BYTES, -<i64>held);
  const ph = load<u32>(p + PT_PARENT_HANDLE), base = load<u64>(p + PT_BASE);
  dropPtRecord(r);
  if (isStacked(s)) layerFree(h, ph, held); else vmRelease(base);
}

// Resizes a pass-through block that stays one: the parent's realloc when stacked; on the VM a
// shrink decommits the tail in place and a growth moves. Returns the handle or 0 (block kept).
function passResize(h: i32, s: usize, r: u32, size: u64): u32 {
  if (size > MAX_PASS_BYTES) return 0;
  const held = load<u64>(PT(r) + PT_HELD);
  if (isStacked(s)) {
    const nph = layerRealloc(h, load<u32>(PT(r) + PT_PARENT_HANDLE), held, size);
    if (!nph) return 0;
    const p = PT(r); // re-derived: the parent may have grown the record table
    const a = layerUserAddress(h, nph);
    store<u32>(p + PT_PARENT_HANDLE, nph);
    store<u64>(p + PT_BASE, a);
    store<u64>(p + PT_ADDR, a);
    store<u64>(p + PT_HELD, size);
    add64(s, HS_PT_BYTES, <i64>size - <i64>held);
    return PT_FLAG | r;
  }
  const want = alignUp(size ? size : 1, PAGE_SIZE_BYTES);
  if (want <= held) {
    const p = PT(r);
    if (want < held) {
      vmDecommit(load<u64>(p + PT_ADDR) + want, held - want);
      store<u64>(p + PT_HELD, want);
      add64(s, HS_PT_BYTES, <i64>want - <i64>held);
    }
    touchPages(load<u64>(p + PT_ADDR), size ? size : 1, ownerOf(s));
    return PT_FLAG | r;
  }
  const nh = passAlloc(h, s, size, load<u32>(PT(r) + PT_ALIGN));
  if (!nh) return 0;
  passFree(h, s, r);
  return nh;
}

// poolAlloc and poolFree, inline: their bodies in pool's batch loop (index.ts PoolOps), where a
// call per op costs V8's frame and spills.
// @ts-ignore: decorator
@inline export function poolAllocInline(h: i32, size: u64, alignLog2: u32): u32 {
  const s = stateOf(h);
  const c = classFor(s, size, alignLog2);
  return c >= 0 ? objectAlloc(h, s, <u32>c) : passAlloc(h, s, size, alignLog2);
}
// @ts-ignore: decorator
@inline export function poolFreeInline(h: i32, handle: u32): void {
  const s = stateOf(h);
  if (handle & PT_FLAG) passFree(h, s, handle & PT_MASK);
  else objectFree(h, s, handle);
}

export function poolAlloc(h: i32, size: u64, alignLog2: u32): u32 { return poolAllocInline(h, size, alignLog2); }
export function poolFree(h: i32, handle: u32): void { poolFreeInline(h, handle); }

// Same class: in place. Pass-through staying pass-through: passResize. Otherwise the block moves
// (the new one is taken first, so a failure leaves the old block as it was).
export function poolRealloc(h: i32, handle: u32, size: u64): u32 {
  const s = stateOf(h);
  let alignLog2: u32 = 0;
  if (handle & PT_FLAG) {
    const r = handle & PT_MASK;
    alignLog2 = load<u32>(PT(r) + PT_ALIGN);
    if (classFor(s, size, alignLog2) < 0) return passResize(h, s, r, size);
  } else {
    const c = classFor(s, size, 0);
    const ch = CH(s, chunkOfHandle(s, handle));
    if (c >= 0 && <u32>c == load<u32>(ch + CH_CLASS)) {
      // The object is carved: its pages are resident while the chunk's epoch holds (touchObject).
      touchObject(s, ch, chunkOfHandle(s, handle), slotOfHandle(s, handle), size ? size : 1);
      return handle;
    }
  }
  const nh = poolAlloc(h, size, alignLog2);
  if (!nh) return 0;
  poolFree(h, handle);
  return nh;
}

export function poolUserAddress(h: i32, handle: u32): u64 {
  if (handle & PT_FLAG) return load<u64>(PT(handle & PT_MASK) + PT_ADDR);
  const s = stateOf(h);
  return objectAddress(s, CH(s, chunkOfHandle(s, handle)), slotOfHandle(s, handle));
}

// By design the pool gives nothing back on TRIM (HeapCompact / malloc_trim reach the layer below,
// not a custom library's lists): the op is counted and returns 0.
export function poolTrim(h: i32, padBytes: u64): u64 {
  counterAdd(h, C_IGNORED_TRIMS, 1);
  return 0;
}

export function poolDestroy(h: i32): void {
  const s = stateOf(h);
  const high = chunkPool(s).high;
  for (let ci: u32 = 1; ci < high; ci++) {
    const ch = CH(s, ci);
    if (load<u32>(ch + CH_CLASS) != CH_UNUSED) giveBackChunk(h, s, ch);
  }
  let r = g32(s, HS_PT_HEAD);
  while (r) {
    const next = load<u32>(PT(r) + PT_NEXT);
    const ph = load<u32>(PT(r) + PT_PARENT_HANDLE), base = load<u64>(PT(r) + PT_BASE), held = load<u64>(PT(r) + PT_HELD);
    dropPtRecord(r);
    if (isStacked(s)) layerFree(h, ph, held); else vmRelease(base);
    r = next;
  }
  releasePool(chunkPool(s));
  memory.fill(s, 0, HS_BYTES);
}

// ---------------------------------------------------------------- sampling

// Bytes the heap holds from the layer below: chunks plus pass-through blocks.
// @ts-ignore: decorator
@inline function heldFromBelow(s: usize): u64 { return g64(s, HS_CHUNKS) * g64(s, HS_CHUNK_BYTES) + g64(s, HS_PT_BYTES); }

// The heap's object totals, summed over its classes by objectTotals: live objects and their bytes
// (class sizes), objects on the free lists and their bytes, and the uncarved bytes (every chunk but
// a class's current one is fully carved, so these are the current chunks' tails: `tails` of them
// are not empty, the largest tail or free object is `largest` bytes).
let totBusy: u64 = 0, totBusyBytes: u64 = 0, totFree: u64 = 0, totFreeBytes: u64 = 0, totUncarved: u64 = 0;
let totTails: u64 = 0, totLargest: u64 = 0;
function objectTotals(s: usize): void {
  totBusy = 0; totBusyBytes = 0; totFree = 0; totFreeBytes = 0; totUncarved = 0; totTails = 0; totLargest = 0;
  const classes = g32(s, HS_CLASSES);
  for (let c: u32 = 0; c < classes; c++) {
    const cl = CL(s, c);
    const cb = classBytes(s, c);
    const busy = load<u32>(cl + CL_BUSY), free = freeOf(s, c);
    totBusy += busy;
    totBusyBytes += <u64>busy * cb;
    totFree += free;
    totFreeBytes += <u64>free * cb;
    if (free && cb > totLargest) totLargest = cb;
    const tail = <u64>uncarvedOf(s, c) * cb; // 0 without a current chunk
    totUncarved += tail;
    if (tail) { totTails++; if (tail > totLargest) totLargest = tail; }
  }
}

export function poolSample(h: i32, out: usize): void {
  const s = stateOf(h);
  if (isStacked(s)) {
    const held = <f64>heldFromBelow(s);
    store<f64>(out + <usize>K_RESERVED * 8, held);
    store<f64>(out + <usize>K_COMMITTED * 8, held);
  }
  // Free blocks: the objects on the lists, plus each current chunk's uncarved tail.
  objectTotals(s);
  store<f64>(out + <usize>K_BUSY * 8, <f64>(totBusyBytes + g64(s, HS_PT_BYTES)));
  store<f64>(out + <usize>K_FREE * 8, <f64>(totFreeBytes + totUncarved));
  store<f64>(out + <usize>K_FREE_BLOCKS * 8, <f64>(totFree + totTails));
  store<f64>(out + <usize>K_LARGEST_FREE * 8, <f64>totLargest);
  store<f64>(out + <usize>K_UNCOMMITTED_RANGES * 8, 0);
  store<f64>(out + <usize>K_SEGMENTS * 8, <f64>g64(s, HS_CHUNKS));
  store<f64>(out + <usize>K_VIRTUAL_BLOCKS * 8, <f64>g64(s, HS_PT_BLOCKS));
  store<f64>(out + <usize>K_VIRTUAL_BYTES * 8, <f64>g64(s, HS_PT_BYTES));
  store<f64>(out + <usize>S_CHUNKS * 8, <f64>g64(s, HS_CHUNKS));
  store<f64>(out + <usize>S_CHUNK_BYTES * 8, <f64>(g64(s, HS_CHUNKS) * g64(s, HS_CHUNK_BYTES)));
  store<f64>(out + <usize>S_OBJECT_BUSY_BYTES * 8, <f64>totBusyBytes);
  store<f64>(out + <usize>S_BUSY_OBJECTS * 8, <f64>totBusy);
  store<f64>(out + <usize>S_FREE_OBJECT_BYTES * 8, <f64>totFreeBytes);
  store<f64>(out + <usize>S_FREE_OBJECTS * 8, <f64>totFree);
  store<f64>(out + <usize>S_UNCARVED_BYTES * 8, <f64>totUncarved);
  // C_PEAK_CHUNKS .. C_IGNORED_TRIMS: copied from the kit counter block before this runs.
}

// Per-class detail for the host: POOL_CLASS_FIELDS f64 per class, in class order. Returns the
// number of classes (0 when h is not a pool heap). Fields: object bytes, chunks, busy objects,
// free objects (on the list), uncarved objects (left in the current chunk).
export const POOL_CLASS_FIELDS: i32 = 5;
export function poolClassStats(h: i32, out: usize): i32 {
  if (h < 0 || h >= MAX_HEAPS) return 0;
  const s = stateOf(h);
  if (!chunkPool(s).high) return 0;
  const classes = g32(s, HS_CLASSES);
  if (!out) return <i32>classes;
  for (let c: u32 = 0; c < classes; c++) {
    const cl = CL(s, c);
    const o = out + <usize>c * <usize>POOL_CLASS_FIELDS * 8;
    store<f64>(o, <f64>classBytes(s, c));
    store<f64>(o + 8, <f64>load<u32>(cl + CL_CHUNKS));
    store<f64>(o + 16, <f64>load<u32>(cl + CL_BUSY));
    store<f64>(o + 24, <f64>freeOf(s, c));
    store<f64>(o + 32, <f64>uncarvedOf(s, c));
  }
  return <i32>classes;
}

// ---------------------------------------------------------------- invariants P1..P9

// Scratch: [start, end) pairs of every chunk and pass-through block, sorted to find overlaps.
let spans: usize = 0;
let spansCap: u32 = 0;

function addSpan(n: u32, start: u64, end: u64): void {
  if (n >= spansCap) {
    spansCap = spansCap ? spansCap * 2 : 256;
    spans = resize(spans, <usize>spansCap * 16);
  }
  store<u64>(spans + (<usize>n << 4), start);
  store<u64>(spans + (<usize>n << 4) + 8, end);
}

// Heapsort of the first n spans by start.
function sortSpans(n: u32): void {
  if (n < 2) return;
  for (let i = <i32>(n >> 1) - 1; i >= 0; i--) siftDown(<u32>i, n);
  for (let end = n - 1; end > 0; end--) {
    swapSpans(0, end);
    siftDown(0, end);
  }
}

function siftDown(i: u32, n: u32): void {
  while (true) {
    let m = i;
    const l = (i << 1) + 1, r = l + 1;
    if (l < n && spanStart(l) > spanStart(m)) m = l;
    if (r < n && spanStart(r) > spanStart(m)) m = r;
    if (m == i) return;
    swapSpans(i, m);
    i = m;
  }
}

// @ts-ignore: decorator
@inline function spanStart(i: u32): u64 { return load<u64>(spans + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function spanEnd(i: u32): u64 { return load<u64>(spans + (<usize>i << 4) + 8); }

function swapSpans(a: u32, b: u32): void {
  const pa = spans + (<usize>a << 4), pb = spans + (<usize>b << 4);
  const s0 = load<u64>(pa), e0 = load<u64>(pa + 8);
  store<u64>(pa, load<u64>(pb));
  store<u64>(pa + 8, load<u64>(pb + 8));
  store<u64>(pb, s0);
  store<u64>(pb + 8, e0);
}

function allCommitted(start: u64, bytes: u64): bool {
  if (!bytes) return true;
  const first = start & ~(PAGE_SIZE_BYTES - 1);
  for (let a = first; a < start + bytes; a += PAGE_SIZE_BYTES) if (!vmIsCommitted(a)) return false;
  return true;
}

export function poolCheck(h: i32): i32 {
  const s = stateOf(h);
  const classes = g32(s, HS_CLASSES);
  const high = chunkPool(s).high;
  const bits = g32(s, HS_SLOT_BITS);
  const chunkBytes = g64(s, HS_CHUNK_BYTES);
  const release = g32(s, HS_RELEASE) != 0;
  const stacked = isStacked(s);

  // P1: free records are unused, and every record is in exactly one of the two sets.
  let freeRecs: u32 = 0;
  let r = chunkPool(s).free;
  while (r) {
    if (r >= high || load<u32>(CH(s, r) + CH_CLASS) != CH_UNUSED || freeRecs >= high) return 1;
    freeRecs++;
    r = load<u32>(CH(s, r) + CH_FREE_NEXT);
  }
  let used: u32 = 0, unused: u32 = 0;
  let spanCount: u32 = 0;
  let busyObjs: u64 = 0, busyBytes: u64 = 0, freeObjs: u64 = 0, freeBytes: u64 = 0, uncarved: u64 = 0;
  for (let ci: u32 = 1; ci < high; ci++) {
    const ch = CH(s, ci);
    const c = load<u32>(ch + CH_CLASS);
    if (c == CH_UNUSED) { unused++; continue; }
    used++;
    if (c >= classes) return 1;
    const slots = slotsOf(s, c), carved = carvedOf(s, ci, c), live = load<u32>(ch + CH_LIVE);
    if (carved > slots || live > carved || !load<u32>(ch + CH_NEXT) || release != (load<u32>(ch + CH_PREV) != 0)) return 1;
    if (load<u32>(ch + CH_RESIDENT) == RESIDENCY_EPOCH_SATURATED) return 1;
    // P2: memory of the chunk.
    const base = load<u64>(ch + CH_BASE);
    if (base & ((<u64>1 << POOL_ALIGN_LOG2) - 1) || !allCommitted(base, chunkBytes)) return 2;
    if (stacked) {
      if (layerUserAddress(h, load<u32>(ch + CH_PARENT_HANDLE)) != base) return 2;
    } else {
      const reg = vmRegionAt(base);
      if (!reg || vmRegionBase(reg) != base || vmRegionEnd(reg) != base + chunkBytes) return 2;
    }
    addSpan(spanCount++, base, base + chunkBytes);
    // P4: live equals the busy slots.
    let busy: u32 = 0;
    for (let slot: u32 = 0; slot < carved; slot++) if (load<u32>(nextAt(ch, slot)) == SLOT_BUSY) busy++;
    if (busy != live) return 4;
    // P8
    if (release && live == 0) return 8;
    const cb = classBytes(s, c);
    busyObjs += live;
    busyBytes += <u64>live * cb;
    freeObjs += carved - live;
    freeBytes += <u64>(carved - live) * cb;
    uncarved += <u64>(slots - carved) * cb;
  }
  if (unused != freeRecs) return 1;

  // P3, P4 (class counts), P5.
  for (let c: u32 = 0; c < classes; c++) {
    const cl = CL(s, c);
    const expect = freeOf(s, c);
    let n: u32 = 0, prev: u32 = 0;
    let hd = load<u32>(cl + CL_FREE_HEAD);
    while (hd) {
      if (n >= expect) return 3;
      const ci = hd >> bits;
      if (hd & PT_FLAG || ci == 0 || ci >= high) return 3;
      const ch = CH(s, ci);
      const slot = hd & ((1 << bits) - 1);
      if (load<u32>(ch + CH_CLASS) != c || slot >= carvedOf(s, ci, c)) return 3;
      const nx = load<u32>(nextAt(ch, slot));
      if (nx == SLOT_BUSY) return 3;
      if (release && load<u32>(prevAt(ch, slot)) != prev) return 3;
      prev = hd;
      hd = nx;
      n++;
    }
    if (n != expect) return 3;
    let chunks: u32 = 0, busy: u32 = 0;
    const cur = load<u32>(cl + CL_CURRENT);
    if (cur && (cur >= high || load<u32>(CH(s, cur) + CH_CLASS) != c)) return 5;
    // The carve cursor lies in the current chunk (0, 0 without one), its address at its slot.
    const first = cur << bits, next = load<u32>(cl + CL_CARVE_NEXT), end = load<u32>(cl + CL_CARVE_END);
    if (end != (cur ? first + slotsOf(s, c) : 0) || next < first || next > end) return 5;
    if (cur && load<u64>(cl + CL_CARVE_ADDR) != load<u64>(CH(s, cur) + CH_BASE) + (<u64>(next - first) << classShift(s, c))) return 5;
    for (let ci: u32 = 1; ci < high; ci++) {
      const ch = CH(s, ci);
      if (load<u32>(ch + CH_CLASS) != c) continue;
      chunks++;
      busy += load<u32>(ch + CH_LIVE);
    }
    if (chunks != load<u32>(cl + CL_CHUNKS) || busy != load<u32>(cl + CL_BUSY)) return 4;
  }

  // P9 and P2 for pass-through blocks.
  let ptBlocks: u64 = 0, ptBytes: u64 = 0;
  let prevPt: u32 = 0;
  r = g32(s, HS_PT_HEAD);
  while (r) {
    if (r >= PTS.high || ptBlocks > g64(s, HS_PT_BLOCKS)) return 9;
    const p = PT(r);
    if (load<u32>(p + PT_HEAP) != <u32>h || load<u32>(p + PT_PREV) != prevPt) return 9;
    const addr = load<u64>(p + PT_ADDR), held = load<u64>(p + PT_HELD);
    if (!allCommitted(addr, held)) return 2;
    if (stacked && layerUserAddress(h, load<u32>(p + PT_PARENT_HANDLE)) != addr) return 2;
    if (!stacked) {
      const reg = vmRegionAt(addr);
      if (!reg || vmRegionBase(reg) != load<u64>(p + PT_BASE)) return 2;
    }
    addSpan(spanCount++, addr, addr + held);
    ptBlocks++;
    ptBytes += held;
    prevPt = r;
    r = load<u32>(p + PT_NEXT);
  }
  sortSpans(spanCount);
  for (let i: u32 = 1; i < spanCount; i++) if (spanStart(i) < spanEnd(i - 1)) return 2;

  // P6 (the object totals are the class entries' sums: objectTotals)
  objectTotals(s);
  if (<u64>used != g64(s, HS_CHUNKS) || busyObjs != totBusy || busyBytes != totBusyBytes ||
    freeObjs != totFree || freeBytes != totFreeBytes || uncarved != totUncarved ||
    ptBlocks != g64(s, HS_PT_BLOCKS) || ptBytes != g64(s, HS_PT_BYTES) || counterGet(h, C_PEAK_CHUNKS) < <u64>used) return 6;

  // P7
  const held = heldFromBelow(s);
  if (stacked) {
    if (heldBytes(h) != held || heldBlocks(h) != <u64>used + ptBlocks) return 7;
  } else if (vmOwnerCommitted(<u8>h) != held) {
    return 7;
  }
  return 0;
}
