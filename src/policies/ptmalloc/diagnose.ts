// Host side of the ptmalloc policy: the checkpoint view (heap.mallinfo) and the diagnosis that
// names glibc's own mechanisms for memory the program freed and the process still holds.
import type { HeapSample } from '../../engine/sample.js';
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';
import { parseSizeValue } from '../kit/values.js';

const KiB = 1024;
const PAGE_BYTES = 4096;
const MINSIZE = 32;                          // malloc.c: MINSIZE
const DEFAULT_THRESHOLD_BYTES = 128 * KiB;   // malloc.c: DEFAULT_MMAP_THRESHOLD_MIN = DEFAULT_TRIM_THRESHOLD
const DEFAULT_TOP_PAD_BYTES = 128 * KiB;     // malloc-machine.h: DEFAULT_TOP_PAD

/** Setting any of these turns glibc's dynamic mmap/trim thresholds off (malloc.c do_set_*). */
const DYNAMIC_OFF_PARAMS = ['trim_threshold', 'mmap_threshold', 'top_pad', 'mmap_max'];

/** glibc's struct mallinfo2, field for field. */
export interface Mallinfo2 {
  arena: number; ordblks: number; smblks: number; hblks: number; hblkhd: number;
  usmblks: number; fsmblks: number; uordblks: number; fordblks: number; keepcost: number;
}
export const MALLINFO2_FIELDS: readonly (keyof Mallinfo2)[] = [
  'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost',
];

/**
 * One arena as glibc's malloc_stats() shows it ("system bytes", "in use bytes" = int_mallinfo's
 * arena and uordblks for that arena), with what the model also knows of it.
 */
export interface ArenaView {
  systemBytes: number;
  inUseBytes: number;
  /** Top + bins + fastbins (int_mallinfo's avail: fordblks of this arena). */
  freeBytes: number;
  topBytes: number;
  /** Bytes of this arena's chunks parked in threads' tcaches (in use for glibc). */
  tcacheBytes: number;
  /** Threads attached to the arena (0: on the free list, waiting for a new thread). */
  threads: number;
  /** Segments: the main arena's break (0 or 1), or the thread arena's mapped heaps. */
  heaps: number;
  /** Bytes in this arena's fastbins (int_mallinfo's fsmblks of this arena; part of freeBytes). */
  fastBytes: number;
}

/** Values per arena in a ptmalloc sample's extras (assembly/policies/ptmalloc PT_ARENA_EXTRAS). */
export const ARENA_EXTRAS = 8;

/** The arenas of a ptmalloc sample, in glibc's order: main, then the newest thread arena first. */
export function arenasOf(h: HeapSample): ArenaView[] {
  const x = h.extras ?? [];
  const out: ArenaView[] = [];
  for (let i = 0; i + ARENA_EXTRAS <= x.length; i += ARENA_EXTRAS) {
    out.push({
      systemBytes: x[i]!, inUseBytes: x[i + 1]!, freeBytes: x[i + 2]!, topBytes: x[i + 3]!,
      tcacheBytes: x[i + 4]!, threads: x[i + 5]!, heaps: x[i + 6]!, fastBytes: x[i + 7]!,
    });
  }
  return out;
}

export function mallinfoOf(counters: Record<string, unknown>): Mallinfo2 {
  const m = {} as Mallinfo2;
  for (const f of MALLINFO2_FIELDS) m[f] = Number(counters[f] ?? 0);
  return m;
}

/**
 * Checkpoint view: the ten mallinfo2 fields under `mallinfo`; beside them the tcache bytes and the
 * thresholds in force (the trim threshold follows from the heap's parameters and the mmap threshold).
 */
export function ptmallocHeapView(h: HeapSample): Partial<HeapCounters> {
  const c = h.policyCounters;
  const params = h.params ?? {};
  const view: Partial<HeapCounters> = {
    mallinfo: mallinfoOf(c),
    arenas: arenasOf(h),
    tcacheBytes: c.tcacheBytes,
    mmapThresholdBytes: c.mmapThreshold,
    trimThresholdBytes: trimThresholdOf(params, c.mmapThreshold!),
    dynamicThresholds: !DYNAMIC_OFF_PARAMS.some((k) => params[k] !== undefined),
    mmapThreshold: undefined,
  };
  for (const f of MALLINFO2_FIELDS) view[f] = undefined; // only under `mallinfo`
  return view;
}

function paramNumber(params: Record<string, string | number>, k: string): number | undefined {
  const v = params[k];
  return v === undefined ? undefined : typeof v === 'number' ? v : parseSizeValue(v);
}

