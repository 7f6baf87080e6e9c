// Remedies for Windows heaps (nt workloads, WinDbg-era services). Each applies when the baseline's
// heap stack has the parameter it changes; HeapCompact comes from the policy's trimName.
import { paramOf, getPolicy, type PolicySpec } from '../../policies/registry.js';
import type { AdviseContext, Catalogue, Remedy, RemedyEntry } from '../remedy.js';
import { pointOf } from '../points.js';

const KiB = 1024;
/** One x86 page: the smallest decommit threshold that means anything. */
const PAGE_BYTES = 4 * KiB;

/** The baseline's value of a parameter on the top heap (what --set / the workload gave, else the default). */
function valueOf(ctx: AdviseContext, spec: PolicySpec, name: string): number | undefined {
  const p = paramOf(spec, name);
  if (!p) return undefined;
  const set = ctx.params[name];
  const v = Number(set);
  return set !== undefined && Number.isFinite(v) ? v : p.defaultByArch?.[ctx.doc.arch as 'x86'] ?? p.defaultValue;
}

const lfh: RemedyEntry = {
  id: 'nt-lfh',
  offer: (ctx) => {
    const on = valueOf(ctx, ctx.spec, 'lfh');
    if (on === undefined) return { notApplicable: `${ctx.spec.name} has no LFH` };
    const to = on ? 0 : 1;
    return [{
      id: 'nt-lfh',
      title: to ? 'LFH on' : 'LFH off',
      parameters: { lfh: to },
      explain: to
        ? 'The Low Fragmentation Heap serves small blocks from per-size user blocks, so short-lived peak blocks stop cutting the back end\'s free space into pieces it cannot decommit.'
        : 'Without the LFH, small blocks come from the back end, whose coalesced free blocks are decommitted by the DFBT/DTFT rule; LFH user blocks stay committed while one chunk in them lives.',
      change: to
        ? 'ULONG mode = 2; HeapSetInformation(hHeap, HeapCompatibilityInformation, &mode, sizeof mode);  (per heap, after HeapCreate; GetProcessHeap() for the process heap)'
        : 'create the heap with HeapCreate(HEAP_NO_SERIALIZE, ...) (no LFH on a non-serialized heap), or for a whole image the Image File Execution Options value FrontEndHeapDebugOptions (REG_DWORD) = 0x08 under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\<program>.exe',
      run: { set: { lfh: to } },
    }];
  },
};

const decommit: RemedyEntry = {
  id: 'nt-decommit-thresholds',
  offer: (ctx) => {
    const dfbt = valueOf(ctx, ctx.spec, 'decommitFreeBlockThreshold');
    const dtft = valueOf(ctx, ctx.spec, 'decommitTotalFreeThreshold');
    if (dfbt === undefined || dtft === undefined) return { notApplicable: `${ctx.spec.name} has no decommit thresholds` };
    if (dfbt <= PAGE_BYTES && dtft <= PAGE_BYTES) return { notApplicable: 'the thresholds are already one page' };
    return [{
      id: 'nt-decommit-thresholds',
      title: 'decommit thresholds one page (DFBT = DTFT = 4 KiB)',
      parameters: { decommitFreeBlockThreshold: PAGE_BYTES, decommitTotalFreeThreshold: PAGE_BYTES },
      explain: `The back end decommits the whole pages of a coalesced free block only when the block is at least DeCommitFreeBlockThreshold (${dfbt} bytes now) `
        + `and the heap holds at least DeCommitTotalFreeThreshold (${dtft} bytes now) free; one page each decommits every free page it can.`,
      change: 'per program: the PE load configuration fields DeCommitFreeBlockThreshold = 0x1000 and DeCommitTotalFreeThreshold = 0x1000 '
        + '(IMAGE_LOAD_CONFIG_DIRECTORY of the .exe); per heap: HeapCreate with RTL_HEAP_PARAMETERS (RtlCreateHeap); machine-wide: '
        + 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager values HeapDeCommitFreeBlockThreshold and HeapDeCommitTotalFreeThreshold (REG_DWORD 0x1000, reboot)',
      run: { set: { decommitFreeBlockThreshold: PAGE_BYTES, decommitTotalFreeThreshold: PAGE_BYTES } },
    }];
  },
};

