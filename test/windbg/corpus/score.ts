// Scores a WinDbg reader against the corpus in test/fixtures/windbg: for every transcript, the share
// of the hand-written expected numbers that the reader's snapshots contain. It only reads the
// snapshot objects (field names shared by every version of the reader since issue 5), so the same
// scorer measures an older build (`npm run corpus:windbg -- --dist DIR`) and the current source.
//
// Expected file format (`NAME.expected.json`, values as the transcript prints them):
//   { "file"?: "other name than NAME.txt", "forms": [...], "snapshots": [ SNAPSHOT, ... ] }
// Expected snapshot i is compared with the reader's snapshot of the same "label" when one is given,
// else with the reader's snapshot i. A SNAPSHOT may hold:
//   address.rows.{Usage,Type,State,Protect}: [name, hexSize, regions?]   one number each (two with regions)
//   address.totals: [totHex, busyHex]        the old format's Tot:/Busy: line (two numbers)
//   address.largestFree: [baseHex, sizeHex]  (two)
//   address.largest: [name, baseHex, sizeHex] Largest Region by Usage rows (two each)
//   heaps: [addr, flagsHex, reservK, commitK, virtK, freeK, list, ucr, virtBlocks, lockHex]  (ten each)
//   heapLines: [addr, kind, pct|null, count] lines under a heap row (one or two each)
//   singleHeaps: { heap, flags, reserv, commit, virt, free, list, ext, va, ucr, virtBlocks, lock, segments }
//   segmentHeaps: [addr, signatureHex, flagsHex, listIndex, reservedK, committedK]  (six each)
//   sizeStats: { heap, rows: [sizeHex, blocksHex, totalHex] }  !heap -stat -h (one + three per row)
//   regions: { count, usage|state|type: [name, sumHex] }  sums of an !address region listing
//   lookups: [usage, baseHex, sizeHex, state, type]  single-region `!address <addr>` output (two each)
//   heapCount: n                             number of NT heaps in the table (one)
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const KB = 1024;

/** Hex as WinDbg prints it (`0x` prefix, a backtick between the 32-bit halves) to a number. */
export function hexValue(text: string): number {
  const t = text.replace(/^0x/i, '').replace('`', '');
  if (!/^[0-9a-f]+$/i.test(t)) throw new Error(`expected file: '${text}' is not hex`);
  return Number(BigInt('0x' + t));
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' ? (v as Obj) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^(0x)?[0-9a-f`]+$/i.test(v)) return hexValue(v);
  return undefined;
};
const sameName = (a: unknown, b: string): boolean => typeof a === 'string' && a.trim().toLowerCase() === b.trim().toLowerCase();

export interface FileScore {
  file: string;
  forms: string[];
  expected: number;
  found: number;
  /** The reader refused the whole file (threw). */
  refused: boolean;
  error?: string;
  /** What was not found, for the report. */
  missing: string[];
}

class Tally {
  expected = 0;
  found = 0;
  missing: string[] = [];
  check(ok: boolean, what: string): void {
    this.expected++;
    if (ok) this.found++;
    else if (this.missing.length < 12) this.missing.push(what);
  }
}

function addressRows(snap: Obj): Obj[] {
  return arr(obj(snap['printed'])?.['addressRows']).map(obj).filter((r): r is Obj => r !== undefined);
}

