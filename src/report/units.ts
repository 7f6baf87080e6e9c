// Sizes for people, in IEC units and labelled so (KiB, MiB, GiB: powers of 1024). WinDbg views
// keep WinDbg's own K and MB; everything else heapsim prints goes through here.
const KIB = 1024;
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `512 B`, `4.0 KiB`, `14.2 MiB`: one decimal from KiB up. */
export function iec(bytes: number): string {
  const sign = bytes < 0 ? '−' : '';
  let v = Math.abs(bytes);
  if (v < KIB) return `${sign}${v} B`;
  let u = -1;
  while (v >= KIB && u < UNITS.length - 1) { v /= KIB; u++; }
  return `${sign}${v.toFixed(1)} ${UNITS[u]}`;
}

/** `+14.2 MiB` / `−3.0 KiB`. */
export function signedIec(bytes: number): string {
  return bytes >= 0 ? `+${iec(bytes)}` : iec(bytes);
}

/** An integer percentage of `part` in `whole` (0 when whole is 0). */
export function pct(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 100) : 0;
}

/** Parses a size for an option: `1048576`, `0x100000`, `512K`, `1M`, `1.5G`, `10%` is refused. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(text);
  if (!m) return undefined;
  const base = m[1]!.toLowerCase().startsWith('0x') ? parseInt(m[1]!, 16) : Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? KIB : unit === 'm' ? KIB ** 2 : unit === 'g' ? KIB ** 3 : unit === 't' ? KIB ** 4 : 1;
  const v = Math.round(base * mult);
  return Number.isSafeInteger(v) ? v : undefined;
}
