// === lfh: the Low Fragmentation Heap front end of the nt policy ===
//
// Brief: docs/nt-heap.md §2. 128 size buckets up to 16 KiB. A bucket is switched on after repeated
// back-end allocations of one size (the FrontEndHeapUsageData counter rule). Chunks of one bucket
// live in "user blocks" carved from the back end as ordinary busy blocks (so they count as Commit
// and busy, never as Free); a freed chunk stays inside its user block, and the user block goes back
// to the back end only when every chunk in it is free. One live chunk pins its whole user block.
//
// Model choices, where the brief is unsure:
//   - user block size: the smallest power of two holding LFH_MIN_CHUNKS chunks plus the user-block
//     header, at least LFH_MIN_USERBLOCK_BYTES, doubled for each subsegment the bucket already
//     holds, at most LFH_MAX_USERBLOCK_BYTES (brief §2, §7.6: "exact PageShift formula [?]");
//   - no user-block cache (Win10 keeps up to 12 [?]): an empty user block is freed at once;
//   - a back-end free of a size lowers the low 5 bits of its counter by one [I];
//   - x64 chunk sizes are the bucket size plus a header rounded up to 16 bytes (the table is x86's).
//
// Subsegment record (SUB_BYTES, one cache line): the user block's back-end record and chunk 0's
// address, bucket, chunk size, chunk count, free count, busy bitmap (1 bit per chunk, set = live;
// bits past the last chunk are set) followed by one alignment byte per chunk (kept once the
// subsegment has had an aligned request; all 0 until then), links in the bucket's
// partial list, state, and the subsegment's run of handle slots. Handle of chunk i: LFH_TAG |
// (slotBase + i); the run's slot pages map back to the subsegment (see "chunk handles" below), so a
// chunk needs no record of its own.

import { resize } from "../../mem";
import { H, NtHeap, owner, rec, bytesOf, backAlloc, backFree, RK_USERBLOCK, granuleBytes } from "./core";
import {
  touchPages, vmResidencyEpoch, vmResidencyHolds, vmIsResident, vmAllResident, RESIDENCY_EPOCH_SATURATED,
} from "../../vm/space";
import { PAGE_SHIFT, PAGE_MASK } from "../../vm/constants";
import { CHECKS } from "../../checks";
import { RecordPool, RECORD_POOL_BYTES, initPool, takeRecord, dropRecord, poolBytes } from "../../kit/records";

// 128 buckets (brief §2, CV10 granularity table) [I for Win8+]; requests up to 16 KiB (MS-API
// "approximately 16 KB", the table's last bucket) [V].
export const LFH_BUCKETS: u32 = 128;
export const LFH_MAX_REQUEST_BYTES: u64 = 16384;
// Activation: each back-end allocation of a size adds 0x21 to its counter; the bucket switches on
// when (counter & 0x1F) > 0x10 or counter > 0xFF00 (VM12, DOFF; brief §2) [V].
export const LFH_COUNTER_STEP: u32 = 0x21;
export const LFH_COUNTER_LOW_MASK: u32 = 0x1F;
export const LFH_COUNTER_LOW_LIMIT: u32 = 0x10;
export const LFH_COUNTER_CAP: u32 = 0xFF00;
// User blocks: at most 0x78000 B = 480 KiB (VM12) [V]; at least 1 KiB [I] (a Win10 x64 dump shows a
// first subsegment of 19 chunks of 48 B, about 1 KiB).
export const LFH_MAX_USERBLOCK_BYTES: u64 = 0x78000;
export const LFH_MIN_USERBLOCK_BYTES: u64 = 0x400;
// Chunks in the smallest user block of a bucket: our estimate.
export const LFH_MIN_CHUNKS: u64 = 8;
// _HEAP_USERDATA_HEADER plus the user block's own entry: our estimate (0x18 B x86, 0x30 B x64).
export const USERBLOCK_HEADER_X86: u64 = 0x18;
export const USERBLOCK_HEADER_X64: u64 = 0x30;

export const LFH_TAG: u32 = 1 << 28;
const SLOT_MASK: u32 = LFH_TAG - 1;

// ---------------------------------------------------------------- size classes

// Bucket index (0..127) of a request of n bytes (1 <= n <= 16384).
// @ts-ignore: decorator
@inline export function lfhBucketOf(n: u64): u32 {
  const m = <u32>n;
  if (m <= 256) return (m + 7) / 8 - 1;
  if (m <= 512) return 32 + (m - 257) / 16;
  if (m <= 1024) return 48 + (m - 513) / 32;
  if (m <= 2048) return 64 + (m - 1025) / 64;
  if (m <= 4096) return 80 + (m - 2049) / 128;
  if (m <= 8192) return 96 + (m - 4097) / 256;
  return 112 + (m - 8193) / 512;
}

