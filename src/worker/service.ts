// The engine service: the API a worker exposes through comlink, and the same object used directly
// in the calling thread. Every method is async, so `new EngineService()` and
// `wrap<EngineService>(endpoint)` are interchangeable: code written against one runs on the other.
//
// Engines are named by integer handles (a handle is cheap to send; an Engine is not sendable).
// Long runs give the event loop a turn every SLICE_MS, so a worker still receives `cancel()` and
// further calls while it runs.
import { createEngine, type BatchResult, type Engine, type EngineOptions, type HeapOptions, type Sample } from '../engine/engine.js';
import { provideModule, type BuildFlavour } from '../engine/load.js';
import type { ArchName } from '../engine/abi.js';
import type { OpBuffer } from '../engine/ops.js';
import { getPolicy, type Platform } from '../policies/registry.js';
import { PROFILES } from '../engine/profiles.js';
import { policyCatalog } from '../policies/catalog.js';
import { UsageError } from '../errors.js';
import type { Checkpoint, RunDocument } from '../report/types.js';
import { defaultProfile, runPlatform, runWorkload } from '../run/run.js';
import { WORKLOADS, makeWorkload } from '../workload/index.js';
import type { Workload } from '../workload/workload.js';
import { TRACE_ARCH, traceWorkload } from '../trace/workload.js';
import { blobTraceStream } from '../web/trace-blob.js';
import type { PolicyInfo, RunRequest, WorkloadInfo } from './protocol.js';
import type { FormatName } from '../trace/events.js';
import './transfer.js';

/**
 * Where a trace named by path comes from before it is streamed: Node's entry points (the worker
 * thread, the sweep's calling thread) install the decoded-trace cache (src/trace/decoded-cache.ts);
 * the browser build has no paths and never does. Undefined answer: stream the file.
 */
export type TraceProvider = (path: string, options: { format?: FormatName; lenient: boolean }) => Promise<Workload | undefined>;
let traceProvider: TraceProvider | undefined;
export function setTraceProvider(provider: TraceProvider | undefined): void {
  traceProvider = provider;
}

/** Longest stretch of engine work between two turns of the event loop. */
export const SLICE_MS = 20;

export type CheckpointListener = (checkpoint: Checkpoint) => void;
/** Events done so far; for a trace also the bytes of it read so far and its size. */
export type ProgressListener = (events: number, inputBytesRead?: number, inputBytes?: number) => void;

export class EngineService {
  private readonly engines = new Map<number, Engine>();
  private nextHandle = 1;
  private readonly runs = new Map<string, AbortController>();

  /** Uses an already compiled engine module (posted once per worker) instead of loading the file. */
  async provideModule(module: WebAssembly.Module, build: BuildFlavour = 'release'): Promise<void> {
    provideModule(module, build);
  }

  // ------------------------------------------------------------------ engine level

  /** Creates an engine; returns its handle. */
  async createEngine(options: EngineOptions = {}): Promise<number> {
    const engine = await createEngine(options);
    const handle = this.nextHandle++;
    this.engines.set(handle, engine);
    return handle;
  }

  async createHeap(engine: number, policy: string, options: HeapOptions = {}, index?: number): Promise<number> {
    return this.get(engine).createHeap(policy, options, index);
  }

  /** Index of a mark label in the engine (added on first use). */
  async label(engine: number, name: string): Promise<number> {
    return this.get(engine).label(name);
  }

  /**
   * Applies one batch. From another thread the buffer is moved here, not copied: the caller's
   * `ops.words` is detached afterwards, so send a fresh buffer each time (copy a replay's batch,
   * which the replay reuses, before sending it).
   */
  async apply(engine: number, ops: OpBuffer): Promise<BatchResult> {
    return this.get(engine).apply(ops);
  }

  async sample(engine: number, label: string | null = null): Promise<Sample> {
    return this.get(engine).sample(label);
  }

  async events(engine: number): Promise<number> {
    return this.get(engine).events;
  }

  async check(engine: number): Promise<number> {
    return this.get(engine).check();
  }

  /** Forgets an engine; its WASM instance is garbage once nothing else holds it. */
  async disposeEngine(engine: number): Promise<void> {
    this.engines.delete(engine);
  }

  // ------------------------------------------------------------------ run level

  async policies(): Promise<PolicyInfo[]> {
    return policyCatalog();
  }

  async workloads(): Promise<WorkloadInfo[]> {
    return Object.entries(WORKLOADS).map(([name, w]) => ({
      name, description: w.description, ...(w.defaultPolicy ? { defaultPolicy: w.defaultPolicy } : {}),
    }));
  }

