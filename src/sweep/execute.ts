// Runs a sweep's jobs on a pool of engine workers (worker_threads, one compiled module posted to
// each) or, with one job slot, in the calling thread through the same EngineService API. Every
// run is deterministic on its own, and results are stored by plan index, so the output is the
// same whatever the pool size and whichever job finishes first.
import type { Remote } from 'comlink';
import type { RunDocument } from '../report/types.js';
import { EngineService, setTraceProvider } from '../worker/service.js';
import { cachedTraceWorkload } from '../trace/decoded-cache.js';
import { startNodeWorker, type NodeEngineWorker } from '../worker/node.js';
import { requestFor, type SweepJob, type SweepRunOptions } from './plan.js';
import type { RunRequest } from '../worker/protocol.js';

export interface SweepOptions extends SweepRunOptions {
  /** Job slots: 1 runs in this thread, N > 1 starts min(N, jobs) worker threads. */
  jobs: number;
  /** Called as each job finishes (in completion order). */
  onResult?: (job: SweepJob, doc: RunDocument) => void;
}

export interface SweepOutcome {
  /** Documents in the order of the jobs given. */
  docs: RunDocument[];
  /** Worker threads used (0: the calling thread). */
  workers: number;
}

type Api = EngineService | Remote<EngineService>;

export async function executeSweep(jobs: readonly SweepJob[], options: SweepOptions): Promise<SweepOutcome> {
  const { docs, workers } = await executeRequests(jobs.map((job) => requestFor(job, options)), {
    jobs: options.jobs,
    onResult: options.onResult && ((i, doc) => options.onResult!(jobs[i]!, doc)),
  });
  return { docs, workers };
}

/**
 * Runs run requests on the pool (or in this thread with one slot); documents come back in request
 * order whatever order they finish in. `advise` and `sweep` both use it.
 */
export async function executeRequests(
  requests: readonly RunRequest[], options: { jobs: number; onResult?: (index: number, doc: RunDocument) => void },
): Promise<SweepOutcome> {
  const jobs = requests;
  const docs: RunDocument[] = new Array(jobs.length);
  const slots = Math.max(1, Math.min(options.jobs, jobs.length));
  let next = 0;
  const drain = async (api: Api): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      const doc = await api.run(jobs[index]!);
      docs[index] = doc;
      options.onResult?.(index, doc);
    }
  };
  if (slots === 1) {
    setTraceProvider(cachedTraceWorkload);
    await drain(new EngineService());
    return { docs, workers: 0 };
  }
  const workers: NodeEngineWorker[] = [];
  try {
    const started = await Promise.allSettled(Array.from({ length: slots }, () => startNodeWorker()));
    for (const s of started) if (s.status === 'fulfilled') workers.push(s.value);
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    await Promise.all(workers.map((w) => drain(w.api)));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { docs, workers: workers.length };
}
