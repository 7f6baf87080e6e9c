// The ledger sits between every reader and every consumer. It numbers events, keeps one record per
// live block id (size, caller, birth event) and the running totals every command reports, then
// forwards each event to the consumer (op generation, stats, a trace writer). Its memory grows with
// the largest id seen, which is the live set for traces whose ids come from the AddressMapper.
import {
  NO_CALLER, SKIP_FAILED_ALLOC, SKIP_REASON_COUNT, SKIP_UNMATCHED_FREE, SKIP_UNMATCHED_REALLOC, SKIP_DOUBLE_FREE,
  type EventSink, type FormatName,
} from './events.js';

// 0: id not used yet (the arrays start zeroed)
const STATE_LIVE = 1;
const STATE_FREED = 2;  // used before, free now (a free of it is a double free)

/**
 * Per-id records live in pages of ID_PAGE_IDS ids (100 KiB each), made when an id in their range is
 * first used: memory follows the id ranges in use, never the largest id alone (a lone id near
 * MAX_BLOCK_ID costs one page, where a flat table would have grown to gigabytes).
 */
const ID_PAGE_SHIFT = 12;
const ID_PAGE_IDS = 1 << ID_PAGE_SHIFT;
const ID_PAGE_MASK = ID_PAGE_IDS - 1;

/** Bytes of one page, for the documented memory bound. */
export const ID_PAGE_BYTES = ID_PAGE_IDS * (1 + 8 + 8 + 4 + 4);

/** One page's tables share one buffer (one allocation, not five: pages are made per 4096 ids). */
class IdPage {
  private readonly bytes = new ArrayBuffer(ID_PAGE_BYTES);
  readonly sizes = new Float64Array(this.bytes, 0, ID_PAGE_IDS);
  readonly birth = new Float64Array(this.bytes, ID_PAGE_IDS * Float64Array.BYTES_PER_ELEMENT, ID_PAGE_IDS);
  readonly callerOf = new Int32Array(this.bytes, 2 * ID_PAGE_IDS * Float64Array.BYTES_PER_ELEMENT, ID_PAGE_IDS);
  /** Thread row that made each live block's current allocation. */
  readonly threadOf = new Int32Array(this.bytes, ID_PAGE_IDS * (2 * Float64Array.BYTES_PER_ELEMENT + Int32Array.BYTES_PER_ELEMENT), ID_PAGE_IDS);
  readonly state = new Uint8Array(this.bytes, ID_PAGE_IDS * (2 * Float64Array.BYTES_PER_ELEMENT + 2 * Int32Array.BYTES_PER_ELEMENT), ID_PAGE_IDS);
}
/** Largest block id heapsim accepts (ids are dense; a larger one means a broken trace). */
export const MAX_BLOCK_ID = 2 ** 27 - 1;
const ID_PAGES = Math.ceil((MAX_BLOCK_ID + 1) / ID_PAGE_IDS);
/**
 * Largest request any simulated architecture could serve: x64's user address space is 128 TiB
 * (assembly/vm/constants.ts USER_HIGH_X64). A bigger allocation, or one that would take the bytes
 * live in the trace beyond it, is counted as a failed allocation, as the real allocator's would be;
 * so every byte total stays an exact integer.
 */
export const MAX_REQUEST_BYTES = 2 ** 47;
/** How many sizes / callers the leak summary lists. */
export const DEFAULT_TOP = 10;

/** What one thread of the trace did (formats that record threads; others have one thread, id 0). */
export interface ThreadCounts {
  /** The trace's thread id. */
  thread: number;
  /** Allocator calls from the thread (skipped ones included). */
  events: number;
  allocs: number;
  reallocs: number;
  frees: number;
  /** Blocks whose current allocation (malloc, calloc, aligned alloc or realloc) the thread made, still live. */
  liveBlocks: number;
  liveBytes: number;
  peakLiveBytes: number;
  /** Times the trace recorded the thread's exit (a later event from the id is a new thread). */
  ends: number;
}

export interface LeakGroup {
  /** Requested size in bytes, or caller name. */
  key: number | string;
  blocks: number;
  bytes: number;
}

/** Allocations still live when the trace ends: the trace's first-order leak candidates. */
export interface LeakSummary {
  blocks: number;
  bytes: number;
  /** Largest byte totals first. */
  topSizes: LeakGroup[];
  /** Empty when the format records no callers. */
  topCallers: LeakGroup[];
}

/** Lines and records that were not events; printed so nothing is dropped silently. */
export interface InputCounts {
  /** Lines that could not be parsed, counted instead of failing under `--lenient`. */
  malformedLines: number;
  /** Well-formed lines that are not allocator calls (other functions, signals, exits, other processes). */
  ignoredLines: number;
  /** 1 when the last line had no newline and did not parse (the trace was cut while being written). */
  truncatedLastLine: number;
  /** Lines of processes other than the first one (logalloc logs several processes; the first is replayed). */
  otherProcessLines: number;
  /** Allocations and reallocs larger than any simulated address space, counted as failed allocations. */
  oversizeRequests: number;
}

