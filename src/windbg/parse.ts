// Finds WinDbg output in a text and splits it into snapshots (one per memory dump).
//
// What is read: `!address -summary` (old and new layouts), `!address` region listings (summed),
// `!address <addr>` region descriptions, `!heap -s` (NT heap table, segment heap table),
// `!heap -s <heap>` (single heap) and `!heap -stat -h <heap>`. Every block reader skips a damaged
// line with a warning naming it and goes on; a section that is missing leaves its numbers out.
// The whole text is refused only when nothing at all could be read.
//
// Splitting rule. Outside debugger output, a *heading* is a short line (at most
// MAX_HEADING_CHARS characters and MAX_HEADING_WORDS words, with at least one letter) that
// ends with a colon ("Before peak hours:") or is a Markdown heading ("## Before peak hours").
// Every `!address` block and `!heap -s` table takes the label of the nearest heading above it.
// Blocks with the same label form one snapshot, as long as that snapshot does not already hold a
// block of the same kind; otherwise a new snapshot starts. So the seed's three address blocks and,
// further down, its three heap blocks under the same three headings pair up into three snapshots.
// `!heap -s <heap>` and `!heap -stat -h <heap>` join the latest snapshot whose heap table lists
// that heap (else the latest of their label). Blocks with no heading above them are named after
// the file (`dump.txt`, `dump.txt #2`, ...). Snapshots keep the order in which they first appear.
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import type { HeapCounters } from '../report/types.js';
import type { SegmentHeapSummary } from '../report/heap-summary.js';
import type { BlockContext, DumpAddress, HeapSizeStats, PrintedAddressRow, PrintedHeapLine, RegionLookup, RegionSums } from './context.js';
import { isOldAddressTitle, readOldAddressSummary } from './address-old.js';
import { newAddressTitle, readNewAddressSummary } from './address-new.js';
import type { NewAddressBlock } from './address-new.js';
import { isHeapSummaryStart, readHeapSummary } from './heap-summary.js';
import type { HeapSummaryBlock } from './heap-summary.js';
import { isSingleHeapLine, readSingleHeap, singleHeapCommand, singleHeapLine } from './heap-single.js';
import { isHeapStatRow, isHeapStatStart, readHeapStat, statHeapCommand } from './heap-stat.js';
import { isLookupStart, isNewListingHeader, oldListingStart, readLookup, readNewListing, readOldListing } from './address-listing.js';
import type { LineSource, SourceLine } from './lines.js';
import { stringLines } from './lines.js';
import { MAX_KEPT_WARNINGS, MAX_SNAPSHOTS } from './limits.js';
import { hexOf } from './tokens.js';

/** Longest line that can be a heading; longer colon-terminated lines are prose. */
export const MAX_HEADING_CHARS = 80;
/** Most words a heading can have. */
export const MAX_HEADING_WORDS = 12;

/** One memory dump's worth of WinDbg output. All sizes are integer bytes (KB × 1024). */
export interface WindbgSnapshot {
  label: string;
  file: string;
  /** `!address -summary`, or the sums of an `!address` listing when no summary was pasted. */
  address?: DumpAddress;
  addressFormat?: 'old' | 'new' | 'listing';
  /** NT heaps of `!heap -s` (and of `!heap -s <heap>`), in printed order. busyBytes = Commit − Free. */
  heaps: HeapCounters[];
  /** Segment heaps of `!heap -s` (newer debuggers). */
  segmentHeaps: SegmentHeapSummary[];
  /** True when the `!heap -s` paste left heaps out (`[...]`). */
  heapsOmitted: boolean;
  /** `!heap -stat -h` tables. */
  sizeStats: HeapSizeStats[];
  /** An `!address` region listing, summed. */
  regions?: RegionSums;
  /** `!address <addr>` descriptions of single regions. */
  lookups: RegionLookup[];
  lfhKey?: string;
  terminationOnCorruption?: boolean;
  arch?: 'x86' | 'x64';
  /** `file:line: message` for every consistency problem, repair or skipped line (at most MAX_KEPT_WARNINGS per file). */
  warnings: string[];
  /** 1-based first lines of the blocks this snapshot came from. */
  lines: { address?: number; heaps?: number; listing?: number };
  /** Every figure as the dump printed it (percentages, KB columns, region counts, lines under heap rows). */
  printed: {
    addressRows: PrintedAddressRow[];
    addressTotals?: { totalBytes: number; totalKb: number; busyBytes: number; busyKb: number; line: number };
    largestFreeLine?: { base: number; bytes: number; kb: number; line: number };
    heapLines: PrintedHeapLine[];
  };
}

