// A workload is a named source of op batches for heap 0, with the mark labels it uses. The runner
// registers `labels` in the engine in this order, so a workload's mark index i means labels[i].
import type { OpBuffer } from '../engine/ops.js';
import type { BuildFlavour, EngineExports } from '../engine/load.js';

export interface Workload {
  name: string;
  labels: string[];
  /** Free-form description of what the workload does, for --help and reports. */
  description: string;
  /** Seed the workload was built with, when it is synthetic. */
  seed?: number;
  /** The default process profile and architecture this workload is meant for. */
  defaultProfile?: string;
  defaultArch?: 'x86' | 'x86-3gb' | 'x64';
  /**
   * Parameters the workload is calibrated with, per policy name (e.g. the seed's heap had no LFH).
   * The runner applies them under the caller's own settings, which win.
   */
  policyParams?: Record<string, Record<string, string | number>>;
  batches(): Iterable<OpBuffer> | AsyncIterable<OpBuffer>;
  /**
   * True when `labels` and the event count are known only once the batches have been read (a
   * trace): checks of mark names then wait for the end of the run.
   */
  streaming?: boolean;
  /** What the input held beyond its ops (a trace's counts and never-freed blocks), once read. */
  inputSummary?(): InputSummary;
  /**
   * How large the replay's tables get, when the input says (a `.hst` version 3 header): the runner
   * sizes the engine's tables with it before the heaps are created. Never trusted: it changes
   * speed and engine memory, never a result.
   */
  sizeHint?: SizeHint;
  /**
   * The one-instance path, when the input offers it (a `.hst` read by the WASM decoder, an mtrace
   * read by the WASM line loop): the run's engine is made on `instance`, the reader's own, and
   * `run` applies each event to its heap 0 as it is read, with no op batches in between. A run that needs the batches (trims at a
   * point, program edits) uses batches() instead; a workload is read once, by one or the other.
   */
  direct?: DirectSource;
}

/** See Workload.direct. */
export interface DirectSource {
  /** The engine module instance that decodes the input; `build` is its flavour. */
  readonly instance: EngineExports;
  readonly build: BuildFlavour;
  /** Reads the whole input into the instance's heap 0 (instead of batches()). */
  run(hooks: DirectHooks): Promise<void>;
}

export interface DirectHooks {
  /** Runs every call into the instance (the engine's trap guard). */
  call<T>(fn: () => T): T;
  /** After every return from the instance: the samples it took since the previous return are readable. */
  applied(): void;
}

/** A replay's size, as a `.hst` version 3 header gives it (0 = not known). */
export interface SizeHint {
  /** One more than the largest block id. */
  idBound: number;
  /** The most blocks live at once. */
  peakLiveBlocks: number;
}

/** A group of never-freed blocks: by caller or by requested size. */
export interface LeakGroupSummary {
  key: string | number;
  blocks: number;
  bytes: number;
}

/** A recorded input's counts, as the run document's `input` carries them. */
export interface InputSummary {
  format: string;
  events: number;
  /** Reallocs of pointers the trace never allocated, replayed as allocations of the new size. */
  untracedReallocs: number;
  /** Allocations that returned an address the trace still had live: the older block was freed first. */
  implicitFrees: number;
  /** Frees of pointers the trace never allocated (skipped: nothing to free). */
  unmatchedFrees: number;
  doubleFrees: number;
  /** Blocks allocated in the trace and never freed, with the callers and sizes holding most. */
  neverFreed?: { blocks: number; bytes: number; topCallers: LeakGroupSummary[]; topSizes: LeakGroupSummary[] };
}
