// Browser Web Worker entry: exposes an EngineService to the page through comlink. The page posts
// the compiled engine module once (connectWorker in src/web/client.ts); the worker instantiates it
// per engine; a dropped trace File arrives as a handle and is read here in chunks. Also the
// `heapsim/worker` export for bundlers that target browsers.
import './buffer-global.js'; // first: the trace readers need a global Buffer
import { expose } from 'comlink';
import { EngineService } from '../worker/service.js';

expose(new EngineService());
