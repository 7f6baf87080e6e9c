// Readers for `!address` region listings, summed by usage, state and type so that a dump pasted
// without its summary still says what is committed, reserved and free, and for the description of
// one region that `!address <address>` prints.
//
// New layout (WinDbg 6.12 and later), one region per line after a header, with an optional marker
// (`+` first region of an allocation, `*`, `|-`) and, in pasted notes, a `#` comment prefix:
//     BaseAddr EndAddr+1 RgnSize     Type       State                 Protect             Usage
//   +   3c0000   3c1000     1000 MEM_IMAGE   MEM_COMMIT  PAGE_READONLY                      Image
// Old layout (ext.dll of the 6.x era), one region as keyword/value pairs over several lines or, in
// a paste that lost its line ends, one after another on a single line:
//   01240000 : 01240000 - 00052000
//                   Type     00020000 MEM_PRIVATE
//                   Protect  00000004 PAGE_READWRITE
//                   State    00001000 MEM_COMMIT
//                   Usage    RegionUsageIsVAD
import type { BlockContext, RegionLookup, RegionSums } from './context.js';
import type { LineSource } from './lines.js';
import { isEllipsis, words } from './lines.js';
import { MAX_TABLE_ROWS, quote } from './limits.js';
import { hexOf, isHexToken, isNameToken } from './tokens.js';
import { nameMap } from '../names.js';

const MARKERS: ReadonlySet<string> = new Set(['+', '*', '|-', '|', '#', '-', '>']);
const TYPES: ReadonlySet<string> = new Set(['MEM_PRIVATE', 'MEM_MAPPED', 'MEM_IMAGE']);
const STATES: ReadonlySet<string> = new Set(['MEM_COMMIT', 'MEM_RESERVE', 'MEM_FREE']);

function newSums(line: number): RegionSums {
  // Keyed by names from the dump: no prototype, so a usage named `__proto__` is a row like any other.
  return { line, count: 0, byUsage: nameMap(), byState: nameMap(), byType: nameMap(), endAddress: 0 };
}

/** Adds one region; names beyond MAX_TABLE_ROWS distinct ones are pooled under `(other)`. */
function addRegion(sums: RegionSums, bytes: number, end: number, usage: string, state: string, type: string | undefined): void {
  const add = (table: Record<string, { bytes: number; regions?: number }>, name: string): void => {
    const key = Object.hasOwn(table, name) || Object.keys(table).length < MAX_TABLE_ROWS ? name : '(other)';
    const e = table[key] ?? (table[key] = { bytes: 0, regions: 0 });
    e.bytes += bytes;
    e.regions = (e.regions ?? 0) + 1;
  };
  sums.count++;
  add(sums.byUsage, usage);
  add(sums.byState, state);
  if (type !== undefined) add(sums.byType, type);
  if (end > sums.endAddress) sums.endAddress = end;
}

function stripMarkers(w: string[]): string[] {
  let i = 0;
  while (i < w.length && MARKERS.has(w[i]!)) i++;
  return i === 0 ? w : w.slice(i);
}

/** The header of the new listing (`BaseAddr EndAddr+1 RgnSize Type State Protect Usage`). */
export function isNewListingHeader(text: string): boolean {
  const w = stripMarkers(words(text));
  return /^BaseAddr(?:ess)?$/i.test(w[0] ?? '') && /^EndAddr(?:ess)?\+1$/i.test(w[1] ?? '') && /^(?:RgnSize|RegionSize)$/i.test(w[2] ?? '');
}

/** Reads a new-layout listing whose header is next in `src`. */
export function readNewListing(src: LineSource, ctx: BlockContext): RegionSums {
  const header = src.next()!;
  const sums = newSums(header.no);
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek()) {
    const t = line.text;
    if (t === '' || /^#?\s*-{5,}$/.test(t) || isEllipsis(t) || t === '#') { src.next(); continue; }
    if (line.command !== undefined) break;
    const w = stripMarkers(words(t));
    if (!(isHexToken(w[0]) && isHexToken(w[1]) && isHexToken(w[2]))) break;
    src.next();
    const base = hexOf(w[0]);
    const end = hexOf(w[1]);
    const size = hexOf(w[2]);
    if (base === undefined || end === undefined || size === undefined) { ctx.skip(line.no, `region ${quote(w[0]!)}: an address or size beyond 2^53 (more than any address space)`); continue; }
    let i = 3;
    let type: string | undefined;
    if (TYPES.has(w[i] ?? '')) type = w[i++];
    const state = w[i];
    if (state === undefined || !STATES.has(state)) { ctx.skip(line.no, `region ${quote(w[0]!)}: no state (MEM_COMMIT, MEM_RESERVE or MEM_FREE) after its size`); continue; }
    i++;
    while (i < w.length && (/^PAGE_/.test(w[i]!) || w[i] === '|')) i++;
    const usage = w[i];
    if (usage === undefined || !isNameToken(usage)) { ctx.skip(line.no, `region ${quote(w[0]!)}: no usage name`); continue; }
    if (end - base !== size) ctx.warn(line.no, `region ${w[0]}: ${w[1]} − ${w[0]} is ${(end - base).toString(16)}, the row says ${w[2]}`);
    addRegion(sums, size, end, usage, state, type);
  }
  return sums;
}