  /**
   * Runs one request to the end and returns its document (what `heapsim run --json` prints).
   * `onCheckpoint` sees each checkpoint as it is taken; from another thread pass callbacks
   * wrapped in comlink's `proxy()`.
   */
  async run(request: RunRequest, onCheckpoint?: CheckpointListener, onProgress?: ProgressListener): Promise<RunDocument> {
    const controller = new AbortController();
    const id = request.runId;
    if (id !== undefined) {
      if (this.runs.has(id)) throw new UsageError(`a run named '${id}' is already going`);
      this.runs.set(id, controller);
    }
    try {
      let bytesRead: number | undefined;
      let bytesTotal: number | undefined;
      const input = await openInput(request, (read, total) => { bytesRead = read; bytesTotal = total; });
      const workload = sliced(input, controller.signal);
      return await runWorkload(workload, {
        policy: request.policy,
        params: request.params,
        layers: request.layers,
        arch: request.arch,
        profile: request.profile,
        every: request.every,
        ...(Array.isArray(request.trimAt) && request.trimAt.length ? { trimAt: request.trimAt } : {}),
        ...(Array.isArray(request.trimInRun) && request.trimInRun.length ? { trimInRun: request.trimInRun } : {}),
        ...(request.privateHeap ? { privateHeap: request.privateHeap, reopen: () => openInput(request, () => undefined) } : {}),
        build: request.build,
        ...(request.thresholds ? { thresholds: request.thresholds } : {}),
        signal: controller.signal,
        onCheckpoint: onCheckpoint && ((cp) => settle(onCheckpoint(cp))),
        onProgress: onProgress && ((events) => settle(bytesRead === undefined ? onProgress(events) : onProgress(events, bytesRead, bytesTotal))),
      });
    } finally {
      if (id !== undefined) this.runs.delete(id);
    }
  }

  /** The report vocabulary and architecture a run of this request will have (its document's `platform` and `arch`). */
  async platformOf(request: RunRequest): Promise<{ platform: Platform; arch: ArchName }> {
    const stack = [request.policy, ...(request.layers ?? []).map((l) => l.policy)].map(getPolicy);
    const input = request.input as Partial<RunRequest['input']> | undefined;
    const w = input && 'workload' in input && typeof input.workload === 'string' ? makeWorkload(input.workload) : undefined;
    const arch = request.arch ?? w?.defaultArch ?? TRACE_ARCH;
    const profile = request.profile ?? (w ? defaultProfile(w, arch) : 'bare');
    return { platform: runPlatform(stack, PROFILES[profile]?.platform ?? 'any'), arch };
  }

  /** Stops a run between two batches; its `run()` rejects with "run cancelled". */
  async cancel(runId: string): Promise<boolean> {
    const c = this.runs.get(runId);
    c?.abort();
    return c !== undefined;
  }

  private get(handle: number): Engine {
    const e = this.engines.get(handle);
    if (!e) throw new UsageError(`no engine with handle ${handle}`);
    return e;
  }
}

/** The request's input as a Workload: a built-in workload, or a trace by path or Blob. */
async function openInput(request: RunRequest, onBytes: (read: number, total: number) => void): Promise<Workload> {
  // Messages from another thread may be anything: look only into a plain object.
  const raw: unknown = request?.input;
  const input = typeof raw === 'object' && raw !== null ? raw as Partial<RunRequest['input']> : undefined;
  if (input && 'workload' in input && typeof input.workload === 'string') {
    return makeWorkload(input.workload, { seed: input.seed });
  }
  if (input && 'trace' in input && (typeof input.trace === 'string' || input.trace instanceof Blob)) {
    if (typeof input.trace === 'string') {
      // Shared decoding: a trace run many times is decoded once per thread.
      const cached = await traceProvider?.(input.trace, { format: input.format, lenient: input.lenient === true });
      if (cached) return input.name !== undefined ? { ...cached, name: input.name } : cached;
    }
    const source = typeof input.trace === 'string'
      ? input.trace
      : await blobTraceStream(input.trace, input.name ?? ((input.trace as Partial<File>).name || 'trace'));
    const workload = await traceWorkload(source, {
      format: input.format,
      lenient: input.lenient === true,
      onProgress: (_events, read, total) => onBytes(read, total),
    });
    return input.name !== undefined && typeof input.trace === 'string' ? { ...workload, name: input.name } : workload;
  }
  throw new UsageError('a run request needs input.workload (a built-in workload) or input.trace (a path or a Blob)');
}

/** A listener across a thread boundary returns a promise; a failed delivery must not stop the run. */
function settle(result: unknown): void {
  if (result instanceof Promise) result.catch(() => undefined);
}

/** The workload with a turn of the event loop after every SLICE_MS of work and a cancel check. */
function sliced(workload: Workload, signal: AbortSignal): Workload {
  // Runs here read op batches (the one-instance path would not give the event loop its turns).
  const { direct: _direct, ...rest } = workload;
  return {
    ...rest,
    async *batches() {
      let sliceStart = performance.now();
      for await (const batch of workload.batches() as AsyncIterable<OpBuffer>) {
        if (signal.aborted) throw new UsageError('run cancelled');
        yield batch;
        if (performance.now() - sliceStart >= SLICE_MS) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          sliceStart = performance.now();
        }
      }
    },
  };
}
