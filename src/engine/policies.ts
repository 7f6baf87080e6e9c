// Policy names, ids (assembly/abi.ts Policy) and their parameters (slot = index in the HEAP_CREATE
// params block, as each assembly/policies/<name>.ts declares it).
import { UsageError } from '../errors.js';
import type { HeapSample } from './engine.js';
import type { DiagnosisCause, HeapCounters } from '../report/types.js';
import { ntHeapView, ntRetentionCauses } from './nt.js';

export interface ParamSpec {
  name: string;
  slot: number;
  defaultValue: number;
  description: string;
}

export interface PolicySpec {
  name: string;
  id: number;
  description: string;
  params: ParamSpec[];
  /** Can take its memory from another heap (`--set parent=<policy>`). */
  stackable: boolean;
  /** Names of the policy's own counter slots (K.POLICY_BASE + i). */
  counters: string[];
  /** Report overrides (e.g. `!heap -s` Reserv/Commit without large blocks). */
  heapView?: (h: HeapSample) => Partial<HeapCounters>;
  /** Which mechanisms hold the heap's committed-but-unused bytes at one checkpoint (diagnosis causes). */
  retentionCauses?: (h: HeapCounters) => DiagnosisCause[];
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const POLICIES: Record<string, PolicySpec> = {
  'first-fit': {
    name: 'first-fit',
    id: 1,
    description: 'address-ordered first fit, boundary tags, immediate coalescing, decommit of big free blocks',
    stackable: false,
    params: [
      { name: 'decommitBlockBytes', slot: 0, defaultValue: 64 * KiB, description: 'smallest coalesced free block whose whole pages are decommitted' },
      { name: 'decommitTotalBytes', slot: 1, defaultValue: 256 * KiB, description: 'free bytes the heap must hold before it decommits' },
      { name: 'segmentReserveBytes', slot: 2, defaultValue: 1 * MiB, description: 'first segment reservation (later segments double, up to 256 MiB)' },
      { name: 'segmentCommitBytes', slot: 3, defaultValue: 64 * KiB, description: 'smallest commit step inside a segment' },
      { name: 'largeBlockBytes', slot: 4, defaultValue: 512 * KiB, description: 'blocks at or above this size get their own reservation' },
    ],
    counters: ['decommits', 'decommittedBytes', 'trimmedBytes'],
  },
  nt: {
    name: 'nt',
    id: 2,
    description: 'Windows NT heap: NT5 back end (segments, UCRs, best fit, decommit thresholds) with the LFH front end',
    stackable: false,
    // Slots as in assembly/policies/nt.ts. Defaults marked "by architecture" are chosen by the engine
    // when the parameter is not set; the number shown is the x86 one.
    params: [
      { name: 'segmentReserveBytes', slot: 0, defaultValue: 1 * MiB, description: 'first segment reservation (SegmentReserve)' },
      { name: 'segmentCommitBytes', slot: 1, defaultValue: 8 * KiB, description: 'initial commit of a new segment (SegmentCommit)' },
      { name: 'segmentGrowthFactor', slot: 2, defaultValue: 2, description: 'next reservation += (factor - 1) x this one; 2 doubles (ReactOS), 1 keeps it fixed; Vista+ behaviour unknown' },
      { name: 'segmentReserveMaxBytes', slot: 3, defaultValue: 0, description: 'cap on one segment reservation, 0 = none (Wine caps at 128 MiB; Windows unknown)' },
      { name: 'decommitFreeBlockThreshold', slot: 4, defaultValue: 4 * KiB, description: 'DFBT: smallest coalesced free block whose whole pages are decommitted; by architecture: 4 KiB x86, 16 KiB x64 (one Win10 dump); raise it to model the Vista+ heuristics' },
      { name: 'decommitTotalFreeThreshold', slot: 5, defaultValue: 64 * KiB, description: 'DTFT: back-end free bytes (with the block) needed before any decommit' },
      { name: 'virtualMemoryThreshold', slot: 6, defaultValue: 0x7f000, description: 'blocks above get their own reservation; by architecture: 0x7F000 x86, 0xFF000 x64' },
      { name: 'lfh', slot: 7, defaultValue: 1, description: '1 = the Low Fragmentation Heap front end may switch on; 0 = back end only' },
      { name: 'noSerialize', slot: 8, defaultValue: 0, description: '1 = HEAP_NO_SERIALIZE (flag 0x1): no LFH' },
      { name: 'lfhRandomChunks', slot: 9, defaultValue: 1, description: '1 = random free chunk in a user block (Win8+), 0 = lowest index (Win7)' },
      { name: 'virtCorrection', slot: 10, defaultValue: 1, description: 'Virt = Reserv minus: 0 nothing, 1 each segment\'s largest UCR (XP-era debugger), 2 every UCR >= virtLargeUcrBytes' },
      { name: 'virtLargeUcrBytes', slot: 11, defaultValue: 1 * MiB, description: 'threshold of virtCorrection 2 (unknown in Windows)' },
      { name: 'freeListOrder', slot: 12, defaultValue: 0, description: 'ties between equal-size free blocks: 0 lowest address, 1 first inserted' },
    ],
    counters: [
      'segmentReservedBytes', 'segmentCommittedBytes', 'virtBytes', 'freeWholePageBytes', 'lfhUserBlocks',
      'lfhUserBlockBytes', 'lfhFreeChunkBytes', 'lfhLiveChunkBytes', 'decommittedBytes', 'heapAddress',
      'heapFlags', 'frontEndHeapType',
    ],
    heapView: ntHeapView,
    retentionCauses: ntRetentionCauses,
  },
};

export function policyNames(): string[] {
  return Object.keys(POLICIES).sort();
}

export function getPolicy(name: string): PolicySpec {
  const spec = POLICIES[name];
  if (!spec) throw new UsageError(`unknown policy '${name}' (known: ${policyNames().join(', ')})`);
  return spec;
}

export function policyById(id: number): PolicySpec | undefined {
  return Object.values(POLICIES).find((p) => p.id === id);
}

/** Parses a size or count: integer, hex (0x...), or with a unit suffix K/KB/KiB, M, G (1024-based). */
export function parseSizeValue(text: string): number | undefined {
  const m = /^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m) return undefined;
  const base = m[1]!.toLowerCase().startsWith('0x') ? parseInt(m[1]!, 16) : Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? KiB : unit === 'm' ? MiB : unit === 'g' ? 1024 * MiB : 1;
  const v = base * mult;
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Resolves `name=value` settings against a policy's parameter table. */
export function resolveParams(spec: PolicySpec, settings: Record<string, string | number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [name, raw] of Object.entries(settings)) {
    const p = spec.params.find((q) => q.name === name);
    if (!p) {
      const known = spec.params.map((q) => q.name).join(', ') || '(none)';
      throw new UsageError(`policy '${spec.name}' has no parameter '${name}' (known: ${known})`);
    }
    const v = typeof raw === 'number' ? raw : parseSizeValue(raw);
    if (v === undefined || v < 0) throw new UsageError(`bad value '${raw}' for ${spec.name} parameter ${name}`);
    out.set(p.slot, v);
  }
  return out;
}
