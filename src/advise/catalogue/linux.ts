// Remedies for Linux programs (glibc traces recorded with `heapsim record`). The glibc entries
// apply when the baseline's policy reads glibc's settings (its readEnv takes the variable); the
// allocator swaps come from the registry: every other Linux policy that says how it is preloaded.
import { policySpecs, type PolicySpec } from '../../policies/registry.js';
import { arenaMaxRemedy, type ArenaView } from '../../policies/ptmalloc/diagnose.js';
import type { Catalogue, QuietPoint, Remedy, RemedyEntry } from '../remedy.js';
import { pointOf } from '../points.js';

/** Recorded traces come from glibc programs (`heapsim record` preloads into glibc's malloc). */
export const DEFAULT_TRACE_POLICY = 'ptmalloc';

const KiB = 1024;
/** malloc.c: DEFAULT_MMAP_THRESHOLD_MIN (128 KiB), where the dynamic thresholds start. */
const GLIBC_MMAP_THRESHOLD_START_BYTES = 128 * KiB;

/** The policy reads this production setting (its readEnv accepts it and ignores nothing). */
function reads(spec: PolicySpec, setting: string): boolean {
  if (!spec.readEnv) return false;
  try { return spec.readEnv(setting).ignored.length === 0; } catch { return false; }
}

/** `VAR=value` for the whole program: the shell line to start it with. */
function envChange(setting: string): string {
  return `${setting} ./your-program   (or Environment=${setting} in its systemd unit)`;
}

function glibcSetting(id: string, setting: string, title: string, parameters: Remedy['parameters'], explain: string): RemedyEntry {
  return {
    id,
    offer: (ctx) => reads(ctx.spec, setting)
      ? [{ id, title, parameters, explain, change: envChange(setting), run: { env: [setting] } }]
      : { notApplicable: `${ctx.spec.name} does not read ${setting.split('=')[0]}` },
  };
}

function where(q: QuietPoint): string {
  const caller = q.caller ? `; the last call before it from ${q.caller}` : '';
  return /^\d+$/.test(q.at) ? `after event ${q.at} (${q.how}${caller})` : `at mark '${q.at}' (event ${q.event}, ${q.how}${caller})`;
}

const mallocTrim: RemedyEntry = {
  id: 'glibc-malloc-trim',
  offer: (ctx) => {
    if (!reads(ctx.spec, 'MALLOC_TOP_PAD_=0') || !ctx.spec.trimName) return { notApplicable: `${ctx.spec.name} is not glibc's malloc` };
    if (!ctx.quietPoints.length) return { notApplicable: 'the baseline has no quiet point after its peak' };
    return [{
      id: 'glibc-malloc-trim',
      title: 'malloc_trim(0) at the quiet points',
      parameters: { pad: 0, at: ctx.quietPoints.map((q) => q.at).join(',') },
      explain: 'malloc_trim(0) gives back the top of every arena and madvises away the whole free pages inside free chunks, '
        + 'which free() only does for the top chunk above M_TRIM_THRESHOLD; called where the program holds little, it returns what the peak left.',
      change: `#include <malloc.h>  and call  malloc_trim(0);  ${ctx.quietPoints.map(where).join('; ')}`,
      // Made in the measured run: the program calls it there (not --trim-at's what-if beside the run).
      run: { trimInRun: ctx.quietPoints.map(pointOf) },
    }];
  },
};

/** Any other Linux library's own "give memory back now" call at the quiet points (its spec's trimName). */
const libraryTrim: RemedyEntry = {
  id: 'library-trim',
  offer: (ctx) => {
    if (!ctx.spec.trimName) return { notApplicable: `${ctx.spec.name} has no call that gives memory back` };
    if (reads(ctx.spec, 'MALLOC_TOP_PAD_=0')) return { notApplicable: `glibc's ${ctx.spec.trimName} is glibc-malloc-trim` };
    if (!ctx.quietPoints.length) return { notApplicable: 'the baseline has no quiet point after its peak' };
    return [{
      id: 'library-trim',
      title: `${ctx.spec.trimName} at the quiet points`,
      parameters: { call: ctx.spec.trimName, at: ctx.quietPoints.map((q) => q.at).join(',') },
      explain: `${ctx.spec.trimName} is ${ctx.spec.name}'s own call that hands its free memory back to the system now instead of when its own rules would; `
        + 'called where the program holds little, it returns what the peak left.',
      change: `call  ${ctx.spec.trimName}  ${ctx.quietPoints.map(where).join('; ')}`,
      run: { trimInRun: ctx.quietPoints.map(pointOf) },
    }];
  },
};

