// Number formats shared by the WinDbg formatters (src/report) and parsers (src/windbg): the
// two-decimal percentages of `!address -summary`, its human-readable sizes, 64-bit hex with a
// backtick, and the integer fragmentation percentages of `!heap -s`. All arithmetic is exact
// (BigInt) so that a byte count near 2^47 still rounds the way the debugger does.

export const KB = 1024;
export const MB = 1024 * 1024;
export const GB = 1024 * 1024 * 1024;
export const TB = 1024 * 1024 * 1024 * 1024;

function big(n: number, what: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
  return BigInt(n);
}

/**
 * `part / whole` in hundredths of a percent, rounded to nearest with halves up. Every percentage
 * in the seed's and the public samples' `!address -summary` tables (old and new format) agrees with
 * round-to-nearest and several disagree with truncation (03.29% for 3.2872, 82.24% for 82.2377).
 * Returns 0 when `whole` is 0.
 */
export function hundredthsOfPercent(part: number, whole: number): number {
  const p = big(part, 'part');
  const w = big(whole, 'whole');
  if (w === 0n) return 0;
  return Number((p * 20000n + w) / (2n * w));
}

/** Hundredths of a percent as `d.dd`, e.g. 563 -> "5.63", 10000 -> "100.00". */
export function hundredthsToString(h: number): string {
  const whole = Math.floor(h / 100);
  const frac = h % 100;
  return `${whole}.${String(frac).padStart(2, '0')}`;
}

/** Reads `05.63` or `5.63` as hundredths (563). Returns undefined when it is not d.dd. */
export function parseHundredths(text: string): number | undefined {
  const m = /^(\d+)\.(\d{2})$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number(m[2]);
}

/** Old-format percentage: two decimals, zero-padded to five characters (`05.63`, `61.72`, `100.00`). */
export function oldFormatPct(part: number, whole: number): string {
  return hundredthsToString(hundredthsOfPercent(part, whole)).padStart(5, '0');
}

/** Unit spellings of the new format's human-readable size: 6.12-era builds and current builds. */
export type HumanUnits = 'legacy' | 'modern';

const UNIT_NAMES: Record<HumanUnits, readonly [string, string, string, string]> = {
  // 6.12-era output (AS-NEW 32-bit sample): kb, Mb, Gb. No sample shows the terabyte spelling; Tb is a guess.
  legacy: ['kb', 'Mb', 'Gb', 'Tb'],
  // Current debuggers: kB, MB, GB, TB (nt-heap.md §5.2).
  modern: ['kB', 'MB', 'GB', 'TB'],
};

/**
 * The unit a size is shown in: kilobytes below 1 MB, megabytes below 1 GB, gigabytes below 1 TB,
 * terabytes above. Public samples print 0xfd000 as "1012.000 kb" and 0x1c5000 as "1.770 MB".
 */
export function humanUnitFor(bytes: number): { divisor: number; index: 0 | 1 | 2 | 3 } {
  if (bytes < MB) return { divisor: KB, index: 0 };
  if (bytes < GB) return { divisor: MB, index: 1 };
  if (bytes < TB) return { divisor: GB, index: 2 };
  return { divisor: TB, index: 3 };
}

/** `bytes / divisor` in thousandths, rounded to nearest (the three decimals of the human size). */
export function thousandthsOf(bytes: number, divisor: number): number {
  const b = big(bytes, 'bytes');
  const d = BigInt(divisor);
  return Number((b * 2000n + d) / (2n * d));
}

/** Human size as the new format prints it inside the parentheses, 11 characters: `" 968.461 Mb"`. */
export function humanSize(bytes: number, units: HumanUnits = 'modern'): string {
  const { divisor, index } = humanUnitFor(bytes);
  const t = thousandthsOf(bytes, divisor);
  const text = `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, '0')}`;
  return `${text.padStart(8)} ${UNIT_NAMES[units][index]}`;
}

/** The divisor a printed unit name stands for (case-insensitive: kb/kB, Mb/MB, ...), or undefined. */
export function humanUnitDivisor(unit: string): number | undefined {
  switch (unit.toLowerCase()) {
    case 'b': return 1;
    case 'kb': return KB;
    case 'mb': return MB;
    case 'gb': return GB;
    case 'tb': return TB;
    default: return undefined;
  }
}

/** Which unit spelling a printed unit uses (`kb`, `Mb`, `Gb` are legacy). */
export function humanUnitsOf(unit: string): HumanUnits {
  return unit === 'kb' || unit === 'Mb' || unit === 'Gb' || unit === 'Tb' ? 'legacy' : 'modern';
}

/** Hex as a 64-bit debugger prints it: high part, a backtick, then eight low digits (`0\`85c87000`). */
export function hex64Backtick(n: number): string {
  const v = big(n, 'value');
  const high = v >> 32n;
  const low = v & 0xffffffffn;
  return `${high.toString(16)}\`${low.toString(16).padStart(8, '0')}`;
}

/**
 * Reads hex the way a debugger prints it: plain (`734d000`), with a backtick between the 32-bit
 * halves (`7df9\`74541000`), or with a `0x` prefix. Returns undefined for anything else.
 */
export function parseDebuggerHex(text: string): number | undefined {
  let t = text.trim();
  if (/^0x/i.test(t)) t = t.slice(2);
  if (!/^[0-9a-f]+(?:`[0-9a-f]+)?$/i.test(t)) return undefined;
  let value: bigint;
  const tick = t.indexOf('`');
  if (tick >= 0) {
    const low = t.slice(tick + 1);
    if (low.length > 8) return undefined;
    value = (BigInt('0x' + t.slice(0, tick)) << 32n) | BigInt('0x' + low);
  } else {
    value = BigInt('0x' + t);
  }
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(value);
}

/**
 * `!heap -s` External fragmentation: floor(Free × 100 / Commit), integer truncation
 * (nt-heap.md §4.3; 75.56 prints as 75). 0 when nothing is committed.
 */
export function externalFragmentationPct(freeBytes: number, committedBytes: number): number {
  const f = big(freeBytes, 'freeBytes');
  const c = big(committedBytes, 'committedBytes');
  if (c === 0n) return 0;
  return Number((f * 100n) / c);
}

/**
 * `!heap -s` Virtual address fragmentation: floor((Virt − Commit) × 100 / Virt), i.e. 1 − Commit/Virt,
 * truncated (nt-heap.md §4.3). 0 when Virt is 0 or not above Commit (a Win10 heap can show Virt below
 * Commit; the debugger never prints a negative line, and the print threshold hides it anyway).
 */
export function virtualAddressFragmentationPct(virtBytes: number, committedBytes: number): number {
  const v = big(virtBytes, 'virtBytes');
  const c = big(committedBytes, 'committedBytes');
  if (v === 0n || c >= v) return 0;
  return Number(((v - c) * 100n) / v);
}
