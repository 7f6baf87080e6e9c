// What the engine service (src/worker/service.ts) accepts and returns. Everything here is plain
// data that the structured clone algorithm copies, apart from OpBuffer (moved, see transfer.ts)
// and the compiled WebAssembly.Module (shared with the receiver, not recompiled).
import type { ArchName } from '../engine/abi.js';
import type { BuildFlavour } from '../engine/load.js';
import type { LayerSpec } from '../run/run.js';

/** A built-in synthetic workload and its seed. */
export interface WorkloadInput {
  workload: string;
  seed?: number;
}

export type RunInput = WorkloadInput;

/** One run: an input on a policy stack, as `heapsim run` takes it. */
export interface RunRequest {
  /** Name the caller picks to cancel the run with `cancel(runId)`. */
  runId?: string;
  input: RunInput;
  policy: string;
  params?: Record<string, string | number>;
  layers?: LayerSpec[];
  arch?: ArchName;
  profile?: string;
  /** Periodic checkpoint every N events (0 or absent: marks only). */
  every?: number;
  build?: BuildFlavour;
}

/** A policy as the page and `--help` list it. */
export interface PolicyInfo {
  name: string;
  description: string;
  /** Can take its memory from another heap (a layer below) instead of the VM. */
  stackable: boolean;
  params: { name: string; defaultValue: number; description: string }[];
}

export interface WorkloadInfo {
  name: string;
  description: string;
}
