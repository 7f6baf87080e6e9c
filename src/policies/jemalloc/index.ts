// Host side of the jemalloc policy (assembly/policies/jemalloc/): parameters, counter names, the
// library's own statistics under their mallctl names, what holds freed memory, and the
// MALLOC_CONF reader. docs/jemalloc.md describes the model.
import type { HeapSample } from '../../engine/engine.js';
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';

export { readJemallocEnv, parseMallocConf, jemallocStrtoumax, type JemallocEnvResult } from './env.js';

const MiB = 1024 * 1024;

/** Parameter table: slot = index in assembly/policies/jemalloc/index.ts (JE_*). */
export const JEMALLOC_PARAMS = [
  { name: 'tcache', slot: 0, defaultValue: 1, minValue: 0, description: 'opt.tcache: 1 = the thread cache is on (Debian default), 0 = off' },
  { name: 'dirty_decay_ms', slot: 1, defaultValue: 10000, minValue: -1, description: 'opt.dirty_decay_ms: time over which freed pages are purged (-1 never, 0 at once), ms of the simulated clock' },
  { name: 'muzzy_decay_ms', slot: 2, defaultValue: 0, minValue: -1, description: 'opt.muzzy_decay_ms: the same for lazily purged (MADV_FREE) pages; 0 skips that stage' },
  { name: 'retain', slot: 3, defaultValue: 1, minValue: 0, description: 'opt.retain: 1 = purged address space stays mapped ("retained"), 0 = unmapped' },
  { name: 'oversize_threshold', slot: 4, defaultValue: 8 * MiB, minValue: 0, description: 'opt.oversize_threshold: requests at or above go to the huge arena (purged at once); outside 16 KiB..2^62+3*2^60: no huge arena' },
  { name: 'lg_extent_max_active_fit', slot: 5, defaultValue: 6, minValue: 0, description: 'opt.lg_extent_max_active_fit: a dirty extent may exceed a request by at most 2^this' },
  { name: 'narenas', slot: 6, defaultValue: 8, minValue: 1, description: 'opt.narenas: automatic arenas (jemalloc: 4 x CPUs; only the statistics tables depend on it with one thread)' },
  { name: 'nsPerEvent', slot: 7, defaultValue: 1000, minValue: 0, description: 'simulated nanoseconds per allocator call, the decay clock when the trace has no time' },
  { name: 'startupAllocBytes', slot: 8, defaultValue: 72704, minValue: 0, description: "the C++ runtime's malloc before main (libstdc++'s exception pool; libjemalloc.so.2 links libstdc++); 0 = none" },
  { name: 'prngSeed', slot: 9, defaultValue: 0x7ffff7a2d738, minValue: 0, description: "the thread's PRNG seed (jemalloc: its TSD address): decay ticks and large blocks' cache-line offsets" },
] as const;

/** Policy counter slots (K.POLICY_BASE + i), in assembly/policies/jemalloc/index.ts order. */
export const JEMALLOC_COUNTERS = [
  'allocated', 'active', 'metadata', 'resident', 'mapped', 'retained', 'dirtyBytes', 'muzzyBytes',
  'tcacheBytes', 'internalBytes', 'rtreeLeaves', 'purges',
] as const;

/** The library's statistics, keyed by the names mallctl() reads them under (pages → bytes). */
export interface JemallocNative {
  'stats.allocated': number;
  'stats.active': number;
  'stats.metadata': number;
  'stats.resident': number;
  'stats.mapped': number;
  'stats.retained': number;
  /** stats.arenas.4096.pdirty × page size */
  dirtyBytes: number;
  /** stats.arenas.4096.pmuzzy × page size */
  muzzyBytes: number;
}

export function jemallocNative(c: Record<string, number>): JemallocNative {
  return {
    'stats.allocated': c.allocated ?? 0,
    'stats.active': c.active ?? 0,
    'stats.metadata': c.metadata ?? 0,
    'stats.resident': c.resident ?? 0,
    'stats.mapped': c.mapped ?? 0,
    'stats.retained': c.retained ?? 0,
    dirtyBytes: c.dirtyBytes ?? 0,
    muzzyBytes: c.muzzyBytes ?? 0,
  };
}

/** Checkpoint view: `native` (mallctl names) plus the thread cache's bytes and the leaf count. */
export function jemallocHeapView(h: HeapSample): Partial<HeapCounters> {
  const c = h.policyCounters;
  const view: Partial<HeapCounters> = {
    native: jemallocNative(c),
    tcacheBytes: c.tcacheBytes,
    internalBytes: c.internalBytes,
    rtreeLeaves: c.rtreeLeaves,
    purges: c.purges,
  };
  for (const name of ['allocated', 'active', 'metadata', 'resident', 'mapped', 'retained', 'dirtyBytes', 'muzzyBytes']) {
    view[name] = undefined; // only under `native`
  }
  return view;
}

function nativeOf(h: HeapCounters): JemallocNative | undefined {
  const n = h.native as JemallocNative | undefined;
  return n && typeof n === 'object' ? n : undefined;
}

/**
 * What holds memory the program freed, in jemalloc's own terms: dirty pages waiting for decay
 * (resident), muzzy pages (resident until the kernel takes them), pages held inside slabs and
 * large-block padding (active − allocated), objects in the thread cache, retained address
 * space (mapped, not resident) and metadata.
 */
export function jemallocRetentionCauses(h: HeapCounters): DiagnosisCause[] {
  const n = nativeOf(h);
  if (!n) return [];
  const tcache = Number(h.tcacheBytes ?? 0);
  const causes: DiagnosisCause[] = [
    { mechanism: 'dirty pages awaiting decay (dirty_decay_ms)', bytes: n.dirtyBytes },
    { mechanism: 'muzzy pages awaiting decay (muzzy_decay_ms)', bytes: n.muzzyBytes },
    { mechanism: 'free regions inside slabs and large-block padding (active - allocated)', bytes: Math.max(0, n['stats.active'] - n['stats.allocated']) },
    { mechanism: 'objects parked in the thread cache (tcache)', bytes: tcache },
    { mechanism: 'retained address space (purged, still mapped: opt.retain)', bytes: n['stats.retained'] },
    { mechanism: 'jemalloc metadata (base allocations, radix-tree leaves; never freed)', bytes: n['stats.metadata'] },
  ];
  return causes.filter((c) => c.bytes > 0);
}

/** What `--trim-at` performs, in jemalloc's words. */
export const JEMALLOC_TRIM_NAME = 'mallctl("thread.tcache.flush") + mallctl("arena.<all>.purge")';
