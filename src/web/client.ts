// The page side of a browser engine worker: wrap it with comlink and post the compiled module once.
import { wrap, type Remote } from 'comlink';
import { engineModule, type BuildFlavour } from '../engine/load.js';
import type { EngineService } from '../worker/service.js';
import '../worker/transfer.js';

/** Minimal shape of a Web Worker (so this file type-checks without the WebWorker lib). */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/**
 * Connects to a worker running src/web/worker.ts (or `heapsim/worker`), e.g.
 * `new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module' })`, and hands it
 * the engine module compiled in this thread. Resolves to the same API as `new EngineService()`.
 */
export async function connectWorker(worker: WorkerLike, builds: BuildFlavour[] = ['release']): Promise<Remote<EngineService>> {
  const api = wrap<EngineService>(worker as unknown as Worker);
  for (const build of builds) await api.provideModule(await engineModule(build), build);
  return api;
}
