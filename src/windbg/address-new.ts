// Reader for the new `!address -summary` layout (WinDbg 6.12 and later; nt-heap.md §5.2):
// Usage / Type (for busy) / State / Protect (for commit) summaries of
// `name RgnCount hex ( human ) [%ofBusy] %ofTotal` rows, and Largest Region by Usage, in 32-bit,
// 64-bit and WOW64 (`Heap32`, `Stack64`, `TEB32`, ...) dumps. A damaged row is skipped with a
// warning; a missing section leaves its part of the summary undefined.
import type { SizeAndCount, TypeName } from '../report/types.js';
import { UNKNOWN_REGION_COUNT } from '../report/address-summary.js';
import { humanUnitDivisor, hundredthsOfPercent, hundredthsToString, thousandthsOf } from '../report/windbg-numbers.js';
import type { BlockContext, DumpAddress, PrintedAddressRow } from './context.js';
import { describeBytes } from './context.js';
import type { LineSource } from './lines.js';
import { words } from './lines.js';
import { quote } from './limits.js';
import { decOf, hexOf, pctOf } from './tokens.js';
import { nameMap } from '../names.js';

type Section = 'Usage' | 'Type' | 'State' | 'Protect';
type AnySection = Section | 'Largest';

// `--- Usage Summary ---- RgnCount ---- …`; copy/paste may collapse the dashes (`-Usage Summary -RgnCount`).
const TITLE = /^-+ ?(Usage|Type|State|Protect) Summary\b.*RgnCount/i;
const LARGEST_TITLE = /^-+ ?Largest Region by Usage\b/i;
/** The usage name an HTML page drops: WinDbg prints it in angle brackets, which look like a tag. */
const BRACKETED_USAGE = '<unknown>';

/** New-format usage names (and WOW64 variants) mapped to canonical usage slots. */
const USAGE_SLOT: ReadonlyMap<string, keyof DumpAddress['usage']> = new Map([
  ['free', 'free'], ['<unknown>', 'other'], ['other', 'other'], ['other32', 'other'], ['other64', 'other'],
  ['image', 'image'], ['heap', 'heap'], ['heap32', 'heap'], ['heap64', 'heap'],
  ['stack', 'stack'], ['stack32', 'stack'], ['stack64', 'stack'], ['teb', 'teb'], ['teb32', 'teb'], ['teb64', 'teb'],
  ['peb', 'peb'], ['peb32', 'peb'], ['peb64', 'peb'], ['mappedfile', 'mappedFile'], ['pageheap', 'pageHeap'],
]);
const TYPE_SLOT: ReadonlyMap<string, TypeName> = new Map([['mem_private', 'private'], ['mem_mapped', 'mapped'], ['mem_image', 'image']]);
const STATE_SLOT: ReadonlyMap<string, 'commit' | 'reserve' | 'free'> = new Map([['mem_commit', 'commit'], ['mem_reserve', 'reserve'], ['mem_free', 'free']]);

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

export interface NewAddressBlock {
  summary: DumpAddress;
  rows: PrintedAddressRow[];
  /** Sections read, for joining a block that a note line split in two. */
  sections: AnySection[];
}

export function newAddressTitle(text: string): AnySection | undefined {
  const m = TITLE.exec(text);
  if (m) return (m[1]![0]!.toUpperCase() + m[1]!.slice(1).toLowerCase()) as Section;
  return LARGEST_TITLE.test(text) ? 'Largest' : undefined;
}

export function isNewAddressTitle(text: string): boolean {
  return newAddressTitle(text) !== undefined;
}

/** Splits `left ( human ) right`, or returns undefined. */
function splitAtHuman(text: string): { left: string; human: string; right: string } | undefined {
  const open = text.indexOf('(');
  if (open < 0) return undefined;
  const close = text.indexOf(')', open);
  if (close < 0) return undefined;
  return { left: text.slice(0, open).trim(), human: text.slice(open + 1, close).trim(), right: text.slice(close + 1).trim() };
}

function parseHuman(text: string): { value: string; unit: string } | undefined {
  const m = /^(\d{1,12}(?:\.\d{1,6})?) ?([A-Za-z]{1,3})$/.exec(text);
  if (!m || humanUnitDivisor(m[2]!) === undefined) return undefined;
  return { value: m[1]!, unit: m[2]! };
}

/**
 * A row attempt: a parenthesised `number unit` group, or a percentage. A heading such as
 * "Dump 1 (10:00):" is neither and ends the block instead of being skipped as a damaged row.
 */
function looksLikeRow(text: string): boolean {
  const parts = splitAtHuman(text);
  if (parts === undefined || parts.left.length === 0) return false;
  return text.includes('%') || /^\d{1,12}(?:\.\d{1,6})? ?[A-Za-z]{1,3}$/.test(parts.human);
}

