// Reader for the old `!address -summary` layout (ext.dll of the 6.x era; nt-heap.md §5.1):
// Usage, Type and State SUMMARY sections of `hex ( KB) : pct% [pct%] : name` rows, a
// `Tot: … Busy: …` line and an optional `Largest free region:` line. A damaged row is skipped
// with a warning; a missing section leaves its part of the summary undefined.
import type { SizeAndCount, TypeName } from '../report/types.js';
import { OLD_STATE_ROWS, OLD_TYPE_ROWS, OLD_USAGE_ROWS } from '../report/address-summary.js';
import { hundredthsOfPercent, hundredthsToString, KB } from '../report/windbg-numbers.js';
import type { BlockContext, DumpAddress, PrintedAddressRow } from './context.js';
import { describeBytes } from './context.js';
import type { LineSource } from './lines.js';
import { isEllipsis } from './lines.js';
import { quote } from './limits.js';
import { decOf, hexOf, pctOf } from './tokens.js';
import { nameMap } from '../names.js';

type Section = 'Usage' | 'Type' | 'State';

const TITLE = /^-{3,} ?(Usage|Type|State) SUMMARY ?-*$/i;
const COLUMN_HEADER = /^TotSize ?\( ?KB ?\)/i;
const TOT_LINE = /^Tot: ?([0-9a-f`]{1,20}) ?\( ?(\d{1,15}) ?KB ?\) ?Busy: ?([0-9a-f`]{1,20}) ?\( ?(\d{1,15}) ?KB ?\)/i;
const LARGEST_LINE = /^Largest free region: ?Base ([0-9a-f`]{1,20}) ?- ?Size ([0-9a-f`]{1,20}) ?\( ?(\d{1,15}) ?KB ?\)/i;
// `734d000 (  118068) : …`, spacing collapsed by the normalizer.
const ROW = /^([^\s()]{1,40}) ?\( ?([^()]{0,20}?) ?\) ?(.*)$/i;
// A row attempt: a first column and a parenthesis, with a percentage or a hex first column (a
// heading such as "After (12:00):" is neither and ends the block instead of being skipped).
const ROW_START = /^[^\s()]{1,40} ?\(/;

/** Usage names the old format prints, and aliases, mapped to the canonical usage slots. */
const USAGE_SLOT: ReadonlyMap<string, string> = new Map([
  ['regionusageisvad', 'other'], ['regionusagefree', 'free'], ['regionusageimage', 'image'], ['regionusagestack', 'stack'],
  ['regionusageteb', 'teb'], ['regionusageheap', 'heap'], ['regionusagepageheap', 'pageHeap'], ['regionusagepeb', 'peb'],
  ['regionusageprocessparametrs', 'processParameters'], ['regionusageprocessparameters', 'processParameters'],
  ['regionusageenvironmentblock', 'environmentBlock'],
]);

const EXPECTED_NAMES: Record<Section, readonly string[]> = {
  Usage: OLD_USAGE_ROWS.map(([n]) => n),
  Type: OLD_TYPE_ROWS.map(([n]) => n),
  State: OLD_STATE_ROWS.map(([n]) => n),
};

interface OldRow {
  line: number;
  name: string;
  bytes: number;
  kb: number;
  pcts: number[];
  pctTexts: string[];
}

/** What an old-format block yields: the summary and every row as printed. */
export interface OldAddressBlock {
  summary: DumpAddress;
  rows: PrintedAddressRow[];
  totals?: { totalBytes: number; totalKb: number; busyBytes: number; busyKb: number; line: number };
  largestFreeLine?: { base: number; bytes: number; kb: number; line: number };
}

export function isOldAddressTitle(text: string): boolean {
  return TITLE.test(text);
}

function canonicalName(section: Section, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (section === 'Usage' && lower === 'regionusageprocessparameters') return 'RegionUsageProcessParametrs';
  return EXPECTED_NAMES[section].find((n) => n.toLowerCase() === lower);
}

function parseLargest(ctx: BlockContext, lineNo: number, text: string): { base: number; bytes: number; kb: number } | undefined {
  const m = LARGEST_LINE.exec(text);
  const base = m ? hexOf(m[1]) : undefined;
  const bytes = m ? hexOf(m[2]) : undefined;
  if (!m || base === undefined || bytes === undefined) {
    ctx.skip(lineNo, `cannot read the Largest free region line ${quote(text)} (expected "Base <hex> - Size <hex> (<n> KB)")`);
    return undefined;
  }
  const kb = Number(m[3]);
  if (Math.floor(bytes / KB) !== kb) ctx.warn(lineNo, `Largest free region: size ${m[2]} is ${Math.floor(bytes / KB)} KB, the line says ${kb} KB`);
  return { base, bytes, kb };
}

/** Reads one row; undefined (and a skip) when it is damaged. Also returns text glued after the name. */
function parseRow(ctx: BlockContext, lineNo: number, text: string, section: Section): { row: OldRow; trailing?: string } | undefined {
  const m = ROW.exec(text);
  if (!m) { ctx.skip(lineNo, `cannot read this ${section} SUMMARY row ${quote(text)}`); return undefined; }
  const bytes = hexOf(m[1]);
  if (bytes === undefined) { ctx.skip(lineNo, `${section} SUMMARY row: size ${quote(m[1]!)} is not hexadecimal`); return undefined; }
  const kb = decOf(m[2]);
  if (kb === undefined) { ctx.skip(lineNo, `${section} SUMMARY row: KB value ${quote(m[2]!)} is not a whole number`); return undefined; }
  let rest = m[3]!.replace(/^: ?/, '');
  const pcts: number[] = [];
  const pctTexts: string[] = [];
  for (;;) {
    const p = /^(\d{1,3}\.\d{2}) ?% ?/.exec(rest);
    if (!p) break;
    const v = pctOf(p[1])!;
    pcts.push(v.h);
    pctTexts.push(v.text);
    rest = rest.slice(p[0].length);
  }
  if (pcts.length === 0) {
    ctx.skip(lineNo, `${section} SUMMARY row: expected a percentage like 05.63% after the size, found ${quote(rest.split(' ')[0] ?? '')}`);
    return undefined;
  }
  if (pcts.length > 2) { ctx.skip(lineNo, `${section} SUMMARY row has ${pcts.length} percentages; at most 2`); return undefined; }
  rest = rest.replace(/^: ?/, '').trim();
  const space = rest.indexOf(' ');
  let name = space < 0 ? rest : rest.slice(0, space);
  let trailing = space < 0 ? '' : rest.slice(space + 1).trim();
  if (/^Largest$/i.test(name)) { trailing = rest; name = ''; }
  if (name.length > 64) { ctx.skip(lineNo, `${section} SUMMARY row: name ${quote(name)} is too long`); return undefined; }
  const expected = section === 'Usage' ? 2 : 1;
  if (pcts.length !== expected) ctx.warn(lineNo, `${section} SUMMARY row has ${pcts.length} percentage(s); this section prints ${expected}`);
  const row: OldRow = { line: lineNo, name, bytes, kb, pcts, pctTexts };
  return trailing === '' || trailing === '*' ? { row } : { row, trailing };
}

/** Gives unlabeled rows the labels their section is missing (an HTML page eats `<free>`). */
function resolveLabels(ctx: BlockContext, section: Section, rows: OldRow[]): OldRow[] {
  const expected = EXPECTED_NAMES[section];
  for (const r of rows) {
    if (r.name === '') continue;
    const canon = canonicalName(section, r.name);
    if (canon === undefined) ctx.warn(r.line, `unknown ${section} SUMMARY name ${quote(r.name)}`);
    else r.name = canon;
  }
  const unlabeled = rows.filter((r) => r.name === '');
  if (unlabeled.length === 0) return rows;
  const present = new Set(rows.map((r) => r.name));
  const missing = expected.filter((n) => !present.has(n));
  const kept: OldRow[] = [];
  for (const r of rows) {
    if (r.name !== '') { kept.push(r); continue; }
    const position = rows.indexOf(r);
    const byPosition = rows.length === expected.length ? expected[position] : undefined;
    const name = byPosition !== undefined && missing.includes(byPosition) ? byPosition : missing.length === 1 ? missing[0] : undefined;
    if (name === undefined) {
      ctx.skip(r.line, `${section} SUMMARY row has no label, and which label it lost cannot be told`);
      continue;
    }
    missing.splice(missing.indexOf(name), 1);
    r.name = name;
    ctx.warn(r.line, `${section} SUMMARY row has no label; taken as ${name}, the label this section is missing`);
    kept.push(r);
  }
  return kept;
}

/**
 * Reads an old-format `!address -summary` whose first line (a SUMMARY title) is next in `src`.
 * Stops before the first line that belongs to no section, or at a second title for a section
 * already read (the next dump).
 */
export function readOldAddressSummary(src: LineSource, ctx: BlockContext): { value: OldAddressBlock; firstLine: number } {
  const firstLine = src.peek()!.no;
  const rows: Record<Section, OldRow[]> = { Usage: [], Type: [], State: [] };
  const titleLine: Partial<Record<Section, number>> = {};
  let section: Section | undefined;
  let tot: { line: number; total: number; totalKb: number; busy: number; busyKb: number; texts: [string, string] } | undefined;
  let largest: { base: number; bytes: number; kb: number; line: number } | undefined;
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek()) {
    const t = line.text;
    if (t === '') { src.next(); continue; }
    const title = TITLE.exec(t);
    if (title) {
      const name = (title[1]![0]!.toUpperCase() + title[1]!.slice(1).toLowerCase()) as Section;
      if (titleLine[name] !== undefined) break; // the next dump begins
      titleLine[name] = line.no;
      section = name;
      src.next();
      continue;
    }
    if (COLUMN_HEADER.test(t) || isEllipsis(t)) { src.next(); continue; }
    if (/^Tot:/i.test(t)) {
      src.next();
      const m = TOT_LINE.exec(t);
      const total = m ? hexOf(m[1]) : undefined;
      const busy = m ? hexOf(m[3]) : undefined;
      if (!m || total === undefined || busy === undefined) {
        ctx.skip(line.no, `cannot read the Tot:/Busy: line ${quote(t)} (expected "Tot: <hex> (<n> KB) Busy: <hex> (<n> KB)")`);
        continue;
      }
      tot = { line: line.no, total, totalKb: Number(m[2]), busy, busyKb: Number(m[4]), texts: [m[1]!, m[3]!] };
      continue;
    }
    if (/^Largest free region/i.test(t)) {
      src.next();
      const l = parseLargest(ctx, line.no, t);
      if (l) largest = { ...l, line: line.no };
      continue;
    }
    if (section !== undefined && ROW_START.test(t) && (t.includes('%') || hexOf(t.slice(0, t.search(/[ (]/))) !== undefined)) {
      src.next();
      const r = parseRow(ctx, line.no, t, section);
      if (!r) continue;
      rows[section].push(r.row);
      if (r.trailing !== undefined) {
        if (/^Largest free region:/i.test(r.trailing)) {
          const l = parseLargest(ctx, line.no, r.trailing);
          if (l) largest = { ...l, line: line.no };
        } else if (/^Largest free region/i.test(r.trailing)) {
          ctx.skip(line.no, 'a Largest free region line glued to this row is cut off');
        } else {
          ctx.warn(line.no, `text after the ${section} SUMMARY name is ignored: ${quote(r.trailing)}`);
        }
      }
      continue;
    }
    break; // prose, a heading, or another command: the block is over
  }

  for (const s of ['Usage', 'Type', 'State'] as const) rows[s] = resolveLabels(ctx, s, rows[s]);

  const find = (s: Section, name: string): OldRow | undefined => rows[s].find((r) => r.name === name);
  const sum = (s: Section): number => rows[s].reduce((a, r) => a + r.bytes, 0);
  // Sizes that add up beyond 2^53 bytes (more than any address space) cannot be exact: not read.
  const beyond = (['Usage', 'Type', 'State'] as const).find((x) => sum(x) > Number.MAX_SAFE_INTEGER);
  if (beyond !== undefined) {
    ctx.skip(titleLine[beyond] ?? firstLine, `${beyond} SUMMARY sizes add up beyond 2^53 bytes, more than any address space; the summary is not read`);
    return { value: { summary: { form: 'old', usage: {} }, rows: [] }, firstLine };
  }
  const hasState = rows.State.length > 0;
  const stateFree = find('State', 'MEM_FREE')?.bytes;
  const usageFree = find('Usage', 'RegionUsageFree')?.bytes;
  const freeBytes = stateFree ?? usageFree ?? find('Type', '<free>')?.bytes;
  let total: number | undefined;
  let from: Section | undefined;
  if (tot) total = tot.total;
  else if (rows.State.length === EXPECTED_NAMES.State.length) { total = sum('State'); from = 'State'; }
  else if (rows.Usage.length === EXPECTED_NAMES.Usage.length) { total = sum('Usage'); from = 'Usage'; }
  if (!tot) {
    ctx.warn(titleLine.Usage ?? firstLine, total !== undefined
      ? `no Tot:/Busy: line; total taken as the sum of the ${from} rows (${describeBytes(total)})`
      : 'no Tot:/Busy: line and no complete section: the total is unknown');
  }
  const busy = tot ? tot.busy : total !== undefined && freeBytes !== undefined ? total - freeBytes : undefined;

  // Per-row checks: KB column, Pct(Tots), Pct(Busy).
  for (const s of ['Usage', 'Type', 'State'] as const) {
    for (const r of rows[s]) {
      const hex = r.bytes.toString(16);
      if (Math.floor(r.bytes / KB) !== r.kb) ctx.warn(r.line, `${r.name}: ${hex} is ${Math.floor(r.bytes / KB)} KB, the KB column says ${r.kb}`);
      if (total !== undefined && r.pcts[0] !== undefined) {
        const tots = hundredthsOfPercent(r.bytes, total);
        if (r.pcts[0] !== tots) ctx.warn(r.line, `${r.name}: Pct(Tots) ${r.pctTexts[0]}% disagrees with ${hex} / ${total.toString(16)} = ${hundredthsToString(tots)}%`);
      }
      if (s === 'Usage' && r.pcts[1] !== undefined && busy !== undefined) {
        const expected = r.name === 'RegionUsageFree' ? 0 : hundredthsOfPercent(r.bytes, busy);
        if (r.pcts[1] !== expected) ctx.warn(r.line, `${r.name}: Pct(Busy) ${r.pctTexts[1]}% disagrees with ${hex} / ${busy.toString(16)} = ${hundredthsToString(expected)}%`);
      }
    }
  }
  if (total !== undefined) {
    for (const s of ['Usage', 'Type', 'State'] as const) {
      if (rows[s].length === 0 || rows[s].length < EXPECTED_NAMES[s].length) continue;
      const got = sum(s);
      if (got !== total) ctx.warn(titleLine[s]!, `${s} SUMMARY rows add up to ${got.toString(16)} (${describeBytes(got)}), not the total ${total.toString(16)} (${describeBytes(total)})`);
    }
  }
  if (tot) {
    if (Math.floor(tot.total / KB) !== tot.totalKb) ctx.warn(tot.line, `Tot: ${tot.texts[0]} is ${Math.floor(tot.total / KB)} KB, the line says ${tot.totalKb} KB`);
    if (Math.floor(tot.busy / KB) !== tot.busyKb) ctx.warn(tot.line, `Busy: ${tot.texts[1]} is ${Math.floor(tot.busy / KB)} KB, the line says ${tot.busyKb} KB`);
    if (usageFree !== undefined && tot.busy !== tot.total - usageFree) ctx.warn(tot.line, `Busy ${tot.texts[1]} is not Tot − Free = ${(tot.total - usageFree).toString(16)}`);
  }
  const typeFree = find('Type', '<free>');
  if (typeFree && stateFree !== undefined && typeFree.bytes !== stateFree) ctx.warn(typeFree.line, `<free> ${typeFree.bytes.toString(16)} disagrees with MEM_FREE ${stateFree.toString(16)}`);
  const usageFreeRow = find('Usage', 'RegionUsageFree');
  if (usageFreeRow && stateFree !== undefined && usageFreeRow.bytes !== stateFree) ctx.warn(usageFreeRow.line, `RegionUsageFree ${usageFreeRow.bytes.toString(16)} disagrees with MEM_FREE ${stateFree.toString(16)}`);
  if (largest && freeBytes !== undefined && largest.bytes > freeBytes) ctx.warn(largest.line, `largest free region ${largest.bytes.toString(16)} is bigger than all free space ${freeBytes.toString(16)}`);

  const summary: DumpAddress = { form: 'old', usage: {} };
  if (total !== undefined) summary.totalBytes = total;
  if (busy !== undefined) summary.busyBytes = busy;
  if (hasState) {
    const stateBytes = (name: string): SizeAndCount => ({ bytes: find('State', name)?.bytes ?? 0 });
    summary.state = { commit: stateBytes('MEM_COMMIT'), reserve: stateBytes('MEM_RESERVE'), free: stateBytes('MEM_FREE') };
  }
  if (rows.Type.length > 0) {
    const type = {} as Record<TypeName, SizeAndCount>;
    for (const [name, key] of OLD_TYPE_ROWS) if (key !== 'free') type[key] = { bytes: find('Type', name)?.bytes ?? 0 };
    summary.type = type;
  }
  if (rows.Usage.length > 0) {
    const usageByName = nameMap<SizeAndCount>(); // keyed by the dump's names
    for (const r of rows.Usage) {
      usageByName[r.name] = { bytes: r.bytes };
      const slot = USAGE_SLOT.get(r.name.toLowerCase()) as keyof DumpAddress['usage'] | undefined;
      if (slot !== undefined) summary.usage[slot] = { bytes: (summary.usage[slot]?.bytes ?? 0) + r.bytes };
    }
    summary.usageByName = usageByName;
  }
  if (largest) summary.largestFree = { base: largest.base, bytes: largest.bytes };

  const printed: PrintedAddressRow[] = [];
  for (const s of ['Usage', 'Type', 'State'] as const) {
    for (const r of rows[s]) {
      const row: PrintedAddressRow = { line: r.line, section: s, name: r.name, bytes: r.bytes, kb: r.kb, pctOfTotal: r.pctTexts[0]! };
      if (r.pctTexts[1] !== undefined) row.pctOfBusy = r.pctTexts[1];
      printed.push(row);
    }
  }
  const value: OldAddressBlock = { summary, rows: printed };
  if (tot) value.totals = { totalBytes: tot.total, totalKb: tot.totalKb, busyBytes: tot.busy, busyKb: tot.busyKb, line: tot.line };
  if (largest) value.largestFreeLine = largest;
  return { value, firstLine };
}
