// The tcmalloc heap's own statistics (checkpoint `heap.native`), keyed by the property names
// MallocExtension::GetNumericProperty answers to, from the policy's counters.
import type { HeapSample } from '../../engine/sample.js';

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

/** PolicySpec.native: the statistics of one heap sample under the library's property names. */
export function tcmallocNativeOf(h: HeapSample): Record<TcmallocProperty, number> {
  return tcmallocNative(h.policyCounters);
}
