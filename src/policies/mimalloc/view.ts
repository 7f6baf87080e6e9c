// The mimalloc heap's own statistics (checkpoint `heap.native`), under the names the issue and
// docs/mimalloc.md give them: mi_process_info's current and peak commit, and the sums over the areas
// mi_heap_visit_blocks reports for the default heap.
import type { HeapSample } from '../../engine/sample.js';

export const MIMALLOC_NATIVE_FIELDS = [
  'current_commit', 'peak_commit', 'area_reserved', 'area_committed', 'area_used_bytes', 'area_used_blocks', 'areas',
] as const;
export type MimallocNativeField = (typeof MIMALLOC_NATIVE_FIELDS)[number];

/** PolicySpec.native: the policy's counters of the same names. */
export function mimallocNativeOf(h: HeapSample): Record<MimallocNativeField, number> {
  const out = {} as Record<MimallocNativeField, number>;
  for (const name of MIMALLOC_NATIVE_FIELDS) out[name] = h.policyCounters[name]!;
  return out;
}
