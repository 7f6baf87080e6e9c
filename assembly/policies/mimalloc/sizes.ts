// === mimalloc 2.0.9 (x86-64 Linux, Debian 12 build): sizes, size classes and span bins ===
//
// Pure arithmetic, no state. Each constant is the real library's, named after it, with the file
// it comes from. The rules that use them are described in mimalloc.ts and docs/mimalloc.md.

import { KiB, MiB, GiB } from "../../vm/constants";

// ---------------------------------------------------------------- segments and slices

export const SLICE_SHIFT: u64 = 16;                          // mimalloc-types.h: MI_SEGMENT_SLICE_SHIFT (13 + 3)
export const SLICE_BYTES: u64 = 1 << SLICE_SHIFT;            // mimalloc-types.h: MI_SEGMENT_SLICE_SIZE, 64 KiB
export const SEGMENT_BYTES: u64 = 32 * MiB;                  // mimalloc-types.h: MI_SEGMENT_SIZE (1 << (9 + 16))
export const SLICES_PER_SEGMENT: u32 = <u32>(SEGMENT_BYTES / SLICE_BYTES); // mimalloc-types.h: MI_SLICES_PER_SEGMENT, 512
export const MEDIUM_PAGE_BYTES: u64 = 512 * KiB;             // mimalloc-types.h: MI_MEDIUM_PAGE_SIZE
export const SMALL_OBJ_MAX: u64 = 64 * KiB / 4;              // mimalloc-types.h: MI_SMALL_OBJ_SIZE_MAX = small page / 4 (16 KiB)
export const MEDIUM_OBJ_MAX: u64 = MEDIUM_PAGE_BYTES / 4;    // mimalloc-types.h: MI_MEDIUM_OBJ_SIZE_MAX (128 KiB)
export const MEDIUM_OBJ_WSIZE_MAX: u64 = MEDIUM_OBJ_MAX / 8; // mimalloc-types.h: MI_MEDIUM_OBJ_WSIZE_MAX
export const LARGE_OBJ_MAX: u64 = SEGMENT_BYTES / 2;         // mimalloc-types.h: MI_LARGE_OBJ_SIZE_MAX (16 MiB)
export const ALIGNMENT_MAX: u64 = SEGMENT_BYTES >> 1;        // mimalloc-types.h: MI_ALIGNMENT_MAX (16 MiB)
export const MAX_SLICE_OFFSET: u32 = <u32>(ALIGNMENT_MAX / SLICE_BYTES) - 1; // mimalloc-types.h: MI_MAX_SLICE_OFFSET (255)
export const HUGE_BLOCK_BYTES: u64 = 2 * GiB;                // mimalloc-types.h: MI_HUGE_BLOCK_SIZE (block sizes stored in 32 bits)
export const SMALL_SIZE_MAX: u64 = 128 * 8;                  // mimalloc.h: MI_SMALL_SIZE_MAX = MI_SMALL_WSIZE_MAX words
export const MAX_ALIGN_GUARANTEE: u64 = 8 * 16;              // mimalloc-types.h: MI_MAX_ALIGN_GUARANTEE = 8 * MI_MAX_ALIGN_SIZE
// The segment header (mi_segment_t, 41 304 bytes with its 513 slice entries of 80 bytes) rounded
// up to OS pages and then to a slice: one slice, page-aligned size 45 056.
export const INFO_SLICES: u32 = 1;                           // segment.c: mi_segment_calculate_slices (isize)
export const SEGMENT_HEADER_BYTES: u64 = 264;                // mimalloc-types.h: offsetof(mi_segment_t, slices) on x86-64
export const SLICE_ENTRY_BYTES: u64 = 80;                    // mimalloc-types.h: sizeof(mi_page_t) on x86-64
export const SEGMENT_ZEROED_FROM: u64 = 184;                 // segment.c: mi_segment_alloc memsets from offsetof(mi_segment_t, next)

// Commit granularity inside a segment: the mask has one bit per slice; commits are rounded out to
// 1 MiB, decommits rounded in to slices.
export const COMMIT_BYTES: u64 = SLICE_BYTES;                // mimalloc-types.h: MI_COMMIT_SIZE
export const MINIMAL_COMMIT_BYTES: u64 = 16 * SLICE_BYTES;   // mimalloc-types.h: MI_MINIMAL_COMMIT_SIZE (1 MiB)
export const MASK_WORDS: i32 = 8;                            // mimalloc-types.h: MI_COMMIT_MASK_FIELD_COUNT (512 bits / 64)

// ---------------------------------------------------------------- pages

export const BIN_HUGE: i32 = 73;                             // mimalloc-types.h: MI_BIN_HUGE
export const BIN_FULL: i32 = BIN_HUGE + 1;                   // mimalloc-types.h: MI_BIN_FULL
export const BIN_COUNT: i32 = BIN_FULL + 1;
export const MAX_EXTEND_BYTES: u64 = 4 * KiB;                // page.c: MI_MAX_EXTEND_SIZE
export const MIN_EXTEND: u64 = 4;                            // page.c: MI_MIN_EXTEND (MI_SECURE = 0)
export const RETIRE_CYCLES: u8 = 8;                          // page.c: MI_RETIRE_CYCLES
export const MAX_RETIRE_BYTES: u64 = MEDIUM_OBJ_MAX;         // page.c: MI_MAX_RETIRE_SIZE
export const SMALL_PAGE_START_OFFSET: u64 = 3 * MAX_ALIGN_GUARANTEE; // segment.c: start_offset for 8 <= block <= 1024

