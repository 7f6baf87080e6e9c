// next-fit: the host spec (engine side: assembly/policies/next-fit/ and assembly/policies/textbook/;
// rules in docs/textbook-policies.md). Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';
import { fitCauses } from '../textbook/causes.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export const policy: PolicyDecl = {
  name: 'next-fit',
  description: 'next fit: first fit from a roving pointer, boundary tags, immediate coalescing, heap grown at its top (sbrk-like)',
  platform: 'any',
  stackable: false,
  params: [
    { name: 'segmentReserveBytes', defaultValue: 1 * MiB, unit: 'bytes', meaning: 'first reservation; it grows in place (at least doubling) or a new one is taken when the address space above is used' },
    { name: 'commitStepBytes', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'the top of the heap is committed in steps of this many bytes' },
  ],
  counters: ['topCommittedBytes', 'carvedBlocks', 'reusedBlocks', 'splits', 'coalesces', 'trimmedBytes', 'abandonedTopBytes', 'roverAddress', 'wraps'],
  retentionCauses: (h) => fitCauses(h, 'next-fit'),
  trimName: 'trim of the top of the heap',
};
