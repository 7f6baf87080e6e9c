// Text shown for a mark and for a finished run: the WinDbg views of the simulated process.
import type { Checkpoint, RunDocument } from '../../report/types.js';
import { diagnosisText as diagnosisReport, windbgViews } from '../../report/text.js';
import { diagnoseRun } from '../../run/diagnose-run.js';

/** The WinDbg views of the simulated process at one checkpoint, as `heapsim demo` prints them. */
export function markReport(cp: Checkpoint, arch: string): string {
  return [`${cp.label} (event ${cp.event})`, '', windbgViews(cp, arch === 'x64' ? 'x64' : 'x86')].join('\n');
}

/** The run's diagnosis as the commands print it (verdict, explanation, where the memory is held), without the heading the page has already. */
export function diagnosisText(doc: RunDocument): string {
  return diagnosisReport(diagnoseRun(doc)).replace(/^=== diagnosis ===\n\n/, '').trimEnd();
}
