// ptmalloc: the host spec (engine side: assembly/policies/ptmalloc/). Listed once in
// src/policies/registry.ts.
import { registerPolicy } from '../kit/table.js';
import type { EndOfRun } from '../kit/spec.js';
import { diagnosePtmalloc, mallinfoOf, ptmallocHeapView, ptmallocRetentionCauses, type PtmallocDiagnosis } from './diagnose.js';
import { ptmallocDetail } from './detail.js';
import { parseGlibcEnvDetailed } from './glibc-env.js';

const KiB = 1024;

/** The run document's `ptmalloc`: glibc's mechanisms at the end of the run, and what malloc_trim(0) would give back. */
const endOfRun: EndOfRun<PtmallocDiagnosis> = {
  analyse: (engine, heap, counters, params) => diagnosePtmalloc(counters, params, ptmallocDetail(engine, heap)),
  text: (d) => {
    const lines = ['', `ptmalloc diagnosis (end of run): ${d.summary}`];
    for (const c of d.causes) lines.push(`  ${String(c.bytes).padStart(12)} bytes  ${c.mechanism}`);
    return lines.join('\n') + '\n';
  },
};

export const spec = registerPolicy({
  name: 'ptmalloc',
  description: 'glibc 2.36 malloc (Debian 12), main arena, x86-64, one thread: tcache, fastbins, bins, top, brk/mmap, mallinfo2',
  platform: 'linux',
  stackable: false,
  // glibc's own names (GLIBC_TUNABLES glibc.malloc.<name>, MALLOC_<NAME>_); not set = glibc's default.
  // Setting trim_threshold, mmap_threshold, top_pad or mmap_max turns the dynamic thresholds off.
  params: [
    { name: 'tcache_count', defaultValue: 7, unit: 'count', meaning: 'chunks per tcache bin (0 disables the tcache; max 65535)' },
    { name: 'tcache_max', defaultValue: 1032, unit: 'bytes', meaning: 'largest request the tcache holds, bytes (max 1032)' },
    { name: 'mxfast', defaultValue: 128, unit: 'bytes', meaning: 'largest request served by fastbins, bytes (0 disables; max 160)' },
    { name: 'trim_threshold', defaultValue: 128 * KiB, unit: 'bytes', adaptive: true, meaning: 'top size that makes free() shrink the break (dynamic unless set)' },
    { name: 'mmap_threshold', defaultValue: 128 * KiB, unit: 'bytes', adaptive: true, meaning: 'chunk size served by mmap when bins and top cannot (dynamic unless set)' },
    { name: 'top_pad', defaultValue: 128 * KiB, unit: 'bytes', adaptive: true, meaning: 'extra bytes asked of sbrk and kept in top by trimming' },
    { name: 'mmap_max', defaultValue: 65536, unit: 'count', adaptive: true, meaning: 'most chunks mmapped at once (0 disables mmap)' },
    { name: 'tcache_unsorted_limit', defaultValue: 0, unit: 'count', meaning: 'unsorted chunks malloc files while filling the tcache before it returns (0 = no limit)' },
  ],
  counters: [
    'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost',
    'tcacheBytes', 'mmapThreshold',
  ],
  heapView: ptmallocHeapView,
  // glibc's own statistics: struct mallinfo2, field for field.
  native: (h) => ({ ...mallinfoOf(h.policyCounters) }),
  retentionCauses: ptmallocRetentionCauses,
  // The Linux view: the break is the brk heap (arena), mmapped chunks are hblkhd in hblks blocks.
  linuxView: (h) => {
    const m = mallinfoOf((h.mallinfo ?? {}) as Record<string, unknown>);
    return { brkBytes: m.arena, mmapBytes: m.hblkhd, mmapBlocks: m.hblks, stats: { name: 'mallinfo2()', values: { ...m } } };
  },
  readEnv: parseGlibcEnvDetailed,
  envNames: 'GLIBC_TUNABLES and MALLOC_<NAME>_ as glibc 2.36 reads them, e.g.\n' +
    '                           --env "GLIBC_TUNABLES=glibc.malloc.tcache_count=0" --env "MALLOC_TRIM_THRESHOLD_=0x40000"',
  trimName: 'malloc_trim(0)',
  endOfRun,
});
