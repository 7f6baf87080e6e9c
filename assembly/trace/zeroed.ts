// === Zeroed memory without touching fresh pages ===
//
// Memory the allocator grows into is zero already (WebAssembly grows linear memory with zero
// pages): zeroing it again touches every page, and a first touch of a page is a page fault, paid
// whether or not the table is ever filled (a table presized from a hint, a block reserved for
// pages made later). Only the part of a block below memory's end before it was allocated (the
// allocator may begin it in a free block it joins to the new pages) can hold old bytes.

const WASM_PAGE_LOG2: usize = 16;                     // 64 KiB pages of linear memory

/** Memory's end now: a block allocated after this call reads as zero from here on. */
// @ts-ignore: decorator
@inline export function memoryEnd(): usize { return <usize>memory.size() << WASM_PAGE_LOG2; }

/** Zeroes the part of [p, p + bytes) below `fresh` (a memoryEnd() taken before p's block was allocated). */
// @ts-ignore: decorator
@inline export function zeroBelow(p: usize, bytes: usize, fresh: usize): void {
  if (p < fresh) memory.fill(p, 0, min(bytes, fresh - p));
}

/** heap.alloc of `bytes` that read as zero. */
export function allocZeroed(bytes: usize): usize {
  const fresh = memoryEnd();
  const p = heap.alloc(bytes);
  zeroBelow(p, bytes, fresh);
  return p;
}

const OS_PAGE_BYTES: usize = 4096;

/**
 * Writes a zero into each 4 KiB page of [p, p + bytes), a block that reads as zero (allocZeroed's,
 * or zeroed by zeroBelow). A fresh page whose first touch is a read (the .hst decoder reads a
 * record early, hst.ts stage) is mapped to the kernel's zero page, and the write that follows
 * faults again to copy it: two faults a page. Written first, one.
 */
export function writeTouch(p: usize, bytes: usize): void {
  const end = p + bytes;
  for (let a = p; a < end; a = (a + OS_PAGE_BYTES) & ~(OS_PAGE_BYTES - 1)) store<u8>(a, 0);
}
