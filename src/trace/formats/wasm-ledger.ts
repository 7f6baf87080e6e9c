// The trace ledger of an engine instance (assembly/trace/ledger.ts) seen as a host Ledger: the
// per-id records, the counts and the thread rows stay in WASM, where a reader that runs there keeps
// them (the .hst decoder, src/trace/formats/hst-wasm.ts; the mtrace line loop, text-wasm.ts), and
// this object answers what the host asks of a ledger (counts after sync(), thread rows, live blocks
// for the leak summary). Strings (callers, labels), input counts and warnings stay on the host.
import type { EngineExports } from '../../engine/load.js';
import { Ledger, type ThreadCounts } from '../ledger.js';

/** The engine module's exports for the trace ledger (assembly/trace/hst.ts, assembly/trace/ledger.ts). */
export interface LedgerExports extends EngineExports {
  hstNewRow(): number;
  hstRowCount(): number;
  hstZeroRow(row: number): void;
  hstSetRow(row: number): void;
  hstRowEnd(row: number): void;
  hstRows(): number;
  hstRowBytes(): number;
  hstCounts(out: number): void;
  hstCountsBytes(): number;
  ledgerLive(from: number, out: number, max: number): number;
  ledgerNextId(): number;
  ledgerPages(): number;
  hstScratch(bytes: number): number;
}

/** Live blocks read from WASM per call (4 f64 each). */
const LIVE_BATCH = 4096;
const LIVE_SLOTS = 4;

/** Where the op records go: the replay's writer (src/trace/replay.ts OpWriter). */
export interface OpWordsSink {
  /** Appends `count` op records from `words` (OP_WORDS each). */
  appendWords(words: Uint32Array, count: number): void;
}

/** A Ledger whose per-id records, counts and thread rows live in WASM; `sync()` brings the counts over. */
export class WasmLedger<W extends LedgerExports = LedgerExports> extends Ledger {
  /** Thread id of each row (row order = first appearance, as the JavaScript ledger's). */
  private readonly rowTids: number[] = [];
  private readonly rowByTid = new Map<number, number>();

  constructor(readonly wasm: W) {
    super(null);
  }

  /** Copies the WASM ledger's counts into this object's fields. */
  sync(): void {
    const w = this.wasm;
    const at = w.hstScratch(w.hstCountsBytes());
    w.hstCounts(at);
    const c = new Float64Array(w.memory.buffer, at, w.hstCountsBytes() / 8);
    this.events = c[0]!;
    this.allocs = c[1]!;
    this.callocs = c[2]!;
    this.alignedAllocs = c[3]!;
    this.reallocs = c[4]!;
    this.untracedReallocs = c[5]!;
    this.frees = c[6]!;
    this.implicitFrees = c[7]!;
    this.marks = c[8]!;
    this.ticks = c[9]!;
    this.liveBlocks = c[10]!;
    this.liveBytes = c[11]!;
    this.peakLiveBytes = c[12]!;
    this.peakEvent = c[13]!;
    this.idHighWater = c[14]!;
    this.input.oversizeRequests = c[15]!;
    for (let r = 0; r < this.skips.length; r++) this.skips[r] = c[16 + r]!;
  }

  /** Rows WASM made itself belong to thread 0 (events before any thread record). */
  private syncRows(): void {
    while (this.rowTids.length < this.wasm.hstRowCount()) {
      this.rowByTid.set(0, this.rowTids.length);
      this.rowTids.push(0);
    }
  }

  private rowFor(tid: number): number {
    this.syncRows();
    let r = this.rowByTid.get(tid);
    if (r === undefined) {
      r = this.wasm.hstNewRow();
      this.rowTids.push(tid);
      this.rowByTid.set(tid, r);
      if (tid === 0) this.wasm.hstZeroRow(r);
    }
    return r;
  }

  /** A thread switch decoded in WASM (its op is already written). */
  override thread(tid: number): void {
    this.threadsSeen.add(tid);
    this.wasm.hstSetRow(this.rowFor(tid));
  }

  /** A thread end decoded in WASM (its op is already written). */
  override threadEnd(tid: number): void {
    this.threadEnds++;
    this.wasm.hstRowEnd(this.rowFor(tid));
  }

  override threadCounts(): ThreadCounts[] {
    this.syncRows();
    const w = this.wasm;
    const slots = w.hstRowBytes() / 8;
    const rows = this.rowTids.length === 0 ? new Float64Array(0) : new Float64Array(w.memory.buffer, w.hstRows(), this.rowTids.length * slots);
    return this.rowTids.map((thread, r) => {
      const o = r * slots;
      return {
        thread, events: rows[o]!, allocs: rows[o + 1]!, reallocs: rows[o + 2]!, frees: rows[o + 3]!,
        liveBlocks: rows[o + 4]!, liveBytes: rows[o + 5]!, peakLiveBytes: rows[o + 6]!, ends: rows[o + 7]!,
      };
    });
  }

  /** As the JavaScript ledger's, but `birthEvent` is -1 unless stats collect (the WASM ledger keeps births only then). */
  override forEachLive(fn: (id: number, sizeBytes: number, caller: number, birthEvent: number) => void): void {
    const w = this.wasm;
    const out = w.hstScratch(LIVE_BATCH * LIVE_SLOTS * 8);
    let from = 0;
    for (;;) {
      const count = w.ledgerLive(from, out, LIVE_BATCH);
      const v = new Float64Array(w.memory.buffer, out, count * LIVE_SLOTS);
      for (let i = 0; i < count; i++) fn(v[i * 4]!, v[i * 4 + 1]!, v[i * 4 + 2]!, v[i * 4 + 3]!);
      if (count < LIVE_BATCH) return;
      from = w.ledgerNextId();
    }
  }

  override get idPages(): number {
    return this.wasm.ledgerPages();
  }

  // Per-id questions are answered inside WASM only.
  override isLive(): boolean { throw new Error('WasmLedger: per-id records live in WASM'); }
  override wasFreed(): boolean { throw new Error('WasmLedger: per-id records live in WASM'); }
}
