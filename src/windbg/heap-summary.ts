// Reader for `!heap -s` (all heaps): the NT heap table in its 32- and 64-bit layouts with the
// fragmentation and lock lines under each row, the `LFH Key` / `Termination on corruption`
// preamble, the `NT HEAP STATS BELOW` banner, and the segment heap table of newer debuggers.
// Layout and rules: nt-heap.md §3, §4. A damaged row is skipped with a warning.
import type { HeapCounters } from '../report/types.js';
import { EXTERNAL_LINE_MIN_COMMIT_BYTES, FRAGMENTATION_LINE_MIN_PCT, fragmentationLineDecision } from '../report/heap-summary.js';
import type { SegmentHeapSummary } from '../report/heap-summary.js';
import { externalFragmentationPct, virtualAddressFragmentationPct, KB } from '../report/windbg-numbers.js';
import type { BlockContext, PrintedHeapLine } from './context.js';
import type { LineSource, SourceLine } from './lines.js';
import { isEllipsis, words } from './lines.js';
import { MAX_TABLE_ROWS, quote } from './limits.js';
import { decOf, hexOf, isHexToken, MAX_EXACT_KB } from './tokens.js';

export interface HeapSummaryBlock {
  heaps: HeapCounters[];
  segmentHeaps: SegmentHeapSummary[];
  /** `[...]` / `[…]` lines: heaps were left out of the paste, so totals cover only what is shown. */
  heapsOmitted: boolean;
  lfhKey?: string;
  terminationOnCorruption?: boolean;
  /** From the width of the heap addresses (16 digits: x64). */
  arch?: 'x86' | 'x64';
  /** The fragmentation and lock lines as printed. */
  lines: PrintedHeapLine[];
  /** A table header was read (a table may list no heap: "No heaps to display."). */
  table: boolean;
}

const LFH_KEY = /^LFH Key ?: ?(\S{1,40})/i;
const TERMINATION = /^Termination on corruption ?: ?(\w{1,12})/i;
const BANNER_STARS = /^\*{5,}$/;
const BANNER_TEXT = /^\**\s*(?:NT|SEGMENT) HEAP STATS BELOW\s*\**$/i;
const NT_HEADER_1 = /^Heap Flags Reserv/i;
const NT_HEADER_2 = /^\(k\) \(k\)/i;
const RULE = /^-{5,}$/;
// Damage to the table's furniture (its two header lines and its rules, which carry no number) must
// not end the table: the rows under it are whole and say what they are. A line is a damaged header
// when at least half of its words are header words (a pasted header keeps most of its eleven or
// eight words when a few bytes are garbled or it is cut), and a damaged rule when it is only
// dashes (cut) or still begins or ends with a run of them (garbled or a token inserted).
const NT_HEADER_WORDS: ReadonlySet<string> = new Set(['heap', 'flags', 'reserv', 'commit', 'virt', 'free', 'list', 'ucr', 'lock', 'fast', '(k)', 'length', 'blocks', 'cont.']);
/** Header words a line must keep to start a table on its own (no `!heap -s` or banner above it). */
const MIN_HEADER_WORDS_TO_START = 4;
const DAMAGED_RULE = /^-+$|^-{3,}|-{3,}$/;
// Debugger chatter that can sit before or inside the table.
const CHATTER = [
  /^Affinity manager status ?:?/i,
  /^-? ?(?:Virtual affinity limit|Current entries in use|Statistics:)/i,
  /^NtGlobalFlag enables following debugging aids/i,
  /^(?:stack back traces|validate parameters|validate on call|tail checking|free checking|enable heap tagging|heap tagging|create user mode stack trace database|page heap)\b/i,
  /^Virtual block:/i,
  /^SEGMENT HEAP ERROR\b/i,
  /^Failed to read heap key/i,
  /^No heaps to display\.?$/i,
  /^N\/A$/i,
];
// The segment heap table's header, as the debugger splits it over four lines (and as heapsim's
// formatter writes it over two).
const SEGMENT_HEADER = /^(?:Process Total Total|Global Heap Reserved Committed|Global Flags|Index \(K\) \(K\)|Global Process Heap Total Reserved Total Committed)$/i;
const EXTERNAL_LINE = /^External fragmentation ?(\d{1,3}) ?% ?\( ?(\d{1,15}) free blocks? ?\)/i;
const VA_LINE = /^Virtual address fragmentation ?(\d{1,3}) ?% ?\( ?(\d{1,15}) uncommit+ed ranges? ?\)/i;
const LOCK_LINE = /^Lock contention ?(\d{1,15})$/i;