// Largest request of bucket b.
export function lfhBucketBytes(b: u32): u64 {
  if (b < 32) return <u64>(b + 1) * 8;
  if (b < 48) return 256 + <u64>(b - 31) * 16;
  if (b < 64) return 512 + <u64>(b - 47) * 32;
  if (b < 80) return 1024 + <u64>(b - 63) * 64;
  if (b < 96) return 2048 + <u64>(b - 79) * 128;
  if (b < 112) return 4096 + <u64>(b - 95) * 256;
  return 8192 + <u64>(b - 111) * 512;
}

function chunkBytesOf(b: u32): u64 {
  const G = granuleBytes();
  return (lfhBucketBytes(b) + G + G - 1) & ~(G - 1);
}

function userBlockHeader(): u64 { return H.gShift == 3 ? USERBLOCK_HEADER_X86 : USERBLOCK_HEADER_X64; }

// ---------------------------------------------------------------- per-heap bucket table

@unmanaged class Bucket {
  active: u32;       // subsegment chunks are taken from
  partial: u32;      // head of the list of other subsegments with free chunks
  subsegments: u32;  // subsegments held
  on: u32;           // switched on
}
const BUCKET_BYTES: usize = 16;

// @ts-ignore: decorator
@inline function bucket(b: u32): Bucket { return changetype<Bucket>(H.buckets + <usize>b * BUCKET_BYTES); }

// Sets up the LFH tables of the current heap (called at create when the LFH is allowed).
export function lfhInit(): void {
  H.buckets = heap.alloc(<usize>LFH_BUCKETS * BUCKET_BYTES);
  memory.fill(H.buckets, 0, <usize>LFH_BUCKETS * BUCKET_BYTES);
  H.usageLen = <u32>(LFH_MAX_REQUEST_BYTES >> H.gShift) + 3;
  H.usage = heap.alloc(<usize>H.usageLen * 2);
  memory.fill(H.usage, 0, <usize>H.usageLen * 2);
}

export function lfhBucketOn(b: u32): bool { return bucket(b).on != 0; }

// Counts a back-end allocation of `units` granules for bucket b (LFH allowed, bucket off). The first
// trigger creates the front end; a later one switches the bucket on. So on a new heap the 17th
// allocation of a size creates the LFH, the 18th switches the bucket on and the 19th is the first
// LFH allocation; once the LFH exists the 18th is (DOFF, brief §2) [V].
export function lfhNoteAlloc(units: u32, b: u32): void {
  if (units >= H.usageLen) return;
  const p = H.usage + (<usize>units << 1);
  let c = <u32>load<u16>(p) + LFH_COUNTER_STEP;
  if (c > 0xFFFF) c = 0xFFFF;
  store<u16>(p, <u16>c);
  if ((c & LFH_COUNTER_LOW_MASK) > LFH_COUNTER_LOW_LIMIT || c > LFH_COUNTER_CAP) {
    if (!H.lfhCreated) H.lfhCreated = 1;
    else bucket(b).on = 1;
  }
}

// A back-end free of a block of `units` granules: the counter's low bits count outstanding blocks [I].
export function lfhNoteFree(units: u32): void {
  if (units >= H.usageLen) return;
  const p = H.usage + (<usize>units << 1);
  const c = <u32>load<u16>(p);
  if (c & LFH_COUNTER_LOW_MASK) store<u16>(p, <u16>(c - 1));
}

// ---------------------------------------------------------------- subsegments

@unmanaged class Sub {
  base: u64;        // address of chunk 0: the user block's address plus its header
  block: u32;       // back-end record of the user block
  heap: u16;
  state: u8;
  aligned: u8;      // a chunk was ever asked with an alignment: the alignment bytes are kept
  bucket: u32;
  chunkBytes: u32;
  count: u32;
  freeCount: u32;
  bitmap: usize;
  prev: u32;
  next: u32;
  hint: u32;        // no free chunk below this index (lowest-index mode)
  slotBase: u32;    // first handle slot of the subsegment's run (a multiple of SLOT_PAGE)
  resident: u32;    // vmResidencyEpoch() at which every page of the chunks was resident, 0 = not known
  scanEpoch: u32;   // the epoch at which the first scanPages pages of the chunks were resident
  scanPages: u32;   // (lfhTouch's scan; 0 = none known)
}
const SUB_BYTES: usize = 64;
if (offsetof<Sub>() != SUB_BYTES) ERROR("Sub layout");

