// === tcmalloc: layout of one heap's state block (after the record-pool bookkeeping of store.ts) ===

import { hs, STORE_BYTES } from "./store";
import { CLASS_SIZES_MAX, MAX_PAGES } from "./sizemap";

// Page heap statistics (page_heap.h PageHeap::Stats) and scavenger state.
export const H_SYSTEM = STORE_BYTES + 0;          // u64 stats_.system_bytes ("generic.heap_size")
export const H_FREE = STORE_BYTES + 8;            // u64 stats_.free_bytes
export const H_UNMAPPED = STORE_BYTES + 16;       // u64 stats_.unmapped_bytes
export const H_COMMITTED = STORE_BYTES + 24;      // u64 stats_.committed_bytes
export const H_SCAVENGES = STORE_BYTES + 32;      // u64 stats_.scavenge_count
export const H_RESERVES = STORE_BYTES + 40;       // u64 stats_.reserve_count
export const H_COMMITS = STORE_BYTES + 48;        // u64 stats_.commit_count
export const H_DECOMMITS = STORE_BYTES + 56;      // u64 stats_.decommit_count
export const H_COUNTER = STORE_BYTES + 64;        // i64 scavenge_counter_ (pages to free before a release)
export const H_RATE = STORE_BYTES + 72;           // f64 FLAGS_tcmalloc_release_rate as the scavenger reads it
export const H_CONFIG_RATE = STORE_BYTES + 80;    // f64 TCMALLOC_RELEASE_RATE (in force once start-up is over)
export const H_META_BYTES = STORE_BYTES + 88;     // u64 metadata_system_bytes_
export const H_META_ALLOC = STORE_BYTES + 96;     // u64 metadata_chunk_alloc_ (address)
export const H_META_AVAIL = STORE_BYTES + 104;    // u64 metadata_chunk_avail_
// Four PageHeapAllocator instances, PHA_BYTES each: area u64, avail u64, freeCount u32, inited u32.
export const H_PHA = STORE_BYTES + 112;
export const PHA_BYTES: usize = 24;
export const PHA_SPANS = 0;      // Static::span_allocator_ (Span)
export const PHA_STACKS = 1;     // Static::stacktrace_allocator_ (StackTrace, one per heap growth)
export const PHA_CACHES = 2;     // threadcache_allocator (ThreadCache)
export const PHA_NODES = 3;      // STLPageHeapAllocator of SpanSet's tree nodes
export const PHA_COUNT = 4;
export const H_BRK_BASE = H_PHA + PHA_BYTES * PHA_COUNT; // u64 first byte of the simulated break
export const H_BRK_END = H_BRK_BASE + 8;                 // u64 the current break
export const H_UNCLAIMED = H_BRK_BASE + 16;              // i64 ThreadCache::unclaimed_cache_space_
export const H_OVERALL = H_BRK_BASE + 24;                // u64 overall_thread_cache_size_
export const H_PER_THREAD = H_BRK_BASE + 32;             // u64 per_thread_cache_size_
export const H_REGIONS = H_BRK_BASE + 40;                // usize array of (base u64, bytes u64) system regions
export const H_GROWTHS = H_BRK_BASE + 48;                // usize array of (start page u64, pages u64) heap growths
// u32 / i32 scalars
export const H_RELEASE_INDEX = H_BRK_BASE + 56;  // i32 release_index_
export const H_AGGRESSIVE = H_BRK_BASE + 60;     // u32 aggressive_decommit_
export const H_SBRK_FAILED = H_BRK_BASE + 64;    // u32 DefaultSysAllocator failed_[0]
export const H_MMAP_FAILED = H_BRK_BASE + 68;    // u32 failed_[1]
export const H_RACE = H_BRK_BASE + 72;           // i32 EvictRandomSizeClass's race_counter
export const H_HEAP_COUNT = H_BRK_BASE + 76;     // i32 thread_heap_count_
export const H_NEXT_STEAL = H_BRK_BASE + 80;     // i32 next_memory_steal_ (cache index, -1 = NULL)
export const H_THREAD_HEAPS = H_BRK_BASE + 84;   // i32 thread_heaps_ (cache index, -1 = NULL)
export const H_TLS_CACHE = H_BRK_BASE + 88;      // i32 the thread's cache (threadlocal_data_.heap), -1 = none
export const H_LARGE_NORMAL = H_BRK_BASE + 92;   // u32 root of large_normal_
export const H_LARGE_RETURNED = H_BRK_BASE + 96; // u32 root of large_returned_
export const H_REGION_COUNT = H_BRK_BASE + 100;  // u32
export const H_REGION_CAP = H_BRK_BASE + 104;    // u32
export const H_GROWTH_COUNT = H_BRK_BASE + 108;  // u32
export const H_GROWTH_CAP = H_BRK_BASE + 112;    // u32
export const H_LEAVES = H_BRK_BASE + 116;        // u32 pagemap leaves allocated
export const H_CACHE_COUNT = H_BRK_BASE + 120;   // i32 thread caches created
export const H_STARTED = H_BRK_BASE + 124;       // u32 start-up calls done
export const H_FREE_SPANS = H_BRK_BASE + 128;    // u32 spans on the page heap's lists and sets
// Page heap free lists: list heads (span records) for lengths 1..kMaxPages, normal then returned.
export const H_LISTS = H_BRK_BASE + 136;
export const LISTS_BYTES: usize = <usize>MAX_PAGES * 8;