// ---------------------------------------------------------------- spans, cache, OS

export const SEGMENT_BIN_MAX: i32 = 35;                      // mimalloc-types.h: MI_SEGMENT_BIN_MAX
export const CACHE_SLOTS: i32 = 64 * 16;                     // segment-cache.c: MI_CACHE_MAX = 64 bits × MI_CACHE_FIELDS
export const CACHE_PROBES: i32 = 16;                         // segment-cache.c: MI_CACHE_FIELDS slots probed per push
export const MAX_PURGE_PER_PUSH: i32 = 4;                    // segment-cache.c: MI_MAX_PURGE_PER_PUSH
export const HINT_BASE: u64 = <u64>2 << 40;                  // os.c: MI_HINT_BASE (2 TiB; the library adds a random offset)
export const HINT_MAX_BYTES: u64 = 1 * GiB;                  // os.c: mi_os_get_aligned_hint gives no hint above 1 GiB
export const OS_PAGE_BYTES: u64 = 4 * KiB;                   // os.c: _mi_os_page_size on x86-64 Linux
export const BLOCK_LINK_BYTES: u64 = 8;                      // mimalloc-types.h: sizeof(mi_block_t), the free-list link

// ---------------------------------------------------------------- arithmetic

// @ts-ignore: decorator
@inline export function alignUpBy(x: u64, a: u64): u64 { return (x + a - 1) / a * a; }

// Index of the highest set bit (x != 0): mi_bsr.
// @ts-ignore: decorator
@inline function bsr(x: u64): u64 { return 63 - clz<u64>(x); }

// page-queue.c: mi_bin, for 16-byte minimal alignment (MI_ALIGN2W): 8 bytes get bin 1, then even
// word counts up to 8 words, then four bins per power of two up to 128 KiB, then MI_BIN_HUGE.
export function binOf(size: u64): i32 {
  const w = (size + 7) >> 3;
  if (w <= 1) return 1;
  if (w <= 8) return <i32>((w + 1) & ~(<u64>1));
  if (w > MEDIUM_OBJ_WSIZE_MAX) return BIN_HUGE;
  const w1 = w - 1;
  const b = bsr(w1);
  return <i32>((b << 2) + ((w1 >> (b - 2)) & 3)) - 3;
}

// init.c: MI_PAGE_QUEUES_EMPTY, the block size of each bin's queue (the largest size mi_bin maps
// there). Bins 73 (huge) and 74 (full) hold pages of any size.
export function binBlockBytes(bin: i32): u64 {
  if (bin <= 8) return bin == 0 ? 8 : <u64>bin * 8;
  if (bin >= BIN_HUGE) return (MEDIUM_OBJ_WSIZE_MAX + <u64>(bin - BIN_HUGE + 1)) * 8;
  const b = <u64>(bin + 3) >> 2, m = <u64>(bin + 3) & 3;
  return ((5 + m) << (b - 2)) * 8;
}

// segment.c: mi_slice_bin8, the span queue of a span of `count` slices.
export function sliceBin(count: u64): i32 {
  if (count <= 1) return <i32>count;
  const c = count - 1;
  const s = bsr(c);
  if (s <= 2) return <i32>c + 1;
  return <i32>((s << 2) | ((c >> (s - 2)) & 3)) - 4;
}

// os.c: _mi_os_good_alloc_size, what an OS allocation of `size` bytes really maps.
export function goodAllocBytes(size: u64): u64 {
  let a: u64;
  if (size < 512 * KiB) a = OS_PAGE_BYTES;
  else if (size < 2 * MiB) a = 64 * KiB;
  else if (size < 8 * MiB) a = 256 * KiB;
  else if (size < 32 * MiB) a = 1 * MiB;
  else a = 4 * MiB;
  if (size >= <u64>0xFFFFFFFFFFFFFFFF - a) return size;
  return alignUpBy(size, a);
}

// segment.c: _mi_segment_page_start_from_slice, where a page's blocks begin inside its slices
// (small blocks start 384 bytes in, to spread them over cache sets).
// @ts-ignore: decorator
@inline export function pageStartOffset(blockBytes: u64): u64 {
  return blockBytes >= 8 && blockBytes <= 1024 ? SMALL_PAGE_START_OFFSET : 0;
}

// include/mimalloc-internal.h: _mi_random_shuffle (splitmix64 finaliser), used by the segment
// cache to pick where its purge probe starts.
export function randomShuffle(x: u64): u64 {
  if (x == 0) x = 17;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9;
  x ^= x >> 27;
  x *= 0x94d049bb133111eb;
  x ^= x >> 31;
  return x;
}
