// segregated: the host spec (engine side: assembly/policies/segregated/; rules in
// docs/textbook-policies.md). Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';
import { topCause } from '../textbook/causes.js';

const KiB = 1024;
const MiB = 1024 * KiB;

// The rules of segCreate (assembly/policies/segregated/segregated.ts), for a readable error first.
function validate(v: Record<string, number>): string | undefined {
  const { minClassBytes: min, maxClassBytes: max, classesPerDoubling: per } = v as Record<string, number>;
  if (!Number.isInteger(min) || min! < 32 || min! % 16) return `minClassBytes ${min} must be a multiple of 16, at least 32`;
  if (!Number.isInteger(max) || max! < min! || max! > 256 * MiB) return `maxClassBytes ${max} must be at least minClassBytes (${min}) and at most 256 MiB`;
  if (![1, 2, 4, 8, 16].includes(per!)) return `classesPerDoubling ${per} must be 1, 2, 4, 8 or 16`;
  return undefined;
}

export const policy: PolicyDecl = {
  name: 'segregated',
  description: 'segregated free lists (Knuth, Wilson et al.): size classes split from the wilderness, LIFO lists, no coalescing',
  platform: 'any',
  stackable: false,
  params: [
    { name: 'minClassBytes', defaultValue: 32, unit: 'bytes', meaning: 'smallest size class, block bytes with the 16-byte header (a multiple of 16, at least 32)' },
    { name: 'maxClassBytes', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'no class above this; larger blocks get their own reservation' },
    { name: 'classesPerDoubling', defaultValue: 1, unit: 'count', meaning: 'classes between two powers of two: 1 (powers of two), 2, 4, 8 or 16' },
    { name: 'segmentReserveBytes', defaultValue: 1 * MiB, unit: 'bytes', meaning: 'first reservation; it grows in place (at least doubling) or a new one is taken when the address space above is used' },
    { name: 'commitStepBytes', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'the wilderness is committed in steps of this many bytes' },
  ],
  counters: [
    'classes', 'listFreeBytes', 'listFreeBlocks', 'topCommittedBytes', 'carvedBytes', 'reusedBlocks', 'carvedBlocks',
    'trimmedBytes', 'abandonedTopBytes', 'largestClassBytes',
  ],
  validate,
  retentionCauses: (h) => [
    {
      mechanism: 'freed blocks on the size-class lists: never coalesced, never given to another class, never returned',
      bytes: typeof h['listFreeBytes'] === 'number' ? h['listFreeBytes'] : 0,
      layer: 'segregated',
    },
    topCause(h, 'segregated'),
  ].sort((a, b) => b.bytes - a.bytes),
  trimName: 'trim of the wilderness',
};
