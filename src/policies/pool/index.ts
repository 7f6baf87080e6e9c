// pool: the host spec (engine side: assembly/policies/pool/). Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';
import { poolRetainedCause } from './retained.js';

const KiB = 1024;
const MiB = 1024 * KiB;

// The rules of poolCreate (assembly/policies/pool/pool.ts), for a readable error before the engine's BAD_PARAM.
function validatePool(v: Record<string, number>): string | undefined {
  const pow2 = (x: number): boolean => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0 && x <= 2 ** 30;
  const { minObjectBytes: min, maxObjectBytes: max, chunkBytes: chunk, releaseEmptyChunks: release } = v as Record<string, number>;
  if (!pow2(min!) || min! < 8) return `minObjectBytes ${min} must be a power of two, at least 8`;
  if (!pow2(max!) || max! < min!) return `maxObjectBytes ${max} must be a power of two, at least minObjectBytes (${min})`;
  if (!Number.isInteger(chunk) || chunk! % 4096 || chunk! % max! || chunk! < max! || chunk! > 256 * MiB) {
    return `chunkBytes ${chunk} must be whole 4 KiB pages, a multiple of maxObjectBytes (${max}), at most 256 MiB`;
  }
  if (release !== 0 && release !== 1) return `releaseEmptyChunks ${release} must be 0 or 1`;
  return undefined;
}

export const policy: PolicyDecl = {
  name: 'pool',
  description: 'custom memory manager: power-of-two object classes carved from chunks, LIFO free lists, chunks never given back',
  platform: 'any',
  stackable: true,
  params: [
    { name: 'minObjectBytes', defaultValue: 16, unit: 'bytes', meaning: 'smallest object class (a power of two, at least 8)' },
    { name: 'maxObjectBytes', defaultValue: 4 * KiB, unit: 'bytes', meaning: 'largest object class (a power of two); bigger requests go straight to the layer below' },
    { name: 'chunkBytes', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'bytes per chunk taken from the layer below (whole pages, a multiple of maxObjectBytes)' },
    { name: 'releaseEmptyChunks', defaultValue: 0, unit: 'flag', meaning: 'what-if: 1 = give a chunk back when its last object is freed (default 0: never)' },
  ],
  validate: validatePool,
  retentionCauses: (h) => { const c = poolRetainedCause(h); return c ? [c] : []; },
  counters: [
    'chunks', 'chunkBytes', 'objectBusyBytes', 'busyObjects', 'freeObjectBytes', 'freeObjects', 'uncarvedBytes',
    'peakChunks', 'releasedChunks', 'reusedObjects', 'carvedObjects', 'ignoredTrims',
  ],
  // No trimName: a custom pool has no "give memory back" call; TRIM is counted and ignored.
};