/** `!heap -s` with no heap argument (or `!mheap` / `!mex.mheap`, which print the same table). */
export function isHeapSummaryCommand(command: string): boolean {
  const w = words(command);
  if (/^!(?:mex\.)?mheap$/i.test(w[0] ?? '')) return w.length === 1;
  if (!/^!heap$/i.test(w[0] ?? '')) return false;
  const rest = w.slice(1);
  return rest.includes('-s') && !rest.some((x) => x === '-h' || isHexToken(x, 4));
}

/** Does this line open `!heap -s` output? */
export function isHeapSummaryStart(line: SourceLine): boolean {
  const t = line.text;
  if (line.command !== undefined) return isHeapSummaryCommand(line.command);
  return LFH_KEY.test(t) || BANNER_TEXT.test(t) || NT_HEADER_1.test(t) || isSegmentHeader(t) || damagedHeaderWords(t) >= MIN_HEADER_WORDS_TO_START;
}

/** Header words in a line that is not an exact header line, if at least half its words are; else 0. */
function damagedHeaderWords(t: string): number {
  if (NT_HEADER_1.test(t) || NT_HEADER_2.test(t)) return 0;
  const w = words(t);
  let known = 0;
  for (const x of w) if (NT_HEADER_WORDS.has(x.toLowerCase())) known++;
  return known * 2 >= w.length ? known : 0;
}

/** A header line or rule with a few bytes garbled, cut short, or with a token inserted. */
function isDamagedFurniture(t: string): boolean {
  if (RULE.test(t)) return false;
  const known = damagedHeaderWords(t);
  // One header word alone is a header cut short; otherwise two or more ("page heap" is chatter).
  return (known > 0 && (known >= 2 || words(t).length === 1)) || DAMAGED_RULE.test(t);
}

function isSegmentHeader(t: string): boolean {
  return SEGMENT_HEADER.test(t) || (t.includes('Heap Address') && t.includes('Signature'));
}

const NT_COLUMNS = ['Heap', 'Flags', 'Reserv', 'Commit', 'Virt', 'Free', 'List length', 'UCR', 'Virt blocks', 'Lock cont.'];

interface PendingHeap {
  heap: HeapCounters;
  line: number;
  rowText: string;
  kb: { reserv: number; commit: number; virt: number; free: number };
  external?: { pct: number; blocks: number; line: number };
  virtualAddress?: { pct: number; ranges: number; line: number };
  lock?: { value: number; line: number };
}