const SS_DEAD: u8 = 0;
const SS_ACTIVE: u8 = 1;
const SS_PARTIAL: u8 = 2;
const SS_FULL: u8 = 3;

// Subsegment records of every nt heap, one kit pool (dropped records link through `next`).
const SUBS = changetype<RecordPool>(memory.data(<i32>RECORD_POOL_BYTES));
initPool(SUBS, <u32>SUB_BYTES, <u32>offsetof<Sub>("next"), 256, <u32>SUB_BYTES); // one cache line each

// @ts-ignore: decorator
@inline function sub(s: u32): Sub { return changetype<Sub>(SUBS.base + <usize>s * SUB_BYTES); }

function newSub(): u32 {
  const s = takeRecord(SUBS);
  memory.fill(changetype<usize>(sub(s)), 0, SUB_BYTES);
  return s;
}

function dropSub(s: u32): void {
  if (sub(s).bitmap) heap.free(sub(s).bitmap);
  sub(s).bitmap = 0;
  sub(s).state = SS_DEAD;
  dropRecord(SUBS, s);
}

// ---------------------------------------------------------------- chunk handles

// One slot space for every nt heap, in pages of SLOT_PAGE slots. A subsegment owns a run of
// 2^k pages (the fewest that hold its chunks) and chunk i's slot is slotBase + i; pageSub maps each
// page of a live run to its subsegment, so a handle finds its subsegment and chunk index with one
// load from a table of 4 bytes per 32 chunks. Freed runs wait on a list per order k (LIFO; the
// link of a free run is in its first page's entry) and are never split or merged: the slot space
// in use is at most the most pages each order had live at once, summed over the orders. Slots
// must stay below LFH_TAG (the handle's tag bit); a subsegment that finds no run fails like one
// that finds no user block.
const SLOT_PAGE_SHIFT: u32 = 5;
const SLOT_PAGE: u32 = 1 << SLOT_PAGE_SHIFT;
const SLOT_PAGE_LIMIT: u32 = LFH_TAG >> SLOT_PAGE_SHIFT;
// Orders 0..RUN_ORDERS-1: 2^10 pages hold the most chunks of a subsegment (the largest user block of
// 2-granule chunks: 0x78000 B / 16 B = 30,720 chunks on x86, 960 pages).
const RUN_ORDERS: u32 = 11;
if (<u64>SLOT_PAGE << (RUN_ORDERS - 1) < LFH_MAX_USERBLOCK_BYTES / 16) ERROR("RUN_ORDERS");
const runFree = memory.data(<i32>RUN_ORDERS * 4); // per order: first page + 1 of a free run, 0 = none
let pageSub: usize = 0;   // u32 per page: the subsegment of a live run
let pageCap: u32 = 0;     // pages pageSub holds
let pageHigh: u32 = 0;    // pages handed out (live or on a free list)
let pagesFree: u32 = 0;   // pages on the free lists (for lfhCheck)

// The order of the run that holds `count` chunks.
function runOrder(count: u32): u32 {
  const pages = (count + SLOT_PAGE - 1) >> SLOT_PAGE_SHIFT;
  return pages <= 1 ? 0 : 32 - <u32>clz(pages - 1);
}

// @ts-ignore: decorator
@inline function pageEntry(page: u32): usize { return pageSub + (<usize>page << 2); }

// A run of order k for subsegment s; returns its first slot, or SLOT_MASK when the slot space is used up.
function takeRun(k: u32, s: u32): u32 {
  const pages: u32 = 1 << k;
  const head = runFree + (<usize>k << 2);
  let first = load<u32>(head);
  if (first) {
    first--;
    store<u32>(head, load<u32>(pageEntry(first)));
    pagesFree -= pages;
  } else {
    if (pageHigh + pages > SLOT_PAGE_LIMIT) return SLOT_MASK;
    first = pageHigh;
    pageHigh += pages;
    if (pageHigh > pageCap) {
      let cap = pageCap ? pageCap : SLOT_PAGE;
      while (cap < pageHigh) cap <<= 1;
      pageSub = resize(pageSub, <usize>cap << 2);
      pageCap = cap;
    }
  }
  for (let p = first; p < first + pages; p++) store<u32>(pageEntry(p), s);
  return first << SLOT_PAGE_SHIFT;
}

