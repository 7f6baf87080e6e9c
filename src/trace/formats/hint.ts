// A replay's size hint, in a module of its own so that every reader can name it: text-wasm.ts cannot
// import it from hst.ts (hst.ts -> parser.ts -> text-wasm.ts would close an import cycle).

/**
 * What a replay may know about its size before reading it: a `.hst` version 3 header's hint, or an
 * mtrace trace's bound from its content bytes (text-wasm.ts mtraceSizeHint). Nothing checks it
 * against the records: a reader may size its tables with it, and must still grow them when the
 * records need more.
 */
export interface HstHint {
  /** One more than the largest block id of any record (0 = not known). */
  idBound: number;
  /** The most blocks live at once (0 = not known). */
  peakLiveBlocks: number;
  /** The event count the header declares (0 = not known). */
  events: number;
}
