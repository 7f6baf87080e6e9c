// === Trace events: the codes shared with the host (src/trace/events.ts) ===

// Why an allocator call in the trace produced no heap operation (src/trace/events.ts SKIP_*).
export const SKIP_UNMATCHED_FREE: u32 = 0;
export const SKIP_UNMATCHED_REALLOC: u32 = 1;
export const SKIP_DOUBLE_FREE: u32 = 2;
export const SKIP_FAILED_ALLOC: u32 = 3;
export const SKIP_FREE_NULL: u32 = 4;
export const SKIP_UNKNOWN_RESULT: u32 = 5;
export const SKIP_REASON_COUNT: u32 = 6;
