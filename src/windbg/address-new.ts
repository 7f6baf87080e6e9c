// Parser for the new `!address -summary` layout (WinDbg 6.12 and later; nt-heap.md §5.2):
// Usage / Type (for busy) / State / Protect (for commit) summaries of
// `name RgnCount hex ( human ) [%ofBusy] %ofTotal` rows, and Largest Region by Usage.
import type { AddressSummary, SizeAndCount, TypeName, UsageName } from '../report/types.js';
import { UNKNOWN_REGION_COUNT } from '../report/address-summary.js';
import {
  humanUnitDivisor, hundredthsOfPercent, hundredthsToString, parseDebuggerHex, parseHundredths, thousandthsOf,
} from '../report/windbg-numbers.js';
import type { BlockContext, BlockResult, PrintedAddressRow } from './context.js';
import { describeBytes, fail } from './context.js';
import type { SourceLine } from './lines.js';
import { words } from './lines.js';

type Section = 'Usage' | 'Type' | 'State' | 'Protect';

// `--- Usage Summary ---- RgnCount ---- …`; copy/paste may collapse the dashes (`-Usage Summary -RgnCount`).
const TITLE = /^-+\s*(Usage|Type|State|Protect)\s+Summary\b.*RgnCount/i;
const LARGEST_TITLE = /^-+\s*Largest Region by Usage\b/i;

/** New-format usage names (and WOW64 variants) mapped to canonical usage slots. */
const USAGE_SLOT: Record<string, UsageName | 'free'> = {
  free: 'free',
  '<unknown>': 'other',
  // `Other` holds small system regions (NLS tables, CSR shared memory, ...); the canonical
  // model has no finer slot, so it shares `other` with <unknown>. usageByName keeps them apart.
  other: 'other',
  image: 'image',
  heap: 'heap', heap32: 'heap', heap64: 'heap',
  stack: 'stack', stack32: 'stack', stack64: 'stack',
  teb: 'teb', teb32: 'teb', teb64: 'teb',
  peb: 'peb', peb32: 'peb', peb64: 'peb',
  mappedfile: 'mappedFile',
  pageheap: 'pageHeap',
};

const TYPE_SLOT: Record<string, TypeName> = { mem_private: 'private', mem_mapped: 'mapped', mem_image: 'image' };
const STATE_SLOT: Record<string, 'commit' | 'reserve' | 'free'> = { mem_commit: 'commit', mem_reserve: 'reserve', mem_free: 'free' };

interface NewRow {
  line: number;
  name: string;
  regions: number | undefined;
  bytes: number;
  hexText: string;
  human: { value: string; unit: string };
  ofBusy?: { h: number; text: string };
  ofTotal?: { h: number; text: string };
}

interface LargestRow { line: number; name: string; base: number; bytes: number; human: { value: string; unit: string }; hexText: string }

export function isNewAddressTitle(text: string): boolean {
  return TITLE.test(text) || LARGEST_TITLE.test(text);
}

/** Splits `left ( human ) right` at the last parenthesised group, or returns undefined. */
function splitAtHuman(text: string): { left: string; human: string; right: string } | undefined {
  const m = /^(.*)\(\s*([^()]*?)\s*\)(.*)$/.exec(text);
  if (!m) return undefined;
  return { left: m[1]!.trim(), human: m[2]!, right: m[3]!.trim() };
}

function parseHuman(ctx: BlockContext, lineNo: number, text: string): { value: string; unit: string } {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]+)$/.exec(text);
  if (!m || humanUnitDivisor(m[2]!) === undefined) {
    fail(ctx, lineNo, `size in parentheses '(${text})' is not a number with a unit like (968.461 Mb)`);
  }
  return { value: m[1]!, unit: m[2]! };
}

/**
 * Looks like a row attempt: a parenthesised `number unit` group, or a percentage. A heading such
 * as "Dump 1 (10:00):" is neither and ends the block instead of failing.
 */
function looksLikeRow(text: string): boolean {
  const parts = splitAtHuman(text);
  if (!parts) return false;
  return text.includes('%') || /^\d+(?:\.\d+)?\s*[A-Za-z]+$/.test(parts.human);
}

