// Parser for the old `!address -summary` layout (ext.dll of the 6.x era; nt-heap.md §5.1):
// Usage, Type and State SUMMARY sections of `hex ( KB) : pct% [pct%] : name` rows, a
// `Tot: … Busy: …` line and an optional `Largest free region:` line.
import type { AddressSummary, SizeAndCount, TypeName, UsageName } from '../report/types.js';
import { OLD_STATE_ROWS, OLD_TYPE_ROWS, OLD_USAGE_ROWS } from '../report/address-summary.js';
import { hundredthsOfPercent, hundredthsToString, parseDebuggerHex, parseHundredths, KB } from '../report/windbg-numbers.js';
import type { BlockContext, BlockResult, PrintedAddressRow } from './context.js';
import { describeBytes, fail } from './context.js';
import type { SourceLine } from './lines.js';

type Section = 'Usage' | 'Type' | 'State';

const TITLE = /^-{3,}\s*(Usage|Type|State)\s+SUMMARY\s*-*$/i;
const COLUMN_HEADER = /^TotSize\s*\(\s*KB\s*\)/i;
const TOT_LINE = /^Tot:\s*(\S+)\s*\(\s*(\d+)\s*KB\s*\)\s*Busy:\s*(\S+)\s*\(\s*(\d+)\s*KB\s*\)/i;
const LARGEST_LINE = /^Largest free region:\s*Base\s+(\S+)\s*-\s*Size\s+(\S+)\s*\(\s*(\d+)\s*KB\s*\)/i;
// A row begins with a size token and an opening parenthesis: `734d000 (  118068) : …`.
const ROW_START = /^(\S+?)\s*\(\s*([^)]*?)\s*\)\s*(.*)$/;

/** Usage names the old format prints, and aliases, mapped to the canonical usage slots. */
const USAGE_SLOT: Record<string, UsageName | 'free'> = {
  regionusageisvad: 'other',
  regionusagefree: 'free',
  regionusageimage: 'image',
  regionusagestack: 'stack',
  regionusageteb: 'teb',
  regionusageheap: 'heap',
  regionusagepageheap: 'pageHeap',
  regionusagepeb: 'peb',
  regionusageprocessparametrs: 'processParameters',
  regionusageprocessparameters: 'processParameters',
  regionusageenvironmentblock: 'environmentBlock',
};

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
  /** Hundredths of a percent: [Pct(Tots)] or [Pct(Tots), Pct(Busy)]. */
  pcts: number[];
  pctTexts: string[];
}

/** What an old-format block yields: the summary and every row as printed. */
export interface OldAddressBlock {
  summary: AddressSummary;
  rows: PrintedAddressRow[];
  /** The `Tot: … Busy: …` line as printed. */
  totals?: { totalBytes: number; totalKb: number; busyBytes: number; busyKb: number; line: number };
  largestFreeLine?: { base: number; bytes: number; kb: number; line: number };
}

export function isOldAddressTitle(text: string): boolean {
  return TITLE.test(text);
}

function canonicalName(section: Section, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (section === 'Usage') {
    if (lower === 'regionusageprocessparameters') return 'RegionUsageProcessParametrs';
    return EXPECTED_NAMES.Usage.find((n) => n.toLowerCase() === lower);
  }
  return EXPECTED_NAMES[section].find((n) => n.toLowerCase() === lower);
}

