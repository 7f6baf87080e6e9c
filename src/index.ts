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
// WinDbg text layer: !address -summary and !heap -s, formatted and parsed; the leak diagnosis.
export { formatAddressSummary, formatAddressSummaryNew } from './report/address-summary.js';
export type { OldAddressFormatOptions, NewAddressFormatOptions } from './report/address-summary.js';
export { formatHeapSummary, formatHeapRow, formatFragmentationLines, fragmentationLineDecision } from './report/heap-summary.js';
export type { HeapSummaryFormatOptions, SegmentHeapSummary, FragmentationLineDecision } from './report/heap-summary.js';
export { externalFragmentationPct, virtualAddressFragmentationPct } from './report/windbg-numbers.js';
export { diagnose, deriveCauses, seriesFromCheckpoints, DEFAULT_DIAGNOSIS_THRESHOLDS } from './report/diagnose.js';
export type { SeriesPoint, SeriesHeap, DiagnoseOptions, DiagnosisThresholds } from './report/diagnose.js';
export { parseWindbgText, parseWindbgFiles } from './windbg/parse.js';
export type { WindbgSnapshot } from './windbg/parse.js';
export { diagnoseSnapshots, seriesFromSnapshots } from './windbg/series.js';
