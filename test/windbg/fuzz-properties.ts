// Fuzz properties of `heapsim analyze` (the WinDbg text reader), in the fuzz suite's form
// (test/fuzz/properties.ts): `npm test` runs them with a fixed seed and a small budget
// (test/windbg/fuzz.test.ts), `npm run fuzz` runs long campaigns with random seeds and writes each
// failure as a regression fixture (they are listed in test/fuzz/all.ts).
//
// Two kinds of input:
//   - generated: snapshots with known numbers (an address summary and a heap table per dump),
//     formatted as WinDbg prints them, then pasted the way people paste them (indented, CRLF, a byte
//     order mark, UTF-16, HTML-escaped, prose around) and possibly damaged on one line. Pasting
//     must not change a single number; damage must not lose any heap row it did not touch.
//   - mutated: the corpus of public transcripts (test/fixtures/windbg) with byte-level mutations
//     (flips, inserted bytes incl. NUL and invalid UTF-8, deleted or repeated ranges, splices of two
//     transcripts, truncation, an overlong token or line).
// Every outcome obeys the fuzz oracle (test/fuzz/oracle.ts); an exit 0 must give a JSON document
// that passes checkAnalyzeJson.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { expect } from 'vitest';
import { formatAddressSummary, formatAddressSummaryNew } from '../../src/report/address-summary.js';
import { formatHeapSummary } from '../../src/report/heap-summary.js';
import type { AddressSummary, HeapCounters } from '../../src/report/types.js';
import { MAX_LINE_CHARS } from '../../src/windbg/limits.js';
import { checkOutcome, runCli } from '../fuzz/oracle.js';
import type { FuzzProperty } from '../fuzz/properties.js';
import { scratchFile } from '../fuzz/properties.js';
import { addressSummary, heapArb } from './gen.js';

const CORPUS = fileURLToPath(new URL('../fixtures/windbg/', import.meta.url));
const SEED_DUMPS = fileURLToPath(new URL('../fixtures/seed-second-order.txt', import.meta.url));
const TRANSCRIPTS = [...readdirSync(CORPUS).filter((f) => f.endsWith('.txt')).sort().map((f) => join(CORPUS, f)), SEED_DUMPS];
const transcriptBytes = new Map<string, Buffer>();
function transcript(i: number): Buffer {
  const path = TRANSCRIPTS[i % TRANSCRIPTS.length]!;
  let b = transcriptBytes.get(path);
  if (!b) { b = readFileSync(path); transcriptBytes.set(path, b); }
  return b;
}

// ---- The document `analyze --json` writes, checked on its own terms ----

/** Heap addresses in JSON: as WinDbg prints them in `!heap -s`, 8 hex digits on x86, 16 on x64. */
const HEAP_ADDRESS = { x86: /^[0-9a-f]{8}$/, x64: /^[0-9a-f]{16}$/ };
const KINDS = ['none', 'first-order', 'second-order'];

interface AnalyzeJson {
  files: string[];
  snapshots: Array<{ label: string; arch?: 'x86' | 'x64'; heaps: Array<{ address: string; flags: string } & Record<string, unknown>>; warnings: string[] }>;
  warningCount: number;
  skippedCount: number;
  warnings: string[];
  diagnosis: { kind: string };
}

/** `analyze --json`: exact non-negative integer bytes and counts, hex heap addresses, counts that add up. */
export function checkAnalyzeJson(text: string): AnalyzeJson {
  const doc = JSON.parse(text) as AnalyzeJson;
  JSON.stringify(doc, (key: string, v: unknown) => {
    if (typeof v === 'number') {
      expect(Number.isFinite(v), `${key}: ${v}`).toBe(true);
      if (/bytes$|Bytes$|^regions$|Blocks$|^count$|^line$|^uncommittedRanges$/.test(key)) {
        expect(Number.isSafeInteger(v) && v >= 0, `${key} is not an exact byte count or count: ${v}`).toBe(true);
      }
    }
    return v;
  });
  expect(doc.snapshots.length).toBeGreaterThan(0);
  expect(KINDS).toContain(doc.diagnosis.kind);
  expect(doc.warningCount).toBeGreaterThanOrEqual(doc.warnings.length);
  expect(doc.skippedCount).toBeLessThanOrEqual(doc.warningCount);
  for (const s of doc.snapshots) {
    for (const h of s.heaps) {
      // A table whose width was lost to damage has no arch: its addresses print as wide as they are.
      expect(h.address, `heap address of ${s.label}`).toMatch(s.arch ? HEAP_ADDRESS[s.arch] : /^[0-9a-f]{8}$|^[0-9a-f]{16}$/);
      expect(h.flags).toMatch(/^[0-9a-f]{8,}$/);
      const n = (k: string): number => h[k] as number;
      // busy = Commit − Free, per heap (what the verdict rests on).
      expect(n('busyBytes'), `${s.label} heap ${h.address}`).toBe(n('committedBytes') - n('freeBytes'));
    }
  }
  return doc;
}