export class Ledger implements EventSink {
  /** Where validated events go next; null counts only. */
  out: EventSink | null;
  format: FormatName | undefined;
  readonly labels: string[] = [];
  readonly callers: string[] = [];
  private readonly labelIndex = new Map<string, number>();
  private readonly callerIndex = new Map<string, number>();

  // Event counters (see events.ts for the counting rule).
  events = 0;
  allocs = 0;
  callocs = 0;
  alignedAllocs = 0;
  reallocs = 0;
  /** Of `reallocs`: those of blocks the trace never allocated, replayed as allocations of the new size. */
  untracedReallocs = 0;
  frees = 0;
  /** Live blocks freed because an allocation returned their address or id again (not events). */
  implicitFrees = 0;
  readonly skips = new Float64Array(SKIP_REASON_COUNT);
  marks = 0;
  ticks = 0;
  threadsSeen = new Set<number>();
  /** Thread ends recorded (threadEnd records). */
  threadEnds = 0;
  /** Per-thread counts, in order of first appearance; index 0 is the thread before any switch. */
  private readonly threadRows: ThreadCounts[] = [];
  private readonly threadRow = new Map<number, number>();
  /** Row of the thread the next event comes from (-1: none named yet: the implicit thread 0). */
  private currentRow = -1;
  readonly input: InputCounts = { malformedLines: 0, ignoredLines: 0, truncatedLastLine: 0, otherProcessLines: 0, oversizeRequests: 0 };
  /** Format-specific remarks worth printing (a header that disagrees with the body, …). */
  readonly warnings: string[] = [];

  liveBlocks = 0;
  liveBytes = 0;
  peakLiveBytes = 0;
  /** Event after which `peakLiveBytes` was first reached (0: never above zero). */
  peakEvent = 0;
  /** Largest id used plus one. */
  idHighWater = 0;

  /** One slot per page of the id range, filled up front so the array stays a fast packed one. */
  private readonly pages: (IdPage | undefined)[] = new Array<IdPage | undefined>(ID_PAGES).fill(undefined);

  constructor(out: EventSink | null = null) {
    this.out = out;
  }

  get unmatchedFrees(): number {
    return this.skips[SKIP_UNMATCHED_FREE]! + this.skips[SKIP_UNMATCHED_REALLOC]!;
  }
  get doubleFrees(): number {
    return this.skips[SKIP_DOUBLE_FREE]!;
  }

  internLabel(text: string): number {
    let i = this.labelIndex.get(text);
    if (i === undefined) {
      i = this.labels.length;
      this.labels.push(text);
      this.labelIndex.set(text, i);
    }
    return i;
  }

  internCaller(text: string): number {
    let i = this.callerIndex.get(text);
    if (i === undefined) {
      i = this.callers.length;
      this.callers.push(text);
      this.callerIndex.set(text, i);
    }
    return i;
  }

  /**
   * False when an allocation of `sizeBytes` (aligned to `alignBytes`) could not be served by any
   * simulated architecture, or would take the live bytes beyond the largest address space.
   */
  fits(sizeBytes: number, alignBytes = 1): boolean {
    return sizeBytes <= MAX_REQUEST_BYTES && alignBytes <= MAX_REQUEST_BYTES && this.liveBytes + sizeBytes <= MAX_REQUEST_BYTES;
  }

  /** Like fits, for resizing live block `id` to `sizeBytes`. */
  fitsResize(id: number, sizeBytes: number): boolean {
    return sizeBytes <= MAX_REQUEST_BYTES && this.liveBytes - this.sizeOf(id) + sizeBytes <= MAX_REQUEST_BYTES;
  }

  /** An allocation that does not fit: one event, a failed allocation, counted as oversize. */
  refuse(): void {
    this.input.oversizeRequests++;
    this.skip(SKIP_FAILED_ALLOC);
  }

  /** The page of a valid id (0 .. MAX_BLOCK_ID), undefined when none of its range was used. */
  private pageOf(id: number): IdPage | undefined {
    return id <= MAX_BLOCK_ID ? this.pages[id >>> ID_PAGE_SHIFT] : undefined;
  }

