// best-fit: the host spec (engine side: assembly/policies/best-fit/ and assembly/policies/textbook/;
// rules in docs/textbook-policies.md). Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';
import { fitCauses } from '../textbook/causes.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export const policy: PolicyDecl = {
  name: 'best-fit',
  description: 'address-ordered best fit: boundary tags, immediate coalescing, heap grown at its top (sbrk-like), trim gives the top back',
  platform: 'any',
  stackable: false,
  params: [
    { name: 'segmentReserveBytes', defaultValue: 1 * MiB, unit: 'bytes', meaning: 'first reservation; it grows in place (at least doubling) or a new one is taken when the address space above is used' },
    { name: 'commitStepBytes', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'the top of the heap is committed in steps of this many bytes' },
  ],
  counters: ['topCommittedBytes', 'carvedBlocks', 'reusedBlocks', 'splits', 'coalesces', 'trimmedBytes', 'abandonedTopBytes'],
  retentionCauses: (h) => fitCauses(h, 'best-fit'),
  trimName: 'trim of the top of the heap',
};
