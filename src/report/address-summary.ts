// `!address -summary` as text, in the two layouts WinDbg has used: the old ext.dll table
// (RegionUsage* rows, TotSize/KB/Pct(Tots)/Pct(Busy)) and the current one (RgnCount, hex and
// human size, %ofBusy, %ofTotal). Layouts and arithmetic: docs nt-heap.md §5.1 and §5.2.
import type { AddressSummary, SizeAndCount, TypeName, UsageName } from './types.js';
import { hex64Backtick, humanSize, hundredthsOfPercent, hundredthsToString, oldFormatPct, KB } from './windbg-numbers.js';
import type { HumanUnits } from './windbg-numbers.js';

type UsageKey = UsageName | 'free';

/**
 * Old-format Usage rows in the order the debugger prints them (seed dumps, ADDR10), with the
 * canonical usage slots each row adds up. The old format has no MappedFile row; such regions
 * count as RegionUsageIsVAD (report/types.ts).
 */
export const OLD_USAGE_ROWS: ReadonlyArray<readonly [string, readonly UsageKey[]]> = [
  ['RegionUsageIsVAD', ['other', 'mappedFile']],
  ['RegionUsageFree', ['free']],
  ['RegionUsageImage', ['image']],
  ['RegionUsageStack', ['stack']],
  ['RegionUsageTeb', ['teb']],
  ['RegionUsageHeap', ['heap']],
  ['RegionUsagePageHeap', ['pageHeap']],
  ['RegionUsagePeb', ['peb']],
  ['RegionUsageProcessParametrs', ['processParameters']], // sic: the debugger's spelling
  ['RegionUsageEnvironmentBlock', ['environmentBlock']],
];

/** Old-format Type rows, printed order. `<free>` is the free address space. */
export const OLD_TYPE_ROWS: ReadonlyArray<readonly [string, TypeName | 'free']> = [
  ['<free>', 'free'],
  ['MEM_IMAGE', 'image'],
  ['MEM_MAPPED', 'mapped'],
  ['MEM_PRIVATE', 'private'],
];

/** Old-format State rows, printed order. */
export const OLD_STATE_ROWS: ReadonlyArray<readonly [string, 'commit' | 'free' | 'reserve']> = [
  ['MEM_COMMIT', 'commit'],
  ['MEM_FREE', 'free'],
  ['MEM_RESERVE', 'reserve'],
];

/**
 * New-format usage names for the canonical slots. `Other` is where the new format puts small
 * system regions; heapsim files process parameters and the environment block there (an
 * assumption: no public sample separates them).
 */
export const NEW_USAGE_NAMES: ReadonlyArray<readonly [string, readonly UsageKey[]]> = [
  ['Free', ['free']],
  ['<unknown>', ['other']],
  ['Heap', ['heap']],
  ['Image', ['image']],
  ['Stack', ['stack']],
  ['TEB', ['teb']],
  ['PEB', ['peb']],
  ['MappedFile', ['mappedFile']],
  ['PageHeap', ['pageHeap']],
  ['Other', ['processParameters', 'environmentBlock']],
];

export const NEW_TYPE_ROWS: ReadonlyArray<readonly [string, TypeName]> = [
  ['MEM_PRIVATE', 'private'],
  ['MEM_MAPPED', 'mapped'],
  ['MEM_IMAGE', 'image'],
];

export const NEW_STATE_ROWS: ReadonlyArray<readonly [string, 'commit' | 'reserve' | 'free']> = [
  ['MEM_COMMIT', 'commit'],
  ['MEM_RESERVE', 'reserve'],
  ['MEM_FREE', 'free'],
];

// Section titles of the old format (seed dumps: 20 dashes before, 26 after).
const OLD_TITLE = (name: string): string => `-------------------- ${name} SUMMARY --------------------------`;
const OLD_USAGE_HEADER = '    TotSize (      KB)   Pct(Tots) Pct(Busy)   Usage';
const OLD_OTHER_HEADER = '    TotSize (      KB)   Pct(Tots)  Usage';

// New-format section titles (nt-heap.md §5.2, AS-NEW samples).
export const NEW_USAGE_TITLE = '--- Usage Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal';
export const NEW_TYPE_TITLE = '--- Type Summary (for busy) ------ RgnCount ----------- Total Size -------- %ofBusy %ofTotal';
export const NEW_STATE_TITLE = '--- State Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal';
export const NEW_PROTECT_TITLE = '--- Protect Summary (for commit) - RgnCount ----------- Total Size -------- %ofBusy %ofTotal';
export const NEW_LARGEST_TITLE = '--- Largest Region by Usage ----------- Base Address -------- Region Size ----------';

