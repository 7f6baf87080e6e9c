// `!heap -s` as text: the NT heap table with its fragmentation lines, optionally preceded by the
// segment heap table of newer debuggers. Layout, formulas and print conditions: nt-heap.md §4.
import type { HeapCounters } from './types.js';
import { externalFragmentationPct, virtualAddressFragmentationPct, KB } from './windbg-numbers.js';

/** nt-heap.md §4.3: the External fragmentation line needs more than 1 MB committed... */
export const EXTERNAL_LINE_MIN_COMMIT_BYTES = 1024 * 1024;
/** nt-heap.md §4.3: ...and, like the VA line, an integer percentage above 10 (11 % is the lowest printed). */
export const FRAGMENTATION_LINE_MIN_PCT = 10;
/** nt-heap.md §4.3: the Virtual address fragmentation line needs more than 100 uncommitted ranges. */
export const VA_LINE_MIN_UNCOMMITTED_RANGES = 100;
/** nt-heap.md §4.3: the Lock contention line appears only above 1,048,576. */
export const LOCK_CONTENTION_LINE_MIN = 1048576;

/** Which of the three lines under a heap row the all-heaps table prints (nt-heap.md §4.3). */
export interface FragmentationLineDecision {
  external: boolean;
  virtualAddress: boolean;
  lockContention: boolean;
  externalPct: number;
  virtualAddressPct: number;
}

export function fragmentationLineDecision(h: Pick<HeapCounters, 'committedBytes' | 'freeBytes' | 'virtBytes' | 'uncommittedRanges' | 'lockContention'>): FragmentationLineDecision {
  const externalPct = externalFragmentationPct(h.freeBytes, h.committedBytes);
  const virtualAddressPct = virtualAddressFragmentationPct(h.virtBytes, h.committedBytes);
  return {
    external: h.committedBytes > EXTERNAL_LINE_MIN_COMMIT_BYTES && externalPct > FRAGMENTATION_LINE_MIN_PCT,
    virtualAddress: h.uncommittedRanges > VA_LINE_MIN_UNCOMMITTED_RANGES && virtualAddressPct > FRAGMENTATION_LINE_MIN_PCT,
    lockContention: (h.lockContention ?? 0) > LOCK_CONTENTION_LINE_MIN,
    externalPct,
    virtualAddressPct,
  };
}

/** A heap of the segment heap table (Windows 10+; signature 0xddeeddee, nt-heap.md §3). */
export interface SegmentHeapSummary {
  address: number;
  signature: number;
  flags: number;
  /** "Process Heap List Index". */
  listIndex: number;
  reservedBytes: number;
  committedBytes: number;
}

/** The segment heap signature (nt-heap.md §3). */
export const SEGMENT_HEAP_SIGNATURE = 0xddeeddee;

export interface HeapSummaryFormatOptions {
  arch: 'x86' | 'x64';
  /** `LFH Key` value: a number (printed 0x%08x) or the debugger's text (`0x07262959`). */
  lfhKey?: number | string;
  /** `Termination on corruption` line: true ENABLED, false DISABLED, undefined no line. */
  terminationOnCorruption?: boolean;
  /** Print the `NT HEAP STATS BELOW` banner of Win10-era debuggers before the NT heap table. */
  banner?: boolean;
  /** Segment heaps, printed in their own table before the NT heap banner. */
  segmentHeaps?: SegmentHeapSummary[];
}

// Header lines of the NT heap table (nt-heap.md §4.1, 32-bit); x64 adds 8 leading spaces.
const HEADER_1 = '  Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast ';
const HEADER_2 = '                    (k)     (k)    (k)     (k) length      blocks cont. heap ';
/** nt-heap.md §4.1: x64 headers get 8 more leading spaces and the rules 8 more dashes. */
const X64_EXTRA = 8;
/** Win10-era banner: a row of 120 asterisks above and below the centred title (HS-W10 transcripts). */
const BANNER_WIDTH = 120;
/** Spaces before `NT HEAP STATS BELOW` in the same transcripts. */
const BANNER_TEXT_INDENT = 46;
/** Address width of a heap row: 8 hex digits on x86, 16 on x64 (nt-heap.md §4.1). */
const ADDRESS_DIGITS = { x86: 8, x64: 16 } as const;

function kb(bytes: number): number {
  return Math.floor(bytes / KB);
}

function pad(n: number | string, width: number): string {
  return String(n).padStart(width);
}

function lfhKeyText(key: number | string): string {
  return typeof key === 'number' ? `0x${key.toString(16).padStart(8, '0')}` : key;
}

/** The fast-heap column: `LFH`, `L  ` (lookaside) or blank (nt-heap.md §4.1). */
function fastColumn(fast: string | undefined): string {
  if (fast === 'LFH') return 'LFH';
  if (fast === 'L') return 'L  ';
  return '   ';
}

