// The diagnosis the playground shows and `sweep` tabulates: diagnoseRun over the run's marks
// (periodic checkpoints, labelled `#<event>`, are left out so the verdict does not depend on
// --every), or over every checkpoint when the run has fewer than two marks. A pool names the
// memory it keeps through poolCauses; other policies through their retentionCauses (diagnoseRun).
import { diagnose, seriesFromCheckpoints } from '../report/diagnose.js';
import { poolCauses } from '../diagnosis/pool.js';
import type { Diagnosis, RunDocument } from '../report/types.js';
import { diagnoseRun } from './diagnose-run.js';

export function diagnoseMarks(doc: RunDocument): Diagnosis {
  const marks = doc.checkpoints.filter((cp) => !cp.label.startsWith('#'));
  const series = marks.length >= 2 ? marks : doc.checkpoints;
  const last = series[series.length - 1];
  const pool = last ? poolCauses(last) : [];
  if (pool.length) return diagnose(seriesFromCheckpoints(series), { causes: pool });
  return diagnoseRun({ ...doc, checkpoints: series });
}