function parseSummaryRow(ctx: BlockContext, lineNo: number, text: string, section: Section): NewRow | undefined {
  const parts = splitAtHuman(text)!;
  const left = words(parts.left);
  if (left.length < 2) { ctx.skip(lineNo, `${section} Summary row needs a region count and a hex size before '(': ${quote(text)}`); return undefined; }
  const hexText = left.pop()!;
  const countText = left.pop()!;
  const name = left.join(' ');
  const bytes = hexOf(hexText);
  if (bytes === undefined) { ctx.skip(lineNo, `${section} Summary row: size ${quote(hexText)} is not hexadecimal`); return undefined; }
  let regions: number | undefined;
  if (countText !== UNKNOWN_REGION_COUNT) {
    regions = decOf(countText);
    if (regions === undefined) { ctx.skip(lineNo, `${section} Summary row: region count ${quote(countText)} is not a whole number`); return undefined; }
  }
  if (name.length > 64) { ctx.skip(lineNo, `${section} Summary row: name ${quote(name)} is too long`); return undefined; }
  const human = parseHuman(parts.human);
  if (!human) { ctx.skip(lineNo, `size in parentheses ${quote(`(${parts.human})`)} is not a number with a unit like (968.461 Mb)`); return undefined; }
  const pcts: Array<{ h: number; text: string }> = [];
  for (const w of words(parts.right)) {
    const p = pctOf(w);
    if (!p || !w.endsWith('%')) { ctx.skip(lineNo, `${section} Summary row: ${quote(w)} is not a percentage like 48.38%`); return undefined; }
    pcts.push(p);
  }
  if (pcts.length > 2) { ctx.skip(lineNo, `${section} Summary row has ${pcts.length} percentages; at most 2`); return undefined; }
  const row: NewRow = { line: lineNo, name, regions, bytes, hexText, human };
  if (pcts.length === 2) { row.ofBusy = pcts[0]!; row.ofTotal = pcts[1]!; }
  else if (pcts.length === 1) row.ofTotal = pcts[0]!;
  else ctx.warn(lineNo, `${name || 'row'}: no %ofTotal column`);
  return row;
}

function parseLargestRow(ctx: BlockContext, lineNo: number, text: string): LargestRow | undefined {
  const parts = splitAtHuman(text)!;
  const left = words(parts.left);
  if (left.length < 2) { ctx.skip(lineNo, `Largest Region by Usage row needs a base address and a size: ${quote(text)}`); return undefined; }
  const sizeText = left.pop()!;
  const baseText = left.pop()!;
  const base = hexOf(baseText);
  const bytes = hexOf(sizeText);
  if (base === undefined) { ctx.skip(lineNo, `Largest Region by Usage: base address ${quote(baseText)} is not hexadecimal`); return undefined; }
  if (bytes === undefined) { ctx.skip(lineNo, `Largest Region by Usage: size ${quote(sizeText)} is not hexadecimal`); return undefined; }
  const human = parseHuman(parts.human);
  if (!human) { ctx.skip(lineNo, `size in parentheses ${quote(`(${parts.human})`)} is not a number with a unit like (15.813 Mb)`); return undefined; }
  if (parts.right !== '') ctx.warn(lineNo, `Largest Region by Usage: text after the size is ignored: ${quote(parts.right)}`);
  return { line: lineNo, name: left.join(' '), base, bytes, human, hexText: sizeText };
}

function checkHuman(ctx: BlockContext, line: number, name: string, bytes: number, hexText: string, human: { value: string; unit: string }): void {
  const divisor = humanUnitDivisor(human.unit)!;
  const printed = Math.round(Number(human.value) * 1000);
  const exact = thousandthsOf(bytes, divisor);
  // One thousandth of slack: the debugger may round where heapsim does not.
  if (Math.abs(printed - exact) > 1) ctx.warn(line, `${name}: ${hexText} is ${(exact / 1000).toFixed(3)} ${human.unit}, the row says ${human.value} ${human.unit}`);
}

/** Names the rows that lost their label: only `<unknown>` can be lost (HTML takes it for a tag). */
function resolveLabels<T extends { name: string; line: number }>(ctx: BlockContext, section: string, rows: T[], canLose: boolean): T[] {
  const kept: T[] = [];
  for (const r of rows) {
    if (r.name !== '') { kept.push(r); continue; }
    if (canLose && !rows.some((x) => x.name.toLowerCase() === BRACKETED_USAGE)) {
      r.name = BRACKETED_USAGE;
      ctx.warn(r.line, `${section} row has no name; taken as ${BRACKETED_USAGE}, which web pages drop (it looks like an HTML tag)`);
      kept.push(r);
    } else {
      ctx.skip(r.line, `${section} row has no name, and which name it lost cannot be told`);
    }
  }
  return kept;
}

