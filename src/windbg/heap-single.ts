// Reader for `!heap -s <heap>`, the single-heap form: one `Name value` line per counter (the form
// a public Stack Overflow question shows, nt-heap.md §4.3):
//
//   Heap 0fd00000
//   Flags 00001002 - HEAP_GROWABLE
//   Reserved memory in segments 80192 (k)
//   Commited memory in segments 56540 (k)
//   Virtual bytes (correction for large UCR) 60592 (k)
//   Free space 3884 (k) (572 blocks)
//   External fragmentation 6% (572 free blocks)
//   Virtual address fragmentation 6% (69 uncommited ranges)
//   Virtual blocks 124 - total 0 KBytes
//   Lock contention 23
//   Segments 1
//
// The counters mean what the all-heaps table's columns mean; here Lock contention is decimal.
import type { HeapCounters } from '../report/types.js';
import { externalFragmentationPct, virtualAddressFragmentationPct, KB } from '../report/windbg-numbers.js';
import type { BlockContext } from './context.js';
import type { LineSource } from './lines.js';
import { words } from './lines.js';
import { quote } from './limits.js';
import { hexOf, isHexToken, MAX_EXACT_KB } from './tokens.js';

const HEAP_LINE = /^(?:\d{1,3}: ?)?Heap ([0-9a-f`]{6,17})$/i;
const LINES: Array<[RegExp, (h: Partial<SingleHeap>, m: RegExpExecArray) => void]> = [
  [/^Flags ([0-9a-f]{1,8})\b/i, (h, m) => { h.flags = hexOf(m[1])!; }],
  [/^Reserved memory in segments (\d{1,15}) ?\(k\)/i, (h, m) => { h.reservK = Number(m[1]); }],
  [/^Commit+ed memory in segments (\d{1,15}) ?\(k\)/i, (h, m) => { h.commitK = Number(m[1]); }],
  [/^Virtual bytes \(correction for large UCR\) (\d{1,15}) ?\(k\)/i, (h, m) => { h.virtK = Number(m[1]); }],
  [/^Free space (\d{1,15}) ?\(k\) ?\( ?(\d{1,15}) blocks? ?\)/i, (h, m) => { h.freeK = Number(m[1]); h.freeBlocks = Number(m[2]); }],
  [/^External fragmentation (\d{1,3}) ?% ?\( ?(\d{1,15}) free blocks? ?\)/i, (h, m) => { h.ext = Number(m[1]); h.extBlocks = Number(m[2]); }],
  [/^Virtual address fragmentation (\d{1,3}) ?% ?\( ?(\d{1,15}) uncommit+ed ranges? ?\)/i, (h, m) => { h.va = Number(m[1]); h.ucr = Number(m[2]); }],
  [/^Virtual blocks (\d{1,15})(?: - total (\d{1,15}) KBytes)?/i, (h, m) => { h.virtBlocks = Number(m[1]); if (m[2] !== undefined) h.virtBlockK = Number(m[2]); }],
  [/^Lock contention (\d{1,15})$/i, (h, m) => { h.lock = Number(m[1]); }],
  [/^Segments (\d{1,6})$/i, (h, m) => { h.segments = Number(m[1]); }],
];

interface SingleHeap {
  flags: number; reservK: number; commitK: number; virtK: number; freeK: number; freeBlocks: number;
  ext: number; extBlocks: number; va: number; ucr: number; virtBlocks: number; virtBlockK: number; lock: number; segments: number;
}

/** The heap address of a `!heap -s <heap>` (or `-s -h <heap>`) command, or undefined. */
export function singleHeapCommand(command: string): string | undefined {
  const w = words(command);
  if (!/^!heap$/i.test(w[0] ?? '') || !w.includes('-s')) return undefined;
  return w.slice(1).find((x) => x !== '-s' && x !== '-h' && isHexToken(x, 4));
}

/** `Heap 0fd00000` (or `0: Heap 0fd00000`, a prompt cut by a paste) opening the single-heap form. */
export function singleHeapLine(text: string): string | undefined {
  return HEAP_LINE.exec(text)?.[1];
}

/** Does this line continue a single-heap block? */
export function isSingleHeapLine(text: string): boolean {
  return LINES.some(([re]) => re.test(text));
}

/**
 * Reads the single-heap form. `src` is at its first counter line (the `Heap X` line or the command
 * has been consumed by the caller, which passes the address). Returns undefined (with a skip) when
 * the block lacks Reserved or Committed memory.
 */
export function readSingleHeap(src: LineSource, ctx: BlockContext, addressText: string, startLine: number): { heap?: HeapCounters; firstLine: number } {
  const h: Partial<SingleHeap> = {};
  let last = startLine;
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek()) {
    const t = line.text;
    if (t === '') { src.next(); continue; }
    const rule = LINES.find(([re]) => re.test(t));
    if (!rule) break;
    rule[1](h, rule[0].exec(t)!);
    last = line.no;
    src.next();
  }
  const address = hexOf(addressText);
  if (address === undefined || h.reservK === undefined || h.commitK === undefined) {
    ctx.skip(startLine, `!heap -s ${quote(addressText)}: no "Reserved memory in segments" and "Commited memory in segments" lines (lines ${startLine}–${last})`);
    return { firstLine: startLine };
  }
  if ([h.reservK, h.commitK, h.virtK ?? 0, h.freeK ?? 0].some((k) => k > MAX_EXACT_KB)) {
    ctx.skip(startLine, `!heap -s ${quote(addressText)}: a size in K is beyond 2^53 bytes, more than any address space (lines ${startLine}–${last})`);
    return { firstLine: startLine };
  }
  const commit = h.commitK * KB;
  const free = (h.freeK ?? 0) * KB;
  const virt = (h.virtK ?? h.reservK) * KB;
  const heap: HeapCounters = {
    address,
    reservedBytes: h.reservK * KB,
    committedBytes: commit,
    virtBytes: virt,
    freeBytes: free,
    freeBlocks: h.freeBlocks ?? h.extBlocks ?? 0,
    uncommittedRanges: h.ucr ?? 0,
    virtualBlocks: h.virtBlocks ?? 0,
    busyBytes: Math.max(0, commit - free),
    externalFragmentationPct: h.ext ?? externalFragmentationPct(free, commit),
    virtualAddressFragmentationPct: h.va ?? virtualAddressFragmentationPct(virt, commit),
    source: 'single',
  };
  if (h.flags !== undefined) heap.flags = h.flags;
  if (h.lock !== undefined) heap.lockContention = h.lock;
  if (h.segments !== undefined) heap.segments = h.segments;
  if (h.extBlocks !== undefined && h.freeBlocks !== undefined && h.extBlocks !== h.freeBlocks) {
    ctx.warn(startLine, `heap ${addressText}: External fragmentation counts ${h.extBlocks} free blocks, Free space ${h.freeBlocks}`);
  }
  if (h.ext !== undefined && h.freeK !== undefined) {
    const low = externalFragmentationPct(free, commit);
    const high = externalFragmentationPct(free + KB - 1, commit);
    if (h.ext < low || h.ext > high) ctx.warn(startLine, `heap ${addressText}: External fragmentation ${h.ext}% disagrees with Free/Commit = ${h.freeK}/${h.commitK} K = ${low}%`);
  }
  return { heap, firstLine: startLine };
}
