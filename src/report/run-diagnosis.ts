// The diagnosis of one simulated run, as the playground shows it and `sweep` tabulates it: the
// series of its marks (periodic checkpoints, labelled `#<event>`, are left out so the answer does
// not depend on --every), or every checkpoint when the run has fewer than two marks. Policies that
// name their own retained memory (pool) give the causes, read at the last checkpoint of the series.
import { diagnose, seriesFromCheckpoints } from './diagnose.js';
import { poolCauses } from '../diagnosis/pool.js';
import type { Diagnosis, RunDocument } from './types.js';

export function diagnoseRun(doc: RunDocument): Diagnosis {
  const marks = doc.checkpoints.filter((cp) => !cp.label.startsWith('#'));
  const series = marks.length >= 2 ? marks : doc.checkpoints;
  const last = series[series.length - 1];
  const causes = last ? poolCauses(last) : [];
  return diagnose(seriesFromCheckpoints(series), causes.length ? { causes } : {});
}