/** Where an old-layout region starts in a token list: `base : base - size` or `base - size`. */
function recordStart(w: string[], i: number): { base: number | undefined; size: number | undefined; next: number } | undefined {
  if (isHexToken(w[i], 1) && w[i + 1] === ':' && isHexToken(w[i + 2], 1) && w[i + 3] === '-' && isHexToken(w[i + 4], 1)) {
    return { base: hexOf(w[i + 2])!, size: hexOf(w[i + 4])!, next: i + 5 };
  }
  if (isHexToken(w[i], 1) && w[i + 1] === '-' && isHexToken(w[i + 2], 1) && (w[i + 3] === undefined || /^(?:Type|Protect|State|Usage)$/.test(w[i + 3]!))) {
    return { base: hexOf(w[i])!, size: hexOf(w[i + 2])!, next: i + 3 };
  }
  return undefined;
}

/** Does an old-layout listing start on this line (maybe after a prompt's command word)? */
export function oldListingStart(text: string): boolean {
  const w = words(text);
  return recordStart(w, 0) !== undefined || (/^!address/i.test(w[0] ?? '') && recordStart(w, 1) !== undefined);
}

const OLD_KEYWORDS: ReadonlySet<string> = new Set(['Type', 'Protect', 'State', 'Usage', 'FullPath', 'Pid']);

/** Reads an old-layout listing whose first line is next in `src`. */
export function readOldListing(src: LineSource, ctx: BlockContext): RegionSums {
  const sums = newSums(src.peek()!.no);
  let current: { line: number; base: number; size: number; type?: string; state?: string; usage?: string } | undefined;
  const finish = (): void => {
    if (!current) return;
    if (current.state === undefined || current.usage === undefined) {
      ctx.skip(current.line, `region ${current.base.toString(16)}: no ${current.state === undefined ? 'State' : 'Usage'}`);
    } else {
      addRegion(sums, current.size, current.base + current.size, current.usage, current.state, current.type);
    }
    current = undefined;
  };
  let first = true;
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek(), first = false) {
    const t = line.text;
    if (t === '' || isEllipsis(t)) { src.next(); continue; }
    let w = words(t);
    if (first && /^!address/i.test(w[0] ?? '')) w = w.slice(1);
    if (!first && line.command !== undefined) break;
    if (recordStart(w, 0) === undefined && !OLD_KEYWORDS.has(w[0] ?? '')) break;
    src.next();
    for (let i = 0; i < w.length;) {
      const start = recordStart(w, i);
      if (start) {
        finish();
        const at = i;
        i = start.next;
        if (start.base === undefined || start.size === undefined) {
          ctx.skip(line.no, `region ${quote(w[at]!)}: an address or size beyond 2^53 (more than any address space)`);
          continue;
        }
        current = { line: line.no, base: start.base, size: start.size };
        continue;
      }
      const token = w[i]!;
      if (current && token === 'Type') {
        i += isHexToken(w[i + 1]) ? 2 : 1;
        if (TYPES.has(w[i] ?? '')) current.type = w[i++];
      } else if (current && token === 'State') {
        i += isHexToken(w[i + 1]) ? 2 : 1;
        if (STATES.has(w[i] ?? '')) current.state = w[i++];
      } else if (current && token === 'Usage' && isNameToken(w[i + 1])) {
        current.usage = w[i + 1];
        i += 2;
      } else {
        i++; // Protect values, FullPath and other details
      }
    }
  }
  finish();
  return sums;
}

const KEY_VALUE = /^([A-Z][A-Za-z .]{1,30}): ?(.*)$/;

/** `Usage: <name>` opening the description of one region (`!address <address>`). */
export function isLookupStart(text: string): boolean {
  return /^Usage: ?\S/.test(text);
}

/** Reads the description of one region; undefined (with a skip) when it lacks a base or a size. */
export function readLookup(src: LineSource, ctx: BlockContext): RegionLookup | undefined {
  const firstLine = src.peek()!.no;
  const fields = new Map<string, string>();
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek()) {
    const m = KEY_VALUE.exec(line.text);
    if (!m || line.command !== undefined) break;
    src.next();
    fields.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  const first = (key: string): string | undefined => fields.get(key)?.split(' ')[0];
  const last = (key: string): string | undefined => { const v = fields.get(key)?.split(' '); return v?.[v.length - 1]; };
  const base = hexOf(first('base address'));
  const size = hexOf(first('region size'));
  const usage = first('usage');
  if (base === undefined || size === undefined || usage === undefined) {
    ctx.skip(firstLine, '!address description of a region without a Base Address or a Region Size');
    return undefined;
  }
  const lookup: RegionLookup = { line: firstLine, usage, base, bytes: size };
  const state = last('state');
  const type = last('type');
  const protect = last('protect');
  if (state !== undefined && STATES.has(state)) lookup.state = state;
  if (type !== undefined && TYPES.has(type)) lookup.type = type;
  if (protect !== undefined && /^PAGE_/.test(protect)) lookup.protect = protect;
  return lookup;
}