const heapCompact: RemedyEntry = {
  id: 'nt-heapcompact',
  offer: (ctx) => {
    if (!paramOf(ctx.spec, 'lfh') || !ctx.spec.trimName) return { notApplicable: `${ctx.spec.name} has no HeapCompact` };
    if (!ctx.quietPoints.length) return { notApplicable: 'the baseline has no quiet point after its peak' };
    return [{
      id: 'nt-heapcompact',
      title: `${ctx.spec.trimName} at the quiet points`,
      parameters: { at: ctx.quietPoints.map((q) => q.at).join(',') },
      explain: 'HeapCompact coalesces the free blocks and decommits the whole free pages of the large ones, ignoring the thresholds; '
        + 'called where the service is quiet, it returns what the peak left committed.',
      change: `HeapCompact(GetProcessHeap(), 0);  (and each private heap) ${ctx.quietPoints.map((q) => `${/^\d+$/.test(q.at) ? `after event ${q.at}` : `at '${q.at}' (event ${q.event})`}${q.caller ? ` (the last call before it from ${q.caller})` : ''}`).join('; ')}, e.g. from the service's idle timer; `
        + 'on Windows 8.1 and later HeapSetInformation(hHeap, HeapOptimizeResources, &info, sizeof info) decommits as well',
      run: { trimInRun: ctx.quietPoints.map(pointOf) },
    }];
  },
};

/**
 * The peak's short-lived blocks on a private heap, destroyed at the quiet point after the peak
 * (HeapCreate / HeapDestroy): the program's heap never sees the peak's churn, and the private
 * heap's segments go back to the system whole.
 */
const privateHeap: RemedyEntry = {
  id: 'nt-private-heap',
  offer: (ctx) => {
    if (ctx.spec.platform !== 'windows') return { notApplicable: `${ctx.spec.name} is not a Windows heap` };
    const w = ctx.peakWindow;
    if (!w) return { notApplicable: 'no quiet point before the peak and after it' };
    const name = (q: typeof w.from): string => {
      const event = /^\d+$/.test(q.at);
      const extra = [event ? '' : `event ${q.event}`, q.caller ? `after a call from ${q.caller}` : ''].filter(Boolean).join(', ');
      return `${event ? `event ${q.at}` : `'${q.at}'`}${extra ? ` (${extra})` : ''}`;
    };
    return [{
      id: 'nt-private-heap',
      title: 'a private heap for the peak\'s allocations',
      parameters: { from: w.from.at, to: w.to.at },
      explain: `The blocks the service allocates between ${name(w.from)} and ${name(w.to)} and frees before ${name(w.to)} go to a heap of their own, `
        + 'created at the first point and destroyed at the second: HeapDestroy releases its segments whole, and the process heap is never cut up by the peak. '
        + 'Blocks of the window that outlive it stay on the process heap (a heap that still holds them cannot be destroyed).',
      change: `HANDLE peak = HeapCreate(0, 0, 0);  at ${name(w.from)}; allocate the peak's short-lived buffers with HeapAlloc(peak, 0, n) / HeapFree(peak, 0, p) `
        + `and what must outlive the peak from the process heap;  HeapDestroy(peak);  at ${name(w.to)}`,
      run: { privateHeap: { from: pointOf(w.from), to: pointOf(w.to) } },
    }];
  },
};

/** A custom pool in the stack (a heap with a release-policy parameter) that never gives chunks back. */
const poolRelease: RemedyEntry = {
  id: 'pool-release-empty-chunks',
  offer: (ctx) => {
    const stack = [ctx.baseline.policy, ...ctx.baseline.layers.map((l) => l.policy)];
    const at = stack.findIndex((p) => paramOf(getPolicy(p), 'releaseEmptyChunks'));
    if (at < 0) return { notApplicable: 'no custom pool in the heap stack (try --policy pool --set parent=nt)' };
    const current = at === 0 ? ctx.baseline.set.releaseEmptyChunks : ctx.baseline.layers[at - 1]!.params?.releaseEmptyChunks;
    if (Number(current) === 1) return { notApplicable: 'the pool already releases empty chunks' };
    const set = { releaseEmptyChunks: 1 };
    const r: Remedy = {
      id: 'pool-release-empty-chunks',
      title: 'pool releases empty chunks',
      parameters: set,
      explain: 'The pool keeps every chunk it ever took from the heap below; giving a chunk back (HeapFree) when its last object is freed lets the heap below coalesce and decommit it.',
      change: 'in the pool\'s free path: when a chunk\'s live count drops to 0, unlink it from its size class and HeapFree it (keep one spare per class to avoid thrashing)',
      run: at === 0 ? { set } : { layerSet: [{ layer: at - 1, set }] },
    };
    return [r];
  },
};

export const windows: Catalogue = {
  platform: 'windows',
  held: 'committed',
  // The heap's segments (the view's Commit, as !heap -s prints it) plus its large blocks' own VirtualAllocs.
  heldBytes: (h) => h.committedBytes + (h.virtualBytes ?? 0),
  entries: [lfh, decommit, heapCompact, privateHeap, poolRelease],
};
