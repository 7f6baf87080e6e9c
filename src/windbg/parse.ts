// Finds WinDbg output in a text file and splits it into snapshots (one per memory dump).
//
// Splitting rule. Outside debugger output, a *heading* is a short line (at most
// MAX_HEADING_CHARS characters and MAX_HEADING_WORDS words, with at least one letter) that
// ends with a colon ("Before peak hours:") or is a Markdown heading ("## Before peak hours").
// Every `!address -summary` and `!heap -s` block takes the label of the nearest heading above
// it. Blocks with the same label form one snapshot, as long as that snapshot does not already
// hold a block of the same kind; otherwise a new snapshot starts. So the seed's three address
// blocks and, further down, its three heap blocks under the same three headings pair up into
// three snapshots. Blocks with no heading above them are named after the file (`dump.txt`,
// `dump.txt #2`, ...). Snapshots keep the order in which they first appear.
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import type { AddressSummary, HeapCounters } from '../report/types.js';
import type { SegmentHeapSummary } from '../report/heap-summary.js';
import type { BlockContext, PrintedAddressRow, PrintedHeapLine } from './context.js';
import { isOldAddressTitle, parseOldAddressSummary } from './address-old.js';
import { isNewAddressTitle, parseNewAddressSummary } from './address-new.js';
import { isHeapSummaryStart, parseHeapSummary } from './heap-summary.js';
import type { SourceLine } from './lines.js';
import { splitLines } from './lines.js';

/** Longest line that can be a heading; longer colon-terminated lines are prose. */
export const MAX_HEADING_CHARS = 80;
/** Most words a heading can have. */
export const MAX_HEADING_WORDS = 12;

/** One memory dump's worth of WinDbg output. All sizes are integer bytes (KB × 1024). */
export interface WindbgSnapshot {
  label: string;
  file: string;
  /** `!address -summary`, when the snapshot has one. */
  address?: AddressSummary;
  addressFormat?: 'old' | 'new';
  /** NT heaps of `!heap -s`, in printed order. busyBytes = Commit − Free. */
  heaps: HeapCounters[];
  /** Segment heaps of `!heap -s` (newer debuggers). */
  segmentHeaps: SegmentHeapSummary[];
  /** True when the `!heap -s` paste left heaps out (`[...]`). */
  heapsOmitted: boolean;
  lfhKey?: string;
  terminationOnCorruption?: boolean;
  arch?: 'x86' | 'x64';
  /** `file:line: message` for every consistency problem or repair. */
  warnings: string[];
  /** 1-based first lines of the blocks this snapshot came from. */
  lines: { address?: number; heaps?: number };
  /** Every figure as the dump printed it (percentages, KB columns, region counts, lines under heap rows). */
  printed: {
    addressRows: PrintedAddressRow[];
    addressTotals?: { totalBytes: number; totalKb: number; busyBytes: number; busyKb: number; line: number };
    largestFreeLine?: { base: number; bytes: number; kb: number; line: number };
    heapLines: PrintedHeapLine[];
  };
}

function headingOf(line: SourceLine): string | undefined {
  if (line.command !== undefined) return undefined;
  let t = line.text;
  if (t.length === 0 || t.length > MAX_HEADING_CHARS) return undefined;
  const md = /^#{1,6}\s+(.*?)\s*#*$/.exec(t);
  if (md) {
    t = md[1]!.replace(/:+$/, '');
  } else {
    t = t.replace(/^[*_=]+\s*|\s*[*_=]+$/g, ''); // **Before:** or == Before: ==
    if (!t.endsWith(':')) return undefined;
    t = t.replace(/:+$/, '');
  }
  t = t.trim();
  if (!/\p{L}/u.test(t) || t.split(/\s+/).length > MAX_HEADING_WORDS) return undefined;
  return t;
}

/** Parses one file's text. Throws InputError (with file and line) on malformed output. */
export function parseWindbgText(text: string, file: string): WindbgSnapshot[] {
  const lines = splitLines(text);
  const snapshots: WindbgSnapshot[] = [];
  const keys: Array<string | undefined> = [];
  let label: string | undefined;

  const attach = (kind: 'address' | 'heaps', firstLine: number, warnings: string[], fill: (s: WindbgSnapshot) => void): void => {
    let target = snapshots.find((s, k) => keys[k] === label && s.lines[kind] === undefined);
    if (!target) {
      target = { label: label ?? '', file, heaps: [], segmentHeaps: [], heapsOmitted: false, warnings: [], lines: {}, printed: { addressRows: [], heapLines: [] } };
      snapshots.push(target);
      keys.push(label);
    }
    target.lines[kind] = firstLine;
    target.warnings.push(...warnings);
    fill(target);
  };

  const context = (): { ctx: BlockContext; warnings: string[] } => {
    const warnings: string[] = [];
    return { ctx: { file, warn: (line, message) => warnings.push(`${file}:${line}: ${message}`) }, warnings };
  };

  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const t = line.text;
    if (t === '') { i++; continue; }
    if (isOldAddressTitle(t)) {
      const { ctx, warnings } = context();
      const r = parseOldAddressSummary(lines, i, ctx);
      attach('address', r.firstLine, warnings, (s) => {
        s.address = r.value.summary;
        s.addressFormat = 'old';
        s.printed.addressRows = r.value.rows;
        if (r.value.totals) s.printed.addressTotals = r.value.totals;
        if (r.value.largestFreeLine) s.printed.largestFreeLine = r.value.largestFreeLine;
      });
      i = Math.max(r.end, i + 1);
      continue;
    }
    if (isNewAddressTitle(t)) {
      const { ctx, warnings } = context();
      const r = parseNewAddressSummary(lines, i, ctx);
      attach('address', r.firstLine, warnings, (s) => {
        s.address = r.value.summary;
        s.addressFormat = 'new';
        s.printed.addressRows = r.value.rows;
        if (r.value.summary.totalBytes > 0xffffffff) s.arch ??= 'x64';
      });
      i = Math.max(r.end, i + 1);
      continue;
    }
    if (isHeapSummaryStart(line)) {
      const { ctx, warnings } = context();
      const r = parseHeapSummary(lines, i, ctx);
      attach('heaps', r.firstLine, warnings, (s) => {
        const b = r.value;
        s.heaps = b.heaps;
        s.segmentHeaps = b.segmentHeaps;
        s.heapsOmitted = b.heapsOmitted;
        s.printed.heapLines = b.lines;
        if (b.lfhKey !== undefined) s.lfhKey = b.lfhKey;
        if (b.terminationOnCorruption !== undefined) s.terminationOnCorruption = b.terminationOnCorruption;
        if (b.arch !== undefined) s.arch = b.arch;
      });
      i = Math.max(r.end, i + 1);
      continue;
    }
    const heading = headingOf(line);
    if (heading !== undefined) label = heading;
    i++;
  }

  if (snapshots.length === 0) {
    throw new InputError('no !address -summary or !heap -s output found', file);
  }
  const base = basename(file);
  let unnamed = 0;
  for (const s of snapshots) {
    if (s.label === '') {
      unnamed++;
      s.label = unnamed === 1 ? base : `${base} #${unnamed}`;
    }
  }
  return snapshots;
}

/** Parses several files; every file contributes its snapshots in order. */
export function parseWindbgFiles(files: ReadonlyArray<{ name: string; text: string }>): WindbgSnapshot[] {
  return files.flatMap((f) => parseWindbgText(f.text, f.name));
}