function dropRun(slotBase: u32, k: u32): void {
  const first = slotBase >> SLOT_PAGE_SHIFT;
  const head = runFree + (<usize>k << 2);
  store<u32>(pageEntry(first), load<u32>(head));
  store<u32>(head, first + 1);
  pagesFree += 1 << k;
}

// @ts-ignore: decorator
@inline function subOfSlot(slot: u32): u32 { return load<u32>(pageEntry(slot >> SLOT_PAGE_SHIFT)); }

// A subsegment's per-chunk alignment bytes follow its bitmap and summary.
// @ts-ignore: decorator
@inline function alignsOf(ss: Sub): usize {
  const words = bitmapWords(ss.count);
  return ss.bitmap + ((<usize>words + <usize>summaryWords(words)) << 2);
}

export function lfhEngineBytes(): usize { return poolBytes(SUBS) + (<usize>pageCap << 2); }

// ---------------------------------------------------------------- partial lists

function pushPartial(bk: Bucket, s: u32): void {
  const h = bk.partial;
  sub(s).prev = 0;
  sub(s).next = h;
  if (h) sub(h).prev = s;
  bk.partial = s;
  sub(s).state = SS_PARTIAL;
}

function unlinkPartial(bk: Bucket, s: u32): void {
  const p = sub(s).prev, n = sub(s).next;
  if (p) sub(p).next = n; else bk.partial = n;
  if (n) sub(n).prev = p;
  sub(s).prev = 0;
  sub(s).next = 0;
}

// A new subsegment for bucket b: its user block is a busy back-end block. 0 when the back end is out.
function newSubsegment(b: u32): u32 {
  const hdr = userBlockHeader();
  const chunk = chunkBytesOf(b);
  let bytes = LFH_MIN_USERBLOCK_BYTES;
  const want = hdr + chunk * LFH_MIN_CHUNKS;
  while (bytes < want) bytes <<= 1;
  const held = bucket(b).subsegments;
  for (let i: u32 = 0; i < held && bytes < LFH_MAX_USERBLOCK_BYTES; i++) bytes <<= 1;
  if (bytes > LFH_MAX_USERBLOCK_BYTES) bytes = LFH_MAX_USERBLOCK_BYTES;
  const count = <u32>((bytes - hdr) / chunk);
  const s = newSub();
  const slotBase = takeRun(runOrder(count), s);
  if (slotBase == SLOT_MASK) { dropRecord(SUBS, s); return 0; }
  const blk = backAlloc(bytes, RK_USERBLOCK);
  if (!blk) {
    dropRun(slotBase, runOrder(count));
    dropRecord(SUBS, s);
    return 0;
  }
  const ss = sub(s);
  ss.slotBase = slotBase;
  ss.block = blk;
  ss.heap = <u16>H.index;
  ss.bucket = b;
  ss.chunkBytes = <u32>chunk;
  ss.base = rec(blk).addr + hdr;
  ss.count = count;
  ss.freeCount = count;
  const words = bitmapWords(count);
  const bitmapBytes = (<usize>words + <usize>summaryWords(words)) << 2;
  const bm = heap.alloc(bitmapBytes + <usize>count); // + the alignment bytes
  memory.fill(bm, 0, bitmapBytes);
  if (count & 31) store<u32>(bm + (<usize>(words - 1) << 2), ~((<u32>1 << (count & 31)) - 1));
  sub(s).bitmap = bm;
  rec(blk).aux = s;
  bucket(b).subsegments++;
  H.userBlocks++;
  H.userBlockBytes += bytesOf(blk); // one granule more than asked when the remainder was a sliver
  H.allChunkBytes += <u64>count * chunk;
  touchPages(rec(blk).addr, hdr, owner);
  return s;
}

// A subsegment's chunk bitmap: one bit per chunk (set = in use; the bits past `count` in the last
// word are set), then a summary with one bit per bitmap word, set when that word is full. The
// summary lets findClear skip full words 32 at a time: a subsegment taken from the partial list
// often has one free chunk among thousands (a FULL one becomes PARTIAL at its first free).
// @ts-ignore: decorator
@inline function bitmapWords(count: u32): u32 { return (count + 31) >> 5; }
// @ts-ignore: decorator
@inline function summaryWords(words: u32): u32 { return (words + 31) >> 5; }

// Whether chunk i of the bitmap bm is in use.
// @ts-ignore: decorator
@inline function bitmapTest(bm: usize, i: u32): bool { return (load<u32>(bm + (<usize>(i >> 5) << 2)) & (<u32>1 << (i & 31))) != 0; }

