// heapsim's public API on Node (package.json exports "." → "node"). Explicit named exports only;
// the browser entry (src/browser.ts) is this list without the Node-only part at the end.

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

// Node only: worker_threads workers, sweeps on a worker pool, the command line as a function.
export { startNodeWorker } from './worker/node.js';
export type { NodeEngineWorker } from './worker/node.js';
export { planSweep, settingAxes } from './sweep/plan.js';
export type { SweepAxes, SweepJob, SettingAxis } from './sweep/plan.js';
export { executeSweep } from './sweep/execute.js';
export type { SweepOptions, SweepOutcome } from './sweep/execute.js';
export { sweepRow, formatSweepTable, formatSweepCsv, formatSweepJson } from './sweep/report.js';
export type { SweepRow, MarkFigures } from './sweep/report.js';
export { main } from './cli/main.js';
export { parseWindbgText, parseWindbgFiles } from './windbg/parse.js';
export type { WindbgSnapshot } from './windbg/parse.js';
export { diagnoseSnapshots, seriesFromSnapshots } from './windbg/series.js';
export type { Io } from './cli/io.js';

// Traces: replay by path or from a stream of their content, stats, conversion, recording.
export { openReplay, traceToOps } from './trace/replay.js';
export type { TraceReplay, ReplayOptions, ReplayStats } from './trace/replay.js';
export { traceWorkload } from './trace/workload.js';
export type { TraceStream } from './trace/read.js';
export { blobTraceStream } from './web/trace-blob.js';
export { traceStats } from './trace/stats.js';
export type { TraceStats } from './trace/stats.js';
export { convertTrace } from './trace/convert.js';
export { recordTrace } from './trace/record/record.js';
export { FORMAT_NAMES } from './trace/events.js';
export type { FormatName } from './trace/events.js';

// glibc malloc (ptmalloc): production settings, mallinfo2 view, diagnosis, malloc_trim what-if.
export { parseGlibcEnv, parseGlibcEnvDetailed, glibcStrtoul } from './policies/ptmalloc/glibc-env.js';
export type { GlibcEnvResult } from './policies/ptmalloc/glibc-env.js';
export { diagnosePtmalloc, trimThresholdOf, MALLINFO2_FIELDS } from './policies/ptmalloc/diagnose.js';
export type { Mallinfo2, PtmallocDiagnosis } from './policies/ptmalloc/diagnose.js';
export { ptmallocCauses, type PtmallocCause } from './policies/ptmalloc/causes.js';
export { ptmallocDetail } from './policies/ptmalloc/detail.js';
export { parseTrimAt } from './run/trim-at.js';
export type { TrimPoint, TrimResult } from './run/trim-at.js';