// New-format column ends, 0-based exclusive (nt-heap.md §5.2, measured from AS-NEW). The human
// size is 8 characters plus a 2-letter unit, so "(" lands at 62 and ")" at 74; %ofBusy is 7
// wide plus "%" (ends at 83), %ofTotal 8 wide plus "%" (ends at 92).
const NEW_COL_RGNCOUNT_END = 43;
const NEW_COL_HEX_END = 61;
const NEW_PCT_OF_BUSY_WIDTH = 7;
const NEW_PCT_OF_TOTAL_WIDTH = 8;
const NEW_COL_LARGEST_BASE_END = 52;
const NEW_COL_LARGEST_SIZE_END = 70;

/** What heapsim prints in the RgnCount column when the region count is not known. */
export const UNKNOWN_REGION_COUNT = '-';

function usageBytes(s: AddressSummary, keys: readonly UsageKey[]): number {
  let total = 0;
  for (const k of keys) total += s.usage[k]?.bytes ?? 0;
  return total;
}

function usageRegions(s: AddressSummary, keys: readonly UsageKey[]): number | undefined {
  let total = 0;
  let known = false;
  for (const k of keys) {
    const r = s.usage[k]?.regions;
    if (r !== undefined) { total += r; known = true; }
  }
  return known ? total : undefined;
}

// Old-format row widths, measured on the seed's dumps: hex size right-aligned in 11 columns,
// KB in 8 inside the parentheses; 4 spaces after each Usage percentage, 3 after a Type/State one.
const OLD_HEX_WIDTH = 11;
const OLD_KB_WIDTH = 8;

function oldRow(bytes: number, pcts: string[], name: string): string {
  const hex = bytes.toString(16).padStart(OLD_HEX_WIDTH);
  const kb = String(Math.floor(bytes / KB)).padStart(OLD_KB_WIDTH);
  return `${hex} (${kb}) : ${pcts.map((p) => `${p}%`).join('    ')}${pcts.length === 2 ? '    ' : '   '}: ${name}`;
}

export interface OldAddressFormatOptions {
  /** Print the `Largest free region:` line when `s.largestFree` is known (default true). */
  largestFree?: boolean;
}

/**
 * Old-format `!address -summary` (ext.dll of the 6.x era), laid out like the seed's dumps:
 * hex size right-aligned in 11 columns, KB in 8, percentages with two decimals zero-padded to 5,
 * rounded to nearest (see `hundredthsOfPercent`). Pct(Tots) = size / Tot, Pct(Busy) = size / Busy,
 * 00.00% for Free.
 */
export function formatAddressSummary(s: AddressSummary, opts: OldAddressFormatOptions = {}): string {
  const total = s.totalBytes;
  const busy = s.busyBytes;
  const lines: string[] = [OLD_TITLE('Usage'), OLD_USAGE_HEADER];
  for (const [name, keys] of OLD_USAGE_ROWS) {
    const bytes = usageBytes(s, keys);
    const busyPct = name === 'RegionUsageFree' ? '00.00' : oldFormatPct(bytes, busy);
    lines.push(oldRow(bytes, [oldFormatPct(bytes, total), busyPct], name));
  }
  lines.push(`       Tot: ${total.toString(16)} (${Math.floor(total / KB)} KB) Busy: ${busy.toString(16)} (${Math.floor(busy / KB)} KB)`);
  lines.push('', OLD_TITLE('Type'), OLD_OTHER_HEADER);
  for (const [name, key] of OLD_TYPE_ROWS) {
    const bytes = key === 'free' ? s.state.free.bytes : s.type[key].bytes;
    lines.push(oldRow(bytes, [oldFormatPct(bytes, total)], name));
  }
  lines.push('', OLD_TITLE('State'), OLD_OTHER_HEADER);
  for (const [name, key] of OLD_STATE_ROWS) {
    const bytes = s.state[key].bytes;
    lines.push(oldRow(bytes, [oldFormatPct(bytes, total)], name));
  }
  if ((opts.largestFree ?? true) && s.largestFree) {
    const { base, bytes } = s.largestFree;
    lines.push(`Largest free region: Base ${base.toString(16).padStart(8, '0')} - Size ${bytes.toString(16).padStart(8, '0')} (${Math.floor(bytes / KB)} KB)`);
  }
  return lines.join('\n') + '\n';
}

export interface NewAddressFormatOptions {
  /** `x64` writes hex as high`low (`0\`85c87000`); default: x64 when the total exceeds 32 bits. */
  arch?: 'x86' | 'x64';
  /** Unit spelling of the human size (default `modern`: kB/MB/GB/TB). */
  units?: HumanUnits;
}

