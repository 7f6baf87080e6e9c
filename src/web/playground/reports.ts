// Text shown for a mark and for a finished run: the WinDbg views of the simulated process.
import type { Checkpoint, RunDocument } from '../../report/types.js';
import { formatHeapSummary } from '../../report/heap-summary.js';
import { formatAddressSummary } from '../../report/address-summary.js';
import { addressSummaryOf, diagnosisText as diagnosisReport } from '../../report/text.js';
import { diagnoseRun } from '../../run/diagnose-run.js';

/** `!heap -s` and `!address -summary` of the simulated process at one checkpoint. */
export function markReport(cp: Checkpoint, arch: string): string {
  const heaps = cp.heaps && cp.heaps.length ? cp.heaps : [cp.heap];
  return [
    `${cp.label} (event ${cp.event})`,
    '',
    '0:000> !heap -s',
    formatHeapSummary(heaps, { arch: arch === 'x64' ? 'x64' : 'x86' }),
    '',
    '0:000> !address -summary',
    formatAddressSummary(addressSummaryOf(cp)),
  ].join('\n');
}

/** The run's diagnosis as the commands print it (verdict, explanation, where the memory is held), without the heading the page has already. */
export function diagnosisText(doc: RunDocument): string {
  return diagnosisReport(diagnoseRun(doc)).replace(/^=== diagnosis ===\n\n/, '').trimEnd();
}
