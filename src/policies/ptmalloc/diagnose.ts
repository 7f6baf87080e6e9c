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
  summary: string;
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
  const binBytes = m.fordblks - m.keepcost - m.fsmblks;
  const causes: DiagnosisCause[] = [];
  if (binBytes > 0) {
    causes.push({
      layer: 'ptmalloc',
      mechanism: `free chunks below a live chunk (${m.ordblks - 1} in the unsorted/small/large bins): free() cannot shrink the break past a chunk in use; only malloc_trim's madvise reaches them`
        + (detail ? ` (${detail.pinnedBelowBytes} bytes of free chunks lie below the highest chunk in use)` : ''),
      bytes: binBytes,
    });
  }
  if (m.fsmblks > 0) {
    causes.push({
      layer: 'ptmalloc',
      mechanism: `fastbin chunks never coalesced (${m.smblks} chunks ≤ mxfast): they merge only when a large request, a free of ≥ 64 KiB or malloc_trim consolidates`,
      bytes: m.fsmblks,
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
  const retained = binBytes + m.fsmblks + tcacheBytes + m.keepcost;
  const mallocTrimBytes = detail?.purgeableBytes ?? 0;
  const summary = retained
    ? `glibc holds ${retained} free bytes in the break (${m.arena} bytes obtained by sbrk, ${m.uordblks - tcacheBytes} in use by the program)` +
      (detail ? `; malloc_trim(0) would give back at most ${mallocTrimBytes} bytes of it` : '')
    : 'glibc holds no free memory in the break';
  causes.sort((a, b) => b.bytes - a.bytes);
  return { causes, mallocTrimBytes, trimThresholdBytes, mmapThresholdBytes, summary };
}

/** PolicySpec.retentionCauses: glibc's mechanisms at one checkpoint, as diagnosis causes. */
export function ptmallocRetentionCauses(h: HeapCounters): DiagnosisCause[] {
  return diagnosePtmalloc(h).causes.filter((c) => c.bytes > 0);
}
