// tlsf: the host spec (engine side: assembly/policies/tlsf/; rules in docs/textbook-policies.md).
// Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const policy: PolicyDecl = {
  name: 'tlsf',
  description: "two-level segregated fit, block for block as Matthew Conte's TLSF 3 (64-bit): one pool, good fit, immediate coalescing, never shrinks",
  platform: 'any',
  stackable: false,
  params: [
    { name: 'poolBytes', defaultValue: 1 * GiB, unit: 'bytes', meaning: 'bytes given to tlsf_create_with_pool (control structure, then the pool), whole pages, 8 KiB to 4 GiB (the 64-bit build takes no more)' },
    { name: 'zeroSizeRequest', defaultValue: 1, unit: 'choice', meaning: "malloc(0): 1 = the smallest block, as a malloc that calls tlsf_malloc(max(n, 1)); 0 = NULL, as tlsf_malloc(0) itself answers (a failed alloc)" },
  ],
  counters: [
    'usedBytes', 'highWater', 'poolBytes', 'usedBlocks', 'frontierBytes', 'zeroSizeNulls', 'noFitNulls',
    'reallocsInPlace', 'reallocsMoved', 'memAddress',
  ],
  validate: (v) => {
    const b = v['poolBytes']!, z = v['zeroSizeRequest']!;
    if (!(Number.isInteger(b) && b % 4096 === 0 && b >= 8192 && b <= 4 * GiB)) return `poolBytes ${b} must be whole 4 KiB pages, 8 KiB to 4 GiB`;
    return z === 0 || z === 1 ? undefined : `zeroSizeRequest ${z} must be 0 (NULL) or 1 (the smallest block)`;
  },
  // Conte's TLSF exposes no statistics call; these two are what its own walk and pointers give.
  native: (h) => ({ used_bytes: h.policyCounters['usedBytes']!, high_water: h.policyCounters['highWater']! }),
  retentionCauses: (h) => [{
    mechanism: 'free blocks inside the TLSF pool: the pool never shrinks and TLSF has no call that gives pages back',
    bytes: Number(h.freeBytes) || 0,
    layer: 'tlsf',
  }],
  // No trimName: TLSF has no call that gives memory back.
  refuses: 'a request the pool cannot hold answers NULL (the pool never grows); with zeroSizeRequest 0, malloc(0) does too, as Conte\'s tlsf_malloc(0)',
};