/** The trim threshold in force, from the parameters and the current mmap threshold. */
export function trimThresholdOf(params: Record<string, string | number>, mmapThresholdBytes: number): number {
  const num = (k: string): number | undefined => paramNumber(params, k);
  const trim = num('trim_threshold');
  if (trim !== undefined) return trim;
  const noDynamic = DYNAMIC_OFF_PARAMS.some((k) => params[k] !== undefined);
  // The dynamic rule sets trim = 2 × mmap threshold each time it raises the threshold.
  if (!noDynamic && mmapThresholdBytes !== DEFAULT_THRESHOLD_BYTES) return 2 * mmapThresholdBytes;
  return DEFAULT_THRESHOLD_BYTES;
}

export interface PtmallocDiagnosis {
  causes: DiagnosisCause[];
  /** What malloc_trim(0) would give back now, at most (madvise of free pages + top's tail). */
  mallocTrimBytes: number;
  trimThresholdBytes: number;
  mmapThresholdBytes: number;
  /** Free bytes each arena keeps (top, bins, fastbins), in glibc's arena order, main first. */
  retainedByArena: ArenaRetention[];
  /** Settings that would give memory back, for the advice (catalogue entries; empty when none applies). */
  remedies: PtmallocRemedy[];
  summary: string;
}

export interface ArenaRetention {
  /** Position in glibc's arena list (0 = the main arena). */
  arena: number;
  systemBytes: number;
  inUseBytes: number;
  freeBytes: number;
  /** Threads attached to it at the checkpoint. */
  threads: number;
}

/** A setting that would change what glibc keeps, as `heapsim run --env` takes it. */
export interface PtmallocRemedy {
  /** Catalogue id (stable). */
  id: string;
  /** The environment setting to try (`--env` form). */
  env: string;
  /** Bytes the mechanism it addresses keeps now (an upper bound of what it gives back). */
  addressesBytes: number;
  why: string;
}

/**
 * The arena-limit remedy: with one arena per thread (up to 8 × cores), every thread arena keeps
 * its own free chunks and top; MALLOC_ARENA_MAX caps the arenas so threads share them and reuse
 * each other's free chunks. Applies when thread arenas keep free memory.
 */
export function arenaMaxRemedy(arenas: readonly ArenaView[]): PtmallocRemedy | undefined {
  const threadFree = arenas.slice(1).reduce((s, a) => s + a.freeBytes, 0);
  if (arenas.length < 3 || threadFree <= 0) return undefined;
  return {
    id: 'glibc-arena-max',
    env: 'MALLOC_ARENA_MAX=2',
    addressesBytes: threadFree,
    why: `${arenas.length - 1} thread arenas keep ${threadFree} free bytes of their own; with MALLOC_ARENA_MAX=2 (or GLIBC_TUNABLES=glibc.malloc.arena_max=2) threads share two arenas and reuse each other's free chunks (replay with --env MALLOC_ARENA_MAX=2 to measure it)`,
  };
}

/**
 * Names glibc's mechanisms for bytes freed by the program and kept by the allocator. `counters`
 * is a ptmalloc heap's checkpoint view (or sample counters); `detail` comes from
 * ptmallocDetail (detail.ts) when the engine is at hand.
 */