  isLive(id: number): boolean {
    return this.pageOf(id)?.state[id & ID_PAGE_MASK] === STATE_LIVE;
  }
  wasFreed(id: number): boolean {
    return this.pageOf(id)?.state[id & ID_PAGE_MASK] === STATE_FREED;
  }
  /** Requested bytes of a live block. */
  sizeOf(id: number): number {
    return this.pages[id >>> ID_PAGE_SHIFT]!.sizes[id & ID_PAGE_MASK]!;
  }
  /** Event number at which a live block was allocated. */
  birthOf(id: number): number {
    return this.pages[id >>> ID_PAGE_SHIFT]!.birth[id & ID_PAGE_MASK]!;
  }
  callerIdOf(id: number): number {
    return this.pages[id >>> ID_PAGE_SHIFT]!.callerOf[id & ID_PAGE_MASK]!;
  }
  /** Pages of per-id records allocated (ID_PAGE_BYTES each). */
  get idPages(): number {
    let n = 0;
    for (const p of this.pages) if (p !== undefined) n++;
    return n;
  }

  /** `id` must be 0 .. MAX_BLOCK_ID (every reader checks before it allocates). */
  private born(id: number, sizeBytes: number, caller: number, untracedRealloc = false): void {
    const pi = id >>> ID_PAGE_SHIFT;
    const page = this.pages[pi] ?? (this.pages[pi] = new IdPage());
    const i = id & ID_PAGE_MASK;
    if (page.state[i] === STATE_LIVE) this.implicitFree(id);
    if (id >= this.idHighWater) this.idHighWater = id + 1;
    const e = ++this.events;
    page.state[i] = STATE_LIVE;
    page.sizes[i] = sizeBytes;
    page.birth[i] = e;
    page.callerOf[i] = caller;
    this.liveBlocks++;
    this.liveBytes += sizeBytes;
    if (this.liveBytes > this.peakLiveBytes) {
      this.peakLiveBytes = this.liveBytes;
      this.peakEvent = e;
    }
    const t = this.row();
    page.threadOf[i] = this.currentRow;
    t.events++;
    if (untracedRealloc) t.reallocs++; else t.allocs++;
    t.liveBlocks++;
    this.threadBytes(t, sizeBytes);
  }

  /** The current thread's row (the implicit thread 0 when the trace has named none). */
  private row(): ThreadCounts {
    if (this.currentRow < 0) this.currentRow = this.rowOf(0);
    return this.threadRows[this.currentRow]!;
  }

  private rowOf(tid: number): number {
    let r = this.threadRow.get(tid);
    if (r === undefined) {
      r = this.threadRows.length;
      this.threadRows.push({ thread: tid, events: 0, allocs: 0, reallocs: 0, frees: 0, liveBlocks: 0, liveBytes: 0, peakLiveBytes: 0, ends: 0 });
      this.threadRow.set(tid, r);
    }
    return r;
  }

  private threadBytes(t: ThreadCounts, delta: number): void {
    t.liveBytes += delta;
    if (t.liveBytes > t.peakLiveBytes) t.peakLiveBytes = t.liveBytes;
  }

  /** Per-thread counts, in order of first appearance (one row, thread 0, for formats without threads). */
  threadCounts(): ThreadCounts[] {
    return this.threadRows.map((t) => ({ ...t }));
  }

  alloc(id: number, sizeBytes: number, caller: number): void {
    if (!this.fits(sizeBytes)) return this.refuse();
    this.allocs++;
    this.born(id, sizeBytes, caller);
    if (this.out !== null) this.out.alloc(id, sizeBytes, caller);
  }

  calloc(id: number, sizeBytes: number, caller: number): void {
    if (!this.fits(sizeBytes)) return this.refuse();
    this.callocs++;
    this.born(id, sizeBytes, caller);
    if (this.out !== null) this.out.calloc(id, sizeBytes, caller);
  }

  alignedAlloc(id: number, sizeBytes: number, alignBytes: number, caller: number): void {
    if (!this.fits(sizeBytes, alignBytes)) return this.refuse();
    this.alignedAllocs++;
    this.born(id, sizeBytes, caller);
    if (this.out !== null) this.out.alignedAlloc(id, sizeBytes, alignBytes, caller);
  }

  /** A realloc of `id`, which the trace never allocated (readers check: not live, not freed). */
  untracedRealloc(id: number, sizeBytes: number, caller: number): void {
    if (!this.fits(sizeBytes)) return this.refuse();
    this.reallocs++; // a realloc event of the trace (events add up); untracedReallocs says how many of them
    this.untracedReallocs++;
    this.born(id, sizeBytes, caller, true);
    if (this.out !== null) this.out.untracedRealloc(id, sizeBytes, caller);
  }

  /** Frees live block `id` without an event: its address was handed out again. */
  implicitFree(id: number): void {
    this.implicitFrees++;
    if (this.out !== null) this.out.implicitFree(id);
    const page = this.pages[id >>> ID_PAGE_SHIFT]!;
    const i = id & ID_PAGE_MASK;
    page.state[i] = STATE_FREED;
    this.liveBlocks--;
    this.liveBytes -= page.sizes[i]!;
    const owner = this.threadRows[page.threadOf[i]!]!;
    owner.liveBlocks--;
    this.threadBytes(owner, -page.sizes[i]!);
  }

