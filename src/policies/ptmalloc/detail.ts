// What the engine can tell about a ptmalloc heap beyond its sample: the bytes malloc_trim(0)
// could give back and the free bytes below the highest chunk in use (assembly/policies/ptmalloc).
import { EngineStatusError } from '../../errors.js';
import { Status } from '../../engine/abi.js';
import type { EngineHandle } from '../kit/spec.js';

/** The ptmalloc queries of the WASM module (assembly/policies/ptmalloc/index.ts). */
interface PtmallocExports {
  ptPurgeableBytes(h: number): bigint;
  ptPinnedBelowBytes(h: number): bigint;
}

export interface PtmallocDetail { purgeableBytes: number; pinnedBelowBytes: number }

/** ptmalloc heaps: bytes of free memory the engine can attribute beyond the sample's counters. */
export function ptmallocDetail(engine: EngineHandle, h: number): PtmallocDetail {
  if (engine.heapPolicy(h) !== 'ptmalloc') throw new EngineStatusError(`heap ${h} is not a ptmalloc heap`, Status.BAD_HEAP, 'BAD_HEAP');
  const x = engine.raw as PtmallocExports;
  return { purgeableBytes: Number(x.ptPurgeableBytes(h)), pinnedBelowBytes: Number(x.ptPinnedBelowBytes(h)) };
}
