// === tcmalloc size classes, as gperftools 2.10 computes them at start-up (common.cc SizeMap::Init) ===
//
// Sizes up to kMaxSize (256 KiB) are rounded up to one of 85 classes; class 0 is never used.
// Walking sizes from 8 upwards in steps of the alignment in force (8 below 16, 16 below 128, then
// an eighth of the size's power of two, capped at one tcmalloc page), each size gets the fewest
// pages that waste at most an eighth of the span and hold at least a quarter of the transfer batch;
// a size whose span has the same page count and object count as the previous class widens that
// class instead of starting a new one. The transfer batch ("objects to move" between a thread cache
// and the central list) is 64 KiB worth of objects, at least 2 and at most 32.
// Lookup: sizes ≤ 1024 index the class array by (s + 7) / 8, larger ones by (s + 127 + 120·128) / 128.

export const TC_PAGE_SHIFT: u64 = 13;                  // common.h: kPageShift (8 KiB tcmalloc pages)
export const TC_PAGE_BYTES: u64 = 1 << TC_PAGE_SHIFT;  // common.h: kPageSize
export const MAX_SMALL_BYTES: u64 = 256 * 1024;        // common.h: kMaxSize
export const MAX_PAGES: u32 = 1 << (20 - <u32>TC_PAGE_SHIFT); // common.h: kMaxPages (128: exact lists up to 1 MiB)
export const CLASS_SIZES_MAX: i32 = 128;               // common.h: kClassSizesMax
const ALIGNMENT: u64 = 8;                               // common.h: kAlignment
const MIN_ALIGN: u64 = 16;                              // common.h: kMinAlign (TCMALLOC_ALIGN_8BYTES not set)
const MAX_SMALL_SIZE: u64 = 1024;                       // common.h: SizeMap::kMaxSmallSize
const CLASS_ARRAY_SIZE: i32 = <i32>((MAX_SMALL_BYTES + 127 + (120 << 7)) >> 7) + 1; // common.h: kClassArraySize
const TRANSFER_NUM_OBJECTS: i32 = 32;                   // common.cc: kDefaultTransferNumObjecs
const TRANSFER_BYTES: f64 = 64.0 * 1024.0;              // common.cc: NumMoveSize, "approx 64k transfers"

const classSize = memory.data(CLASS_SIZES_MAX * 4);     // i32 per class
const classPages = memory.data(CLASS_SIZES_MAX * 4);    // u32 per class
const classMove = memory.data(CLASS_SIZES_MAX * 4);     // i32 per class (0 for class 0)
const classArray = memory.data(CLASS_ARRAY_SIZE);       // u8 per index
let classes: i32 = 0;

// @ts-ignore: decorator
@inline export function numClasses(): i32 { return classes; }
// @ts-ignore: decorator
@inline export function sizeOfClass(cl: i32): u64 { return <u64>load<i32>(classSize + (<usize>cl << 2)); }
// @ts-ignore: decorator
@inline export function pagesOfClass(cl: i32): u32 { return load<u32>(classPages + (<usize>cl << 2)); }
// @ts-ignore: decorator
@inline export function moveOfClass(cl: i32): i32 { return load<i32>(classMove + (<usize>cl << 2)); }

// The class of a request of `size` bytes, or 0 when it is above kMaxSize (a page-level allocation).
// @ts-ignore: decorator
@inline export function classOfSize(size: u64): i32 {
  if (size <= MAX_SMALL_SIZE) return <i32>load<u8>(classArray + <usize>((size + 7) >> 3));
  if (size <= MAX_SMALL_BYTES) return <i32>load<u8>(classArray + <usize>((size + 127 + (120 << 7)) >> 7));
  return 0;
}

function lgFloor(n: u64): u64 { return 63 - clz(n); }

// common.cc AlignmentForSize
function alignmentForSize(size: u64): u64 {
  let alignment = ALIGNMENT;
  if (size > MAX_SMALL_BYTES) alignment = TC_PAGE_BYTES;
  else if (size >= 128) alignment = (<u64>1 << lgFloor(size)) / 8;
  else if (size >= MIN_ALIGN) alignment = MIN_ALIGN;
  return alignment > TC_PAGE_BYTES ? TC_PAGE_BYTES : alignment;
}

// common.cc SizeMap::NumMoveSize
function numMoveSize(size: u64): i32 {
  if (size == 0) return 0;
  let num = <i32>(TRANSFER_BYTES / <f64>size);
  if (num < 2) num = 2;
  return num > TRANSFER_NUM_OBJECTS ? TRANSFER_NUM_OBJECTS : num;
}

function classIndex(s: u64): usize {
  return s <= MAX_SMALL_SIZE ? <usize>((s + 7) >> 3) : <usize>((s + 127 + (120 << 7)) >> 7);
}

// Computes the tables once per module instance (they depend on no parameter).
export function initSizeMap(): void {
  if (classes) return;
  let sc = 1;
  let alignment = ALIGNMENT;
  for (let size = ALIGNMENT; size <= MAX_SMALL_BYTES; size += alignment) {
    alignment = alignmentForSize(size);
    const blocksToMove = <u64>(numMoveSize(size) / 4);
    let psize: u64 = 0;
    do {
      psize += TC_PAGE_BYTES;
      while (psize % size > (psize >> 3)) psize += TC_PAGE_BYTES;
    } while (psize / size < blocksToMove);
    const myPages = <u32>(psize >> TC_PAGE_SHIFT);
    if (sc > 1 && myPages == pagesOfClass(sc - 1)) {
      const myObjects = (<u64>myPages << TC_PAGE_SHIFT) / size;
      const prevObjects = (<u64>pagesOfClass(sc - 1) << TC_PAGE_SHIFT) / sizeOfClass(sc - 1);
      if (myObjects == prevObjects) {
        store<i32>(classSize + (<usize>(sc - 1) << 2), <i32>size);
        continue;
      }
    }
    store<u32>(classPages + (<usize>sc << 2), myPages);
    store<i32>(classSize + (<usize>sc << 2), <i32>size);
    sc++;
  }
  if (sc > CLASS_SIZES_MAX) unreachable();
  classes = sc;
  let next: u64 = 0;
  for (let c = 1; c < sc; c++) {
    const max = sizeOfClass(c);
    for (let s = next; s <= max; s += ALIGNMENT) store<u8>(classArray + classIndex(s), <u8>c);
    next = max + ALIGNMENT;
  }
  for (let c = 1; c < sc; c++) store<i32>(classMove + (<usize>c << 2), numMoveSize(sizeOfClass(c)));
}

// For the host and the tests: class size, pages and batch of class `cl` (0 past the last class).
export function tcClassInfo(cl: i32, field: i32): u32 {
  initSizeMap();
  if (cl <= 0 || cl >= classes) return 0;
  return field == 0 ? <u32>sizeOfClass(cl) : field == 1 ? pagesOfClass(cl) : <u32>moveOfClass(cl);
}