function parseSummaryRow(ctx: BlockContext, line: SourceLine, section: Section): NewRow {
  const parts = splitAtHuman(line.text);
  if (!parts) fail(ctx, line.no, `cannot read this ${section} Summary row`);
  const left = words(parts.left);
  if (left.length < 3) fail(ctx, line.no, `${section} Summary row needs a name, a region count and a hex size before '('`);
  const hexText = left.pop()!;
  const countText = left.pop()!;
  const name = left.join(' ');
  const bytes = parseDebuggerHex(hexText);
  if (bytes === undefined) fail(ctx, line.no, `${section} Summary row: size '${hexText}' is not hexadecimal`);
  let regions: number | undefined;
  if (countText === UNKNOWN_REGION_COUNT) regions = undefined;
  else if (/^\d+$/.test(countText)) regions = Number(countText);
  else fail(ctx, line.no, `${section} Summary row: region count '${countText}' is not a whole number`);
  const human = parseHuman(ctx, line.no, parts.human);
  const pcts = words(parts.right).map((w) => {
    const m = /^(\d+\.\d+)%$/.exec(w);
    const h = m ? parseHundredths(m[1]!) : undefined;
    if (!m || h === undefined) fail(ctx, line.no, `${section} Summary row: '${w}' is not a percentage like 48.38%`);
    return { h, text: m[1]! };
  });
  if (pcts.length > 2) fail(ctx, line.no, `${section} Summary row has ${pcts.length} percentages; at most 2`);
  const row: NewRow = { line: line.no, name, regions, bytes, hexText, human };
  if (pcts.length === 2) { row.ofBusy = pcts[0]!; row.ofTotal = pcts[1]!; }
  else if (pcts.length === 1) row.ofTotal = pcts[0]!;
  else ctx.warn(line.no, `${name}: no %ofTotal column`);
  return row;
}

function parseLargestRow(ctx: BlockContext, line: SourceLine): LargestRow {
  const parts = splitAtHuman(line.text);
  if (!parts) fail(ctx, line.no, 'cannot read this Largest Region by Usage row');
  const left = words(parts.left);
  if (left.length < 3) fail(ctx, line.no, 'Largest Region by Usage row needs a name, a base address and a size');
  const sizeText = left.pop()!;
  const baseText = left.pop()!;
  const base = parseDebuggerHex(baseText);
  const bytes = parseDebuggerHex(sizeText);
  if (base === undefined) fail(ctx, line.no, `Largest Region by Usage: base address '${baseText}' is not hexadecimal`);
  if (bytes === undefined) fail(ctx, line.no, `Largest Region by Usage: size '${sizeText}' is not hexadecimal`);
  if (parts.right !== '') fail(ctx, line.no, `Largest Region by Usage: unexpected '${parts.right}' after the size`);
  return { line: line.no, name: left.join(' '), base, bytes, human: parseHuman(ctx, line.no, parts.human), hexText: sizeText };
}

function checkHuman(ctx: BlockContext, line: number, name: string, bytes: number, hexText: string, human: { value: string; unit: string }): void {
  const divisor = humanUnitDivisor(human.unit)!;
  const printed = Math.round(Number(human.value) * 1000);
  const exact = thousandthsOf(bytes, divisor);
  // One thousandth of slack: the debugger may round where heapsim does not.
  if (Math.abs(printed - exact) > 1) {
    ctx.warn(line, `${name}: ${hexText} is ${(exact / 1000).toFixed(3)} ${human.unit}, the row says ${human.value} ${human.unit}`);
  }
}

/**
 * Parses a new-format `!address -summary` starting at `start` (a section title). Stops at the
 * first line that belongs to no section, or at a second title for a section already read.
 */