export function diagnosePtmalloc(
  counters: Record<string, unknown>, params: Record<string, string | number> = {},
  detail?: { purgeableBytes: number; pinnedBelowBytes: number },
): PtmallocDiagnosis {
  const m = (counters.mallinfo as Mallinfo2 | undefined) ?? mallinfoOf(counters);
  const tcacheBytes = Number(counters.tcacheBytes ?? 0);
  const mmapThresholdBytes = Number(counters.mmapThresholdBytes ?? counters.mmapThreshold ?? DEFAULT_THRESHOLD_BYTES);
  // A checkpoint view knows the heap's own thresholds; explicit params win when given.
  const known = Object.keys(params).length === 0 && typeof counters.trimThresholdBytes === 'number';
  const trimThresholdBytes = known ? counters.trimThresholdBytes as number : trimThresholdOf(params, mmapThresholdBytes);
  const dynamic = known && typeof counters.dynamicThresholds === 'boolean'
    ? counters.dynamicThresholds : !DYNAMIC_OFF_PARAMS.some((k) => params[k] !== undefined);
  const topPad = paramNumber(params, 'top_pad') ?? (dynamic ? DEFAULT_TOP_PAD_BYTES : undefined);
  // Thread arenas (glibc sums every arena into mallinfo2; keepcost is the main arena's top alone):
  // what they keep free is one mechanism; the bin and fastbin causes below are the main arena's.
  const arenas = Array.isArray(counters.arenas) ? counters.arenas as ArenaView[] : [];
  const threadArenas = arenas.slice(1);
  const threadFree = threadArenas.reduce((s, a) => s + a.freeBytes, 0);
  const mainFast = arenas.length ? arenas[0]!.fastBytes : m.fsmblks;
  const binBytes = arenas.length ? arenas[0]!.freeBytes - arenas[0]!.topBytes - mainFast : m.fordblks - m.keepcost - m.fsmblks;
  const causes: DiagnosisCause[] = [];
  if (threadFree > 0) {
    const holding = threadArenas.filter((a) => a.freeBytes > 0);
    const heaps = threadArenas.reduce((s, a) => s + a.heaps, 0);
    const exited = threadArenas.filter((a) => a.threads === 0).length;
    causes.push({
      layer: 'ptmalloc',
      mechanism: `free chunks kept in ${holding.length} thread arenas (${heaps} heaps of up to 64 MiB; ${exited} arenas with no thread left): each arena keeps its own bins and top, ` +
        'free() gives a thread arena\'s memory back only when the top of its last heap is large (heap_trim), and a chunk freed by another thread returns to the arena that made it; ' +
        'MALLOC_ARENA_MAX caps the arenas',
      bytes: threadFree,
    });
  }
  if (binBytes > 0) {
    causes.push({
      layer: 'ptmalloc',
      mechanism: `free chunks below a live chunk (${m.ordblks - 1} in the unsorted/small/large bins): free() cannot shrink the break past a chunk in use; only malloc_trim's madvise reaches them`
        + (detail ? ` (${detail.pinnedBelowBytes} bytes of free chunks lie below the highest chunk in use)` : ''),
      bytes: binBytes,
    });
  }
  if (mainFast > 0) {
    causes.push({
      layer: 'ptmalloc',
      mechanism: `fastbin chunks never coalesced (${m.smblks} chunks ≤ mxfast${arenas.length > 1 ? ' in all arenas' : ''}): they merge only when a large request, a free of ≥ 64 KiB or malloc_trim consolidates`,
      bytes: mainFast,
    });
  }
  if (tcacheBytes > 0) {
    causes.push({
      layer: 'ptmalloc',
      mechanism: 'tcache chunks never coalesced: up to tcache_count chunks per size stay marked in use (counted in uordblks) until the thread exits',
      bytes: tcacheBytes,
    });
  }
  if (m.keepcost > 0) {
    const below = m.keepcost < trimThresholdBytes;
    causes.push({
      layer: 'ptmalloc',
      mechanism: below
        ? `top chunk below the trim threshold (${trimThresholdBytes} bytes): free() gives the break back only when top reaches it`
        : `top chunk at or above the trim threshold (${trimThresholdBytes} bytes) but no free of ≥ 64 KiB has coalesced since; free() keeps top_pad${topPad === undefined ? '' : ` (${topPad})`} anyway`,
      bytes: m.keepcost,
    });
  }
  if (dynamic && mmapThresholdBytes > DEFAULT_THRESHOLD_BYTES) {
    // Top that the initial thresholds would have trimmed to top_pad, kept because the rule raised them.
    const keptByRule = m.keepcost >= DEFAULT_THRESHOLD_BYTES && m.keepcost < trimThresholdBytes
      ? Math.max(0, Math.floor((m.keepcost - MINSIZE - 1 - DEFAULT_TOP_PAD_BYTES) / PAGE_BYTES) * PAGE_BYTES) : 0;
    causes.push({
      layer: 'ptmalloc',
      mechanism: `mmap threshold raised by the dynamic rule to ${mmapThresholdBytes} bytes (trim threshold ${trimThresholdBytes}) after a free of an mmapped chunk: requests below it now come from the break and stay there`,
      bytes: keptByRule,
    });
  }
  const retained = binBytes + mainFast + tcacheBytes + m.keepcost + threadFree;
  const mallocTrimBytes = detail?.purgeableBytes ?? 0;
  const where = arenas.length > 1
    ? `in ${arenas.length} arenas (${m.arena} bytes obtained by sbrk and heaps, ${m.uordblks - tcacheBytes} in use by the program; ${threadFree} of the free bytes in thread arenas)`
    : `in the break (${m.arena} bytes obtained by sbrk, ${m.uordblks - tcacheBytes} in use by the program)`;
  const summary = retained
    ? `glibc holds ${retained} free bytes ${where}` +
      (detail ? `; malloc_trim(0) would give back at most ${mallocTrimBytes} bytes of it` : '')
    : `glibc holds no free memory ${arenas.length > 1 ? `in its ${arenas.length} arenas` : 'in the break'}`;
  causes.sort((a, b) => b.bytes - a.bytes);
  const retainedByArena = arenas.map((a, i) => ({
    arena: i, systemBytes: a.systemBytes, inUseBytes: a.inUseBytes, freeBytes: a.freeBytes, threads: a.threads,
  }));
  const remedy = arenaMaxRemedy(arenas);
  return { causes, mallocTrimBytes, trimThresholdBytes, mmapThresholdBytes, retainedByArena, remedies: remedy ? [remedy] : [], summary };
}

/** PolicySpec.retentionCauses: glibc's mechanisms at one checkpoint, as diagnosis causes. */
export function ptmallocRetentionCauses(h: HeapCounters): DiagnosisCause[] {
  return diagnosePtmalloc(h).causes.filter((c) => c.bytes > 0);
}
