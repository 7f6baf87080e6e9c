// jemalloc: the host spec (engine side: assembly/policies/jemalloc/). Parameters, counter names,
// the library's own statistics under their mallctl names (checkpoint `heap.native`), what holds
// freed memory, and the MALLOC_CONF reader. docs/jemalloc.md describes the model. Listed once in
// src/policies/registry.ts.
import type { HeapSample } from '../../engine/sample.js';
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';
import type { ParamDecl, PolicyDecl } from '../kit/spec.js';
import { readJemallocEnv } from './env.js';

export { readJemallocEnv, parseMallocConf, jemallocStrtoumax, type JemallocEnvResult } from './env.js';

const MiB = 1024 * 1024;

/** Parameters, in the engine's slot order (assembly/policies/jemalloc/jemalloc.ts JE_*). */
export const JEMALLOC_PARAMS: ParamDecl[] = [
  { name: 'tcache', defaultValue: 1, unit: 'flag', meaning: 'opt.tcache: 1 = the thread cache is on (Debian default), 0 = off' },
  { name: 'dirty_decay_ms', defaultValue: 10000, minValue: -1, unit: 'count', meaning: 'opt.dirty_decay_ms: simulated ms over which freed pages are purged (-1 never, 0 at once)' },
  { name: 'muzzy_decay_ms', defaultValue: 0, minValue: -1, unit: 'count', meaning: 'opt.muzzy_decay_ms: the same for lazily purged (MADV_FREE) pages; 0 skips that stage' },
  { name: 'retain', defaultValue: 1, unit: 'flag', meaning: 'opt.retain: 1 = purged address space stays mapped ("retained"), 0 = unmapped' },
  { name: 'oversize_threshold', defaultValue: 8 * MiB, unit: 'bytes', meaning: 'opt.oversize_threshold: requests at or above go to the huge arena (purged at once); below 16 KiB: no huge arena' },
  { name: 'lg_extent_max_active_fit', defaultValue: 6, unit: 'count', meaning: 'opt.lg_extent_max_active_fit: a dirty extent may exceed a request by at most 2^this' },
  { name: 'narenas', defaultValue: 8, unit: 'count', meaning: 'opt.narenas (jemalloc: 4 x CPUs, 8 on a 2-CPU machine); with one thread only the statistics tables depend on it' },
  { name: 'nsPerEvent', defaultValue: 1000, unit: 'count', meaning: 'simulated ns per allocator call: the decay clock when the trace has no time of its own' },
  { name: 'startupAllocBytes', defaultValue: 72704, unit: 'bytes', meaning: "the C++ runtime's malloc before main (libstdc++'s exception pool; libjemalloc.so.2 links libstdc++); 0 = none" },
  { name: 'prngSeed', defaultValue: 0x7ffff7a2d738, unit: 'count', meaning: "the thread's PRNG seed (jemalloc: its TSD address): decay ticks, large blocks' cache-line offsets" },
];

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

export function jemallocNativeOf(c: Record<string, number>): JemallocNative {
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

/** Checkpoint view: the raw statistics live only under `native`; beside them the thread cache. */
export function jemallocHeapView(h: HeapSample): Partial<HeapCounters> {
  const view: Partial<HeapCounters> = {};
  for (const name of ['allocated', 'active', 'metadata', 'resident', 'mapped', 'retained', 'dirtyBytes', 'muzzyBytes']) {
    view[name] = undefined;
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

export const policy: PolicyDecl = {
  name: 'jemalloc',
  description: 'jemalloc 5.3.0 (Debian 12 libjemalloc2), one thread: slabs, extents, decay, retained address space, tcache, mallctl statistics',
  platform: 'linux',
  stackable: false,
  params: JEMALLOC_PARAMS,
  counters: [...JEMALLOC_COUNTERS],
  heapView: jemallocHeapView,
  native: (h) => ({ ...jemallocNativeOf(h.policyCounters) }),
  retentionCauses: jemallocRetentionCauses,
  readEnv: (text) => {
    const r = readJemallocEnv(text);
    return { params: r.params, ignored: r.notes.map((n) => ({ setting: n.split(' ')[0]!, reason: n })) };
  },
  envNames: 'MALLOC_CONF as jemalloc 5.3 reads it, e.g. --env MALLOC_CONF=narenas:1,tcache:false,dirty_decay_ms:0',
  trimName: 'thread.tcache.flush + arena.<all>.purge',
  preload: { library: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', variants: [[], ['MALLOC_CONF=dirty_decay_ms:1000,muzzy_decay_ms:0']] },
  validate: (v) => {
    for (const k of ['tcache', 'retain']) if (v[k] !== 0 && v[k] !== 1) return `${k} ${v[k]} must be 0 or 1`;
    if (v.narenas! < 1 || v.narenas! > 4095) return `narenas ${v.narenas} must be 1..4095`;
    if (v.lg_extent_max_active_fit! > 64) return `lg_extent_max_active_fit ${v.lg_extent_max_active_fit} must be 0..64`;
    return undefined;
  },
};
