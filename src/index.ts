// heapsim public API: explicit named exports only.
export { createEngine, Engine } from './engine/engine.js';
export type { EngineOptions, HeapOptions, Sample, HeapSample, VmCounters, BatchResult, RegionInfo } from './engine/engine.js';
export { OpBuffer } from './engine/ops.js';
export { POLICIES } from './engine/policies.js';
export { PROFILES } from './engine/profiles.js';
export { runWorkload } from './run/run.js';
export type { RunOptions, LayerSpec } from './run/run.js';
export { makeWorkload, WORKLOADS } from './workload/index.js';
export type { Workload } from './workload/workload.js';
export type { Checkpoint, RunDocument, HeapCounters, AddressSummary, Diagnosis } from './report/types.js';
export { InputError, UsageError, EngineTrapError, EngineStatusError } from './errors.js';
export { VERSION } from './version.js';
