// The `pool` policy's contribution to the diagnosis: memory the program freed that the pool kept.
// A pool (layer 1a of the seed's picture) keeps every freed object on its class list and never
// gives a chunk back, so after a peak its committed bytes stay at the peak while its busy bytes
// fall: the difference is on the pool's lists. The shared diagnose() (branch windbg) collects
// causes like this one from every layer of a sample.
import type { HeapSample, Sample } from '../engine/engine.js';

export const POOL_RETAINED_MECHANISM = 'retained by pool (freed objects kept on pool lists)';

export interface PoolRetainedCause {
  mechanism: typeof POOL_RETAINED_MECHANISM;
  /** Bytes of freed objects on the pool's class lists. */
  bytes: number;
  layer: 'pool';
  /** The seed's layer: 1a, a custom memory management library. */
  seedLayer: '1a';
  heap: number;
  /** What the pool takes its chunks from: 'vm', or the parent heap's policy and index. */
  below: { kind: 'vm' } | { kind: 'heap'; heap: number; policy: string };
  freeObjects: number;
  /** Chunk bytes never handed out yet (the tails of the classes' current chunks); also held. */
  uncarvedBytes: number;
  chunks: number;
  /** Bytes the pool holds from the layer below (chunks and pass-through blocks). */
  heldBytes: number;
  busyBytes: number;
}

/**
 * The retained-memory cause of one `pool` heap sample; undefined for other policies. Pass the whole
 * sample to name the layer below (the parent heap's policy) when the pool is stacked.
 */
export function poolRetainedCause(heap: HeapSample, sample?: Sample): PoolRetainedCause | undefined {
  if (heap.policy !== 'pool') return undefined;
  const c = heap.policyCounters;
  const parent = heap.parent >= 0 ? sample?.heaps.find((x) => x.heap === heap.parent) : undefined;
  const below: PoolRetainedCause['below'] = heap.parent < 0
    ? { kind: 'vm' }
    : { kind: 'heap', heap: heap.parent, policy: parent?.policy ?? 'unknown' };
  return {
    mechanism: POOL_RETAINED_MECHANISM,
    bytes: c['freeObjectBytes'] ?? 0,
    layer: 'pool',
    seedLayer: '1a',
    heap: heap.heap,
    below,
    freeObjects: c['freeObjects'] ?? 0,
    uncarvedBytes: c['uncarvedBytes'] ?? 0,
    chunks: c['chunks'] ?? 0,
    heldBytes: heap.committedBytes,
    busyBytes: heap.busyBytes,
  };
}
