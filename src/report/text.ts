// Plain-text rendering of a run: for each mark, the address space and every heap.
import type { AddressSummary, Checkpoint, Diagnosis, HeapCounters, RunDocument } from './types.js';
import { USAGE_NAMES, TYPE_NAMES } from './types.js';
import { formatAddressSummary } from './address-summary.js';
import { formatHeapSummary } from './heap-summary.js';
import { formatMB } from './diagnose.js';
import { getPolicy, hasPolicy } from '../policies/registry.js';

const KB = 1024;
const MB = 1024 * KB;

export function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** The `!address -summary` view of a checkpoint. */
export function addressSummaryOf(cp: Checkpoint): AddressSummary {
  const a = cp.address;
  const usage: AddressSummary['usage'] = { free: { bytes: a.state.free } };
  for (const u of USAGE_NAMES) usage[u] = { bytes: a.usage[u] };
  const type = {} as AddressSummary['type'];
  for (const t of TYPE_NAMES) type[t] = { bytes: a.type[t] };
  return {
    totalBytes: a.totalBytes,
    busyBytes: a.totalBytes - a.state.free,
    state: { commit: { bytes: a.state.commit }, reserve: { bytes: a.state.reserve }, free: { bytes: a.state.free } },
    type,
    usage,
  };
}

export function heapLine(h: HeapCounters): string {
  const name = `heap ${h.heap ?? 0} ${h.policy ?? ''}${typeof h.parent === 'number' && h.parent >= 0 ? ` (on heap ${h.parent})` : ''}`;
  return `${name}: reserved ${mb(h.reservedBytes)}, committed ${mb(h.committedBytes)}, busy ${mb(h.busyBytes)}, ` +
    `free ${mb(h.freeBytes)} in ${h.freeBlocks} blocks, ${h.uncommittedRanges} uncommitted ranges, ` +
    `external fragmentation ${h.externalFragmentationPct} %, virtual address fragmentation ${h.virtualAddressFragmentationPct} %`;
}

export function formatCheckpointText(cp: Checkpoint): string {
  const lines = [`=== ${cp.label} (event ${cp.event}) ===`, ''];
  lines.push(formatAddressSummary(addressSummaryOf(cp)));
  for (const h of cp.heaps ?? [cp.heap]) lines.push(heapLine(h));
  lines.push('');
  return lines.join('\n');
}


export function formatRunText(doc: RunDocument): string {
  const head = `heapsim run: ${doc.workload} on ${doc.policy} (${doc.arch}, profile ${doc.profile ?? 'bare'}` +
    `${doc.seed !== undefined ? `, seed ${doc.seed}` : ''}): ${doc.events} events` +
    `${doc.failedOps ? `, ${doc.failedOps} failed ops` : ''}\n\n`;
  return head + doc.checkpoints.map(formatCheckpointText).join('\n');
}

/** The diagnosis with the mechanisms that hold the memory, as `run` and `demo` print it. */
export function diagnosisText(d: Diagnosis): string {
  const lines = ['=== diagnosis ===', '', d.summary, ''];
  if (d.causes.length) {
    lines.push('where the committed memory the program does not use is held (at the last moment):');
    const width = Math.max(...d.causes.map((c) => c.mechanism.length));
    for (const c of d.causes) {
      lines.push(`  ${c.mechanism.padEnd(width)}  ${formatMB(c.bytes).padStart(10)}${c.layer ? `  (${c.layer})` : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * The WinDbg views of the simulated process at one checkpoint: `!address -summary`, then `!heap -s`
 * over the NT heaps (as WinDbg lists them), then one line for each other layer.
 */
export function windbgViews(cp: Checkpoint, arch: 'x86' | 'x64'): string {
  const heaps = cp.heaps && cp.heaps.length ? cp.heaps : [cp.heap];
  // !heap -s lists the heaps of Windows heap managers; other layers get a line each.
  const onWindows = (h: HeapCounters): boolean => h.policy !== undefined && hasPolicy(h.policy) && getPolicy(h.policy).platform === 'windows';
  const nt = heaps.filter(onWindows);
  const others = heaps.filter((h) => !onWindows(h));
  return [
    '0:000> !address -summary',
    '',
    formatAddressSummary(addressSummaryOf(cp)).trimEnd(),
    '',
    '0:000> !heap -s',
    nt.length ? formatHeapSummary(nt, { arch }).trimEnd() : '(no NT heap in this run: nothing for !heap -s to list)',
    ...(others.length ? ['', ...others.map(heapLine)] : []),
  ].join('\n');
}