export function parseNewAddressSummary(lines: SourceLine[], start: number, ctx: BlockContext): BlockResult<{ summary: AddressSummary; rows: PrintedAddressRow[] }> {
  const firstLine = lines[start]!.no;
  const rows: Record<Section, NewRow[]> = { Usage: [], Type: [], State: [], Protect: [] };
  const titleLine: Partial<Record<Section | 'Largest', number>> = {};
  const largest: LargestRow[] = [];
  let section: Section | 'Largest' | undefined;
  let i = start;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.text;
    if (t === '') continue;
    const title = TITLE.exec(t);
    const name = title ? ((title[1]![0]!.toUpperCase() + title[1]!.slice(1).toLowerCase()) as Section) : LARGEST_TITLE.test(t) ? 'Largest' : undefined;
    if (name !== undefined) {
      if (titleLine[name] !== undefined) break; // the next dump begins
      titleLine[name] = line.no;
      section = name;
      continue;
    }
    if (section !== undefined && looksLikeRow(t)) {
      if (section === 'Largest') largest.push(parseLargestRow(ctx, line));
      else rows[section].push(parseSummaryRow(ctx, line, section));
      continue;
    }
    break;
  }

  if (rows.State.length === 0) {
    fail(ctx, firstLine, '!address -summary output has no State Summary rows (needed for committed and reserved bytes)');
  }
  const stateOf = (slot: 'commit' | 'reserve' | 'free'): SizeAndCount => {
    const r = rows.State.find((x) => STATE_SLOT[x.name.toLowerCase()] === slot);
    return r === undefined ? { bytes: 0 } : r.regions === undefined ? { bytes: r.bytes } : { bytes: r.bytes, regions: r.regions };
  };
  for (const r of rows.State) if (STATE_SLOT[r.name.toLowerCase()] === undefined) ctx.warn(r.line, `unknown State Summary name '${r.name}'`);
  const state = { commit: stateOf('commit'), reserve: stateOf('reserve'), free: stateOf('free') };
  const total = state.commit.bytes + state.reserve.bytes + state.free.bytes;
  const busy = total - state.free.bytes;

  const type = { private: { bytes: 0 }, mapped: { bytes: 0 }, image: { bytes: 0 } } as Record<TypeName, SizeAndCount>;
  for (const r of rows.Type) {
    const slot = TYPE_SLOT[r.name.toLowerCase()];
    if (slot === undefined) { ctx.warn(r.line, `unknown Type Summary name '${r.name}'`); continue; }
    type[slot] = r.regions === undefined ? { bytes: r.bytes } : { bytes: r.bytes, regions: r.regions };
  }
  if (titleLine.Type === undefined) ctx.warn(firstLine, 'no Type Summary section; type sizes are left at 0');

  const usage: AddressSummary['usage'] = {};
  const usageByName: Record<string, SizeAndCount> = {};
  for (const r of rows.Usage) {
    usageByName[r.name] = r.regions === undefined ? { bytes: r.bytes } : { bytes: r.bytes, regions: r.regions };
    const slot = USAGE_SLOT[r.name.toLowerCase()];
    if (slot === undefined) { ctx.warn(r.line, `unknown Usage Summary name '${r.name}'`); continue; }
    const prev = usage[slot];
    const regions = r.regions === undefined ? prev?.regions : (prev?.regions ?? 0) + r.regions;
    usage[slot] = regions === undefined ? { bytes: (prev?.bytes ?? 0) + r.bytes } : { bytes: (prev?.bytes ?? 0) + r.bytes, regions };
  }
  if (titleLine.Usage === undefined) ctx.warn(firstLine, 'no Usage Summary section');

  // Row checks: human size, %ofBusy (blank for free rows), %ofTotal.
  for (const s of ['Usage', 'Type', 'State', 'Protect'] as const) {
    for (const r of rows[s]) {
      checkHuman(ctx, r.line, r.name, r.bytes, r.hexText, r.human);
      const isFree = /^(free|mem_free)$/i.test(r.name);
      if (r.ofTotal !== undefined) {
        const expected = hundredthsOfPercent(r.bytes, total);
        if (r.ofTotal.h !== expected) ctx.warn(r.line, `${r.name}: %ofTotal ${r.ofTotal.text}% disagrees with ${r.hexText} / ${total.toString(16)} = ${hundredthsToString(expected)}%`);
      }
      if (r.ofBusy !== undefined) {
        if (isFree) ctx.warn(r.line, `${r.name}: a free row has no %ofBusy, but this one says ${r.ofBusy.text}%`);
        else {
          const expected = hundredthsOfPercent(r.bytes, busy);
          if (r.ofBusy.h !== expected) ctx.warn(r.line, `${r.name}: %ofBusy ${r.ofBusy.text}% disagrees with ${r.hexText} / ${busy.toString(16)} = ${hundredthsToString(expected)}%`);
        }
      } else if (!isFree && r.ofTotal !== undefined) {
        ctx.warn(r.line, `${r.name}: no %ofBusy column`);
      }
    }
  }
  // Section sums: Usage and State cover everything, Type the busy part, Protect the committed part.
  const expectations: Array<[Section, number, number | undefined, string]> = [
    ['Usage', total, state.commit.regions !== undefined && state.reserve.regions !== undefined && state.free.regions !== undefined ? state.commit.regions + state.reserve.regions + state.free.regions : undefined, 'the State total'],
    ['Type', busy, state.commit.regions !== undefined && state.reserve.regions !== undefined ? state.commit.regions + state.reserve.regions : undefined, 'the busy (committed + reserved) total'],
    ['Protect', state.commit.bytes, state.commit.regions, 'MEM_COMMIT'],
  ];
  for (const [s, bytes, regions, what] of expectations) {
    if (rows[s].length === 0) continue;
    const got = rows[s].reduce((a, r) => a + r.bytes, 0);
    if (got !== bytes) {
      ctx.warn(titleLine[s]!, `${s} Summary rows add up to ${got.toString(16)} (${describeBytes(got)}), not ${what} ${bytes.toString(16)} (${describeBytes(bytes)})`);
    }
    if (regions !== undefined && rows[s].every((r) => r.regions !== undefined)) {
      const count = rows[s].reduce((a, r) => a + (r.regions ?? 0), 0);
      if (count !== regions) ctx.warn(titleLine[s]!, `${s} Summary region counts add up to ${count}, not ${what}'s ${regions}`);
    }
  }
  const usageFree = rows.Usage.find((r) => r.name.toLowerCase() === 'free');
  if (usageFree && usageFree.bytes !== state.free.bytes) {
    ctx.warn(usageFree.line, `Free ${usageFree.hexText} disagrees with MEM_FREE ${state.free.bytes.toString(16)}`);
  }

  const summary: AddressSummary = { totalBytes: total, busyBytes: busy, state, type, usage };
  if (rows.Usage.length > 0) summary.usageByName = usageByName;
  if (rows.Protect.length > 0) {
    summary.protect = {};
    for (const r of rows.Protect) summary.protect[r.name] = r.regions === undefined ? { bytes: r.bytes } : { bytes: r.bytes, regions: r.regions };
  }
  if (largest.length > 0) {
    summary.largestByUsage = {};
    for (const r of largest) {
      checkHuman(ctx, r.line, r.name, r.bytes, r.hexText, r.human);
      summary.largestByUsage[r.name] = { base: r.base, bytes: r.bytes };
      const usageRow = usageByName[r.name];
      if (usageRow && r.bytes > usageRow.bytes) ctx.warn(r.line, `${r.name}: largest region ${r.hexText} is bigger than the usage total ${usageRow.bytes.toString(16)}`);
    }
    const free = largest.find((r) => r.name.toLowerCase() === 'free');
    if (free) summary.largestFree = { base: free.base, bytes: free.bytes };
  }
  const printed: PrintedAddressRow[] = [];
  for (const s of ['Usage', 'Type', 'State', 'Protect'] as const) {
    for (const r of rows[s]) {
      const row: PrintedAddressRow = { line: r.line, section: s, name: r.name, bytes: r.bytes, human: `${r.human.value} ${r.human.unit}` };
      if (r.regions !== undefined) row.regions = r.regions;
      if (r.ofTotal !== undefined) row.pctOfTotal = r.ofTotal.text;
      if (r.ofBusy !== undefined) row.pctOfBusy = r.ofBusy.text;
      printed.push(row);
    }
  }
  for (const r of largest) {
    printed.push({ line: r.line, section: 'Largest', name: r.name, bytes: r.bytes, base: r.base, human: `${r.human.value} ${r.human.unit}` });
  }
  return { value: { summary, rows: printed }, end: i, firstLine };
}
