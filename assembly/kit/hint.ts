// === kit: the replay's size hint ===
//
// How large a replay will get, as a `.hst` version 3 header says (src/trace/formats/hst.ts
// HstHint): the most blocks live at once. The engine sets it before the heaps are created
// (engine.ts engineReserve); a policy's create reserves its block-record pools from it in one step
// (records.ts reserveRecords) instead of doubling them up to that size. 0 = not known: every table
// grows as it needs.
//
// The hint is never trusted. A header is not covered by the checksum, so a hint may be anything:
// one below the truth leaves tables to grow as before; one above it costs engine memory up to
// HINT_MAX_LIVE_BLOCKS blocks' worth of records, never a trap and never a different result.

// The largest hint used (4 M blocks): far above the recordings this engine replays (a few hundred
// thousand blocks live), and low enough that what a lying hint makes the pools reserve (a few
// records of 32 to 64 bytes per block: at most a few hundred MiB) fits WASM's 4 GiB beside the rest.
export const HINT_MAX_LIVE_BLOCKS: u32 = 1 << 22;

let liveBlocks: u32 = 0;

// The most blocks the replay keeps live at once (0 = not known), at most HINT_MAX_LIVE_BLOCKS.
export function hintLiveBlocks(): u32 { return liveBlocks; }

// The engine's side: `blocks` from the header (any value; NaN and negatives mean "not known").
export function setHintLiveBlocks(blocks: f64): void {
  liveBlocks = blocks >= 1 ? <u32>Math.min(blocks, <f64>HINT_MAX_LIVE_BLOCKS) : 0;
}