// Marks chunk i of the bitmap bm (of `words` words) in use.
// @ts-ignore: decorator
@inline function bitmapSet(bm: usize, words: u32, i: u32): void {
  const p = bm + (<usize>(i >> 5) << 2);
  const v = load<u32>(p) | (<u32>1 << (i & 31));
  store<u32>(p, v);
  if (v == 0xFFFFFFFF) {
    const q = bm + ((<usize>words + <usize>(i >> 10)) << 2);
    store<u32>(q, load<u32>(q) | (<u32>1 << ((i >> 5) & 31)));
  }
}

// Marks chunk i of the bitmap bm (of `words` words) free.
// @ts-ignore: decorator
@inline function bitmapClear(bm: usize, words: u32, i: u32): void {
  const p = bm + (<usize>(i >> 5) << 2);
  const v = load<u32>(p);
  store<u32>(p, v & ~(<u32>1 << (i & 31)));
  if (v == 0xFFFFFFFF) {
    const q = bm + ((<usize>words + <usize>(i >> 10)) << 2);
    store<u32>(q, load<u32>(q) & ~(<u32>1 << ((i >> 5) & 31)));
  }
}

// Index of the first clear bit in [from, limit), or limit, in the bitmap bm of `words` words.
function findClear(bm: usize, words: u32, from: u32, limit: u32): u32 {
  if (from >= limit) return limit;
  const w = from >> 5;
  const bits = ~load<u32>(bm + (<usize>w << 2)) & (0xFFFFFFFF << (from & 31));
  if (bits) return min((w << 5) + <u32>ctz(bits), limit);
  // The next word that is not full, from the summary (its bits past the last word are clear).
  const next = w + 1;
  if (next >= bitmapWords(limit)) return limit;
  const sum = bm + (<usize>words << 2);
  const sumEnd = summaryWords(words);
  let sw = next >> 5;
  let open = ~load<u32>(sum + (<usize>sw << 2)) & (0xFFFFFFFF << (next & 31));
  while (!open) {
    if (++sw >= sumEnd) return limit;
    open = ~load<u32>(sum + (<usize>sw << 2));
  }
  const nw = (sw << 5) + <u32>ctz(open);
  if (nw >= words) return limit;
  return min((nw << 5) + <u32>ctz(~load<u32>(bm + (<usize>nw << 2))), limit);
}

// @ts-ignore: decorator
@inline function nextRandom(hp: NtHeap): u32 {
  let x = hp.prng;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  hp.prng = x;
  return x;
}

// ---------------------------------------------------------------- alloc / free

// A chunk of bucket b; returns its handle (LFH_TAG | slot), or 0 when no user block can be had.
export function lfhAlloc(b: u32, alignLog2: u32): u32 {
  const bk = bucket(b);
  let s = bk.active;
  if (!s || sub(s).freeCount == 0) {
    if (s) sub(s).state = SS_FULL;
    if (bk.partial) {
      s = bk.partial;
      unlinkPartial(bk, s);
    } else {
      s = newSubsegment(b);
      if (!s) { bucket(b).active = 0; return 0; }
    }
    bucket(b).active = s;
    sub(s).state = SS_ACTIVE;
  }
  return lfhTake(H, sub(s), alignLog2);
}

// lfhAlloc for nt's batch loop (nt.ts ntAllocInline): bucket bk (switched on, of the heap hp, the
// current heap) has an active subsegment with a free chunk in the common case, taken here inline;
// otherwise lfhAlloc (out of line) gets one first.
// @ts-ignore: decorator
@inline export function lfhAllocOn(hp: NtHeap, b: u32, alignLog2: u32): u32 {
  const s = changetype<Bucket>(hp.buckets + <usize>b * BUCKET_BYTES).active;
  if (!s || sub(s).freeCount == 0) return lfhAlloc(b, alignLog2);
  return lfhTake(hp, sub(s), alignLog2);
}

// Whether bucket b of the heap hp is switched on (lfhBucketOn with the heap record in a local).
// @ts-ignore: decorator
@inline export function lfhBucketOnOf(hp: NtHeap, b: u32): bool {
  return changetype<Bucket>(hp.buckets + <usize>b * BUCKET_BYTES).on != 0;
}

