// Text shown for a mark and for a finished run.
import type { Checkpoint, RunDocument } from '../../report/types.js';
import { formatCheckpointText } from '../../report/text.js';

/** The report of one mark: the address space and every heap at that moment. */
export function markReport(cp: Checkpoint, _arch: string): string {
  return formatCheckpointText(cp);
}

/** The run's diagnosis in one paragraph. */
export function diagnosisText(doc: RunDocument): string {
  if (doc.diagnosis) return doc.diagnosis.summary;
  return 'No diagnosis in this build.';
}
