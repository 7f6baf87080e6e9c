// buddy: the host spec (engine side: assembly/policies/buddy/; rules in docs/textbook-policies.md).
// Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const pow2 = (x: number): boolean => Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;

export const policy: PolicyDecl = {
  name: 'buddy',
  description: 'binary buddy system (Knuth 2.5, Algorithms R and S): power-of-two blocks in power-of-two arenas, LIFO lists, buddy merge on free',
  platform: 'any',
  stackable: false,
  params: [
    { name: 'minBlockBytes', defaultValue: 32, unit: 'bytes', meaning: 'smallest block, header included (a power of two, at least 32)' },
    { name: 'arenaBytes', defaultValue: 16 * MiB, unit: 'bytes', meaning: 'largest block and size of one arena reservation (a power of two, 64 KiB to 1 GiB); larger requests get their own reservation' },
  ],
  counters: ['arenas', 'arenaBytes', 'largestFreeOrder', 'splits', 'merges', 'releasedArenas', 'trimmedBytes', 'freeBlockBytes'],
  validate: (v) => {
    const min = v['minBlockBytes']!, arena = v['arenaBytes']!;
    if (!pow2(min) || min < 32) return `minBlockBytes ${min} must be a power of two, at least 32`;
    if (!pow2(arena) || arena < 64 * KiB || arena > 1024 * MiB || arena < min) return `arenaBytes ${arena} must be a power of two from 64 KiB to 1 GiB`;
    return undefined;
  },
  retentionCauses: (h) => [{
    mechanism: 'free buddy blocks whose pages stay committed: free() merges buddies but gives no page back; only trim decommits them',
    bytes: h.freeBytes,
    layer: 'buddy',
  }],
  trimName: 'release of free arenas and decommit of free blocks',
};