function parseNtRow(ctx: BlockContext, lineNo: number, w: string[]): PendingHeap | undefined {
  const last = w[w.length - 1]!;
  const hasFast = w.length > 10 || last === 'LFH' || last === 'L';
  const columns = hasFast ? w.length - 1 : w.length;
  if (columns !== 10) {
    ctx.skip(lineNo, `heap row ${quote(w[0]!)} has ${columns} columns${hasFast ? ' before the Fast heap column' : ''}; expected 10 (Heap … Lock cont.)`);
    return undefined;
  }
  const address = hexOf(w[0]);
  if (address === undefined) { ctx.skip(lineNo, `heap row ${quote(w[0]!)}: the address is beyond 2^53 (user-mode heaps lie below 2^47)`); return undefined; }
  const flags = hexOf(w[1]);
  if (flags === undefined) { ctx.skip(lineNo, `heap row: Flags ${quote(w[1]!)} is not hexadecimal`); return undefined; }
  const values: number[] = [];
  for (let i = 2; i <= 8; i++) {
    const v = decOf(w[i]);
    if (v === undefined) { ctx.skip(lineNo, `heap row ${quote(w[0]!)}: ${NT_COLUMNS[i]} ${quote(w[i]!)} is not a whole number`); return undefined; }
    values.push(v);
  }
  for (let i = 0; i < 4; i++) {
    if (values[i]! > MAX_EXACT_KB) { ctx.skip(lineNo, `heap row ${quote(w[0]!)}: ${NT_COLUMNS[i + 2]} ${quote(w[i + 2]!)} K is beyond 2^53 bytes, more than any address space`); return undefined; }
  }
  const [reserv, commit, virt, free, list, ucr, virtBlocks] = values as [number, number, number, number, number, number, number];
  const lock = hexOf(w[9]);
  if (lock === undefined) { ctx.skip(lineNo, `heap row ${quote(w[0]!)}: Lock cont. ${quote(w[9]!)} is not hexadecimal`); return undefined; }
  const fastText = hasFast ? w[10]! : '';
  if (fastText !== '' && fastText !== 'LFH' && fastText !== 'L') ctx.warn(lineNo, `heap row ${quote(w[0]!)}: Fast heap ${quote(fastText)} is not LFH, L or blank`);
  const heap: HeapCounters = {
    address,
    flags,
    reservedBytes: reserv * KB,
    committedBytes: commit * KB,
    virtBytes: virt * KB,
    freeBytes: free * KB,
    freeBlocks: list,
    uncommittedRanges: ucr,
    virtualBlocks: virtBlocks,
    // !heap -s has no busy column; heapsim takes busy = Commit − Free (what the heap holds for the program).
    busyBytes: Math.max(0, commit - free) * KB,
    lockContention: lock,
    fastHeap: fastText,
    externalFragmentationPct: 0,
    virtualAddressFragmentationPct: 0,
  };
  return { heap, line: lineNo, rowText: w[0]!, kb: { reserv, commit, virt, free } };
}

function parseSegmentRow(ctx: BlockContext, lineNo: number, w: string[]): SegmentHeapSummary | undefined {
  if (w.length !== 6) {
    ctx.skip(lineNo, `segment heap row ${quote(w[0]!)} has ${w.length} columns; expected 6 (Heap Address, Signature, Global Flags, Process Heap List Index, Total Reserved Bytes (K), Total Committed Bytes (K))`);
    return undefined;
  }
  const address = hexOf(w[0]);
  const signature = hexOf(w[1]);
  const flags = hexOf(w[2]);
  const index = decOf(w[3]);
  const reservedK = decOf(w[4]);
  const committedK = decOf(w[5]);
  if (address === undefined || signature === undefined || flags === undefined || index === undefined || reservedK === undefined || committedK === undefined) {
    ctx.skip(lineNo, `cannot read segment heap row ${quote(w.join(' '))}`);
    return undefined;
  }
  if (reservedK > MAX_EXACT_KB || committedK > MAX_EXACT_KB) {
    ctx.skip(lineNo, `segment heap row ${quote(w[0]!)}: a size in K is beyond 2^53 bytes, more than any address space`);
    return undefined;
  }
  if (committedK > reservedK) ctx.warn(lineNo, `segment heap ${w[0]}: committed ${committedK} K is above reserved ${reservedK} K`);
  return { address, signature, flags, listIndex: index, reservedBytes: reservedK * KB, committedBytes: committedK * KB };
}

