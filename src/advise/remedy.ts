// What `heapsim advise` tries: remedies, each a named catalogue entry (one file per platform in
// ./catalogue/) with its parameters, the text that explains it, the exact command or code change,
// and how heapsim replays it (a change to the baseline run: another policy, production settings,
// parameters, or the library's own "give memory back" call at the quiet points).
import type { LayerSpec } from '../run/run.js';
import type { TrimPoint } from '../run/trim-at.js';
import type { PrivateHeapWindow } from '../run/edits.js';
import type { Diagnosis, HeapCounters, RunDocument } from '../report/types.js';
import type { PolicySpec } from '../policies/registry.js';

/** The run every remedy starts from, as the user gave it (`advise` takes what `run` takes). */
export interface BaselineSettings {
  policy: string;
  /** `--set` values of the top heap (override --env). */
  set: Record<string, string | number>;
  layers: LayerSpec[];
  /** `--env` lines, read by the policy's readEnv. */
  env: string[];
  trimAt: TrimPoint[];
  /** `--trim-in-run` points: trim calls the program already makes. */
  trimInRun?: TrimPoint[];
}

/** A moment after the peak where the program holds little: where a trim call belongs. */
export interface QuietPoint {
  /** As --trim-at takes it: a mark label or an event number. */
  at: string;
  event: number;
  /** Bytes the program holds there (its live requested bytes). */
  liveBytes: number;
  /** How the point was found, one phrase. */
  how: string;
  /** Where in the program: the caller of the last allocator call at or before it (traces that record callers). */
  caller?: string;
}

export interface AdviseContext {
  baseline: BaselineSettings;
  spec: PolicySpec;
  /** The top heap's parameters as the baseline ran them (the workload's, --env's, --set's). */
  params: Record<string, string | number>;
  doc: RunDocument;
  diagnosis: Diagnosis;
  quietPoints: QuietPoint[];
  /** The quiet point before the peak and the first one after it (the private heap's window), when both exist. */
  peakWindow?: { from: QuietPoint; to: QuietPoint };
}

/** How heapsim replays a remedy: only what differs from the baseline. */
export interface RemedyRun {
  /** Another allocator (its parameters then come from `env` only: the baseline's settings are its own library's). */
  policy?: string;
  /** Production settings added to the baseline's --env lines (for another policy: its only settings). */
  env?: string[];
  /** Parameters set on the top heap, over everything else. */
  set?: Record<string, string | number>;
  /** Parameters set on layer i (heap i + 1). */
  layerSet?: { layer: number; set: Record<string, string | number> }[];
  /** The library's trim call at these points, made in the measured run (a program change; added to the baseline's). */
  trimInRun?: TrimPoint[];
  /** The peak's short-lived blocks on a private heap for this window (src/run/edits.ts). */
  privateHeap?: PrivateHeapWindow;
}

export interface Remedy {
  /** Catalogue id, stable (JSON, --shard plans). */
  id: string;
  title: string;
  /** The remedy's parameters and the values tried. */
  parameters: Record<string, string | number>;
  /** Why it would give memory back, in a few sentences. */
  explain: string;
  /** The exact change to apply: a command line, an environment setting or a code change. */
  change: string;
  run: RemedyRun;
}

/** A catalogue entry: the remedies it offers for this input (none when it does not apply, with the reason). */
export interface RemedyEntry {
  id: string;
  offer(ctx: AdviseContext): Remedy[] | { notApplicable: string };
}

export interface Catalogue {
  platform: 'linux' | 'windows';
  /** What the platform's tools show as the memory a process holds: RSS on Linux, commit on Windows. */
  held: 'resident' | 'committed';
  /** That figure for one heap that takes its memory from the VM. */
  heldBytes(h: HeapCounters): number;
  entries: RemedyEntry[];
}