// Takes a free chunk of the active subsegment ss (freeCount > 0) of the current heap hp (H, read
// once by the caller: V8 reloads a global at every use); returns its handle.
// @ts-ignore: decorator
@inline function lfhTake(hp: NtHeap, ss: Sub, alignLog2: u32): u32 {
  // Win8+ picks a random free chunk, Win7 the lowest (brief §2, VM12) [I].
  const count = ss.count;
  const hint = ss.hint;
  let start = hint;
  if (hp.randomChunks) start = nextRandom(hp) % count;
  const words = bitmapWords(count);
  const bm = ss.bitmap;
  // findClear's first step inline: a clear bit at or after start in start's own word.
  const bits = ~load<u32>(bm + (<usize>(start >> 5) << 2)) & (0xFFFFFFFF << (start & 31));
  let i = (start & ~31) + <u32>ctz(bits);
  if (!bits || i >= count) {
    i = findClear(bm, words, start, count);
    if (i == count) i = findClear(bm, words, 0, start);
  }
  bitmapSet(bm, words, i);
  ss.freeCount--;
  if (i == hint) ss.hint = i + 1;
  const chunk = ss.chunkBytes;
  hp.liveChunkBytes += chunk;
  hp.liveChunks++;
  const addr = ss.base + <u64>i * chunk;
  // vmResidencyHolds at one compare: lfhTouch never notes the saturated epoch (lfhCheck L5), which
  // the VM's epoch then never equals
  if (ss.resident == vmResidencyEpoch()) {
    if (CHECKS) assert(vmResidencyHolds(ss.resident), "nt lfh: a subsegment noted the saturated epoch");
    if (CHECKS) assert(vmAllResident(addr, chunk), "nt lfh: skipped touch of a page not resident");
  } else {
    lfhTouch(ss, addr, chunk);
  }
  if (alignLog2 | ss.aligned) lfhNoteAlign(ss, i, alignLog2);
  return LFH_TAG | (ss.slotBase + i);
}

// Chunks are touched as they are taken (lfhTake). Once every page of a subsegment's chunks is
// resident, a touch of a chunk changes nothing while no page anywhere stops being resident (the VM's
// residency epoch holds): ss.resident records that epoch and lfhTake skips the touch. The pages are
// found resident by a scan from the first chunk's page that moves on at each touch of a chunk not
// known resident (at most LFH_SCAN_PAGES pages a touch, so a touch costs a bounded amount more) and
// starts again when the epoch moved; so each page is looked at about once per epoch.
const LFH_SCAN_PAGES: u32 = 4;

function lfhTouch(ss: Sub, addr: u64, bytes: u64): void {
  touchPages(addr, bytes, owner);
  const epoch = vmResidencyEpoch();
  if (epoch == RESIDENCY_EPOCH_SATURATED) return;
  if (ss.scanEpoch != epoch) {
    ss.scanEpoch = epoch;
    ss.scanPages = 0;
  }
  const first = ss.base >> PAGE_SHIFT;
  const pages = <u32>(((ss.base + <u64>ss.count * ss.chunkBytes + PAGE_MASK) >> PAGE_SHIFT) - first);
  let p = ss.scanPages;
  const stop = min(pages, p + LFH_SCAN_PAGES);
  while (p < stop && vmIsResident((first + <u64>p) << PAGE_SHIFT)) p++;
  ss.scanPages = p;
  if (p == pages) ss.resident = epoch;
}

// Keeps chunk i's alignment (the bytes are made at the subsegment's first aligned request).
function lfhNoteAlign(ss: Sub, i: u32, alignLog2: u32): void {
  if (!ss.aligned) {
    ss.aligned = 1;
    memory.fill(alignsOf(ss), 0, ss.count);
  }
  store<u8>(alignsOf(ss) + i, <u8>alignLog2);
}

// Frees an LFH chunk of the current heap, its record hp (H) in a local: inline in nt's batch loop; a
// subsegment that becomes empty or leaves FULL goes out of line.
// @ts-ignore: decorator
@inline export function lfhFreeInline(hp: NtHeap, handle: u32): void {
  const slot = handle & SLOT_MASK;
  const s = subOfSlot(slot);
  const ss = sub(s);
  const i = slot - ss.slotBase;
  const count = ss.count;
  bitmapClear(ss.bitmap, bitmapWords(count), i);
  const free = ss.freeCount + 1;
  ss.freeCount = free;
  if (i < ss.hint) ss.hint = i;
  hp.liveChunkBytes -= ss.chunkBytes;
  hp.liveChunks--;
  if (free == count || ss.state == SS_FULL) lfhFreeMoves(hp, s);
}