function scoreSnapshot(t: Tally, exp: Obj, snap: Obj | undefined, where: string): void {
  const s = snap ?? {};
  const address = obj(exp['address']);
  if (address) {
    const rows = addressRows(s);
    const sections = obj(address['rows']) ?? {};
    for (const [section, list] of Object.entries(sections)) {
      for (const row of arr(list) as unknown[][]) {
        const [name, size, regions] = row as [string, string, number | undefined];
        const got = rows.find((r) => r['section'] === section && sameName(r['name'], name));
        t.check(got !== undefined && num(got['bytes']) === hexValue(size), `${where} ${section} ${name} size`);
        if (regions !== undefined) t.check(got !== undefined && got['regions'] === regions, `${where} ${section} ${name} regions`);
      }
    }
    const totals = arr(address['totals']) as string[];
    if (totals.length === 2) {
      const got = obj(obj(s['printed'])?.['addressTotals']);
      t.check(got !== undefined && got['totalBytes'] === hexValue(totals[0]!), `${where} Tot`);
      t.check(got !== undefined && got['busyBytes'] === hexValue(totals[1]!), `${where} Busy`);
    }
    const largestFree = arr(address['largestFree']) as string[];
    if (largestFree.length === 2) {
      const got = obj(obj(s['printed'])?.['largestFreeLine']) ?? obj(obj(s['address'])?.['largestFree']);
      t.check(got !== undefined && got['base'] === hexValue(largestFree[0]!), `${where} largest free base`);
      t.check(got !== undefined && got['bytes'] === hexValue(largestFree[1]!), `${where} largest free size`);
    }
    for (const row of arr(address['largest']) as string[][]) {
      const [name, base, size] = row as [string, string, string];
      const got = rows.find((r) => r['section'] === 'Largest' && sameName(r['name'], name));
      t.check(got !== undefined && got['base'] === hexValue(base), `${where} Largest ${name} base`);
      t.check(got !== undefined && num(got['bytes']) === hexValue(size), `${where} Largest ${name} size`);
    }
  }

  const heaps = arr(s['heaps']).map(obj).filter((h): h is Obj => h !== undefined);
  const heapAt = (addr: string): Obj | undefined => heaps.find((h) => num(h['address']) === hexValue(addr));
  for (const row of arr(exp['heaps']) as unknown[][]) {
    const [addr, flags, reserv, commit, virt, free, list, ucr, virtBlocks, lock] = row as [string, string, number, number, number, number, number, number, number, string];
    const h = heapAt(addr);
    const w = `${where} heap ${addr}`;
    t.check(h !== undefined, `${w}`);
    t.check(h?.['flags'] === hexValue(flags), `${w} Flags`);
    t.check(h?.['reservedBytes'] === reserv * KB, `${w} Reserv`);
    t.check(h?.['committedBytes'] === commit * KB, `${w} Commit`);
    t.check(h?.['virtBytes'] === virt * KB, `${w} Virt`);
    t.check(h?.['freeBytes'] === free * KB, `${w} Free`);
    t.check(h?.['freeBlocks'] === list, `${w} List length`);
    t.check(h?.['uncommittedRanges'] === ucr, `${w} UCR`);
    t.check(h?.['virtualBlocks'] === virtBlocks, `${w} Virt blocks`);
    t.check(h?.['lockContention'] === hexValue(lock), `${w} Lock cont.`);
  }
  const lines = arr(obj(s['printed'])?.['heapLines']).map(obj).filter((l): l is Obj => l !== undefined);
  for (const row of arr(exp['heapLines']) as unknown[][]) {
    const [addr, kind, pct, count] = row as [string, string, number | null, number];
    const got = lines.find((l) => l['kind'] === kind && num(l['heap']) === hexValue(addr));
    if (pct !== null) t.check(got?.['pct'] === pct, `${where} ${kind} line of ${addr}: percentage`);
    t.check(got?.['count'] === count, `${where} ${kind} line of ${addr}: count`);
  }
  for (const e of arr(exp['singleHeaps']).map(obj) as Obj[]) {
    const addr = e['heap'] as string;
    const h = heapAt(addr);
    const w = `${where} single heap ${addr}`;
    t.check(h !== undefined, w);
    const fields: Array<[string, string, (v: unknown) => unknown]> = [
      ['flags', 'flags', (v) => hexValue(v as string)], ['reserv', 'reservedBytes', (v) => (v as number) * KB],
      ['commit', 'committedBytes', (v) => (v as number) * KB], ['virt', 'virtBytes', (v) => (v as number) * KB],
      ['free', 'freeBytes', (v) => (v as number) * KB], ['list', 'freeBlocks', (v) => v], ['ext', 'externalFragmentationPct', (v) => v],
      ['va', 'virtualAddressFragmentationPct', (v) => v], ['ucr', 'uncommittedRanges', (v) => v], ['virtBlocks', 'virtualBlocks', (v) => v],
      ['lock', 'lockContention', (v) => v], ['segments', 'segments', (v) => v],
    ];
    for (const [key, field, conv] of fields) if (e[key] !== undefined) t.check(h?.[field] === conv(e[key]), `${w} ${key}`);
  }
  const segs = arr(s['segmentHeaps']).map(obj).filter((h): h is Obj => h !== undefined);
  for (const row of arr(exp['segmentHeaps']) as unknown[][]) {
    const [addr, signature, flags, index, reserved, committed] = row as [string, string, string, number, number, number];
    const h = segs.find((x) => num(x['address']) === hexValue(addr));
    const w = `${where} segment heap ${addr}`;
    t.check(h !== undefined, w);
    t.check(h?.['signature'] === hexValue(signature), `${w} signature`);
    t.check(h?.['flags'] === hexValue(flags), `${w} flags`);
    t.check(h?.['listIndex'] === index, `${w} list index`);
    t.check(h?.['reservedBytes'] === reserved * KB, `${w} reserved`);
    t.check(h?.['committedBytes'] === committed * KB, `${w} committed`);
  }
  const stats = arr(s['sizeStats']).map(obj).filter((x): x is Obj => x !== undefined);
  for (const e of arr(exp['sizeStats']).map(obj) as Obj[]) {
    const addr = e['heap'] as string;
    const got = stats.find((x) => num(x['heap']) === hexValue(addr));
    t.check(got !== undefined, `${where} !heap -stat of ${addr}`);
    const rows = arr(got?.['rows']).map(obj).filter((x): x is Obj => x !== undefined);
    (arr(e['rows']) as string[][]).forEach(([size, blocks, total], i) => {
      const r = rows[i];
      const w = `${where} !heap -stat ${addr} row ${i + 1}`;
      t.check(r?.['sizeBytes'] === hexValue(size!), `${w} size`);
      t.check(r?.['blocks'] === hexValue(blocks!), `${w} blocks`);
      t.check(r?.['totalBytes'] === hexValue(total!), `${w} total`);
    });
  }
  const regions = obj(exp['regions']);
  if (regions) {
    const got = obj(s['regions']);
    t.check(got?.['count'] === regions['count'], `${where} region count`);
    for (const [key, field] of [['usage', 'byUsage'], ['state', 'byState'], ['type', 'byType']] as const) {
      const table = obj(got?.[field]) ?? {};
      for (const [name, sum] of arr(regions[key]) as string[][]) {
        const entry = Object.entries(table).find(([k]) => sameName(k, name!))?.[1];
        t.check(obj(entry)?.['bytes'] === hexValue(sum!), `${where} regions ${key} ${name}`);
      }
    }
  }
  const lookups = arr(s['lookups']).map(obj).filter((x): x is Obj => x !== undefined);
  for (const [usage, base, size, state, type] of arr(exp['lookups']) as string[][]) {
    const got = lookups.find((l) => sameName(l['usage'], usage!) && l['base'] === hexValue(base!) && sameName(l['state'], state!) && sameName(l['type'], type!));
    t.check(got !== undefined, `${where} !address lookup ${base} base`);
    t.check(got?.['bytes'] === hexValue(size!), `${where} !address lookup ${base} size`);
  }
  if (typeof exp['heapCount'] === 'number') {
    const hasTable = obj(s['lines'])?.['heaps'] !== undefined;
    t.check(hasTable && heaps.length === exp['heapCount'], `${where} heap count`);
  }
}