// ---- Generated snapshots, pasted and damaged ----

type Arch = 'x86' | 'x64';
type Layout = 'old' | 'new';
type Paste = 'indent' | 'tab' | 'crlf' | 'bom' | 'utf16le' | 'utf16le-nobom' | 'html' | 'prose' | 'trailing-spaces' | 'prompt';
type DamageKind = 'delete' | 'duplicate' | 'garble' | 'cut' | 'long-token' | 'long-line' | 'truncate-file';

interface Dump { address: AddressSummary; heaps: HeapCounters[] }
interface GeneratedCase {
  arch: Arch;
  layout: Layout;
  dumps: Dump[];
  pastes: Paste[];
  /** Damage on one line (a fraction of the line count), or none. */
  damage?: { kind: DamageKind; at: number; pos: number; bytes: number[] };
}

const LABELS = ['Before peak hours', 'During peak hours', 'After peak hours'];

function distinctHeaps(arch: Arch): fc.Arbitrary<HeapCounters[]> {
  return fc.uniqueArray(heapArb(arch), { minLength: 1, maxLength: 5, selector: (h) => h.address });
}

const generatedArb: fc.Arbitrary<GeneratedCase> = fc.record({
  arch: fc.constantFrom<Arch>('x86', 'x64'),
  layout: fc.constantFrom<Layout>('old', 'new'),
}).chain(({ arch, layout }) => fc.record({
  arch: fc.constant(arch),
  // The old layout prints 32-bit sizes (a 32-bit process).
  layout: fc.constant(arch === 'x64' ? 'new' as const : layout),
  dumps: fc.array(fc.record({ address: addressSummary(arch === 'x64' ? 2 ** 28 : 0x3000, layout === 'new' || arch === 'x64'), heaps: distinctHeaps(arch) }), { minLength: 1, maxLength: 3 }),
  pastes: fc.uniqueArray(fc.constantFrom<Paste>('indent', 'tab', 'crlf', 'bom', 'utf16le', 'utf16le-nobom', 'html', 'prose', 'trailing-spaces', 'prompt'), { maxLength: 3 }),
  damage: fc.option(fc.record({
    kind: fc.constantFrom<DamageKind>('delete', 'duplicate', 'garble', 'cut', 'long-token', 'long-line', 'truncate-file'),
    at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    pos: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }),
  }), { nil: undefined }),
}));

interface Rendered { lines: string[]; heapRows: Map<number, HeapCounters> }

/** The dumps as WinDbg prints them, one heading per dump; remembers which line holds which heap row. */
function renderDumps(c: GeneratedCase): Rendered {
  const lines: string[] = [];
  const heapRows = new Map<number, HeapCounters>();
  const prompt = c.pastes.includes('prompt') ? '0:000> ' : '';
  c.dumps.forEach((d, i) => {
    const label = c.dumps.length === 1 ? undefined : LABELS[i]!;
    if (c.pastes.includes('prose')) lines.push('', 'We took a dump of the service and looked at its memory: the numbers below are', 'what the debugger printed (some of it may be cut).');
    if (label) lines.push('', `${label}:`, '');
    lines.push(`${prompt}!address -summary`, '');
    const address = c.layout === 'old' ? formatAddressSummary(d.address) : formatAddressSummaryNew(d.address, { arch: c.arch, units: c.arch === 'x64' ? 'modern' : 'legacy' });
    lines.push(...address.replace(/\n$/, '').split('\n'), '');
    lines.push(`${prompt}!heap -s`);
    const table = formatHeapSummary(d.heaps, { arch: c.arch, banner: true, lfhKey: 0x1234abcd }).replace(/\n$/, '').split('\n');
    for (const l of table) {
      const h = d.heaps.find((x) => l.startsWith(heapAddressOf(x, c.arch)));
      if (h) heapRows.set(lines.length, h);
      lines.push(l);
    }
    lines.push('');
  });
  return { lines, heapRows };
}

