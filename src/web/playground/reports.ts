// Text shown for a mark and for a finished run: the platform's own view of the simulated process
// (WinDbg for Windows runs, Linux tools for Linux policies), and the verdict as `heapsim run`
// prints it (verdict line, trim what-if, the moments with the exact peak, the details).
import type { Checkpoint, RunDocument, TrimResult } from '../../report/types.js';
import { momentsTable, platformView, trimLine, verdictDetails } from '../../report/text.js';
import { diagnoseRun } from '../../run/diagnose-run.js';
import type { Verdict } from '../../report/verdict.js';

/** What markReport needs of a run: its vocabulary and architecture (a finished document has both). */
export type ViewOf = Pick<RunDocument, 'platform' | 'arch'> & Partial<RunDocument>;

/** The platform view of the simulated process at one checkpoint, as `heapsim run --dumps` prints it. */
export function markReport(cp: Checkpoint, view: ViewOf): string {
  const doc = { checkpoints: [], ...view } as unknown as RunDocument;
  return [`${cp.label} (event ${cp.event})`, '', platformView(doc, cp)].join('\n');
}

/** The run's verdict as the commands print it, without the heading the page has already. */
export function diagnosisText(doc: RunDocument): string {
  const v = (doc.diagnosis ?? diagnoseRun(doc)) as Verdict;
  const atEnd = doc.trimAtEnd as TrimResult | undefined;
  return [v.headline, ...(atEnd ? [trimLine(atEnd, 'at the end')] : []), '', momentsTable(doc), '', verdictDetails(v)].join('\n').trimEnd();
}