/** What reading one text gives: the snapshots and the counts of what was said about them. */
export interface WindbgRead {
  snapshots: WindbgSnapshot[];
  /** Every warning kept (at most MAX_KEPT_WARNINGS), in the order of the lines. */
  warnings: string[];
  /** Warnings in all (kept in the snapshots up to MAX_KEPT_WARNINGS). */
  warningCount: number;
  /** Damaged lines skipped (counted among the warnings). */
  skippedCount: number;
}

function headingOf(line: SourceLine, afterBlank: boolean): string | undefined {
  if (line.command !== undefined || line.long) return undefined;
  let t = line.text;
  if (t.length === 0 || t.length > MAX_HEADING_CHARS) return undefined;
  const md = /^#{1,6} (.*?) ?#*$/.exec(t);
  if (md) {
    t = md[1]!.replace(/:+$/, '');
  } else {
    t = t.replace(/^[*_=]+ ?| ?[*_=]+$/g, ''); // **Before:** or == Before: ==
    // A line that ends a paragraph ("...expect data related to our\napplication within those blocks:")
    // or a field of debugger output ("Machine Name:") is not a heading: a heading follows a blank line.
    if (!t.endsWith(':') || !afterBlank) return undefined;
    t = t.replace(/:+$/, '');
  }
  t = t.trim();
  if (!/\p{L}/u.test(t) || t.split(' ').length > MAX_HEADING_WORDS) return undefined;
  // Debugger output that ends with a colon is not a heading: a symbol (`ntdll!RtlFreeHeap+0x14:`)
  // or an address (`Search VM for address range 00246c40 - 00246e3f :`).
  if (/\w!\w/.test(t) || /\b(?=[0-9a-f]*\d)[0-9a-f]{6,}\b/i.test(t)) return undefined;
  return t;
}

type Kind = 'address' | 'heaps' | 'listing';

/** Does a block's result hold a number beyond 2^53 (a sum of sizes no address space has)? */
function hasInexactNumber(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isSafeInteger(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER;
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasInexactNumber);
  return false;
}

function emptySnapshot(label: string, file: string): WindbgSnapshot {
  return { label, file, heaps: [], segmentHeaps: [], heapsOmitted: false, sizeStats: [], lookups: [], warnings: [], lines: {}, printed: { addressRows: [], heapLines: [] } };
}

/** Did the reader get anything out of this snapshot? */
function hasContent(s: WindbgSnapshot): boolean {
  return s.address !== undefined || s.heaps.length > 0 || s.segmentHeaps.length > 0 || s.sizeStats.some((x) => x.rows.length > 0) ||
    (s.regions?.count ?? 0) > 0 || s.lookups.length > 0 || s.lines.heaps !== undefined;
}