function parseRow(ctx: BlockContext, line: SourceLine, section: Section): { row: OldRow; trailing?: string } {
  const m = ROW_START.exec(line.text);
  if (!m) fail(ctx, line.no, `cannot read this ${section} SUMMARY row`);
  const [, hexText, kbText, restText] = m as unknown as [string, string, string, string];
  const bytes = parseDebuggerHex(hexText);
  if (bytes === undefined) fail(ctx, line.no, `${section} SUMMARY row: size '${hexText}' is not hexadecimal`);
  if (!/^\d+$/.test(kbText)) fail(ctx, line.no, `${section} SUMMARY row: KB value '${kbText}' is not a whole number`);
  let rest = restText.replace(/^:\s*/, '');
  const pctTexts: string[] = [];
  for (;;) {
    const p = /^(\d+\.\d+)\s*%\s*/.exec(rest);
    if (!p) break;
    pctTexts.push(p[1]!);
    rest = rest.slice(p[0].length);
  }
  if (pctTexts.length === 0) {
    const bad = rest.split(/\s+/)[0] ?? '';
    fail(ctx, line.no, `${section} SUMMARY row: expected a percentage like 05.63%, found '${bad}'`);
  }
  if (pctTexts.length > 2) fail(ctx, line.no, `${section} SUMMARY row has ${pctTexts.length} percentages; at most 2`);
  const pcts = pctTexts.map((t) => {
    const h = parseHundredths(t);
    if (h === undefined) fail(ctx, line.no, `${section} SUMMARY row: percentage '${t}%' needs exactly two decimals`);
    return h;
  });
  let label = rest.replace(/^:\s*/, '').trim();
  // A `Largest free region:` line glued to the last State row by copy/paste.
  let trailing: string | undefined;
  const glued = /^(.*?)\s*(Largest free region:.*)$/i.exec(label);
  if (glued) { label = glued[1]!; trailing = glued[2]!; }
  label = label.replace(/\s+\*$/, '').trim();
  const expected = section === 'Usage' ? 2 : 1;
  if (pcts.length !== expected) {
    ctx.warn(line.no, `${section} SUMMARY row has ${pcts.length} percentage(s); this section prints ${expected}`);
  }
  const row: OldRow = { line: line.no, name: label, bytes, kb: Number(kbText), pcts, pctTexts };
  return trailing === undefined ? { row } : { row, trailing };
}

function parseLargest(ctx: BlockContext, lineNo: number, text: string): { base: number; bytes: number; kb: number } {
  const m = LARGEST_LINE.exec(text);
  if (!m) fail(ctx, lineNo, 'cannot read the Largest free region line (expected "Base <hex> - Size <hex> (<n> KB)")');
  const base = parseDebuggerHex(m[1]!);
  const bytes = parseDebuggerHex(m[2]!);
  if (base === undefined) fail(ctx, lineNo, `Largest free region: base '${m[1]}' is not hexadecimal`);
  if (bytes === undefined) fail(ctx, lineNo, `Largest free region: size '${m[2]}' is not hexadecimal`);
  const kb = Number(m[3]);
  if (Math.floor(bytes / KB) !== kb) {
    ctx.warn(lineNo, `Largest free region: size ${m[2]} is ${Math.floor(bytes / KB)} KB, the line says ${kb} KB`);
  }
  return { base, bytes, kb };
}

/** Gives unlabeled rows the labels their section is missing, in the section's printed order. */
function resolveLabels(ctx: BlockContext, section: Section, rows: OldRow[]): void {
  const expected = EXPECTED_NAMES[section];
  for (const r of rows) {
    if (r.name === '') continue;
    const canon = canonicalName(section, r.name);
    if (canon === undefined) ctx.warn(r.line, `unknown ${section} SUMMARY name '${r.name}'`);
    else r.name = canon;
  }
  const unlabeled = rows.filter((r) => r.name === '');
  if (unlabeled.length === 0) return;
  const present = new Set(rows.map((r) => r.name));
  const missing = expected.filter((n) => !present.has(n));
  for (const r of unlabeled) {
    const position = rows.indexOf(r);
    // Prefer the name printed at this position when rows are complete; else the first missing one.
    const byPosition = rows.length === expected.length ? expected[position] : undefined;
    const name = byPosition !== undefined && missing.includes(byPosition) ? byPosition : missing[0];
    if (name === undefined) {
      fail(ctx, r.line, `${section} SUMMARY row has no label and no label of this section is missing`);
    }
    missing.splice(missing.indexOf(name), 1);
    r.name = name;
    ctx.warn(r.line, `${section} SUMMARY row has no label; taken as ${name}, the label this section is missing`);
  }
}

/**
 * Parses an old-format `!address -summary` starting at `start` (a SUMMARY title line). Stops at
 * the first line that belongs to no section (prose, a heading, another command), or at a second
 * title for a section already read (the next dump).
 */