  realloc(id: number, sizeBytes: number, caller: number): void {
    if (!this.fitsResize(id, sizeBytes)) return this.refuse(); // the old block stays, as after a failed realloc
    this.reallocs++;
    const e = ++this.events;
    // The consumer sees the block as it was before the resize (stats need the old size).
    if (this.out !== null) this.out.realloc(id, sizeBytes, caller);
    const page = this.pages[id >>> ID_PAGE_SHIFT]!;
    const i = id & ID_PAGE_MASK;
    // The block's bytes move to the thread that reallocated it.
    const t = this.row();
    const owner = this.threadRows[page.threadOf[i]!]!;
    owner.liveBlocks--;
    this.threadBytes(owner, -page.sizes[i]!);
    t.events++;
    t.reallocs++;
    t.liveBlocks++;
    this.threadBytes(t, sizeBytes);
    page.threadOf[i] = this.currentRow;
    this.liveBytes += sizeBytes - page.sizes[i]!;
    page.sizes[i] = sizeBytes;
    if (caller !== NO_CALLER) page.callerOf[i] = caller;
    if (this.liveBytes > this.peakLiveBytes) {
      this.peakLiveBytes = this.liveBytes;
      this.peakEvent = e;
    }
  }

  free(id: number): void {
    this.frees++;
    ++this.events;
    // The consumer runs first so it can still read the block's size and birth.
    if (this.out !== null) this.out.free(id);
    const page = this.pages[id >>> ID_PAGE_SHIFT]!;
    const i = id & ID_PAGE_MASK;
    page.state[i] = STATE_FREED;
    this.liveBlocks--;
    this.liveBytes -= page.sizes[i]!;
    const t = this.row();
    t.events++;
    t.frees++;
    const owner = this.threadRows[page.threadOf[i]!]!;
    owner.liveBlocks--;
    this.threadBytes(owner, -page.sizes[i]!);
  }

  skip(reason: number): void {
    this.skips[reason]!++;
    ++this.events;
    this.row().events++;
    if (this.out !== null) this.out.skip(reason);
  }

  mark(label: number): void {
    this.marks++;
    if (this.out !== null) this.out.mark(label);
  }

  tick(delta: number): void {
    this.ticks++;
    if (this.out !== null) this.out.tick(delta);
  }

  thread(tid: number): void {
    this.threadsSeen.add(tid);
    this.currentRow = this.rowOf(tid);
    if (this.out !== null) this.out.thread(tid);
  }

  threadEnd(tid: number): void {
    this.threadEnds++;
    this.threadRows[this.rowOf(tid)]!.ends++;
    if (this.out !== null) this.out.threadEnd(tid);
  }

  /** Calls `fn` for every block still live, in id order. */
  forEachLive(fn: (id: number, sizeBytes: number, caller: number, birthEvent: number) => void): void {
    this.pages.forEach((page, pi) => {
      if (page === undefined) return;
      const base = pi << ID_PAGE_SHIFT;
      for (let i = 0; i < ID_PAGE_IDS; i++) {
        if (page.state[i] === STATE_LIVE) fn(base + i, page.sizes[i]!, page.callerOf[i]!, page.birth[i]!);
      }
    });
  }

  /** Live blocks grouped by size and by caller, largest byte totals first. */
  leakSummary(top = DEFAULT_TOP): LeakSummary {
    const bySize = new Map<number, LeakGroup>();
    const byCaller = new Map<number, LeakGroup>();
    let blocks = 0;
    let bytes = 0;
    this.forEachLive((_id, sizeBytes, caller) => {
      blocks++;
      bytes += sizeBytes;
      let g = bySize.get(sizeBytes);
      if (g === undefined) bySize.set(sizeBytes, (g = { key: sizeBytes, blocks: 0, bytes: 0 }));
      g.blocks++;
      g.bytes += sizeBytes;
      if (caller !== NO_CALLER) {
        let c = byCaller.get(caller);
        if (c === undefined) byCaller.set(caller, (c = { key: this.callers[caller] ?? `#${caller}`, blocks: 0, bytes: 0 }));
        c.blocks++;
        c.bytes += sizeBytes;
      }
    });
    const order = (a: LeakGroup, b: LeakGroup): number => b.bytes - a.bytes || b.blocks - a.blocks;
    return {
      blocks,
      bytes,
      topSizes: [...bySize.values()].sort(order).slice(0, top),
      topCallers: [...byCaller.values()].sort(order).slice(0, top),
    };
  }
}
