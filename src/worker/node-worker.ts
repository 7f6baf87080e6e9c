// worker_threads entry: exposes an EngineService on the parent port through comlink's node adapter.
// Started by startNodeWorker() (src/worker/node.ts); also importable as `heapsim/worker` on Node.
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { EngineService, setTraceProvider } from './service.js';
import { cachedTraceWorkload } from '../trace/decoded-cache.js';

if (!parentPort) throw new Error('heapsim worker: not started as a worker thread');
// Shared decoding: each worker decodes a trace once for all the runs it is given.
setTraceProvider(cachedTraceWorkload);
expose(new EngineService(), nodeEndpoint(parentPort));
