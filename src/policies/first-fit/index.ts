// first-fit: the host spec (engine side: assembly/policies/first-fit/). Listed once in
// src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export const policy: PolicyDecl = {
  name: 'first-fit',
  description: 'address-ordered first fit, boundary tags, immediate coalescing, decommit of big free blocks',
  platform: 'any',
  stackable: false,
  params: [
    { name: 'decommitBlockBytes', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'smallest coalesced free block whose whole pages are decommitted' },
    { name: 'decommitTotalBytes', defaultValue: 256 * KiB, unit: 'bytes', meaning: 'free bytes the heap must hold before it decommits' },
    { name: 'segmentReserveBytes', defaultValue: 1 * MiB, unit: 'bytes', meaning: 'first segment reservation (later segments double, up to 256 MiB)' },
    { name: 'segmentCommitBytes', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'smallest commit step inside a segment' },
    { name: 'largeBlockBytes', defaultValue: 512 * KiB, unit: 'bytes', meaning: 'blocks at or above this size get their own reservation' },
  ],
  counters: ['decommits', 'decommittedBytes', 'trimmedBytes'],
  // TRIM decommits the whole free pages of every free block (padBytes kept), thresholds ignored.
  trimName: 'decommit of free pages',
};
