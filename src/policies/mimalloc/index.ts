// mimalloc: the host spec (engine side: assembly/policies/mimalloc/; rules in docs/mimalloc.md).
// Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';
import { mimallocNativeOf } from './view.js';
import { mimallocRetentionCauses } from './causes.js';
import { parseMimallocEnv } from './env.js';

export const policy: PolicyDecl = {
  name: 'mimalloc',
  description: 'mimalloc 2.0.9 (Debian 12 libmimalloc2.0), x86-64, one thread: pages of one block size in 32 MiB segments of 64 KiB slices, page retirement, delayed decommit, segment cache, eager commit',
  platform: 'linux',
  stackable: false,
  // mimalloc's option names (MIMALLOC_<NAME>, `--env`); delays in milliseconds; not set = the library's default.
  params: [
    { name: 'decommit_delay', defaultValue: 25, unit: 'count', meaning: 'ms before the free slices of a segment are decommitted (0: at once)' },
    { name: 'segment_decommit_delay', defaultValue: 500, unit: 'count', meaning: 'ms before a segment in the segment cache is decommitted (0: at once)' },
    { name: 'decommit_extend_delay', defaultValue: 1, unit: 'count', meaning: 'ms a further free in a segment pushes its pending decommit by' },
    { name: 'allow_decommit', defaultValue: 1, unit: 'flag', meaning: '0: free slices and cached segments stay committed' },
    { name: 'eager_commit', defaultValue: 1, unit: 'flag', meaning: '1: a new segment is committed whole; 0: in 1 MiB steps as pages need it' },
    { name: 'page_reset', defaultValue: 0, unit: 'flag', meaning: '1: a freed page is reset (MADV_FREE; counted, Linux keeps the pages until memory is short)' },
    { name: 'event_ns', defaultValue: 1000, unit: 'count', meaning: 'simulated ns each event adds to the trace\'s own time (the delays run on this clock)' },
  ],
  counters: [
    'current_commit', 'peak_commit', 'area_reserved', 'area_committed', 'area_used_bytes', 'area_used_blocks', 'areas',
    'retiredPageBytes', 'pendingDecommitBytes', 'eagerFreeSliceBytes', 'cachedSegmentBytes', 'cachedSegments', 'pageSlackBytes', 'livePageFreeBytes',
    'reservedBytesStat', 'resetBytes', 'decommittedBytes', 'segmentsMapped', 'segmentsFromCache',
  ],
  native: mimallocNativeOf,
  retentionCauses: mimallocRetentionCauses,
  readEnv: (text) => parseMimallocEnv(text),
  envNames: 'MIMALLOC_DECOMMIT_DELAY, MIMALLOC_SEGMENT_DECOMMIT_DELAY, MIMALLOC_ALLOW_DECOMMIT, MIMALLOC_EAGER_COMMIT, MIMALLOC_PAGE_RESET\n' +
    '                           (and MIMALLOC_DECOMMIT_EXTEND_DELAY) as mimalloc 2.0.9 reads them',
  trimName: 'mi_collect(true)',
  preload: { library: '/usr/lib/x86_64-linux-gnu/libmimalloc.so.2', variants: [[], ['MIMALLOC_DECOMMIT_DELAY=0']] },
  validate: (v) => {
    for (const flag of ['allow_decommit', 'eager_commit', 'page_reset']) {
      if (v[flag] !== 0 && v[flag] !== 1) return `${flag} ${v[flag]} must be 0 or 1`;
    }
    for (const ms of ['decommit_delay', 'segment_decommit_delay', 'decommit_extend_delay']) {
      if (!Number.isInteger(v[ms]) || v[ms]! > 1e12) return `${ms} ${v[ms]} must be whole milliseconds, at most 10^12`;
    }
    if (!Number.isInteger(v.event_ns) || v.event_ns! > 1e15) return `event_ns ${v.event_ns} must be whole nanoseconds, at most 10^15`;
    return undefined;
  },
};
