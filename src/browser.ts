// heapsim's public API in browsers and other non-Node runtimes (package.json exports "." →
// "default"): src/index.ts without its Node-only part, plus connectWorker for Web Workers. Nothing
// reachable from here imports a node: module.
import './web/buffer-global.js'; // first: the trace readers need a global Buffer

// Engine: one WASM instance per engine, op batches in, typed samples out.
export { createEngine, Engine } from './engine/engine.js';
export type { EngineOptions, HeapOptions, BatchResult, Sample, HeapSample, VmCounters, RegionInfo } from './engine/engine.js';
export { OpBuffer } from './engine/ops.js';
export { engineModule, provideModule } from './engine/load.js';
export type { BuildFlavour } from './engine/load.js';
export type { ArchName } from './engine/abi.js';
export { POLICIES, policyNames, policySpecs, getPolicy, DEFAULT_POLICY } from './policies/registry.js';
export { PROFILES } from './engine/profiles.js';
export type { PolicySpec, ParamSpec, PolicyDecl, ParamDecl, Platform, ParamUnit, EnvReading } from './policies/registry.js';
export { poolClasses } from './policies/pool/classes.js';
export type { PoolClassInfo } from './policies/pool/classes.js';
export { ntWalk } from './policies/nt/view.js';
export type { NtRecord } from './policies/nt/view.js';

// Workloads and runs.
export { makeWorkload, workloadNames, WORKLOADS } from './workload/index.js';
export { peakHour } from './workload/peak-hour.js';
export type { PeakHourOptions } from './workload/peak-hour.js';
export type { Workload } from './workload/workload.js';
export { runWorkload } from './run/run.js';
export type { RunOptions, LayerSpec } from './run/run.js';

// Reports.
export { formatRunText } from './report/text.js';
export { runDocumentJson } from './report/json.js';
export type { RunDocument, Checkpoint, HeapCounters, AddressSummary, Diagnosis, DiagnosisCause } from './report/types.js';

// WinDbg text layer and the leak diagnosis: !address -summary and !heap -s as text.
export { formatAddressSummary, formatAddressSummaryNew } from './report/address-summary.js';
export type { OldAddressFormatOptions, NewAddressFormatOptions } from './report/address-summary.js';
export { formatHeapSummary, formatHeapRow, formatFragmentationLines, fragmentationLineDecision } from './report/heap-summary.js';
export type { HeapSummaryFormatOptions, SegmentHeapSummary, FragmentationLineDecision } from './report/heap-summary.js';
export { externalFragmentationPct, virtualAddressFragmentationPct } from './report/windbg-numbers.js';
export { diagnose, deriveCauses, seriesFromCheckpoints, DEFAULT_DIAGNOSIS_THRESHOLDS } from './report/diagnose.js';
export type { SeriesPoint, SeriesHeap, DiagnoseOptions, DiagnosisThresholds } from './report/diagnose.js';
export { diagnoseRun, policyCauses } from './run/diagnose-run.js';
export { poolRetainedCause, poolCauses, POOL_RETAINED_MECHANISM } from './policies/pool/retained.js';
export type { PoolRetainedCause } from './policies/pool/retained.js';

// The engine service: the same async API in this thread (new EngineService()) and in a worker.
export { EngineService } from './worker/service.js';
export type { CheckpointListener, ProgressListener } from './worker/service.js';
export type { RunRequest, RunInput, WorkloadInput, TraceInputSpec, PolicyInfo, WorkloadInfo } from './worker/protocol.js';

// Errors and version.
export { InputError, UsageError, EngineTrapError, EngineStatusError } from './errors.js';
export { VERSION } from './version.js';

// Traces from a stream of their content (a File: blobTraceStream), read in chunks.
export { openReplay, traceToOps } from './trace/replay.js';
export type { TraceReplay, ReplayOptions, ReplayStats } from './trace/replay.js';
export { traceWorkload } from './trace/workload.js';
export type { TraceStream } from './trace/read.js';
export { blobTraceStream } from './web/trace-blob.js';
export { FORMAT_NAMES } from './trace/events.js';
export type { FormatName } from './trace/events.js';

// Browser workers: connect to a Web Worker running `heapsim/worker`.
export { connectWorker } from './web/client.js';
export type { WorkerLike } from './web/client.js';