function heapAddressOf(h: HeapCounters, arch: Arch): string {
  return h.address.toString(16).padStart(arch === 'x64' ? 16 : 8, '0');
}

/** Applies the damage to the lines; returns the index of the line it touched (or of the cut). */
function damage(lines: string[], d: NonNullable<GeneratedCase['damage']>): number {
  const i = Math.floor(d.at * lines.length);
  const l = lines[i]!;
  const p = Math.floor(d.pos * (l.length + 1));
  const garbage = Buffer.from(d.bytes).toString('latin1').replace(/[\r\n]/g, '#');
  switch (d.kind) {
    case 'delete': lines.splice(i, 1); break;
    case 'duplicate': lines.splice(i, 0, l); break;
    case 'garble': lines[i] = l.slice(0, p) + garbage + l.slice(p + garbage.length); break;
    case 'cut': lines[i] = l.slice(0, p); break;
    case 'long-token': lines[i] = `${l.slice(0, p)}${'7'.repeat(5000)}${l.slice(p)}`; break;
    case 'long-line': lines[i] = `${l} ${'x'.repeat(MAX_LINE_CHARS + 10)}`; break;
    case 'truncate-file': lines.length = i; break;
  }
  return i;
}

function paste(text: string, pastes: readonly Paste[]): Uint8Array {
  let t = text;
  if (pastes.includes('html')) t = t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (pastes.includes('trailing-spaces')) t = t.replace(/\n/g, '   \n');
  if (pastes.includes('indent')) t = t.replace(/^/gm, '    ');
  else if (pastes.includes('tab')) t = t.replace(/^/gm, '\t');
  if (pastes.includes('crlf')) t = t.replace(/\n/g, '\r\n');
  if (pastes.includes('utf16le')) return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]);
  if (pastes.includes('utf16le-nobom')) return Buffer.from(t, 'utf16le');
  if (pastes.includes('bom')) return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t, 'utf8')]);
  return Buffer.from(t, 'utf8');
}

/** A heap as `analyze --json` writes it, from the model. */
function heapJson(h: HeapCounters, arch: Arch): Record<string, unknown> {
  return { ...h, address: heapAddressOf(h, arch), flags: h.flags.toString(16).padStart(8, '0') };
}

const generatedTranscripts: FuzzProperty<GeneratedCase> = {
  name: 'generated WinDbg text × analyze',
  arbitrary: generatedArb,
  ciRuns: 120,
  async check(c) {
    const { lines, heapRows } = renderDumps(c);
    let touched: number | undefined;
    if (c.damage) touched = damage(lines, c.damage);
    const bytes = paste(lines.join('\n') + '\n', c.pastes);
    const path = scratchFile('dump.txt', bytes);
    const o = await runCli(['analyze', path, '--json']);
    checkOutcome(o, { inputBytes: bytes.length, input: bytes });
    const d = c.damage;
    // Only damage can make the file unreadable (a line over the limit, or everything cut away).
    if (o.code !== 0) {
      expect(d, o.stderr).toBeDefined();
      if (d!.kind === 'long-line') expect(o.stderr).toMatch(/dump\.txt:\d+: line is longer than/);
      else if (d!.kind === 'garble' && d!.bytes.includes(0)) expect(o.stderr).toMatch(/dump\.txt: byte \d+: NUL (byte|character): this is not text/);
      else expect(touched! <= 3 || d!.kind === 'truncate-file', o.stderr).toBe(true);
      return;
    }
    const doc = checkAnalyzeJson(o.stdout);
    const found = doc.snapshots.flatMap((s) => s.heaps);
    if (!d) {
      // Pasted, not damaged: every number comes back, in order, with no warning.
      expect(doc.warnings).toEqual([]);
      expect(doc.snapshots.map((s) => s.heaps)).toEqual(c.dumps.map((x) => x.heaps.map((h) => heapJson(h, c.arch))));
      expect(doc.snapshots.map((s) => s.label)).toEqual(c.dumps.length === 1 ? [expect.any(String)] : LABELS.slice(0, c.dumps.length));
      const addr = (doc.snapshots as unknown as Array<{ address: { totalBytes: number; busyBytes: number; state: unknown } }>).map((s) => s.address);
      expect(addr.map((a) => [a.totalBytes, a.busyBytes, a.state])).toEqual(c.dumps.map((x) => [x.address.totalBytes, x.address.busyBytes, x.address.state]));
      return;
    }
    // Damaged on one line: a heap row on any other line is read exactly.
    if (d.kind === 'truncate-file' || d.kind === 'long-line') return;
    for (const [line, h] of heapRows) {
      if (line === touched) continue;
      expect(found, `heap row on line ${line + 1} (damage on line ${touched! + 1}: ${d.kind})`).toContainEqual(heapJson(h, c.arch));
    }
  },
};

