// The verdict of a run document: its moments (start, marks, the exact committed peak, end) as the
// verdict reads them, with the mechanisms each policy can name (PolicySpec.retentionCauses) as
// causes, taken at the end and summed over the heaps by mechanism. Periodic checkpoints (`--every`,
// labelled `#<event>`) are rows of the report, never moments of the verdict, so the verdict does
// not depend on the sampling interval; trim what-ifs never enter the run the verdict reads.
import { getPolicy } from '../policies/registry.js';
import { decideVerdict, type VerdictThresholds, type Verdict } from '../report/verdict.js';
import type { Checkpoint, DiagnosisCause, RunDocument } from '../report/types.js';
import type { InputSummary } from '../workload/workload.js';
import { momentOf, peakMoment, userMarks } from '../report/moments.js';

export { momentOf, peakMoment, userMarks, isPeriodic } from '../report/moments.js';

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

/** The verdict of a run document (thresholds: DEFAULT_VERDICT_THRESHOLDS unless given). */
export function diagnoseRun(doc: RunDocument, thresholds: Partial<VerdictThresholds> = {}): Verdict {
  const last = doc.checkpoints[doc.checkpoints.length - 1]!;
  const end = momentOf(last);
  const start = doc.start ? momentOf(doc.start) : { ...end, label: 'start', event: 0, liveBytes: 0, committedBytes: 0, residentBytes: 0 };
  const program = doc.program;
  const input = doc.input as InputSummary | undefined;
  return decideVerdict({
    platform: doc.platform ?? 'any',
    start,
    marks: userMarks(doc).map(momentOf),
    end,
    peak: peakMoment(doc),
    livePeak: doc.peaks?.requestedBytes ?? { bytes: Math.max(start.liveBytes, end.liveBytes), event: last.event },
    ...(program ? { failures: { count: program.failedAllocs, bytes: program.failedBytes, first: program.firstFailure } } : {}),
    causes: policyCauses(last) ?? [],
    topCallers: input?.neverFreed?.topCallers ?? [],
  }, thresholds);
}
