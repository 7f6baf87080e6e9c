// The `ptmalloc` policy's contribution to the diagnosis: memory the program freed that glibc's
// malloc kept, by glibc's own mechanism (free chunks below a live chunk, fastbin and tcache chunks
// never coalesced, top below the trim threshold, the dynamically raised mmap threshold). The
// rules behind each cause are in src/policies/ptmalloc/diagnose.ts (diagnosePtmalloc).
import type { Checkpoint, DiagnosisCause } from '../../report/types.js';
import { diagnosePtmalloc } from './diagnose.js';

export interface PtmallocCause extends DiagnosisCause {
  layer: 'ptmalloc';
  /** The seed's layer: 1b, the language runtime's malloc/free. */
  seedLayer: '1b';
  heap: number;
}

/**
 * The causes of every ptmalloc heap in one checkpoint (usually the last moment of a run), biggest
 * first, ready for `diagnose(series, { causes })`. `params` are each heap's parameters as given
 * to the run (they decide the trim threshold), by heap index.
 */
export function ptmallocCauses(moment: Checkpoint, params: Record<number, Record<string, string | number>> = {}): PtmallocCause[] {
  const out: PtmallocCause[] = [];
  for (const h of moment.heaps ?? [moment.heap]) {
    if (h.policy !== 'ptmalloc') continue;
    const heap = typeof h.heap === 'number' ? h.heap : 0;
    for (const c of diagnosePtmalloc(h, params[heap] ?? {}).causes) {
      if (c.bytes > 0) out.push({ ...c, layer: 'ptmalloc', seedLayer: '1b', heap });
    }
  }
  return out.sort((a, b) => b.bytes - a.bytes);
}