// ---- Byte-level mutations of the public transcripts ----

type ByteMutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'repeat'; at: number; length: number; times: number }
  | { kind: 'splice'; at: number; other: number; from: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'long-token'; at: number; length: number };

interface MutatedCase { file: number; mutations: ByteMutation[] }

const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: frac, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: frac, bytes: fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x20, 0x0a, 0x0d, 0x60, 0x25, 0x3a, 0x30, 0x66)), { minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: frac, length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: frac, length: fc.integer({ min: 1, max: 300 }), times: fc.integer({ min: 2, max: 60 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: frac, other: fc.nat(), from: frac }),
  fc.record({ kind: fc.constant('truncate' as const), at: frac }),
  fc.record({ kind: fc.constant('long-token' as const), at: frac, length: fc.constantFrom(70, 1000, 70_000) }),
);

const mutatedArb: fc.Arbitrary<MutatedCase> = fc.record({
  file: fc.nat({ max: TRANSCRIPTS.length - 1 }),
  mutations: fc.array(byteMutationArb, { minLength: 1, maxLength: 4 }),
});

export function mutateBytes(input: Buffer, m: ByteMutation): Buffer {
  const at = Math.floor(m.at * (input.length + 1));
  switch (m.kind) {
    case 'flip': { const b = Buffer.from(input); if (at < b.length) b[at] = m.value; return b; }
    case 'insert': return Buffer.concat([input.subarray(0, at), Buffer.from(m.bytes), input.subarray(at)]);
    case 'delete': return Buffer.concat([input.subarray(0, at), input.subarray(at + m.length)]);
    case 'repeat': { const part = input.subarray(at, at + m.length); return Buffer.concat([input.subarray(0, at), ...Array<Buffer>(m.times).fill(part), input.subarray(at)]); }
    case 'splice': { const other = transcript(m.other); return Buffer.concat([input.subarray(0, at), other.subarray(Math.floor(m.from * other.length))]); }
    case 'truncate': return input.subarray(0, at);
    case 'long-token': return Buffer.concat([input.subarray(0, at), Buffer.alloc(m.length, 0x61), input.subarray(at)]);
  }
}

const mutatedTranscripts: FuzzProperty<MutatedCase> = {
  name: 'mutated WinDbg transcript × analyze',
  arbitrary: mutatedArb,
  ciRuns: 150,
  async check(c) {
    let bytes = transcript(c.file);
    for (const m of c.mutations) bytes = mutateBytes(bytes, m);
    const path = scratchFile('pasted.txt', bytes);
    const o = await runCli(['analyze', path, '--json']);
    checkOutcome(o, { inputBytes: bytes.length, input: bytes });
    if (o.code === 0) checkAnalyzeJson(o.stdout);
    else expect(o.stderr).toMatch(/^heapsim analyze: [^\n]*pasted\.txt/);
  },
};

export const WINDBG_PROPERTIES = [generatedTranscripts, mutatedTranscripts] as unknown as FuzzProperty<never>[];