/**
 * Reads a new-format `!address -summary` whose first line (a section title) is next in `src`.
 * Stops before the first line that belongs to no section, or at a second title for a section
 * already read.
 */
export function readNewAddressSummary(src: LineSource, ctx: BlockContext): { value: NewAddressBlock; firstLine: number } {
  const firstLine = src.peek()!.no;
  let rows: Record<Section, NewRow[]> = { Usage: [], Type: [], State: [], Protect: [] };
  const titleLine: Partial<Record<AnySection, number>> = {};
  let largest: LargestRow[] = [];
  let section: AnySection | undefined;
  for (let line = src.peek(); line !== undefined && !line.long; line = src.peek()) {
    const t = line.text;
    if (t === '') { src.next(); continue; }
    const name = newAddressTitle(t);
    if (name !== undefined) {
      if (titleLine[name] !== undefined) break; // the next dump begins
      titleLine[name] = line.no;
      section = name;
      src.next();
      continue;
    }
    if (section !== undefined && looksLikeRow(t)) {
      src.next();
      if (section === 'Largest') { const r = parseLargestRow(ctx, line.no, t); if (r) largest.push(r); }
      else { const r = parseSummaryRow(ctx, line.no, t, section); if (r) rows[section].push(r); }
      continue;
    }
    break;
  }
  rows = {
    Usage: resolveLabels(ctx, 'Usage Summary', rows.Usage, true),
    Type: resolveLabels(ctx, 'Type Summary', rows.Type, false),
    State: resolveLabels(ctx, 'State Summary', rows.State, false),
    Protect: resolveLabels(ctx, 'Protect Summary', rows.Protect, false),
  };
  largest = resolveLabels(ctx, 'Largest Region by Usage', largest, true);
  // Sizes that add up beyond 2^53 bytes (more than any address space) cannot be exact: not read.
  const beyond = (['Usage', 'Type', 'State', 'Protect'] as const).find((x) => rows[x].reduce((a, r) => a + r.bytes, 0) > Number.MAX_SAFE_INTEGER);
  if (beyond !== undefined) {
    ctx.skip(titleLine[beyond] ?? firstLine, `${beyond} Summary sizes add up beyond 2^53 bytes, more than any address space; the summary is not read`);
    return { value: { summary: { form: 'new', usage: {} }, rows: [], sections: [] }, firstLine };
  }

  const summary: DumpAddress = { form: 'new', usage: {} };
  const sizeAndCount = (r: NewRow): SizeAndCount => (r.regions === undefined ? { bytes: r.bytes } : { bytes: r.bytes, regions: r.regions });
  for (const r of rows.State) if (!STATE_SLOT.has(r.name.toLowerCase())) ctx.warn(r.line, `unknown State Summary name ${quote(r.name)}`);
  if (rows.State.length > 0) {
    const stateOf = (slot: 'commit' | 'reserve' | 'free'): SizeAndCount => {
      const r = rows.State.find((x) => STATE_SLOT.get(x.name.toLowerCase()) === slot);
      return r === undefined ? { bytes: 0 } : sizeAndCount(r);
    };
    summary.state = { commit: stateOf('commit'), reserve: stateOf('reserve'), free: stateOf('free') };
  }
  if (rows.Type.length > 0) {
    const type = { private: { bytes: 0 }, mapped: { bytes: 0 }, image: { bytes: 0 } } as Record<TypeName, SizeAndCount>;
    for (const r of rows.Type) {
      const slot = TYPE_SLOT.get(r.name.toLowerCase());
      if (slot === undefined) ctx.warn(r.line, `unknown Type Summary name ${quote(r.name)}`);
      else type[slot] = sizeAndCount(r);
    }
    summary.type = type;
  }
  if (rows.Usage.length > 0) {
    const usageByName = nameMap<SizeAndCount>(); // keyed by the dump's names
    for (const r of rows.Usage) {
      usageByName[r.name] = sizeAndCount(r);
      const slot = USAGE_SLOT.get(r.name.toLowerCase());
      if (slot === undefined) { ctx.warn(r.line, `unknown Usage Summary name ${quote(r.name)}`); continue; }
      const prev = summary.usage[slot];
      const regions = r.regions === undefined ? prev?.regions : (prev?.regions ?? 0) + r.regions;
      summary.usage[slot] = regions === undefined ? { bytes: (prev?.bytes ?? 0) + r.bytes } : { bytes: (prev?.bytes ?? 0) + r.bytes, regions };
    }
    summary.usageByName = usageByName;
  }
  const usageFree = rows.Usage.find((r) => r.name.toLowerCase() === 'free');
  if (summary.state) {
    summary.totalBytes = summary.state.commit.bytes + summary.state.reserve.bytes + summary.state.free.bytes;
  } else if (usageFree) {
    summary.totalBytes = rows.Usage.reduce((a, r) => a + r.bytes, 0);
  }
  const free = summary.state?.free.bytes ?? usageFree?.bytes;
  if (summary.totalBytes !== undefined && free !== undefined) summary.busyBytes = summary.totalBytes - free;
  const total = summary.totalBytes;
  const busy = summary.busyBytes;

  // Row checks: human size, %ofBusy (blank for free rows), %ofTotal.
  for (const s of ['Usage', 'Type', 'State', 'Protect'] as const) {
    for (const r of rows[s]) {
      checkHuman(ctx, r.line, r.name, r.bytes, r.hexText, r.human);
      const isFree = /^(free|mem_free)$/i.test(r.name);
      if (r.ofTotal !== undefined && total !== undefined) {
        const expected = hundredthsOfPercent(r.bytes, total);
        if (r.ofTotal.h !== expected) ctx.warn(r.line, `${r.name}: %ofTotal ${r.ofTotal.text}% disagrees with ${r.hexText} / ${total.toString(16)} = ${hundredthsToString(expected)}%`);
      }
      if (r.ofBusy !== undefined) {
        if (isFree) ctx.warn(r.line, `${r.name}: a free row has no %ofBusy, but this one says ${r.ofBusy.text}%`);
        else if (busy !== undefined) {
          const expected = hundredthsOfPercent(r.bytes, busy);
          if (r.ofBusy.h !== expected) ctx.warn(r.line, `${r.name}: %ofBusy ${r.ofBusy.text}% disagrees with ${r.hexText} / ${busy.toString(16)} = ${hundredthsToString(expected)}%`);
        }
      } else if (!isFree && r.ofTotal !== undefined) {
        ctx.warn(r.line, `${r.name}: no %ofBusy column`);
      }
    }
  }
  // Section sums when the State section gives the totals: Usage covers everything, Type the busy
  // part, Protect the committed part.
  if (summary.state && total !== undefined && busy !== undefined) {
    const st = summary.state;
    const regionsKnown = st.commit.regions !== undefined && st.reserve.regions !== undefined && st.free.regions !== undefined;
    const expectations: Array<[Section, number, number | undefined, string]> = [
      ['Usage', total, regionsKnown ? st.commit.regions! + st.reserve.regions! + st.free.regions! : undefined, 'the State total'],
      ['Type', busy, regionsKnown ? st.commit.regions! + st.reserve.regions! : undefined, 'the busy (committed + reserved) total'],
      ['Protect', st.commit.bytes, st.commit.regions, 'MEM_COMMIT'],
    ];
    for (const [s, bytes, regions, what] of expectations) {
      if (rows[s].length === 0) continue;
      const got = rows[s].reduce((a, r) => a + r.bytes, 0);
      if (got !== bytes) ctx.warn(titleLine[s]!, `${s} Summary rows add up to ${got.toString(16)} (${describeBytes(got)}), not ${what} ${bytes.toString(16)} (${describeBytes(bytes)})`);
      if (regions !== undefined && rows[s].every((r) => r.regions !== undefined)) {
        const count = rows[s].reduce((a, r) => a + (r.regions ?? 0), 0);
        if (count !== regions) ctx.warn(titleLine[s]!, `${s} Summary region counts add up to ${count}, not ${what}'s ${regions}`);
      }
    }
    if (usageFree && usageFree.bytes !== st.free.bytes) ctx.warn(usageFree.line, `Free ${usageFree.hexText} disagrees with MEM_FREE ${st.free.bytes.toString(16)}`);
  }
  if (rows.Protect.length > 0) {
    summary.protect = nameMap();
    for (const r of rows.Protect) summary.protect[r.name] = sizeAndCount(r);
  }
  if (largest.length > 0) {
    summary.largestByUsage = nameMap();
    for (const r of largest) {
      checkHuman(ctx, r.line, r.name, r.bytes, r.hexText, r.human);
      summary.largestByUsage[r.name] = { base: r.base, bytes: r.bytes };
      const usageRow = summary.usageByName?.[r.name];
      if (usageRow && r.bytes > usageRow.bytes) ctx.warn(r.line, `${r.name}: largest region ${r.hexText} is bigger than the usage total ${usageRow.bytes.toString(16)}`);
    }
    const freeRegion = largest.find((r) => r.name.toLowerCase() === 'free');
    if (freeRegion) summary.largestFree = { base: freeRegion.base, bytes: freeRegion.bytes };
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
  for (const r of largest) printed.push({ line: r.line, section: 'Largest', name: r.name, bytes: r.bytes, base: r.base, human: `${r.human.value} ${r.human.unit}` });
  const sections = (['Usage', 'Type', 'State', 'Protect', 'Largest'] as const).filter((s) => titleLine[s] !== undefined);
  return { value: { summary, rows: printed, sections }, firstLine };
}
