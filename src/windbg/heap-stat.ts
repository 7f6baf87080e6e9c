// Reader for `!heap -stat -h <heap>`: the busy blocks of one heap grouped by size, the profile
// that shows a first-order leak (one size holding most of the heap):
//
//    heap @ 00520000
//   group-by: TOTSIZE max-display: 20
//       size     #blocks     total     ( %) (percent of total busy bytes)
//       1f64 76c6 - e905f58  (99.99)
//
// All three numbers are hex. A damaged row is skipped with a warning.
import type { BlockContext, HeapSizeStats } from './context.js';
import type { LineSource } from './lines.js';
import { words } from './lines.js';
import { MAX_TABLE_ROWS, quote } from './limits.js';
import { hexOf, isHexToken } from './tokens.js';

const HEAP_AT = /^heap @ ([0-9a-f`]{1,17})$/i;
const GROUP_BY = /^group-by: ?(\w{1,20})/i;
const HEADER = /^size #blocks total/i;
const ROW = /^([0-9a-f]{1,16}) ([0-9a-f]{1,16}) ?- ?([0-9a-f]{1,16}) ?\( ?(\d{1,3}(?:\.\d{1,2})?) ?\)$/i;

/** The heap of a `!heap -stat -h <heap>` command (or `!mex.mheap <heap>`), or undefined. */
export function statHeapCommand(command: string): string | undefined {
  const w = words(command);
  if (/^!heap$/i.test(w[0] ?? '') && w.includes('-stat')) {
    const at = w.indexOf('-h');
    return at >= 0 && isHexToken(w[at + 1], 1) ? w[at + 1] : undefined;
  }
  if (/^!(?:mex\.)?mheap$/i.test(w[0] ?? '') && w.length === 2 && isHexToken(w[1], 4)) return w[1];
  return undefined;
}

export function isHeapStatStart(text: string): boolean {
  return HEAP_AT.test(text) || GROUP_BY.test(text);
}

/** A row of the table (for callers that meet rows with no `heap @` line above them). */
export function isHeapStatRow(text: string): boolean {
  return ROW.test(text);
}

/** Reads the table whose first line (`heap @`, `group-by:` or a row) is next in `src`. */
export function readHeapStat(src: LineSource, ctx: BlockContext, heapText: string | undefined): HeapSizeStats {
  const stats: HeapSizeStats = { line: src.peek()!.no, rows: [] };
  let text = heapText;
  let heapSeen = false;
  let tooMany = false;
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek()) {
    const t = line.text;
    if (t === '') { src.next(); continue; }
    const at = HEAP_AT.exec(t);
    if (at) {
      if (stats.rows.length > 0 || heapSeen) break; // the next table
      heapSeen = true;
      text = at[1]!;
      src.next();
      continue;
    }
    const group = GROUP_BY.exec(t);
    if (group) {
      if (stats.rows.length > 0) break;
      stats.groupBy = group[1]!.toUpperCase();
      src.next();
      continue;
    }
    if (HEADER.test(t)) { src.next(); continue; }
    const m = ROW.exec(t);
    if (!m) {
      // A row with a damaged number still has the shape `x y - z (p)`: skip it, else the table ends.
      if (/^[0-9a-f]{1,16} \S{1,20} ?- ?\S/i.test(t) && t.includes('(')) { src.next(); ctx.skip(line.no, `cannot read this !heap -stat row ${quote(t)}`); continue; }
      break;
    }
    src.next();
    if (stats.rows.length >= MAX_TABLE_ROWS) {
      if (!tooMany) ctx.skip(line.no, `more than ${MAX_TABLE_ROWS} !heap -stat rows; the rest are not read`);
      tooMany = true;
      continue;
    }
    const sizeBytes = hexOf(m[1]);
    const blocks = hexOf(m[2]);
    const totalBytes = hexOf(m[3]);
    if (sizeBytes === undefined || blocks === undefined || totalBytes === undefined) { ctx.skip(line.no, `!heap -stat row ${quote(t)}: a number beyond 2^53 (more than any address space)`); continue; }
    if (sizeBytes * blocks !== totalBytes) {
      ctx.warn(line.no, `!heap -stat row: ${m[1]} bytes × ${m[2]} blocks is ${(sizeBytes * blocks).toString(16)}, the row says ${m[3]}`);
    }
    stats.rows.push({ sizeBytes, blocks, totalBytes, pct: Number(m[4]) });
  }
  if (text !== undefined) {
    const heap = hexOf(text);
    if (heap !== undefined) { stats.heap = heap; stats.heapText = text; }
  }
  return stats;
}