// The rest of a free that empties subsegment s or makes a FULL one PARTIAL.
function lfhFreeMoves(hp: NtHeap, s: u32): void {
  const ss = sub(s);
  const bk = changetype<Bucket>(hp.buckets + <usize>ss.bucket * BUCKET_BYTES); // bucket(), H read once
  if (ss.freeCount == ss.count) {
    // Every chunk is free: the user block goes back to the back end (RtlpFreeUserBlock, brief §2).
    if (ss.state == SS_ACTIVE) bk.active = 0;
    else if (ss.state == SS_PARTIAL) unlinkPartial(bk, s);
    retire(s);
  } else {
    pushPartial(bk, s);
  }
}

function retire(s: u32): void {
  const blk = sub(s).block;
  bucket(sub(s).bucket).subsegments--;
  H.userBlocks--;
  H.userBlockBytes -= bytesOf(blk);
  H.allChunkBytes -= <u64>sub(s).count * sub(s).chunkBytes;
  dropRun(sub(s).slotBase, runOrder(sub(s).count));
  dropSub(s);
  backFree(blk);
}

export function lfhBucketOfHandle(handle: u32): u32 { return sub(subOfSlot(handle & SLOT_MASK)).bucket; }
export function lfhAlignLog2(handle: u32): u32 {
  const slot = handle & SLOT_MASK;
  const ss = sub(subOfSlot(slot));
  return ss.aligned ? load<u8>(alignsOf(ss) + (slot - ss.slotBase)) : 0;
}

// Address of the chunk (its header) of a live handle of the current heap.
export function lfhChunkAddress(handle: u32): u64 {
  const slot = handle & SLOT_MASK;
  const ss = sub(subOfSlot(slot));
  return ss.base + <u64>(slot - ss.slotBase) * ss.chunkBytes;
}

// Frees the subsegment records and their slot runs of the current heap (its user blocks go with its
// segments).
export function lfhDestroy(): void {
  for (let s: u32 = 1; s < SUBS.high; s++) {
    if (sub(s).state != SS_DEAD && sub(s).heap == H.index) {
      dropRun(sub(s).slotBase, runOrder(sub(s).count));
      dropSub(s);
    }
  }
  if (H.buckets) heap.free(H.buckets);
  if (H.usage) heap.free(H.usage);
  H.buckets = 0;
  H.usage = 0;
}

// ---------------------------------------------------------------- walk and invariants

// Writes (address, bytes, kind 6, bucket) for every live chunk of the current heap: subsegment by
// subsegment (record order), each in address order.
export function lfhWalkChunks(out: usize, max: i32, start: i32): i32 {
  let n = start;
  for (let s: u32 = 1; s < SUBS.high; s++) {
    const ss = sub(s);
    if (ss.state == SS_DEAD || ss.heap != H.index) continue;
    for (let i: u32 = 0; i < ss.count; i++) {
      if (!bitmapTest(ss.bitmap, i)) continue;
      if (n < max) {
        const o = out + <usize>n * 32;
        store<f64>(o, <f64>(ss.base + <u64>i * ss.chunkBytes));
        store<f64>(o + 8, <f64>ss.chunkBytes);
        store<f64>(o + 16, 6);
        store<f64>(o + 24, <f64>ss.bucket);
      }
      n++;
    }
  }
  return n;
}