interface NewRow { name: string; size: SizeAndCount; order: number }

function padTo(prefix: string, field: string, end: number): string {
  const gap = Math.max(1, end - prefix.length - field.length);
  return prefix + ' '.repeat(gap) + field;
}

function sortBySizeDesc(rows: NewRow[]): NewRow[] {
  return [...rows].sort((a, b) => b.size.bytes - a.size.bytes || a.order - b.order);
}

/**
 * New-format `!address -summary` (WinDbg 6.12 and later): Usage, Type (for busy), State, and,
 * when known, Protect (for commit) and Largest Region by Usage. Rows are sorted by size, largest
 * first, and zero-sized rows are left out. %ofBusy = size / (Total − Free), blank for free rows;
 * %ofTotal = size / Total; both rounded to nearest at two decimals.
 */
export function formatAddressSummaryNew(s: AddressSummary, opts: NewAddressFormatOptions = {}): string {
  const arch = opts.arch ?? (s.totalBytes > 0xffffffff ? 'x64' : 'x86');
  const units = opts.units ?? 'modern';
  const hex = (n: number): string => (arch === 'x64' ? hex64Backtick(n) : n.toString(16));
  const total = s.totalBytes;
  const busy = total - s.state.free.bytes;
  const pct = (part: number, whole: number, width: number): string =>
    `${hundredthsToString(hundredthsOfPercent(part, whole)).padStart(width)}%`;

  const row = (r: NewRow, isFree: boolean): string => {
    const count = r.size.regions === undefined ? UNKNOWN_REGION_COUNT : String(r.size.regions);
    let line = padTo(r.name, count, NEW_COL_RGNCOUNT_END);
    line = padTo(line, hex(r.size.bytes), NEW_COL_HEX_END);
    line += ` (${humanSize(r.size.bytes, units)})`;
    line += isFree ? ' '.repeat(NEW_PCT_OF_BUSY_WIDTH + 1) : pct(r.size.bytes, busy, NEW_PCT_OF_BUSY_WIDTH);
    line += pct(r.size.bytes, total, NEW_PCT_OF_TOTAL_WIDTH);
    return line;
  };

  const usageRows: NewRow[] = [];
  const verbatim = s.usageByName && Object.keys(s.usageByName).length > 0 &&
    !Object.keys(s.usageByName).some((n) => n.startsWith('RegionUsage'));
  if (verbatim && s.usageByName) {
    Object.entries(s.usageByName).forEach(([name, size], order) => usageRows.push({ name, size, order }));
  } else {
    NEW_USAGE_NAMES.forEach(([name, keys], order) => {
      const regions = usageRegions(s, keys);
      usageRows.push({ name, size: regions === undefined ? { bytes: usageBytes(s, keys) } : { bytes: usageBytes(s, keys), regions }, order });
    });
  }
  const lines: string[] = [NEW_USAGE_TITLE];
  for (const r of sortBySizeDesc(usageRows)) if (r.size.bytes > 0) lines.push(row(r, r.name === 'Free'));

  lines.push('', NEW_TYPE_TITLE);
  const typeRows = NEW_TYPE_ROWS.map(([name, key], order) => ({ name, size: s.type[key], order }));
  for (const r of sortBySizeDesc(typeRows)) if (r.size.bytes > 0) lines.push(row(r, false));

  lines.push('', NEW_STATE_TITLE);
  const stateRows = NEW_STATE_ROWS.map(([name, key], order) => ({ name, size: s.state[key], order }));
  for (const r of sortBySizeDesc(stateRows)) if (r.size.bytes > 0) lines.push(row(r, r.name === 'MEM_FREE'));

  if (s.protect && Object.keys(s.protect).length > 0) {
    lines.push('', NEW_PROTECT_TITLE);
    const protectRows = Object.entries(s.protect).map(([name, size], order) => ({ name, size, order }));
    for (const r of sortBySizeDesc(protectRows)) if (r.size.bytes > 0) lines.push(row(r, false));
  }

  const largest = s.largestByUsage ?? (s.largestFree ? { Free: s.largestFree } : undefined);
  if (largest && Object.keys(largest).length > 0) {
    lines.push('', NEW_LARGEST_TITLE);
    for (const [name, region] of Object.entries(largest)) {
      let line = padTo(name, hex(region.base), NEW_COL_LARGEST_BASE_END);
      line = padTo(line, hex(region.bytes), NEW_COL_LARGEST_SIZE_END);
      lines.push(`${line} (${humanSize(region.bytes, units)})`);
    }
  }
  return lines.join('\n') + '\n';
}