/** Checks one heap's lines against its row and fills in the two fragmentation percentages. */
function settleHeap(ctx: BlockContext, p: PendingHeap): HeapCounters {
  const h = p.heap;
  const addr = p.rowText;
  // Free is printed truncated to KB, so the true Free/Commit lies in a range.
  const extLow = externalFragmentationPct(p.kb.free * KB, p.kb.commit * KB);
  const extHigh = externalFragmentationPct(p.kb.free * KB + KB - 1, p.kb.commit * KB);
  const va = virtualAddressFragmentationPct(h.virtBytes, h.committedBytes);
  const decision = fragmentationLineDecision(h);
  const rowRef = `the heap ${addr} row (line ${p.line})`;
  const mayPrintExternal = h.committedBytes > EXTERNAL_LINE_MIN_COMMIT_BYTES;
  if (p.kb.commit > p.kb.reserv) ctx.warn(p.line, `heap ${addr}: Commit ${p.kb.commit} K is above Reserv ${p.kb.reserv} K`);
  if (p.kb.free > p.kb.commit) ctx.warn(p.line, `heap ${addr}: Free ${p.kb.free} K is above Commit ${p.kb.commit} K`);
  if (p.external) {
    const e = p.external;
    if (e.pct < extLow || e.pct > extHigh) ctx.warn(e.line, `External fragmentation ${e.pct} % disagrees with ${rowRef}: Free/Commit = ${p.kb.free}/${p.kb.commit} K = ${extLow} %`);
    if (e.blocks !== h.freeBlocks) ctx.warn(e.line, `External fragmentation line counts ${e.blocks} free blocks; ${rowRef} has List length ${h.freeBlocks}`);
    if (!(mayPrintExternal && extHigh > FRAGMENTATION_LINE_MIN_PCT)) ctx.warn(e.line, `External fragmentation line printed for ${rowRef}; the debugger prints it only with more than 1 MB committed and above 10 %`);
  } else if (mayPrintExternal && extLow > FRAGMENTATION_LINE_MIN_PCT) {
    ctx.warn(p.line, `heap ${addr}: Free/Commit = ${extLow} % with more than 1 MB committed, but no External fragmentation line follows`);
  }
  if (p.virtualAddress) {
    const v = p.virtualAddress;
    if (v.pct !== va) ctx.warn(v.line, `Virtual address fragmentation ${v.pct} % disagrees with ${rowRef}: 1 − Commit/Virt = 1 − ${p.kb.commit}/${p.kb.virt} K = ${va} %`);
    if (v.ranges !== h.uncommittedRanges) ctx.warn(v.line, `Virtual address fragmentation line counts ${v.ranges} uncommitted ranges; ${rowRef} has UCR ${h.uncommittedRanges}`);
    if (!decision.virtualAddress) ctx.warn(v.line, `Virtual address fragmentation line printed for ${rowRef}; the debugger prints it only with more than 100 UCRs and above 10 %`);
  } else if (decision.virtualAddress) {
    ctx.warn(p.line, `heap ${addr}: 1 − Commit/Virt = ${va} % with ${h.uncommittedRanges} UCRs, but no Virtual address fragmentation line follows`);
  }
  if (p.lock) {
    if (p.lock.value !== h.lockContention) ctx.warn(p.lock.line, `Lock contention ${p.lock.value} disagrees with ${rowRef}: Lock cont. ${(h.lockContention ?? 0).toString(16)} hex = ${h.lockContention}`);
  } else if (decision.lockContention) {
    ctx.warn(p.line, `heap ${addr}: lock contention ${h.lockContention} is above 1048576, but no Lock contention line follows`);
  }
  // The stored percentages are what the dump says when it says it, else the debugger's formula.
  h.externalFragmentationPct = p.external?.pct ?? extLow;
  h.virtualAddressFragmentationPct = p.virtualAddress?.pct ?? va;
  return h;
}

/**
 * Reads `!heap -s` output whose first line is next in `src`. Stops before the first line that is
 * not part of the output (prose, a heading, another command), or where a second `!heap -s` begins.
 */
