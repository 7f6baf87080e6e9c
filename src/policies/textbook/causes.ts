// The retention causes of the heaps that grow at their top (best-fit, next-fit, segregated: the
// arena of assembly/policies/textbook/arena.ts): the committed part of the top, which only TRIM
// gives back. Shared by those policies' specs.
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';

const num = (h: HeapCounters, name: string): number => (typeof h[name] === 'number' ? (h[name] as number) : 0);

export const TOP_MECHANISM = 'committed top of the heap: free() never shrinks an sbrk-style heap; only trim gives these pages back';

export function topCause(h: HeapCounters, layer: string): DiagnosisCause {
  return { mechanism: TOP_MECHANISM, bytes: num(h, 'topCommittedBytes'), layer };
}

/** best-fit and next-fit: free blocks between live ones, and the committed top. */
export function fitCauses(h: HeapCounters, layer: string): DiagnosisCause[] {
  const top = num(h, 'topCommittedBytes');
  return [
    {
      mechanism: 'free blocks between live blocks: free() coalesces them at once, but a heap grown at its top gives back only its top',
      bytes: Math.max(0, h.freeBytes - top),
      layer,
    },
    topCause(h, layer),
  ].sort((a, b) => b.bytes - a.bytes);
}