export function parseOldAddressSummary(lines: SourceLine[], start: number, ctx: BlockContext): BlockResult<OldAddressBlock> {
  const firstLine = lines[start]!.no;
  const rows: Record<Section, OldRow[]> = { Usage: [], Type: [], State: [] };
  const titleLine: Partial<Record<Section, number>> = {};
  let section: Section | undefined;
  let tot: { line: number; total: number; totalKb: number; busy: number; busyKb: number; texts: [string, string] } | undefined;
  let largest: { base: number; bytes: number; kb: number; line: number } | undefined;
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.text;
    if (t === '') continue;
    const title = TITLE.exec(t);
    if (title) {
      const name = (title[1]![0]!.toUpperCase() + title[1]!.slice(1).toLowerCase()) as Section;
      if (titleLine[name] !== undefined) break; // the next dump begins
      titleLine[name] = line.no;
      section = name;
      continue;
    }
    if (COLUMN_HEADER.test(t)) continue;
    const totMatch = TOT_LINE.exec(t);
    if (totMatch) {
      const total = parseDebuggerHex(totMatch[1]!);
      const busy = parseDebuggerHex(totMatch[3]!);
      if (total === undefined) fail(ctx, line.no, `Tot: '${totMatch[1]}' is not hexadecimal`);
      if (busy === undefined) fail(ctx, line.no, `Busy: '${totMatch[3]}' is not hexadecimal`);
      tot = { line: line.no, total, totalKb: Number(totMatch[2]), busy, busyKb: Number(totMatch[4]), texts: [totMatch[1]!, totMatch[3]!] };
      continue;
    }
    if (/^Tot:/i.test(t)) fail(ctx, line.no, 'cannot read the Tot:/Busy: line (expected "Tot: <hex> (<n> KB) Busy: <hex> (<n> KB)")');
    if (/^Largest free region:/i.test(t)) {
      largest = { ...parseLargest(ctx, line.no, t), line: line.no };
      continue;
    }
    // A row attempt: `size (` where the size looks like hex, or anything with a percentage. A
    // heading such as "After (12:00):" is neither and ends the block instead of failing.
    if (ROW_START.test(t) && (t.includes('%') || parseDebuggerHex(t.split(/[\s(]/)[0]!) !== undefined)) {
      if (section === undefined) fail(ctx, line.no, 'a SUMMARY row before any SUMMARY title');
      const { row, trailing } = parseRow(ctx, line, section);
      rows[section].push(row);
      if (trailing !== undefined) largest = { ...parseLargest(ctx, line.no, trailing), line: line.no };
      continue;
    }
    break; // prose, a heading, or another command: the block is over
  }

  for (const s of ['Usage', 'Type', 'State'] as const) resolveLabels(ctx, s, rows[s]);

  if (titleLine.State === undefined || rows.State.length === 0) {
    fail(ctx, firstLine, '!address -summary output has no State SUMMARY rows (needed for committed and reserved bytes)');
  }
  const find = (s: Section, name: string): OldRow | undefined => rows[s].find((r) => r.name === name);
  const sum = (s: Section): number => rows[s].reduce((a, r) => a + r.bytes, 0);

  const stateBytes = (name: string): number => find('State', name)?.bytes ?? 0;
  const freeBytes = stateBytes('MEM_FREE');
  let total: number;
  if (tot) {
    total = tot.total;
  } else {
    total = sum('State');
    ctx.warn(titleLine.Usage ?? firstLine, `no Tot:/Busy: line; total taken as the sum of the State rows (${describeBytes(total)})`);
  }
  const usageFree = find('Usage', 'RegionUsageFree')?.bytes ?? freeBytes;
  const busy = tot ? tot.busy : total - usageFree;

  // Per-row checks: KB column, Pct(Tots), Pct(Busy).
  for (const s of ['Usage', 'Type', 'State'] as const) {
    for (const r of rows[s]) {
      const hex = r.bytes.toString(16);
      if (Math.floor(r.bytes / KB) !== r.kb) {
        ctx.warn(r.line, `${r.name}: ${hex} is ${Math.floor(r.bytes / KB)} KB, the KB column says ${r.kb}`);
      }
      const tots = hundredthsOfPercent(r.bytes, total);
      if (r.pcts[0] !== undefined && r.pcts[0] !== tots) {
        ctx.warn(r.line, `${r.name}: Pct(Tots) ${r.pctTexts[0]}% disagrees with ${hex} / ${total.toString(16)} = ${hundredthsToString(tots)}%`);
      }
      if (s === 'Usage' && r.pcts[1] !== undefined) {
        const expected = r.name === 'RegionUsageFree' ? 0 : hundredthsOfPercent(r.bytes, busy);
        if (r.pcts[1] !== expected) {
          ctx.warn(r.line, `${r.name}: Pct(Busy) ${r.pctTexts[1]}% disagrees with ${hex} / ${busy.toString(16)} = ${hundredthsToString(expected)}%`);
        }
      }
    }
  }
  // Section sums and the Tot/Busy line.
  for (const s of ['Usage', 'Type', 'State'] as const) {
    if (rows[s].length === 0) continue;
    const got = sum(s);
    if (got !== total) {
      ctx.warn(titleLine[s]!, `${s} SUMMARY rows add up to ${got.toString(16)} (${describeBytes(got)}), not the total ${total.toString(16)} (${describeBytes(total)})`);
    }
  }
  if (tot) {
    if (Math.floor(tot.total / KB) !== tot.totalKb) ctx.warn(tot.line, `Tot: ${tot.texts[0]} is ${Math.floor(tot.total / KB)} KB, the line says ${tot.totalKb} KB`);
    if (Math.floor(tot.busy / KB) !== tot.busyKb) ctx.warn(tot.line, `Busy: ${tot.texts[1]} is ${Math.floor(tot.busy / KB)} KB, the line says ${tot.busyKb} KB`);
    if (tot.busy !== tot.total - usageFree) {
      ctx.warn(tot.line, `Busy ${tot.texts[1]} is not Tot − Free = ${(tot.total - usageFree).toString(16)}`);
    }
  }
  const typeFree = find('Type', '<free>');
  if (typeFree && typeFree.bytes !== freeBytes) {
    ctx.warn(typeFree.line, `<free> ${typeFree.bytes.toString(16)} disagrees with MEM_FREE ${freeBytes.toString(16)}`);
  }
  const usageFreeRow = find('Usage', 'RegionUsageFree');
  if (usageFreeRow && usageFreeRow.bytes !== freeBytes) {
    ctx.warn(usageFreeRow.line, `RegionUsageFree ${usageFreeRow.bytes.toString(16)} disagrees with MEM_FREE ${freeBytes.toString(16)}`);
  }
  if (largest && largest.bytes > freeBytes) {
    ctx.warn(largest.line, `largest free region ${largest.bytes.toString(16)} is bigger than all free space ${freeBytes.toString(16)}`);
  }
  if (titleLine.Usage === undefined) ctx.warn(firstLine, 'no Usage SUMMARY section');
  if (titleLine.Type === undefined) ctx.warn(firstLine, 'no Type SUMMARY section; type sizes are left at 0');

  const usage: AddressSummary['usage'] = {};
  const usageByName: Record<string, SizeAndCount> = {};
  for (const r of rows.Usage) {
    usageByName[r.name] = { bytes: r.bytes };
    const slot = USAGE_SLOT[r.name.toLowerCase()];
    if (slot !== undefined) usage[slot] = { bytes: (usage[slot]?.bytes ?? 0) + r.bytes };
  }
  const type = {} as Record<TypeName, SizeAndCount>;
  for (const [name, key] of OLD_TYPE_ROWS) {
    if (key !== 'free') type[key] = { bytes: find('Type', name)?.bytes ?? 0 };
  }
  const summary: AddressSummary = {
    totalBytes: total,
    busyBytes: busy,
    state: {
      commit: { bytes: stateBytes('MEM_COMMIT') },
      reserve: { bytes: stateBytes('MEM_RESERVE') },
      free: { bytes: freeBytes },
    },
    type,
    usage,
  };
  if (rows.Usage.length > 0) summary.usageByName = usageByName;
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
  return { value, end: i, firstLine };
}
