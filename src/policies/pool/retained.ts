// The `pool` policy's contribution to the diagnosis: memory the program freed that the pool kept.
// A pool (layer 1a of the seed's picture) keeps every freed object on its class list and never
// gives a chunk back, so after a peak its committed bytes stay at the peak while its busy bytes
// fall: the difference is on the pool's lists. The shared diagnose() (branch windbg) collects
// causes like this one from every layer of a sample or checkpoint.
import type { HeapSample, Sample } from '../../engine/sample.js';
import type { Checkpoint, DiagnosisCause, HeapCounters } from '../../report/types.js';

export const POOL_RETAINED_MECHANISM = 'retained by pool (freed objects kept on pool lists)';

export interface PoolRetainedCause extends DiagnosisCause {
  mechanism: typeof POOL_RETAINED_MECHANISM;
  /** Bytes of freed objects on the pool's class lists. */
  bytes: number;
  layer: 'pool';
  /** The seed's layer: 1a, a custom memory management library. */
  seedLayer: '1a';
  heap: number;
  /** What the pool takes its chunks from: the VM, or the parent heap (its policy when known). */
  below: { kind: 'vm' } | { kind: 'heap'; heap: number; policy: string };
  freeObjects: number;
  /** Chunk bytes never handed out yet (the tails of the classes' current chunks); also held. */
  uncarvedBytes: number;
  chunks: number;
  /** Bytes the pool holds from the layer below (chunks and pass-through blocks). */
  heldBytes: number;
  busyBytes: number;
}

type AnyHeap = HeapSample | HeapCounters;

function counter(h: AnyHeap, name: string): number {
  const v = 'policyCounters' in h && typeof h.policyCounters === 'object'
    ? (h as HeapSample).policyCounters[name]
    : (h as HeapCounters)[name];
  return typeof v === 'number' ? v : 0;
}

function indexOf(h: AnyHeap): number { return typeof h.heap === 'number' ? h.heap : 0; }
function parentOf(h: AnyHeap): number { return typeof h.parent === 'number' ? h.parent : -1; }

/**
 * The retained-memory cause of one `pool` heap, from an engine sample (HeapSample) or from a
 * checkpoint (HeapCounters, as `run --json` prints them); undefined for other policies. Pass the
 * whole sample or checkpoint to name the policy of the layer below when the pool is stacked.
 */
export function poolRetainedCause(heap: AnyHeap, context?: Sample | Checkpoint): PoolRetainedCause | undefined {
  if (heap.policy !== 'pool') return undefined;
  const p = parentOf(heap);
  const others: AnyHeap[] = context?.heaps ?? [];
  const parent = p >= 0 ? others.find((x) => indexOf(x) === p) : undefined;
  const below: PoolRetainedCause['below'] = p < 0
    ? { kind: 'vm' }
    : { kind: 'heap', heap: p, policy: parent?.policy ?? 'unknown' };
  return {
    mechanism: POOL_RETAINED_MECHANISM,
    bytes: counter(heap, 'freeObjectBytes'),
    layer: 'pool',
    seedLayer: '1a',
    heap: indexOf(heap),
    below,
    freeObjects: counter(heap, 'freeObjects'),
    uncarvedBytes: counter(heap, 'uncarvedBytes'),
    chunks: counter(heap, 'chunks'),
    heldBytes: heap.committedBytes,
    busyBytes: heap.busyBytes,
  };
}

/**
 * The pool causes of every pool heap in one sample or checkpoint (usually the last moment of a
 * series), biggest first, ready for `diagnose(series, { causes })`.
 */
export function poolCauses(moment: Sample | Checkpoint): PoolRetainedCause[] {
  const heaps: AnyHeap[] = moment.heaps ?? [];
  return heaps
    .map((h) => poolRetainedCause(h, moment))
    .filter((c): c is PoolRetainedCause => c !== undefined)
    .sort((a, b) => b.bytes - a.bytes);
}