export type ParseFn = (text: string, file: string) => unknown;

/** Scores one expected file. `parse` is a reader's parseWindbgText. */
export function scoreFile(dir: string, expectedName: string, parse: ParseFn): FileScore {
  const exp = JSON.parse(readFileSync(join(dir, expectedName), 'utf8')) as Obj;
  const file = (exp['file'] as string | undefined) ?? expectedName.replace(/\.expected\.json$/, '.txt');
  const text = readFileSync(join(dir, file), 'utf8');
  const t = new Tally();
  let snaps: Obj[] = [];
  let refused = false;
  let error: string | undefined;
  try {
    snaps = arr(parse(text, basename(file))).map(obj).filter((x): x is Obj => x !== undefined);
  } catch (err) {
    refused = true;
    error = err instanceof Error ? err.message : String(err);
  }
  (arr(exp['snapshots']).map(obj) as Obj[]).forEach((e, i) => {
    const label = e['label'] as string | undefined;
    const snap = label !== undefined ? snaps.find((s) => sameName(s['label'], label)) : snaps[i];
    scoreSnapshot(t, e, snap, `snapshot ${label ?? i + 1}:`);
  });
  const score: FileScore = { file, forms: arr(exp['forms']) as string[], expected: t.expected, found: t.found, refused, missing: t.missing };
  if (error !== undefined) score.error = error;
  return score;
}

/** Scores every `*.expected.json` in `dir`. */
export function scoreCorpus(dir: string, parse: ParseFn): FileScore[] {
  return readdirSync(dir).filter((f) => f.endsWith('.expected.json')).sort().map((f) => scoreFile(dir, f, parse));
}