// L1 every subsegment of the heap has a live user-block record pointing back to it, a chunk count
// that fits the block, and a free count equal to the clear bits of its bitmap, 0 < live chunks.
// L2 bucket lists: the active subsegment is ACTIVE; the partial list holds exactly the PARTIAL
//    subsegments, each with free chunks; FULL subsegments have none; held counts match.
// L3 every subsegment's slot run maps back to it (page table) and holds its chunks; the pages of the
//    live runs of every heap plus the free runs are all the pages handed out; the bitmap summary
//    marks exactly the full words.
// L4 counters (user blocks, their bytes, free and live chunk bytes, live chunks) equal a recount.
// L5 the pages of a subsegment's chunks that lfhTouch found resident (all of them while its
//    `resident` epoch holds, the first scanPages while its scanEpoch holds) are resident; neither
//    epoch is the saturated one (lfhTake's one compare counts on it).
export function lfhCheck(): i32 {
  let userBlocks: u64 = 0, ubBytes: u64 = 0, freeB: u64 = 0, liveB: u64 = 0, live: u64 = 0;
  const hdr = userBlockHeader();
  for (let s: u32 = 1; s < SUBS.high; s++) {
    const ss = sub(s);
    if (ss.state == SS_DEAD || ss.heap != H.index) continue;
    const blk = ss.block;
    if ((rec(blk).flags & 0xFF) != RK_USERBLOCK || rec(blk).aux != s) return 1;
    if (hdr + <u64>ss.count * ss.chunkBytes > bytesOf(blk) || ss.count == 0) return 1;
    let clear: u32 = 0;
    for (let i: u32 = 0; i < ss.count; i++) {
      if (!bitmapTest(ss.bitmap, i)) {
        clear++;
        if (i < ss.hint) return 1;
      }
    }
    if (clear != ss.freeCount || ss.freeCount >= ss.count) return 1;
    const words = bitmapWords(ss.count);
    for (let w: u32 = 0; w < words; w++) {
      const full = load<u32>(ss.bitmap + (<usize>w << 2)) == 0xFFFFFFFF;
      const marked = (load<u32>(ss.bitmap + ((<usize>words + <usize>(w >> 5)) << 2)) >> (w & 31)) & 1;
      if (full != (marked != 0)) return 1;
    }
    // L5 the residency the touch skip trusts (lfhTouch)
    const first = ss.base >> PAGE_SHIFT;
    const pages = <u32>(((ss.base + <u64>ss.count * ss.chunkBytes + PAGE_MASK) >> PAGE_SHIFT) - first);
    if (ss.scanPages > pages) return 5;
    if (ss.resident == RESIDENCY_EPOCH_SATURATED || ss.scanEpoch == RESIDENCY_EPOCH_SATURATED) return 5;
    const known = vmResidencyHolds(ss.resident) ? pages : vmResidencyHolds(ss.scanEpoch) ? ss.scanPages : 0;
    for (let p: u32 = 0; p < known; p++) if (!vmIsResident((first + <u64>p) << PAGE_SHIFT)) return 5;
    if (ss.state == SS_FULL && ss.freeCount) return 2;
    if (ss.state == SS_PARTIAL && !ss.freeCount) return 2;
    userBlocks++;
    ubBytes += bytesOf(blk);
    freeB += <u64>ss.freeCount * ss.chunkBytes;
    liveB += <u64>(ss.count - ss.freeCount) * ss.chunkBytes;
    live += ss.count - ss.freeCount;
  }
  for (let b: u32 = 0; b < LFH_BUCKETS; b++) {
    const bk = bucket(b);
    let held: u32 = 0;
    for (let s: u32 = 1; s < SUBS.high; s++) {
      if (sub(s).state != SS_DEAD && sub(s).heap == H.index && sub(s).bucket == b) held++;
    }
    if (held != bk.subsegments) return 2;
    if (bk.active && (sub(bk.active).state != SS_ACTIVE || sub(bk.active).bucket != b)) return 2;
    let p = bk.partial, prev: u32 = 0, partials: u32 = 0;
    while (p) {
      if (sub(p).state != SS_PARTIAL || sub(p).prev != prev || sub(p).bucket != b) return 2;
      partials++;
      prev = p;
      p = sub(p).next;
    }
    let want: u32 = 0;
    for (let s: u32 = 1; s < SUBS.high; s++) {
      if (sub(s).state == SS_PARTIAL && sub(s).heap == H.index && sub(s).bucket == b) want++;
    }
    if (want != partials) return 2;
  }
  let livePages: u64 = 0;
  for (let s: u32 = 1; s < SUBS.high; s++) {
    const ss = sub(s);
    if (ss.state == SS_DEAD) continue;
    const k = runOrder(ss.count);
    const first = ss.slotBase >> SLOT_PAGE_SHIFT;
    if (ss.slotBase & (SLOT_PAGE - 1) || first + (<u32>1 << k) > pageHigh) return 3;
    if (ss.heap == H.index) {
      for (let p = first; p < first + (<u32>1 << k); p++) if (load<u32>(pageEntry(p)) != s) return 3;
    }
    livePages += <u64>1 << k;
  }
  let freePages: u64 = 0;
  for (let k: u32 = 0; k < RUN_ORDERS; k++) {
    let f = load<u32>(runFree + (<usize>k << 2));
    while (f) {
      if (f - 1 + (<u32>1 << k) > pageHigh) return 3;
      freePages += <u64>1 << k;
      if (freePages > pageHigh) return 3;
      f = load<u32>(pageEntry(f - 1));
    }
  }
  if (freePages != pagesFree || livePages + freePages != pageHigh) return 3;
  if (userBlocks != H.userBlocks || ubBytes != H.userBlockBytes || freeB != H.allChunkBytes - H.liveChunkBytes ||
    liveB != H.liveChunkBytes || live != H.liveChunks) return 4;
  return 0;
}
