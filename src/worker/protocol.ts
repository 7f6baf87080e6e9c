// What the engine service (src/worker/service.ts) accepts and returns. Everything here is plain
// data that the structured clone algorithm copies, apart from OpBuffer (moved, see transfer.ts)
// and the compiled WebAssembly.Module (shared with the receiver, not recompiled).
import type { RunSettings } from '../run/run.js';
import type { FormatName } from '../trace/events.js';
import type { TrimPoint } from '../run/trim-at.js';
import type { PrivateHeapWindow } from '../run/edits.js';

/** A built-in synthetic workload and its seed. */
export interface WorkloadInput {
  workload: string;
  seed?: number;
}

/**
 * A recorded trace: a path (Node) or a Blob / File (any runtime; a File is sent to a worker as a
 * handle and read there in chunks, never whole).
 */
export interface TraceInputSpec {
  trace: string | Blob;
  /** Name for messages and the document's `workload` (default: the path, or the File's name). */
  name?: string;
  /** Skip detection and read the trace as this format. */
  format?: FormatName;
  /** Count malformed lines instead of failing on the first. */
  lenient?: boolean;
}

export type RunInput = WorkloadInput | TraceInputSpec;

/** One run: an input on a policy stack, as `heapsim run` takes it. */
export interface RunRequest extends RunSettings {
  /** Name the caller picks to cancel the run with `cancel(runId)`. */
  runId?: string;
  input: RunInput;
  /** `--trim-at` what-ifs: the library's trim call at these points. */
  trimAt?: TrimPoint[];
  /** `--trim-in-run`: the library's trim call made in the measured run (a program change). */
  trimInRun?: TrimPoint[];
  /** `--private-heap FROM..TO`: the window's short-lived blocks on a heap of their own (src/run/edits.ts). */
  privateHeap?: PrivateHeapWindow;
}

/** A policy as the page, `heapsim policies` and `run --help` list it (src/policies/catalog.ts). */
export type { PolicyInfo } from '../policies/kit/spec.js';

export interface WorkloadInfo {
  name: string;
  description: string;
  /** The policy the workload reproduces, if it is one system's case. */
  defaultPolicy?: string;
}