/** Reads every WinDbg block of a line source. Throws InputError when nothing at all can be read. */
export function readWindbg(src: LineSource, file: string): WindbgRead {
  const snapshots: WindbgSnapshot[] = [];
  const keys: Array<string | undefined> = [];
  let label: string | undefined;
  let warningCount = 0;
  let skippedCount = 0;
  let kept = 0;
  let firstSkip: string | undefined;
  /** Warnings of the block being read, moved to its snapshot when the block is attached. */
  let pending: string[] = [];
  const all: string[] = [];
  const note = (line: number, message: string): void => {
    warningCount++;
    if (kept < MAX_KEPT_WARNINGS) { kept++; pending.push(`${file}:${line}: ${message}`); all.push(`${file}:${line}: ${message}`); }
  };
  const ctx: BlockContext = {
    file,
    warn: note,
    skip: (line, message) => {
      skippedCount++;
      firstSkip ??= `line ${line}: ${message}`;
      note(line, `skipped: ${message}`);
    },
  };
  const newSnapshot = (key: string | undefined): WindbgSnapshot => {
    if (snapshots.length >= MAX_SNAPSHOTS) throw new InputError(`more than ${MAX_SNAPSHOTS} snapshots in one file, the most analyze reads`, file);
    const s = emptySnapshot(key ?? '', file);
    snapshots.push(s);
    keys.push(key);
    return s;
  };
  /** The snapshot a block of an exclusive kind joins: the first of its label without that kind. */
  const target = (kind: Kind): WindbgSnapshot => snapshots.find((s, k) => keys[k] === label && s.lines[kind] === undefined) ?? newSnapshot(label);
  /** The snapshot that a single-heap or size table joins. */
  const heapTarget = (heap: number | undefined): WindbgSnapshot => {
    if (heap !== undefined) {
      for (let k = snapshots.length - 1; k >= 0; k--) if (snapshots[k]!.heaps.some((h) => h.address === heap)) return snapshots[k]!;
    }
    for (let k = snapshots.length - 1; k >= 0; k--) if (keys[k] === label) return snapshots[k]!;
    return newSnapshot(label);
  };
  const settle = (s: WindbgSnapshot): void => { s.warnings.push(...pending); pending = []; };

  // A new-format summary split in two by a note typed between its sections is joined again.
  let lastNewAddress: { snapshot: WindbgSnapshot; block: NewAddressBlock } | undefined;
  let pendingStatHeap: string | undefined;

  const attachHeaps = (b: HeapSummaryBlock, firstLine: number): void => {
    if (!b.table && b.heaps.length === 0 && b.segmentHeaps.length === 0 && b.lfhKey === undefined) return; // nothing of a table
    // A table that listed nothing (its output was cut by, say, a HEAP ERROR block) is completed by
    // the next table of the same label instead of making a snapshot of its own.
    let s = snapshots.find((x, k) => keys[k] === label && x.lines.heaps !== undefined && x.heaps.length === 0 && x.segmentHeaps.length === 0);
    if (s === undefined) s = target('heaps');
    s.lines.heaps ??= firstLine;
    s.heaps.push(...b.heaps);
    s.segmentHeaps.push(...b.segmentHeaps);
    s.heapsOmitted ||= b.heapsOmitted;
    s.printed.heapLines.push(...b.lines);
    if (b.lfhKey !== undefined) s.lfhKey = b.lfhKey;
    if (b.terminationOnCorruption !== undefined) s.terminationOnCorruption = b.terminationOnCorruption;
    if (b.arch !== undefined) s.arch = b.arch;
    settle(s);
  };

  let lastSeen: SourceLine | undefined;
  let afterBlank = true;
  for (let line = src.peek(); line !== undefined; line = src.peek()) {
    // Every reader consumes at least the line it starts on; this keeps that true whatever happens.
    if (line === lastSeen) { src.next(); continue; }
    if (lastSeen !== undefined && lastSeen.no !== line.no - 1) afterBlank = true; // a block ended
    lastSeen = line;
    const t = line.text;
    if (line.long || t === '') { afterBlank = true; src.next(); continue; }
    const command = line.command ?? (t.startsWith('!') ? t : undefined);
    if (command !== undefined) {
      const stat = statHeapCommand(command);
      if (stat !== undefined) { pendingStatHeap = stat; src.next(); lastNewAddress = undefined; continue; }
      const single = singleHeapCommand(command);
      if (single !== undefined) {
        src.next();
        const next = src.peek();
        if (next && singleHeapLine(next.text) !== undefined) src.next();
        const r = readSingleHeap(src, ctx, single, line.no);
        attachSingle(r.heap);
        continue;
      }
      if (oldListingStart(command)) {
        const sums = readOldListing(src, ctx);
        attachListing(sums);
        continue;
      }
    }
    if (isHeapSummaryStart(line)) {
      const r = readHeapSummary(src, ctx);
      attachHeaps(r.value, r.firstLine);
      lastNewAddress = undefined;
      continue;
    }
    if (command !== undefined) { src.next(); lastNewAddress = undefined; continue; }
    if (isOldAddressTitle(t)) {
      const r = readOldAddressSummary(src, ctx);
      if (r.value.rows.length === 0 && r.value.summary.totalBytes === undefined && Object.keys(r.value.summary.usage).length === 0) { lastNewAddress = undefined; continue; }
      const s = target('address');
      s.lines.address = r.firstLine;
      s.address = r.value.summary;
      s.addressFormat = 'old';
      s.printed.addressRows = r.value.rows;
      if (r.value.totals) s.printed.addressTotals = r.value.totals;
      if (r.value.largestFreeLine) s.printed.largestFreeLine = r.value.largestFreeLine;
      settle(s);
      lastNewAddress = undefined;
      continue;
    }
    const newTitle = newAddressTitle(t);
    if (newTitle !== undefined) {
      const r = readNewAddressSummary(src, ctx);
      if (r.value.sections.length === 0) { lastNewAddress = undefined; continue; } // not read (a warning says why)
      const join = lastNewAddress !== undefined && !r.value.sections.some((x) => lastNewAddress!.block.sections.includes(x));
      if (join) {
        const { snapshot, block } = lastNewAddress!;
        mergeNewAddress(block, r.value);
        snapshot.address = block.summary;
        snapshot.printed.addressRows = block.rows;
        settle(snapshot);
      } else {
        const s = target('address');
        s.lines.address = r.firstLine;
        s.address = r.value.summary;
        s.addressFormat = 'new';
        s.printed.addressRows = r.value.rows;
        if ((r.value.summary.totalBytes ?? 0) > 0xffffffff) s.arch ??= 'x64';
        settle(s);
        lastNewAddress = { snapshot: s, block: r.value };
      }
      continue;
    }
    const singleAt = singleHeapLine(t);
    if (singleAt !== undefined) {
      src.next();
      const next = src.peek();
      if (next && isSingleHeapLine(next.text)) {
        const r = readSingleHeap(src, ctx, singleAt, line.no);
        attachSingle(r.heap);
      }
      lastNewAddress = undefined;
      continue;
    }
    if (isHeapStatStart(t) || (pendingStatHeap !== undefined && isHeapStatRow(t))) {
      const stats = readHeapStat(src, ctx, pendingStatHeap);
      pendingStatHeap = undefined;
      const s = heapTarget(stats.heap);
      s.sizeStats.push(stats);
      settle(s);
      lastNewAddress = undefined;
      continue;
    }
    if (isNewListingHeader(t)) {
      attachListing(readNewListing(src, ctx));
      continue;
    }
    if (oldListingStart(t)) {
      attachListing(readOldListing(src, ctx));
      continue;
    }
    if (isLookupStart(t)) {
      const lookup = readLookup(src, ctx);
      const s = heapTarget(undefined);
      if (lookup) s.lookups.push(lookup);
      settle(s);
      continue;
    }
    const heading = headingOf(line, afterBlank);
    if (heading !== undefined) { label = heading; lastNewAddress = undefined; }
    afterBlank = /^(?:`{3,}|~{3,})/.test(t); // a code fence separates like a blank line
    src.next();
  }

  function attachSingle(heap: HeapCounters | undefined): void {
    if (heap === undefined) return; // the skip stays in the file's warnings
    const s = heapTarget(heap.address);
    const known = s.heaps.find((h) => h.address === heap.address);
    if (known) {
      for (const f of ['reservedBytes', 'committedBytes', 'freeBytes'] as const) {
        if (known[f] !== heap[f]) ctx.warn(s.lines.heaps ?? 0, `heap ${heap.address!.toString(16)}: !heap -s <heap> says ${f} ${heap[f]}, the table ${known[f]}`);
      }
      Object.assign(known, { ...heap, fastHeap: known.fastHeap });
    } else {
      s.heaps.push(heap);
      if (heap.address !== undefined && heap.address > 0xffffffff) s.arch ??= 'x64';
    }
    settle(s);
  }

  /** Sizes that add up beyond 2^53 bytes cannot be exact: the block is skipped, with a warning. */
  function beyondExact(value: unknown, line: number, what: string): boolean {
    if (!hasInexactNumber(value)) return false;
    ctx.skip(line, `${what}: sizes add up beyond 2^53 bytes, more than any address space; the block is not read`);
    return true;
  }

  function attachListing(sums: RegionSums): void {
    lastNewAddress = undefined;
    if (beyondExact(sums, sums.line, '!address listing')) return;
    const s = target('listing');
    s.lines.listing = sums.line;
    s.regions = sums;
    if (s.address === undefined && sums.count > 0) {
      s.address = addressFromListing(sums);
      s.addressFormat = 'listing';
    }
    settle(s);
  }

  if (!snapshots.some(hasContent)) {
    const base = 'no WinDbg output found (looked for !address -summary, !address, !heap -s, !heap -stat)';
    throw new InputError(firstSkip ? `${base}; ${skippedCount} damaged line${skippedCount === 1 ? '' : 's'} skipped, the first at ${firstSkip}` : base, file);
  }
  const name = basename(file);
  let unnamed = 0;
  for (const s of snapshots) {
    if (s.label === '') {
      unnamed++;
      s.label = unnamed === 1 ? name : `${name} #${unnamed}`;
    }
  }
  return { snapshots: snapshots.filter(hasContent), warnings: all, warningCount, skippedCount };
}

