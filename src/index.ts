// heapsim public API: explicit named exports only.
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
