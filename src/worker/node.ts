// Starting engine workers on Node: one worker_threads Worker running src/worker/node-worker.ts,
// wrapped by comlink, with the compiled engine module posted to it once (the worker instantiates
// it per engine and never reads or compiles the file itself).
import { Worker } from 'node:worker_threads';
import { wrap, releaseProxy, type Remote } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { engineModule, type BuildFlavour } from '../engine/load.js';
import type { EngineService } from './service.js';
import './transfer.js';

export interface NodeEngineWorker {
  /** The worker's EngineService: the same methods as a local `new EngineService()`. */
  api: Remote<EngineService>;
  /** Stops the worker thread (pending calls never settle). */
  terminate(): Promise<void>;
}

/**
 * A worker running node-worker next to this module. From TypeScript sources (vitest, tsx) that
 * sibling is a .ts file, which a worker thread cannot load by itself (an `--import tsx` in
 * execArgv comes too late for the entry module), so a two-line bootstrap registers tsx first.
 */
function spawnWorker(): Worker {
  // '../worker/': the same folder from dist/worker/node.js and from the CLI bundled into dist/cli/bundle.cjs.
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('../worker/node-worker.js', import.meta.url));
  const entry = JSON.stringify(new URL('../worker/node-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`, { eval: true });
}

export async function startNodeWorker(options: { builds?: BuildFlavour[] } = {}): Promise<NodeEngineWorker> {
  const worker = spawnWorker();
  const api = wrap<EngineService>(nodeEndpoint(worker));
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => { exited = true; resolve(); }));
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  try {
    for (const build of options.builds ?? ['release']) {
      await Promise.race([api.provideModule(await engineModule(build), build), failed]);
    }
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  failed.catch(() => undefined);
  return {
    api,
    async terminate() {
      api[releaseProxy]();
      if (!exited) await worker.terminate();
      await exit;
    },
  };
}
