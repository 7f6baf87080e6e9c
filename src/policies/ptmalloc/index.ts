// ptmalloc: the host spec (engine side: assembly/policies/ptmalloc/). Listed once in
// src/policies/registry.ts.
import type { EndOfRun, PolicyDecl } from '../kit/spec.js';
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
    if (d.retainedByArena.length > 1) {
      lines.push('  arena  threads   system bytes   in use bytes     free bytes');
      for (const a of d.retainedByArena) {
        lines.push(`  ${String(a.arena).padStart(5)}  ${String(a.threads).padStart(7)}  ${String(a.systemBytes).padStart(13)}  ${String(a.inUseBytes).padStart(13)}  ${String(a.freeBytes).padStart(13)}`);
      }
    }
    for (const r of d.remedies) lines.push(`  try --env ${r.env}: ${r.why}`);
    return lines.join('\n') + '\n';
  },
};

export const policy: PolicyDecl = {
  name: 'ptmalloc',
  description: 'glibc 2.36 malloc (Debian 12), x86-64: main and thread arenas, a tcache per thread, fastbins, bins, top, brk/heaps/mmap, mallinfo2',
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
    { name: 'arena_max', defaultValue: 0, unit: 'count', meaning: 'most arenas (MALLOC_ARENA_MAX; 0 = 8 per core once more than arena_test exist)' },
    { name: 'arena_test', defaultValue: 8, unit: 'count', meaning: 'arenas made before the core count limits them (MALLOC_ARENA_TEST, at least 1)' },
    { name: 'cores', defaultValue: 2, unit: 'count', meaning: "the machine's cores, for the arena limit 8 × cores (not a glibc setting; 2 is what glibc assumes when it cannot count them)" },
  ],
  counters: [
    'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost',
    'tcacheBytes', 'mmapThreshold', 'arenaCount', 'arenaHeaps', 'arenaLimit', 'freeArenas',
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
    '                           --env "GLIBC_TUNABLES=glibc.malloc.tcache_count=0" --env "MALLOC_ARENA_MAX=2"',
  trimName: 'malloc_trim(0)',
  endOfRun,
};
