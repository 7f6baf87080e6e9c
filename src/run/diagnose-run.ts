// The diagnosis of a simulated run: the shared diagnose() over the run's marks, with the
// mechanisms each policy can name (PolicySpec.retentionCauses) as causes, taken at the last mark
// and summed over the heaps by mechanism. Periodic checkpoints (`--every`, labelled `#<event>`)
// are left out when the run has two marks or more, so the verdict does not depend on the sampling
// interval (the first periodic point falls before the workload has built its steady state).
import { getPolicy } from '../policies/registry.js';
import { diagnose, seriesFromCheckpoints, type DiagnoseOptions } from '../report/diagnose.js';
import type { Checkpoint, Diagnosis, DiagnosisCause, RunDocument } from '../report/types.js';

/** Causes at one checkpoint from the policies that can name them; undefined when none can. */
export function policyCauses(cp: Checkpoint): DiagnosisCause[] | undefined {
  const merged = new Map<string, DiagnosisCause>();
  let named = false;
  for (const h of cp.heaps ?? [cp.heap]) {
    const spec = h.policy ? getPolicy(h.policy) : undefined;
    if (!spec?.retentionCauses) continue;
    named = true;
    for (const c of spec.retentionCauses(h)) {
      const key = `${c.layer ?? ''}\u0000${c.mechanism}`;
      const m = merged.get(key);
      if (m) m.bytes += c.bytes; else merged.set(key, { ...c });
    }
  }
  return named ? [...merged.values()].sort((a, b) => b.bytes - a.bytes) : undefined;
}

/** diagnose() over a run's checkpoints, with policy-named causes when the policy has them. */
export function diagnoseRun(doc: RunDocument, options: Omit<DiagnoseOptions, 'causes'> = {}): Diagnosis {
  const marks = doc.checkpoints.filter((cp) => !cp.label.startsWith('#'));
  const series = marks.length >= 2 ? marks : doc.checkpoints;
  const last = series[series.length - 1];
  const causes = last ? policyCauses(last) : undefined;
  return diagnose(seriesFromCheckpoints(series), { ...options, ...(causes ? { causes } : {}) });
}
