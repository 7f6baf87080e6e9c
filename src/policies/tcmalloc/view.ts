// The tcmalloc heap's checkpoint view: the library's own statistics under `native`, keyed by the
// property names MallocExtension::GetNumericProperty answers to.
import type { HeapSample } from '../../engine/engine.js';
import type { HeapCounters } from '../../report/types.js';

/** The eight properties heapsim reproduces, with the policy counter each comes from. */
export const TCMALLOC_NATIVE_PROPERTIES = [
  ['generic.current_allocated_bytes', 'currentAllocated'],
  ['generic.heap_size', 'heapSize'],
  ['tcmalloc.pageheap_free_bytes', 'pageheapFree'],
  ['tcmalloc.pageheap_unmapped_bytes', 'pageheapUnmapped'],
  ['tcmalloc.central_cache_free_bytes', 'centralFree'],
  ['tcmalloc.transfer_cache_free_bytes', 'transferFree'],
  ['tcmalloc.thread_cache_free_bytes', 'threadFree'],
  ['tcmalloc.current_total_thread_cache_bytes', 'threadFree'],
] as const;
export type TcmallocProperty = (typeof TCMALLOC_NATIVE_PROPERTIES)[number][0];
export const TCMALLOC_PROPERTY_NAMES: readonly TcmallocProperty[] = TCMALLOC_NATIVE_PROPERTIES.map(([n]) => n);

export function tcmallocNative(counters: Record<string, number>): Record<TcmallocProperty, number> {
  const out = {} as Record<TcmallocProperty, number>;
  for (const [name, counter] of TCMALLOC_NATIVE_PROPERTIES) out[name] = counters[counter]!;
  return out;
}

export function tcmallocHeapView(h: HeapSample): Partial<HeapCounters> {
  return { native: tcmallocNative(h.policyCounters) };
}
