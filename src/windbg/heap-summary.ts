// Parser for `!heap -s` (all heaps): the NT heap table in its 32- and 64-bit layouts with the
// fragmentation and lock lines under each row, the `LFH Key` / `Termination on corruption`
// preamble, the `NT HEAP STATS BELOW` banner, and the segment heap table of newer debuggers.
// Layout and rules: nt-heap.md §3, §4.
import type { HeapCounters } from '../report/types.js';
import { EXTERNAL_LINE_MIN_COMMIT_BYTES, FRAGMENTATION_LINE_MIN_PCT, fragmentationLineDecision } from '../report/heap-summary.js';
import type { SegmentHeapSummary } from '../report/heap-summary.js';
import { externalFragmentationPct, parseDebuggerHex, virtualAddressFragmentationPct, KB } from '../report/windbg-numbers.js';
import type { BlockContext, BlockResult, PrintedHeapLine } from './context.js';
import { fail } from './context.js';
import type { SourceLine } from './lines.js';
import { isEllipsis, words } from './lines.js';

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
}

const COMMAND = /^!heap\b.*\s-s\b/i;
const LFH_KEY = /^LFH Key\s*:\s*(\S+)/i;
const TERMINATION = /^Termination on corruption\s*:\s*(\w+)/i;
const BANNER_STARS = /^\*{5,}$/;
const BANNER_TEXT = /^\**\s*(?:NT|SEGMENT) HEAP STATS BELOW\s*\**$/i;
const NT_HEADER_1 = /^Heap\s+Flags\s+Reserv/i;
const NT_HEADER_2 = /^\(k\)\s+\(k\)/i;
const RULE = /^-{5,}$/;
const SEGMENT_HEADER = /^(?:Global\b.*|.*\bHeap Address\b.*|.*\bSignature\b.*|.*\bBytes\s*\(K\).*|Index|.*\bList Index\b.*)$/i;
// Debugger chatter that can sit before or inside the table.
const CHATTER = [
  /^Affinity manager status\s*:?/i,
  /^-\s+(?:Virtual affinity limit|Current entries in use|Statistics)\b/i,
  /^NtGlobalFlag enables following debugging aids/i,
  /^(?:stack back traces|validate parameters|validate on call|tail checking|free checking|enable heap tagging|heap tagging|create user mode stack trace database|page heap)\b/i,
  /^Virtual block:/i,
  /^SEGMENT HEAP ERROR\b/i,
  /^N\/A$/i,
];
const EXTERNAL_LINE = /^External fragmentation\s*(\d+)\s*%\s*\(\s*(\d+)\s*free blocks?\s*\)/i;
const VA_LINE = /^Virtual address fragmentation\s*(\d+)\s*%\s*\(\s*(\d+)\s*uncommit+ed ranges?\s*\)/i;
const LOCK_LINE = /^Lock contention\s*(\d+)/i;

/** Does this line open `!heap -s` output? */
export function isHeapSummaryStart(line: SourceLine): boolean {
  const t = line.text;
  return COMMAND.test(line.command ?? t) || LFH_KEY.test(t) || BANNER_TEXT.test(t) || NT_HEADER_1.test(t) ||
    (/\bHeap Address\b/i.test(t) && /\bSignature\b/i.test(t));
}