// Central free lists, one CF_BYTES block per size class (central_freelist.h CentralFreeList).
export const H_CENTRAL = H_LISTS + LISTS_BYTES;
export const MAX_TRANSFER_ENTRIES: i32 = 64;      // central_freelist.h: kMaxNumTransferEntries
export const CF_EMPTY: usize = 0;       // u32 head of empty_ (spans with no free object)
export const CF_NONEMPTY: usize = 4;    // u32 head of nonempty_
export const CF_SPANS: usize = 8;       // u32 num_spans_
export const CF_COUNTER: usize = 12;    // u32 counter_ (free objects in the spans)
export const CF_USED: usize = 16;       // i32 used_slots_ (transfer cache entries)
export const CF_CACHE: usize = 20;      // i32 cache_size_
export const CF_MAX_CACHE: usize = 24;  // i32 max_cache_size_
export const CF_SLOTS: usize = 32;      // MAX_TRANSFER_ENTRIES × (head u32, tail u32)
export const CF_BYTES: usize = CF_SLOTS + <usize>MAX_TRANSFER_ENTRIES * 8;

// Thread caches (thread_cache.h ThreadCache): the pre-TSD cache and the thread's own (see tcCreate).
export const H_CACHES = H_CENTRAL + <usize>CLASS_SIZES_MAX * CF_BYTES;
export const MAX_CACHES = 2;
export const TC_SIZE: usize = 0;        // i32 size_
export const TC_MAX: usize = 4;         // i32 max_size_
export const TC_NEXT: usize = 8;        // i32 next_ (cache index, -1 = NULL)
export const TC_PREV: usize = 12;       // i32 prev_
export const TC_LISTS: usize = 16;      // CLASS_SIZES_MAX × FreeList
export const FL_HEAD: usize = 0;        // u32 list_
export const FL_LENGTH: usize = 4;      // u32 length_
export const FL_LOWATER: usize = 8;     // u32 lowater_
export const FL_MAX: usize = 12;        // u32 max_length_
export const FL_OVERAGES: usize = 16;   // u32 length_overages_
export const FL_BYTES: usize = 20;
export const TC_BYTES: usize = TC_LISTS + <usize>CLASS_SIZES_MAX * FL_BYTES;
export const HS_BYTES: usize = H_CACHES + <usize>MAX_CACHES * TC_BYTES;

// @ts-ignore: decorator
@inline export function ld64(o: usize): u64 { return load<u64>(hs + o); }
// @ts-ignore: decorator
@inline export function st64(o: usize, v: u64): void { store<u64>(hs + o, v); }
// @ts-ignore: decorator
@inline export function ldi64(o: usize): i64 { return load<i64>(hs + o); }
// @ts-ignore: decorator
@inline export function sti64(o: usize, v: i64): void { store<i64>(hs + o, v); }
// @ts-ignore: decorator
@inline export function ld32(o: usize): u32 { return load<u32>(hs + o); }
// @ts-ignore: decorator
@inline export function st32(o: usize, v: u32): void { store<u32>(hs + o, v); }
// @ts-ignore: decorator
@inline export function ldi32(o: usize): i32 { return load<i32>(hs + o); }
// @ts-ignore: decorator
@inline export function sti32(o: usize, v: i32): void { store<i32>(hs + o, v); }
// @ts-ignore: decorator
@inline export function add64(o: usize, d: i64): void { store<i64>(hs + o, load<i64>(hs + o) + d); }

// Central free list block of class cl.
// @ts-ignore: decorator
@inline export function CF(cl: i32): usize { return hs + H_CENTRAL + <usize>cl * CF_BYTES; }
// Thread cache block c, and its free list of class cl.
// @ts-ignore: decorator
@inline export function TC(c: i32): usize { return hs + H_CACHES + <usize>c * TC_BYTES; }
// @ts-ignore: decorator
@inline export function FL(c: i32, cl: i32): usize { return TC(c) + TC_LISTS + <usize>cl * FL_BYTES; }
// Page heap list heads: normal list of length len (1..kMaxPages), and its returned twin.
// @ts-ignore: decorator
@inline export function normalHead(len: u64): u32 { return load<u32>(hs + H_LISTS + (<usize>(len - 1) << 3)); }
// @ts-ignore: decorator
@inline export function returnedHead(len: u64): u32 { return load<u32>(hs + H_LISTS + (<usize>(len - 1) << 3) + 4); }

if (HS_BYTES % 8) ERROR("tcmalloc heap state must stay 8-byte aligned");
