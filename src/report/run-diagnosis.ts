// The diagnosis of one simulated run, as the playground shows it and `sweep` tabulates it: the
// series of its marks (periodic checkpoints, labelled `#<event>`, are left out so the answer does
// not depend on --every), or every checkpoint when the run has fewer than two marks.
import { diagnose, seriesFromCheckpoints } from './diagnose.js';
import type { Diagnosis, RunDocument } from './types.js';

export function diagnoseRun(doc: RunDocument): Diagnosis {
  const marks = doc.checkpoints.filter((cp) => !cp.label.startsWith('#'));
  return diagnose(seriesFromCheckpoints(marks.length >= 2 ? marks : doc.checkpoints));
}
