// Policy names, ids (assembly/abi.ts Policy) and their parameters (slot = index in the HEAP_CREATE
// params block, as each assembly/policies/<name>.ts declares it).
import { UsageError } from '../errors.js';
import { diagnosePtmalloc, mallinfoOf, ptmallocHeapView, ptmallocRetentionCauses } from './ptmalloc.js';
import type { HeapSample } from './engine.js';
import type { EngineExports } from './load.js';
import { poolRetainedCause } from '../diagnosis/pool.js';
import type { DiagnosisCause, HeapCounters } from '../report/types.js';
import { ntHeapView, ntRetentionCauses } from './nt.js';

export interface ParamSpec {
  name: string;
  slot: number;
  defaultValue: number;
  description: string;
}

/** Which report vocabulary a policy's runs use: Linux tools, WinDbg, or neither in particular. */
export type Platform = 'linux' | 'windows' | 'any';

export interface PolicySpec {
  name: string;
  id: number;
  description: string;
  /**
   * The platform whose allocator this is: a `linux` policy on a profile that is not Windows is
   * reported as Linux tools show a process (RSS, brk heap and mmap, mallinfo2); a `windows` policy
   * or a Windows profile as WinDbg does; `any` follows the profile.
   */
  platform: Platform;
  /**
   * What the engine's TRIM op is for this policy, in the library's own words (`--trim-at` and the
   * what-if beside the verdict); undefined when the policy has no such call (the trim then goes to
   * the layer below).
   */
  trimName?: string;
  params: ParamSpec[];
  /** Can take its memory from another heap (`--set parent=<policy>`). */
  stackable: boolean;
  /** Names of the policy's own counter slots (K.POLICY_BASE + i). */
  counters: string[];
  /** Report overrides (e.g. `!heap -s` Reserv/Commit without large blocks). */
  heapView?: (h: HeapSample) => Partial<HeapCounters>;
  /** Which mechanisms hold the heap's committed-but-unused bytes at one checkpoint (diagnosis causes). */
  retentionCauses?: (h: HeapCounters) => DiagnosisCause[];
  /** The library's own statistics under the library's real names (glibc: the mallinfo2 fields). */
  native?: (h: HeapCounters) => Record<string, number>;
  /** What the library calls those statistics (glibc: `mallinfo2()`). */
  nativeName?: string;
  /** Linux view: how the heap's memory splits between the brk heap and mmapped blocks. */
  linuxMemory?: (h: HeapCounters) => { brkBytes: number; mmapBytes: number; mmapBlocks: number };
  /**
   * The policy's own end-of-run report, put in the run document under `section` (ptmalloc: the
   * glibc mechanisms and what malloc_trim would give back). `raw` reads engine detail of heap `index`.
   */
  runSummary?: (h: HeapCounters, params: Record<string, string | number>, raw: EngineExports, index: number) =>
    { section: string; value: unknown };
  /**
   * Host-side check of a full parameter set (defaults filled in): a message naming what is wrong,
   * or undefined. The engine checks again and answers BAD_PARAM; this only gives a clearer error.
   */
  validate?: (values: Record<string, number>) => string | undefined;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const POLICIES: Record<string, PolicySpec> = {
  'first-fit': {
    name: 'first-fit',
    id: 1,
    description: 'address-ordered first fit, boundary tags, immediate coalescing, decommit of big free blocks',
    platform: 'any',
    trimName: 'a trim (decommit of every free block\'s whole pages)',
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
  ptmalloc: {
    name: 'ptmalloc',
    id: 4,
    description: 'glibc 2.36 malloc (Debian 12), main arena, x86-64, one thread: tcache, fastbins, bins, top, brk/mmap, mallinfo2',
    platform: 'linux',
    trimName: 'malloc_trim(0)',
    stackable: false,
    // glibc's own names (GLIBC_TUNABLES glibc.malloc.<name>, MALLOC_<NAME>_); not set = glibc's default.
    // Setting trim_threshold, mmap_threshold, top_pad or mmap_max turns the dynamic thresholds off.
    params: [
      { name: 'tcache_count', slot: 0, defaultValue: 7, description: 'chunks per tcache bin (0 disables the tcache; max 65535)' },
      { name: 'tcache_max', slot: 1, defaultValue: 1032, description: 'largest request the tcache holds, bytes (max 1032)' },
      { name: 'mxfast', slot: 2, defaultValue: 128, description: 'largest request served by fastbins, bytes (0 disables; max 160)' },
      { name: 'trim_threshold', slot: 3, defaultValue: 128 * KiB, description: 'top size that makes free() shrink the break (dynamic unless set)' },
      { name: 'mmap_threshold', slot: 4, defaultValue: 128 * KiB, description: 'chunk size served by mmap when bins and top cannot (dynamic unless set)' },
      { name: 'top_pad', slot: 5, defaultValue: 128 * KiB, description: 'extra bytes asked of sbrk and kept in top by trimming' },
      { name: 'mmap_max', slot: 6, defaultValue: 65536, description: 'most chunks mmapped at once (0 disables mmap)' },
      { name: 'tcache_unsorted_limit', slot: 7, defaultValue: 0, description: 'unsorted chunks malloc files while filling the tcache before it returns (0 = no limit)' },
    ],
    counters: [
      'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost',
      'tcacheBytes', 'mmapThreshold',
    ],
    heapView: ptmallocHeapView,
    retentionCauses: ptmallocRetentionCauses,
    native: (h) => ({ ...mallinfoOf((h.mallinfo ?? {}) as Record<string, unknown>) }),
    nativeName: 'mallinfo2()',
    linuxMemory: (h) => {
      const m = mallinfoOf((h.mallinfo ?? {}) as Record<string, unknown>);
      return { brkBytes: m.arena, mmapBytes: m.hblkhd, mmapBlocks: m.hblks };
    },
    runSummary: (h, params, raw, index) => ({
      section: 'ptmalloc',
      value: diagnosePtmalloc(h, params, {
        purgeableBytes: Number(raw.ptPurgeableBytes(index)), pinnedBelowBytes: Number(raw.ptPinnedBelowBytes(index)),
      }),
    }),
  },
  nt: {
    name: 'nt',
    id: 2,
    description: 'Windows NT heap: NT5 back end (segments, UCRs, best fit, decommit thresholds) with the LFH front end',
    platform: 'windows',
    trimName: 'HeapCompact',
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
  pool: {
    name: 'pool',
    id: 3,
    description: 'custom memory manager: power-of-two object classes carved from chunks, LIFO free lists, chunks never given back',
    platform: 'any',
    stackable: true,
    params: [
      { name: 'minObjectBytes', slot: 0, defaultValue: 16, description: 'smallest object class (a power of two, at least 8)' },
      { name: 'maxObjectBytes', slot: 1, defaultValue: 4 * KiB, description: 'largest object class (a power of two); bigger requests go straight to the layer below' },
      { name: 'chunkBytes', slot: 2, defaultValue: 64 * KiB, description: 'bytes per chunk taken from the layer below (whole pages, a multiple of maxObjectBytes)' },
      { name: 'releaseEmptyChunks', slot: 3, defaultValue: 0, description: 'what-if: 1 = give a chunk back when its last object is freed (default 0: never)' },
    ],
    validate: validatePool,
    retentionCauses: (h) => { const c = poolRetainedCause(h); return c ? [c] : []; },
    counters: [
      'chunks', 'chunkBytes', 'objectBusyBytes', 'busyObjects', 'freeObjectBytes', 'freeObjects', 'uncarvedBytes',
      'peakChunks', 'releasedChunks', 'reusedObjects', 'carvedObjects', 'ignoredTrims',
    ],
  },
};

// The rules of poolCreate (assembly/policies/pool.ts), for a readable error before the engine's BAD_PARAM.
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
  if (spec.validate) {
    const full: Record<string, number> = {};
    for (const p of spec.params) full[p.name] = out.get(p.slot) ?? p.defaultValue;
    const problem = spec.validate(full);
    if (problem) throw new UsageError(`bad parameters for ${spec.name}: ${problem}`);
  }
  return out;
}