/** Joins the sections of a new-format summary that a note line split in two. */
function mergeNewAddress(into: NewAddressBlock, more: NewAddressBlock): void {
  const a = into.summary;
  const b = more.summary;
  if (b.state) a.state = b.state;
  if (b.type) a.type = b.type;
  if (b.usageByName) { a.usageByName = { ...a.usageByName, ...b.usageByName }; a.usage = { ...a.usage, ...b.usage }; }
  if (b.protect) a.protect = b.protect;
  if (b.largestByUsage) a.largestByUsage = b.largestByUsage;
  if (b.largestFree) a.largestFree = b.largestFree;
  if (a.state) {
    a.totalBytes = a.state.commit.bytes + a.state.reserve.bytes + a.state.free.bytes;
    a.busyBytes = a.totalBytes - a.state.free.bytes;
  }
  into.rows = [...into.rows, ...more.rows];
  into.sections = [...into.sections, ...more.sections];
}

/** The process figures a region listing gives when no summary was pasted. */
function addressFromListing(sums: RegionSums): DumpAddress {
  const st = (name: string): { bytes: number; regions?: number } => sums.byState[name] ?? { bytes: 0, regions: 0 };
  const address: DumpAddress = { form: 'listing', usage: {}, usageByName: sums.byUsage };
  if (sums.byState['MEM_COMMIT'] || sums.byState['MEM_RESERVE']) {
    address.state = { commit: st('MEM_COMMIT'), reserve: st('MEM_RESERVE'), free: st('MEM_FREE') };
  }
  return address;
}

/** Parses one text. Throws InputError (with file) when no WinDbg output can be read in it. */
export function readWindbgText(text: string, file: string): WindbgRead {
  if (text.includes('\u0000')) throw new InputError('contains NUL characters: this is not text', file);
  return readWindbg(stringLines(text, file), file);
}

/** Parses one text into snapshots (see readWindbgText for the counts). */
export function parseWindbgText(text: string, file: string): WindbgSnapshot[] {
  return readWindbgText(text, file).snapshots;
}

/** Parses several texts; every text contributes its snapshots in order. */
export function parseWindbgFiles(files: ReadonlyArray<{ name: string; text: string }>): WindbgSnapshot[] {
  return files.flatMap((f) => parseWindbgText(f.text, f.name));
}

/** The hex a heap address is printed with (8 digits, 16 on x64). */
export function heapAddressText(address: number, arch: 'x86' | 'x64' | undefined): string {
  return address.toString(16).padStart(arch === 'x64' || address > 0xffffffff ? 16 : 8, '0');
}

export { hexOf };
