// tcmalloc: the host spec (engine side: assembly/policies/tcmalloc/; rules in docs/tcmalloc.md).
// Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';
import { tcmallocNativeOf } from './view.js';
import { tcmallocRetentionCauses } from './causes.js';
import { parseTcmallocEnv } from './env.js';

const MiB = 1024 * 1024;

export const policy: PolicyDecl = {
  name: 'tcmalloc',
  description: 'gperftools 2.10 tcmalloc (Debian 12 libtcmalloc-minimal4), x86-64, one thread: size classes, thread cache, transfer cache, central lists, page heap, sbrk',
  platform: 'linux',
  stackable: false,
  // gperftools' flags, set in production through TCMALLOC_RELEASE_RATE, TCMALLOC_AGGRESSIVE_DECOMMIT
  // and TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES (`--env`); not set = the library's default.
  params: [
    { name: 'release_rate', defaultValue: 1, unit: 'factor', meaning: 'pages the scavenger releases per 1000 freed to the page heap, once its first 2 GiB delay has run out (0 disables)' },
    { name: 'aggressive_decommit', defaultValue: 0, unit: 'flag', meaning: '1 = release every span freed to the page heap at once' },
    { name: 'max_total_thread_cache_bytes', defaultValue: 32 * MiB, unit: 'bytes', meaning: 'budget the thread caches share, kept within 512 KiB .. 1 GiB' },
  ],
  counters: [
    'heapSize', 'pageheapFree', 'pageheapUnmapped', 'centralFree', 'transferFree', 'threadFree', 'currentAllocated',
    'metadataBytes', 'scavenges', 'releaseCountdownPages', 'threadCacheMaxBytes', 'maxTotalThreadCacheBytes',
  ],
  native: tcmallocNativeOf,
  retentionCauses: tcmallocRetentionCauses,
  readEnv: (text) => parseTcmallocEnv(text),
  envNames: 'TCMALLOC_RELEASE_RATE, TCMALLOC_AGGRESSIVE_DECOMMIT, TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES as gperftools 2.10 reads them',
  trimName: 'MallocExtension::ReleaseFreeMemory()',
  preload: { library: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4', variants: [[], ['TCMALLOC_AGGRESSIVE_DECOMMIT=true']] },
  validate: (v) => (v.aggressive_decommit !== 0 && v.aggressive_decommit !== 1 ? `aggressive_decommit ${v.aggressive_decommit} must be 0 or 1` : undefined),
};
