// What the host knows of a policy: its spec. Each policy folder's index.ts declares one
// (PolicyDecl) and registers it (table.ts); src/policies/registry.ts lists the folders. Generic
// code (run, demo, report, cli, web, sweep) never tests a policy by name: it asks the spec.
import type { HeapSample } from '../../engine/sample.js';
import type { DiagnosisCause, HeapCounters } from '../../report/types.js';

/** Which report vocabulary the verdict uses for the policy's heaps. */
export type Platform = 'linux' | 'windows' | 'any';

/** How a parameter's value reads: bytes take K/M/G suffixes and 0x hex; flag is 0 or 1. */
export type ParamUnit = 'bytes' | 'count' | 'flag' | 'choice' | 'factor';

/** One parameter as a policy declares it; the order is the slot order of the engine's PolicyDef. */
export interface ParamDecl {
  name: string;
  defaultValue: number;
  unit: ParamUnit;
  /** What the parameter does, one line (help text, `heapsim policies`, the playground). */
  meaning: string;
  /**
   * The library adapts the value while it runs unless it is set (glibc's dynamic mmap and trim
   * thresholds): setting it, even to the default, changes what happens.
   */
  adaptive?: boolean;
  /** Defaults that depend on the architecture (the engine picks them when the parameter is not set). */
  defaultByArch?: Partial<Record<'x86' | 'x86-3gb' | 'x64', number>>;
  /** Smallest value accepted (default 0; jemalloc's decay times take -1 for "never"). */
  minValue?: number;
}

/** A parameter as the registry hands it out: the declaration plus its slot. */
export interface ParamSpec extends ParamDecl {
  /** Index in the HEAP_CREATE params block (= position in the declaration). */
  slot: number;
  /** The same text as `meaning` (the name earlier releases used). */
  description: string;
}

/** Production settings turned into parameters (glibc's GLIBC_TUNABLES, MALLOC_CONF, ...). */
export interface EnvReading {
  /** Parameter name → value, ready for createHeap's params. */
  params: Record<string, number>;
  /** Settings that had no effect, with the library's reason or ours. */
  ignored: { setting: string; reason: string }[];
}

/** The parts of an engine a policy hook may use (the Engine class has them). */
export interface EngineHandle {
  /** The WASM exports: a policy reads its own queries from them (its index.ts types them). */
  readonly raw: object;
  heapPolicy(heap: number): string | undefined;
  /** Address of at least `bytes` bytes of engine memory to read a query's answer from (valid until the next engine call). */
  scratch(bytes: number): number;
}

/** A policy's own end-of-run analysis: the run document carries it under the policy's name. */
export interface EndOfRun<T = unknown> {
  /** `counters` are the heap's at the last checkpoint; `params` what the run set. */
  analyse(engine: EngineHandle, heap: number, counters: HeapCounters, params: Record<string, string | number>): T;
  /** The lines `heapsim run` prints for it (after the checkpoints). */
  text(result: T): string;
}

/** A heap as Linux tools show it (PolicyDecl.linuxView). */
export interface LinuxHeapView {
  brkBytes: number;
  mmapBytes: number;
  mmapBlocks: number;
  /** The library's statistics call, e.g. { name: 'mallinfo2()', values: { arena: …, … } }. */
  stats?: { name: string; values: Record<string, number> };
}

export interface PolicyDecl {
  /** What users type (`--policy NAME`): the engine's PolicyDef.name. */
  name: string;
  /** One line. */
  description: string;
  platform: Platform;
  params: ParamDecl[];
  /** The policy's own counter names, in the order of the engine's PolicyDef.counters. */
  counters: string[];
  /** Can take its memory from another heap (`--set parent=<policy>`). */
  stackable: boolean;
  /** Policies a stackable policy may sit on; undefined = any. */
  parents?: string[];
  /** Report overrides (e.g. `!heap -s` Reserv/Commit without large blocks). */
  heapView?: (h: HeapSample) => Partial<HeapCounters>;
  /** The library's own statistics under its own names (checkpoint `heap.native`). */
  native?: (h: HeapSample) => Record<string, number>;
  /**
   * The Linux view of one heap at a checkpoint (Linux policies): how its memory splits between the
   * brk heap and mmapped blocks, and the library's own statistics call (glibc: `mallinfo2()`).
   */
  linuxView?: (h: HeapCounters) => LinuxHeapView;
  /** Which mechanisms hold the heap's committed-but-unused bytes at one checkpoint (diagnosis causes). */
  retentionCauses?: (h: HeapCounters) => DiagnosisCause[];
  /**
   * The production settings reader (`run --env`): pasted environment text in, parameters out,
   * with notes for settings it ignores. `envNames` says in a few words what it reads.
   */
  readEnv?: (text: string) => EnvReading;
  envNames?: string;
  /** What the engine's TRIM (and `--trim-at`) performs, in the library's words; undefined: TRIM does nothing. */
  trimName?: string;
  /**
   * When the library answers NULL to a legal request by design (Conte's TLSF: malloc(0); a full
   * fixed pool), in a few words. The conformance suite accepts refused allocations (OUT_OF_MEMORY)
   * only from a policy that says so here.
   */
  refuses?: string;
  /**
   * Host-side check of a full parameter set (defaults filled in): a message naming what is wrong,
   * or undefined. The engine checks again and answers BAD_PARAM; this only gives a clearer error.
   */
  validate?: (values: Record<string, number>) => string | undefined;
  endOfRun?: EndOfRun<any>;
  /**
   * How a Linux program gets this allocator without a rebuild (`heapsim advise` offers it): the
   * shared library LD_PRELOAD names (Debian 12's path), and the production settings worth trying
   * with it, one variant per entry, each in `--env` form (read by readEnv; [] = the defaults).
   */
  preload?: { library: string; variants: string[][] };
}

/** A policy as `heapsim policies`, `run --help`, the worker and the playground list it. */
export interface PolicyInfo {
  name: string;
  description: string;
  platform: Platform;
  /** Can take its memory from another heap (a layer below) instead of the VM. */
  stackable: boolean;
  /** The policies it can be stacked on (empty when not stackable). */
  parents: string[];
  params: {
    name: string; defaultValue: number; unit: ParamUnit; description: string;
    adaptive?: boolean; defaultByArch?: Partial<Record<string, number>>; minValue?: number;
  }[];
  counters: string[];
  /** What TRIM performs, in the library's words; absent when TRIM does nothing. */
  trimName?: string;
  /** What `run --env` reads for it; absent when it reads nothing. */
  envNames?: string;
  /** When it refuses a legal request by design; absent when it never does. */
  refuses?: string;
}

export interface PolicySpec extends Omit<PolicyDecl, 'params'> {
  /** The engine's id: the position in both registries (1, 2, ...); checked against the module. */
  id: number;
  params: ParamSpec[];
}
