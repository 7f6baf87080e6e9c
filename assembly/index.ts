// === heapsim WASM module: export list only ===
export {
  ABI_VERSION, OP_SIZE_BYTES, SAMPLE_SLOTS, SAMPLE_HEADER_SLOTS, VM_SLOTS, HEAP_SLOTS, MAX_HEAPS,
} from "./abi";
export {
  engineInit, setSampleEvery, opsPtr, paramsPtr, paramSlots, samplesPtr, samplesCount, eventCount,
  failedOpCount, batchFirstFailOp, batchFirstFailStatus, runBatch, takeSample, checkAll, idTableBytes,
  currentOp, idUserAddress, idRequestedBytes,
} from "./engine";
export {
  vmReserve, vmCommit, vmDecommit, vmRelease, vmResize, vmTouch, vmPurge, vmIsCommitted, vmIsResident,
  vmRegionAt, vmRegionBase, vmRegionEnd, vmRegionCommittedPages,
  vmCheck, vmWalk, vmEngineBytes, vmTotalBytes,
} from "./vm/space";
export { lastStatus as vmLastStatus } from "./vm/space";
export { ffRecordBytes, ffEngineBytes } from "./policies/first-fit";
export { ptRecordBytes, ptEngineBytes, ptPurgeableBytes, ptPinnedBelowBytes } from "./policies/ptmalloc";
export { poolClassStats, poolEngineBytes, POOL_CLASS_FIELDS } from "./policies/pool";
export { ntWalk, ntWalkBuffer, ntEngineBytes, ntRecordBytes } from "./policies/nt";
