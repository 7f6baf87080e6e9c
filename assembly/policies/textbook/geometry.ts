// === geometry: the block layout the textbook heaps share (best-fit, next-fit, segregated, buddy) ===
//
// A 16-byte header in front of every block and a 16-byte granule: the layout of first-fit too, so
// that comparing these policies measures their placement, not their headers. An aligned request
// (alignment above the granule) asks for alignment - 16 more bytes and the user pointer is aligned
// inside the block.

import { alignUp } from "../../vm/constants";

export const HEADER_BYTES: u64 = 16;
export const GRANULE_BYTES: u64 = 16;
export const GRANULE_LOG2: u32 = 4;

// Bytes a request needs before rounding: max(n, 1) + header, plus the alignment slack.
// @ts-ignore: decorator
@inline export function neededBytes(size: u64, alignLog2: u32): u64 {
  let need = (size ? size : 1) + HEADER_BYTES;
  if (alignLog2 > GRANULE_LOG2) need += (<u64>1 << alignLog2) - GRANULE_BYTES;
  return need;
}

// Block bytes of a request on a granule heap: the need rounded up to the granule.
// @ts-ignore: decorator
@inline export function blockBytes(size: u64, alignLog2: u32): u64 {
  return alignUp(neededBytes(size, alignLog2), GRANULE_BYTES);
}

// The address the program sees for a block at `addr` (alignLog2 0 when not aligned beyond 16).
// @ts-ignore: decorator
@inline export function userAddressOf(addr: u64, alignLog2: u32): u64 {
  const u = addr + HEADER_BYTES;
  return alignLog2 ? alignUp(u, <u64>1 << alignLog2) : u;
}

// alignLog2 as a block keeps it: 0 unless the request asked for more than the granule.
// @ts-ignore: decorator
@inline export function keptAlign(alignLog2: u32): u32 { return alignLog2 > GRANULE_LOG2 ? alignLog2 : 0; }
