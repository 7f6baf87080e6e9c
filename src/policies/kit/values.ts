// Reading parameter values as users write them.
const KiB = 1024;
const MiB = 1024 * KiB;

/** Parses a size or count: integer, hex (0x...), or with a unit suffix K/KB/KiB, M, G (1024-based). */
export function parseSizeValue(text: string): number | undefined {
  if (/^\s*-\d+\s*$/.test(text)) return Number(text); // a negative count (checked against the parameter's minValue)
  const m = /^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m) return undefined;
  const base = m[1]!.toLowerCase().startsWith('0x') ? parseInt(m[1]!, 16) : Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? KiB : unit === 'm' ? MiB : unit === 'g' ? 1024 * MiB : 1;
  const v = base * mult;
  return Number.isSafeInteger(v) ? v : undefined;
}
