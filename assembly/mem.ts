// Engine-side memory for growable tables. TLSF's realloc wants a live block, so the first
// allocation goes through alloc.
export function resize(ptr: usize, bytes: usize): usize {
  return ptr ? heap.realloc(ptr, bytes) : heap.alloc(bytes);
}

// resize of a table whose first `oldBytes` are kept and whose new part, up to `bytes`, reads as zero.
export function resizeZeroed(ptr: usize, oldBytes: usize, bytes: usize): usize {
  const p = resize(ptr, bytes);
  memory.fill(p + oldBytes, 0, bytes - oldBytes);
  return p;
}

// Per-heap (or per-usage) u64 counter tables: element i of a table at `base`.
// @ts-ignore: decorator
@inline export function u64Get(base: usize, i: i32): u64 { return load<u64>(base + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline export function u64Add(base: usize, i: i32, delta: i64): void {
  const p = base + (<usize>i << 3);
  store<i64>(p, load<i64>(p) + delta);
}