export function readHeapSummary(src: LineSource, ctx: BlockContext): { value: HeapSummaryBlock; firstLine: number } {
  const first = src.peek()!;
  const firstLine = first.no;
  const block: HeapSummaryBlock = { heaps: [], segmentHeaps: [], heapsOmitted: false, lines: [], table: false };
  let pending: PendingHeap | undefined;
  let inSegmentTable = false;
  let tooMany = false;
  const flush = (): void => {
    if (pending) { block.heaps.push(settleHeap(ctx, pending)); pending = undefined; }
  };
  const rows = (): number => block.heaps.length + block.segmentHeaps.length + (pending ? 1 : 0);
  let atStart = true;
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek(), atStart = false) {
    const t = line.text;
    if (t === '') { src.next(); continue; }
    // Before the first NT row, a line the tests below do not know may be a damaged header or rule.
    const furniture = line.command === undefined && !pending && block.heaps.length === 0 && isDamagedFurniture(t);
    const command = line.command ?? (t.startsWith('!') ? t : undefined);
    if (command !== undefined) {
      if (atStart && isHeapSummaryCommand(command)) { src.next(); continue; }
      if (!furniture) break; // another debugger command (not garbage that begins with `!`)
    }
    const lfh = LFH_KEY.exec(t);
    if (lfh) {
      if (block.heaps.length > 0 || pending || block.lfhKey !== undefined) break; // the next !heap -s
      block.lfhKey = lfh[1]!;
      src.next();
      continue;
    }
    const term = TERMINATION.exec(t);
    if (term) { block.terminationOnCorruption = /^enabled$/i.test(term[1]!); src.next(); continue; }
    if (BANNER_STARS.test(t) || BANNER_TEXT.test(t)) {
      // The NT table follows the segment heap table under its banner; a banner after NT heap rows
      // starts the next !heap -s.
      if (block.heaps.length > 0 || pending) break;
      inSegmentTable = false;
      src.next();
      continue;
    }
    if (NT_HEADER_1.test(t)) { flush(); inSegmentTable = false; block.table = true; src.next(); continue; }
    if (NT_HEADER_2.test(t) || RULE.test(t) || CHATTER.some((re) => re.test(t))) { src.next(); continue; }
    if (isEllipsis(t)) { flush(); block.heapsOmitted = true; src.next(); continue; }
    if (/^(?:External fragmentation|Virtual address fragmentation|Lock contention)\b/i.test(t)) {
      src.next();
      const ext = EXTERNAL_LINE.exec(t);
      const va = VA_LINE.exec(t);
      const lock = LOCK_LINE.exec(t);
      if (!ext && !va && !lock) {
        ctx.skip(line.no, `cannot read ${quote(t)}; expected e.g. "External fragmentation 50 % (45362 free blocks)", "Virtual address fragmentation 56 % (41898 uncommited ranges)" or "Lock contention 3625381"`);
        continue;
      }
      if (!pending) { ctx.warn(line.no, 'fragmentation line with no heap row above it; ignored'); continue; }
      const heap = pending.rowText;
      if (ext) {
        pending.external = { pct: Number(ext[1]), blocks: Number(ext[2]), line: line.no };
        block.lines.push({ line: line.no, heap, kind: 'external', pct: Number(ext[1]), count: Number(ext[2]) });
      } else if (va) {
        pending.virtualAddress = { pct: Number(va[1]), ranges: Number(va[2]), line: line.no };
        block.lines.push({ line: line.no, heap, kind: 'virtualAddress', pct: Number(va[1]), count: Number(va[2]) });
      } else if (lock) {
        pending.lock = { value: Number(lock[1]), line: line.no };
        block.lines.push({ line: line.no, heap, kind: 'lockContention', count: Number(lock[1]) });
      }
      continue;
    }
    if (isSegmentHeader(t)) { flush(); inSegmentTable = true; block.table = true; src.next(); continue; }
    const w = words(t);
    if (isHexToken(w[0], 6, 16) && w.length >= 3 && (isHexToken(w[1], 8, 8) || inSegmentTable)) {
      src.next();
      flush();
      if (rows() >= MAX_TABLE_ROWS) {
        if (!tooMany) ctx.skip(line.no, `more than ${MAX_TABLE_ROWS} heap rows in one table; the rest are not read`);
        tooMany = true;
        continue;
      }
      const segment = (inSegmentTable && w.length === 6) || (w.length === 6 && /^ddeeddee$/i.test(w[1]!));
      if (segment) {
        const s = parseSegmentRow(ctx, line.no, w);
        if (s) block.segmentHeaps.push(s);
      } else {
        const p = parseNtRow(ctx, line.no, w);
        if (p) {
          pending = p;
          const digits = w[0]!.replace('`', '').length;
          const arch = digits > 8 ? 'x64' : 'x86';
          if (block.arch !== undefined && block.arch !== arch) ctx.warn(line.no, `heap address ${quote(w[0]!)} is ${arch}-wide, unlike the rows above`);
          block.arch ??= arch;
        }
      }
      continue;
    }
    if (furniture) {
      ctx.skip(line.no, `damaged table header or rule ${quote(t)}; the rows under it are read`);
      src.next();
      continue;
    }
    break;
  }
  flush();
  return { value: block, firstLine };
}
