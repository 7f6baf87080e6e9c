// === heapsim WASM module: export list only ===
export {
  ABI_VERSION, OP_SIZE_BYTES, SAMPLE_SLOTS, SAMPLE_HEADER_SLOTS, VM_SLOTS, HEAP_SLOTS, MAX_HEAPS,
} from "./abi";
export {
  engineInit, engineReserve, setSampleEvery, opsPtr, paramsPtr, paramSlots, samplesPtr, samplesCount, eventCount,
  failedOpCount, batchFirstFailOp, batchFirstFailStatus, runBatch, takeSample, checkAll, idTableBytes,
  currentOp, idUserAddress, idRequestedBytes, setReplayMode, samplesExtrasPtr, samplesExtrasCount,
} from "./engine";
export {
  hstBegin, hstInput, hstRecords, hstResume, hstOut, hstOutOps, hstScratch, hstPos, hstRecordStart, hstValue, hstValue2,
  hstError, hstNonCanonical, hstLabel, hstCaller, hstNewRow, hstRowCount, hstZeroRow, hstSetRow, hstRowEnd, hstRows,
  hstRowBytes, hstCounts, hstCountsBytes, hstDirect,
} from "./trace/hst";
export { ledgerLive, ledgerNextId, ledgerPages, ledgerPageBytes, ledgerReserve, ledgerSkipEvents } from "./trace/ledger";
export { statsCollect, statsBuckets, statsHistograms, statsDistinctSizes } from "./trace/stats";
export {
  mtraceBegin, mtraceInput, mtraceScratch, mtraceLines, mtraceLineCount, mtraceCallerAdd, mtraceApply, mtraceFinish,
} from "./trace/text/mtrace";
export { mapEvents, mapOut, mapTaken, mapAddressesSeen, mapIdOverflow, mapReserve, mapDirect } from "./trace/text/address-map";
export {
  vmReserve, vmCommit, vmDecommit, vmRelease, vmResize, vmTouch, vmPurge, vmIsCommitted, vmIsResident,
  vmRegionAt, vmRegionBase, vmRegionEnd, vmRegionCommittedPages,
  vmCheck, vmWalk, vmEngineBytes, vmTotalBytes,
} from "./vm/space";
export { lastStatus as vmLastStatus } from "./vm/space";
export { K_POLICY_BASE } from "./abi";
export { POLICY_COUNTERS } from "./kit/counters";
export {
  policyCount, policyName, policyParamNames, policyCounterNames, policyStackable, policyRecordBytes,
} from "./kit/policy";
export { policyEngineBytes } from "./heaps";
export { threadsAlive, threadSlotsUsed, threadTableBytes } from "./threads";
// Every policy (registration at module start) and the queries each exports for the host.
export * from "./policies/registry";