function isHexWord(w: string | undefined, minDigits: number, maxDigits: number): boolean {
  if (w === undefined) return false;
  const digits = w.replace('`', '');
  return digits.length >= minDigits && digits.length <= maxDigits && /^[0-9a-f]+(?:`[0-9a-f]+)?$/i.test(w);
}

const NT_COLUMNS = ['Heap', 'Flags', 'Reserv', 'Commit', 'Virt', 'Free', 'List length', 'UCR', 'Virt blocks', 'Lock cont.'];

interface PendingHeap {
  heap: HeapCounters;
  line: number;
  /** The address as printed. */
  rowText: string;
  kb: { reserv: number; commit: number; virt: number; free: number };
  external?: { pct: number; blocks: number; line: number };
  virtualAddress?: { pct: number; ranges: number; line: number };
  lock?: { value: number; line: number };
}

function parseNtRow(ctx: BlockContext, line: SourceLine, w: string[]): PendingHeap {
  const last = w[w.length - 1]!;
  const hasFast = w.length > 10 || last === 'LFH' || last === 'L';
  const columns = hasFast ? w.length - 1 : w.length;
  if (columns !== 10) {
    fail(ctx, line.no, `heap row has ${columns} columns${hasFast ? ' before the Fast heap column' : ''}; expected 10 (${NT_COLUMNS.join(', ')})`);
  }
  const address = parseDebuggerHex(w[0]!)!;
  const flags = parseDebuggerHex(w[1]!);
  if (flags === undefined) fail(ctx, line.no, `heap row: Flags '${w[1]}' is not hexadecimal`);
  const dec = (index: number): number => {
    const text = w[index]!;
    if (!/^\d+$/.test(text)) fail(ctx, line.no, `heap row: ${NT_COLUMNS[index]} '${text}' is not a whole number`);
    return Number(text);
  };
  const reserv = dec(2), commit = dec(3), virt = dec(4), free = dec(5), list = dec(6), ucr = dec(7), virtBlocks = dec(8);
  const lock = parseDebuggerHex(w[9]!);
  if (lock === undefined) fail(ctx, line.no, `heap row: Lock cont. '${w[9]}' is not hexadecimal`);
  const fastText = w[10] ?? '';
  if (fastText !== '' && fastText !== 'LFH' && fastText !== 'L') fail(ctx, line.no, `heap row: Fast heap '${fastText}' is not LFH, L or blank`);
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
  return { heap, line: line.no, rowText: w[0]!, kb: { reserv, commit, virt, free } };
}

function parseSegmentRow(ctx: BlockContext, line: SourceLine, w: string[]): SegmentHeapSummary {
  if (w.length !== 6) fail(ctx, line.no, `segment heap row has ${w.length} columns; expected 6 (Heap Address, Signature, Global Flags, Process Heap List Index, Total Reserved Bytes (K), Total Committed Bytes (K))`);
  const address = parseDebuggerHex(w[0]!);
  const signature = parseDebuggerHex(w[1]!);
  const flags = parseDebuggerHex(w[2]!);
  if (address === undefined) fail(ctx, line.no, `segment heap row: address '${w[0]}' is not hexadecimal`);
  if (signature === undefined) fail(ctx, line.no, `segment heap row: signature '${w[1]}' is not hexadecimal`);
  if (flags === undefined) fail(ctx, line.no, `segment heap row: flags '${w[2]}' is not hexadecimal`);
  for (const [i, what] of [[3, 'Process Heap List Index'], [4, 'Total Reserved Bytes (K)'], [5, 'Total Committed Bytes (K)']] as const) {
    if (!/^\d+$/.test(w[i]!)) fail(ctx, line.no, `segment heap row: ${what} '${w[i]}' is not a whole number`);
  }
  const reservedK = Number(w[4]);
  const committedK = Number(w[5]);
  if (committedK > reservedK) ctx.warn(line.no, `segment heap ${w[0]}: committed ${committedK} K is above reserved ${reservedK} K`);
  return { address, signature, flags, listIndex: Number(w[3]), reservedBytes: reservedK * KB, committedBytes: committedK * KB };
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
    if (e.pct < extLow || e.pct > extHigh) {
      ctx.warn(e.line, `External fragmentation ${e.pct} % disagrees with ${rowRef}: Free/Commit = ${p.kb.free}/${p.kb.commit} K = ${extLow} %`);
    }
    if (e.blocks !== h.freeBlocks) ctx.warn(e.line, `External fragmentation line counts ${e.blocks} free blocks; ${rowRef} has List length ${h.freeBlocks}`);
    if (!(mayPrintExternal && extHigh > FRAGMENTATION_LINE_MIN_PCT)) {
      ctx.warn(e.line, `External fragmentation line printed for ${rowRef}; the debugger prints it only with more than 1 MB committed and above 10 %`);
    }
  } else if (mayPrintExternal && extLow > FRAGMENTATION_LINE_MIN_PCT) {
    ctx.warn(p.line, `heap ${addr}: Free/Commit = ${extLow} % with more than 1 MB committed, but no External fragmentation line follows`);
  }
  if (p.virtualAddress) {
    const v = p.virtualAddress;
    if (v.pct !== va) ctx.warn(v.line, `Virtual address fragmentation ${v.pct} % disagrees with ${rowRef}: 1 − Commit/Virt = 1 − ${p.kb.commit}/${p.kb.virt} K = ${va} %`);
    if (v.ranges !== h.uncommittedRanges) ctx.warn(v.line, `Virtual address fragmentation line counts ${v.ranges} uncommitted ranges; ${rowRef} has UCR ${h.uncommittedRanges}`);
    if (!decision.virtualAddress) {
      ctx.warn(v.line, `Virtual address fragmentation line printed for ${rowRef}; the debugger prints it only with more than 100 UCRs and above 10 %`);
    }
  } else if (decision.virtualAddress) {
    ctx.warn(p.line, `heap ${addr}: 1 − Commit/Virt = ${va} % with ${h.uncommittedRanges} UCRs, but no Virtual address fragmentation line follows`);
  }
  if (p.lock) {
    if (p.lock.value !== h.lockContention) {
      ctx.warn(p.lock.line, `Lock contention ${p.lock.value} disagrees with ${rowRef}: Lock cont. ${(h.lockContention ?? 0).toString(16)} hex = ${h.lockContention}`);
    }
  } else if (decision.lockContention) {
    ctx.warn(p.line, `heap ${addr}: lock contention ${h.lockContention} is above 1048576, but no Lock contention line follows`);
  }
  // The stored percentages are what the dump says when it says it, else the debugger's formula.
  h.externalFragmentationPct = p.external?.pct ?? extLow;
  h.virtualAddressFragmentationPct = p.virtualAddress?.pct ?? va;
  return h;
}

/**
 * Parses `!heap -s` output starting at `start`. Stops at the first line that is not part of the
 * output (prose, a heading, another command), or where a second `!heap -s` begins.
 */
export function parseHeapSummary(lines: SourceLine[], start: number, ctx: BlockContext): BlockResult<HeapSummaryBlock> {
  const firstLine = lines[start]!.no;
  const block: HeapSummaryBlock = { heaps: [], segmentHeaps: [], heapsOmitted: false, lines: [] };
  let pending: PendingHeap | undefined;
  let inSegmentTable = false;
  const flush = (): void => {
    if (pending) { block.heaps.push(settleHeap(ctx, pending)); pending = undefined; }
  };
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.text;
    if (t === '') continue;
    if (line.command !== undefined) {
      if (i === start && COMMAND.test(line.command)) continue;
      break; // another debugger command
    }
    if (i !== start && COMMAND.test(t)) break;
    const lfh = LFH_KEY.exec(t);
    if (lfh) {
      if (block.heaps.length > 0 || pending || block.lfhKey !== undefined) break; // the next !heap -s
      block.lfhKey = lfh[1]!;
      continue;
    }
    const term = TERMINATION.exec(t);
    if (term) { block.terminationOnCorruption = /^enabled$/i.test(term[1]!); continue; }
    if (BANNER_STARS.test(t) || BANNER_TEXT.test(t)) {
      if (block.heaps.length > 0 || pending) break; // a banner after NT heap rows: the next !heap -s
      inSegmentTable = false;
      continue;
    }
    if (NT_HEADER_1.test(t)) { flush(); inSegmentTable = false; continue; }
    if (NT_HEADER_2.test(t) || RULE.test(t) || CHATTER.some((re) => re.test(t))) continue;
    if (isEllipsis(t)) { flush(); block.heapsOmitted = true; continue; }
    const ext = EXTERNAL_LINE.exec(t);
    const va = VA_LINE.exec(t);
    const lock = LOCK_LINE.exec(t);
    if (ext || va || lock) {
      if (!pending) { ctx.warn(line.no, 'fragmentation line with no heap row above it; ignored'); continue; }
      const heap = pending.rowText;
      if (ext) {
        pending.external = { pct: Number(ext[1]), blocks: Number(ext[2]), line: line.no };
        block.lines.push({ line: line.no, heap, kind: 'external', pct: Number(ext[1]), count: Number(ext[2]) });
      }
      if (va) {
        pending.virtualAddress = { pct: Number(va[1]), ranges: Number(va[2]), line: line.no };
        block.lines.push({ line: line.no, heap, kind: 'virtualAddress', pct: Number(va[1]), count: Number(va[2]) });
      }
      if (lock) {
        pending.lock = { value: Number(lock[1]), line: line.no };
        block.lines.push({ line: line.no, heap, kind: 'lockContention', count: Number(lock[1]) });
      }
      continue;
    }
    if (/^(?:External fragmentation|Virtual address fragmentation|Lock contention)\b/i.test(t)) {
      fail(ctx, line.no, `cannot read this line; expected e.g. "External fragmentation 50 % (45362 free blocks)", "Virtual address fragmentation 56 % (41898 uncommited ranges)" or "Lock contention 3625381"`);
    }
    if (SEGMENT_HEADER.test(t) && !/^[0-9a-f`]+\s/i.test(t)) { flush(); inSegmentTable = true; continue; }
    const w = words(t);
    if (isHexWord(w[0], 6, 17) && w.length >= 3 && (isHexWord(w[1], 8, 8) || inSegmentTable)) {
      flush();
      const segment = inSegmentTable || (w.length === 6 && /^ddeeddee$/i.test(w[1]!));
      if (segment) {
        block.segmentHeaps.push(parseSegmentRow(ctx, line, w));
      } else {
        pending = parseNtRow(ctx, line, w);
        const digits = w[0]!.replace('`', '').length;
        const arch = digits > 8 ? 'x64' : 'x86';
        if (block.arch !== undefined && block.arch !== arch) ctx.warn(line.no, `heap address ${w[0]} is ${arch}-wide, unlike the rows above`);
        block.arch ??= arch;
      }
      continue;
    }
    break;
  }
  flush();
  if (block.heaps.length === 0 && block.segmentHeaps.length === 0) {
    ctx.warn(firstLine, '!heap -s output without any heap rows');
  }
  return { value: block, end: i, firstLine };
}