/** One NT heap row: `%08x %08x %7d %6d %6d %6d %5d %5d %4d %6x   ` + fast heap column. */
export function formatHeapRow(h: HeapCounters, arch: 'x86' | 'x64'): string {
  const address = (h.address ?? 0).toString(16).padStart(ADDRESS_DIGITS[arch], '0');
  const flags = (h.flags ?? 0).toString(16).padStart(8, '0');
  return `${address} ${flags} ${pad(kb(h.reservedBytes), 7)} ${pad(kb(h.committedBytes), 6)} ${pad(kb(h.virtBytes), 6)} ` +
    `${pad(kb(h.freeBytes), 6)} ${pad(h.freeBlocks, 5)} ${pad(h.uncommittedRanges, 5)} ${pad(h.virtualBlocks, 4)} ` +
    `${pad((h.lockContention ?? 0).toString(16), 6)}   ${fastColumn(h.fastHeap)}`;
}

/** The lines the all-heaps table prints under a heap row, per the print conditions of §4.3. */
export function formatFragmentationLines(h: HeapCounters): string[] {
  const d = fragmentationLineDecision(h);
  const lines: string[] = [];
  if (d.external) lines.push(`    External fragmentation  ${d.externalPct} % (${h.freeBlocks} free blocks)`);
  // "uncommited" is the debugger's spelling.
  if (d.virtualAddress) lines.push(`    Virtual address fragmentation  ${d.virtualAddressPct} % (${h.uncommittedRanges} uncommited ranges)`);
  if (d.lockContention) lines.push(`    Lock contention  ${h.lockContention ?? 0} `);
  return lines;
}

/** Segment heap table. Column widths are heapsim's own: no measured sample was available. */
export function formatSegmentHeapTable(heaps: SegmentHeapSummary[], arch: 'x86' | 'x64'): string[] {
  const addrWidth = ADDRESS_DIGITS[arch];
  const cols: Array<[string, string, number]> = [
    ['', 'Heap Address', addrWidth + 2],
    ['', 'Signature', 10],
    ['Global', 'Flags', 8],
    ['Process Heap', 'List Index', 13],
    ['Total Reserved', 'Bytes (K)', 15],
    ['Total Committed', 'Bytes (K)', 16],
  ];
  const header1 = cols.map(([top, , w]) => top.padStart(w)).join(' ');
  const header2 = cols.map(([, bottom, w]) => bottom.padStart(w)).join(' ');
  const rule = '-'.repeat(header2.length);
  const lines = [header1.trimEnd(), header2, rule];
  for (const h of heaps) {
    const values = [
      h.address.toString(16).padStart(addrWidth, '0'),
      h.signature.toString(16).padStart(8, '0'),
      h.flags.toString(16),
      String(h.listIndex),
      String(kb(h.reservedBytes)),
      String(kb(h.committedBytes)),
    ];
    lines.push(values.map((v, i) => v.padStart(cols[i]![2])).join(' '));
  }
  lines.push(rule);
  return lines;
}

/**
 * `!heap -s` for all heaps (nt-heap.md §4.1): optional segment heap table and banner, `LFH Key`,
 * the two header lines, a dash rule, one row per heap in the given order with its fragmentation
 * lines under it, and a closing rule. Sizes are KB, truncated. x64 uses 16-digit addresses and
 * widens the header and rules by 8.
 */
export function formatHeapSummary(heaps: HeapCounters[], opts: HeapSummaryFormatOptions): string {
  const x64 = opts.arch === 'x64';
  const extra = x64 ? ' '.repeat(X64_EXTRA) : '';
  const rule = '-'.repeat(HEADER_1.length + (x64 ? X64_EXTRA : 0));
  const lines: string[] = [];
  if (opts.segmentHeaps && opts.segmentHeaps.length > 0) {
    lines.push(...formatSegmentHeapTable(opts.segmentHeaps, opts.arch), '');
  }
  if (opts.banner) {
    const stars = '*'.repeat(BANNER_WIDTH);
    lines.push('', stars, ' '.repeat(BANNER_TEXT_INDENT) + 'NT HEAP STATS BELOW', stars);
  }
  if (opts.lfhKey !== undefined) lines.push(`LFH Key                   : ${lfhKeyText(opts.lfhKey)}`);
  if (opts.terminationOnCorruption !== undefined) {
    lines.push(`Termination on corruption : ${opts.terminationOnCorruption ? 'ENABLED' : 'DISABLED'}`);
  }
  lines.push(extra + HEADER_1, extra + HEADER_2, rule);
  for (const h of heaps) {
    lines.push(formatHeapRow(h, opts.arch));
    lines.push(...formatFragmentationLines(h));
  }
  lines.push(rule);
  return lines.join('\n') + '\n';
}
