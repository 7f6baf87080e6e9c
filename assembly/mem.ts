// Engine-side memory for growable tables. TLSF's realloc wants a live block, so the first
// allocation goes through alloc.
export function resize(ptr: usize, bytes: usize): usize {
  return ptr ? heap.realloc(ptr, bytes) : heap.alloc(bytes);
}