const arenaMax: RemedyEntry = {
  id: 'glibc-arena-max',
  offer: (ctx) => {
    if (!reads(ctx.spec, 'MALLOC_ARENA_MAX=2')) return { notApplicable: `${ctx.spec.name} does not read MALLOC_ARENA_MAX` };
    const last = ctx.doc.checkpoints[ctx.doc.checkpoints.length - 1]!;
    const arenas = (last.heap.arenas as ArenaView[] | undefined) ?? [];
    // The threads work's catalogue entry: it applies when thread arenas keep free memory.
    const r = arenaMaxRemedy(arenas);
    if (!r) return { notApplicable: `${Math.max(1, arenas.length)} arena(s): no thread arena keeps free memory` };
    return [{ id: r.id, title: 'MALLOC_ARENA_MAX=2', parameters: { arena_max: 2 }, explain: r.why, change: envChange(r.env), run: { env: [r.env] } }];
  },
};

const preloads: RemedyEntry = {
  id: 'ld-preload',
  offer: (ctx) => {
    const out: Remedy[] = [];
    for (const spec of policySpecs()) {
      if (spec.platform !== 'linux' || !spec.preload || spec.name === ctx.baseline.policy) continue;
      spec.preload.variants.forEach((variant) => {
        const settings = variant.join(' ');
        out.push({
          id: `ld-preload-${spec.name}${settings ? `-${variant.map((v) => v.split('=')[0]!.toLowerCase()).join('-')}` : ''}`,
          title: `LD_PRELOAD ${spec.name}${settings ? ` with ${settings}` : ''}`,
          parameters: { library: spec.preload!.library, ...(settings ? { settings } : {}) },
          explain: `${spec.description}. Replaces glibc's malloc for the whole process without a rebuild`
            + `${settings ? `; ${settings} is read at start-up (${spec.envNames ?? 'its settings'})` : ', with its default settings'}.`,
          change: `${settings ? `${settings} ` : ''}LD_PRELOAD=${spec.preload!.library} ./your-program`,
          run: { policy: spec.name, env: variant },
        });
      });
    }
    return out.length ? out : { notApplicable: 'no other Linux allocator is registered with a preload library' };
  },
};

export const linux: Catalogue = {
  platform: 'linux',
  held: 'resident',
  // RSS: glibc's madvise (malloc_trim) and the other allocators' purges give pages back without unmapping.
  heldBytes: (h) => h.residentBytes ?? h.committedBytes,
  entries: [
    mallocTrim,
    libraryTrim,
    glibcSetting('glibc-trim-threshold', `MALLOC_TRIM_THRESHOLD_=${GLIBC_MMAP_THRESHOLD_START_BYTES}`, 'MALLOC_TRIM_THRESHOLD_=128 KiB',
      { trim_threshold: GLIBC_MMAP_THRESHOLD_START_BYTES },
      'free() gives the top of the heap back once it exceeds M_TRIM_THRESHOLD; glibc raises the threshold to twice the mmap threshold '
      + 'each time a freed mmapped chunk raises that one. Setting it keeps it at 128 KiB (and turns the dynamic thresholds off).'),
    glibcSetting('glibc-mmap-threshold', `MALLOC_MMAP_THRESHOLD_=${GLIBC_MMAP_THRESHOLD_START_BYTES}`, 'MALLOC_MMAP_THRESHOLD_=128 KiB',
      { mmap_threshold: GLIBC_MMAP_THRESHOLD_START_BYTES },
      'Requests at or above M_MMAP_THRESHOLD get their own mapping, unmapped at free(). Setting it turns the dynamic threshold off: '
      + 'glibc no longer raises it (up to 32 MiB on 64-bit) when a large block is freed, so large peak blocks stay mmapped and go back to the system.'),
    glibcSetting('glibc-top-pad', 'MALLOC_TOP_PAD_=0', 'MALLOC_TOP_PAD_=0', { top_pad: 0 },
      'Each sbrk asks for M_TOP_PAD (128 KiB) more than needed and each trim keeps that much; 0 asks for and keeps only what the request needs.'),
    glibcSetting('glibc-tcache-count', 'GLIBC_TUNABLES=glibc.malloc.tcache_count=0', 'tcache off (glibc.malloc.tcache_count=0)', { tcache_count: 0 },
      'Up to 7 freed chunks per size class stay in the thread cache, marked in use, never coalesced with their neighbours; with 0 every free goes to the bins and can merge.'),
    arenaMax,
    preloads,
  ],
};
