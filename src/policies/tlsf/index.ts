// tlsf: the host spec (engine side: assembly/policies/tlsf/; rules in docs/textbook-policies.md).
// Listed once in src/policies/registry.ts.
import { registerPolicy } from '../kit/table.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const spec = registerPolicy({
  name: 'tlsf',
  description: "two-level segregated fit, block for block as Matthew Conte's TLSF 3 (64-bit): one pool, good fit, immediate coalescing, never shrinks",
  platform: 'any',
  stackable: false,
  params: [
    // Chosen by the engine when not set: 4 GiB on x64 (the largest pool the 64-bit build takes), 1 GiB on x86.
    { name: 'poolBytes', defaultValue: 1 * GiB, defaultByArch: { x64: 4 * GiB }, unit: 'bytes', meaning: 'bytes given to tlsf_create_with_pool (control structure, then the pool), whole pages, 8 KiB to 4 GiB; by architecture: 1 GiB x86, 4 GiB x64' },
  ],
  counters: [
    'usedBytes', 'highWater', 'poolBytes', 'usedBlocks', 'frontierBytes', 'zeroSizeNulls', 'noFitNulls',
    'reallocsInPlace', 'reallocsMoved', 'memAddress',
  ],
  validate: (v) => {
    const b = v['poolBytes']!;
    return Number.isInteger(b) && b % 4096 === 0 && b >= 8192 && b <= 4 * GiB ? undefined : `poolBytes ${b} must be whole 4 KiB pages, 8 KiB to 4 GiB`;
  },
  // Conte's TLSF exposes no statistics call; these two are what its own walk and pointers give.
  native: (h) => ({ used_bytes: h.policyCounters['usedBytes']!, high_water: h.policyCounters['highWater']! }),
  retentionCauses: (h) => [{
    mechanism: 'free blocks inside the TLSF pool: the pool never shrinks and TLSF has no call that gives pages back',
    bytes: Number(h.freeBytes) || 0,
    layer: 'tlsf',
  }],
  // No trimName: TLSF has no call that gives memory back.
  refuses: 'malloc(0) and realloc to 0 bytes answer NULL, as in Conte\'s TLSF; so does a request the pool cannot hold (it never grows)',
});
