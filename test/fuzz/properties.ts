// The fuzz properties, shared by the suite in `npm test` (fixed seed, small budget per property),
// by `npm run fuzz` (random seeds, long campaigns, minimized failures written as fixtures) and by
// the regression test that replays those fixtures. Each property is an arbitrary of cases and a
// check that throws when the oracle (oracle.ts) is not met.
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { expect } from 'vitest';
import { InputError } from '../../src/errors.js';
import { openReplay } from '../../src/index.js';
import { checkOutcome, checkStatsJson, runCli } from './oracle.js';
import {
  HST_HINT_OFFSET, hstAsVersion2, mutate, mutationArb, render, resolve, traceBytes, traceCaseArb, type Mutation, type TraceCase,
} from './traces.js';

export interface FuzzProperty<T> {
  /** Input kind and command, for the report (`trace × stats`). */
  name: string;
  arbitrary: fc.Arbitrary<T>;
  check(c: T): Promise<void>;
  /** Cases per run in `npm test`. */
  ciRuns: number;
}

let dir: string | undefined;
let serial = 0;
/** A fresh file in this process's scratch directory. */
export function scratchFile(name: string, content: string | Uint8Array): string {
  if (dir === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'heapsim-fuzz-'));
    dir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const path = join(dir, `${serial++}-${name}`);
  writeFileSync(path, content);
  return path;
}

const EXTENSION: Record<TraceCase['format'], string> = { text: 'txt', mtrace: 'mtrace', ltrace: 'ltrace', logalloc: 'log', rep: 'rep' };

function traceFile(c: TraceCase): { path: string; bytes: number; expected: ReturnType<typeof resolve>['expected'] } {
  const r = resolve(c.script);
  const bytes = traceBytes({ format: c.format, gzip: c.gzip, text: render(c.format, r) });
  return { path: scratchFile(`t.${EXTENSION[c.format]}${c.gzip ? '.gz' : ''}`, bytes), bytes: bytes.length, expected: r.expected };
}

/** Generated traces: stats must report exactly what the model wrote. */
const statsOfGenerated: FuzzProperty<TraceCase> = {
  name: 'generated trace × stats',
  arbitrary: traceCaseArb,
  ciRuns: 250,
  async check(c) {
    const t = traceFile(c);
    const o = await runCli(['stats', t.path, '--json', '--format', c.format]);
    checkOutcome(o, { inputBytes: t.bytes });
    expect(o.code, o.stderr).toBe(0);
    const s = checkStatsJson(o.stdout);
    expect({
      events: s.events.total, oversize: s.input.oversizeRequests, peakLiveBytes: s.peakLiveBytes,
      endLiveBlocks: s.neverFreed.blocks, endLiveBytes: s.neverFreed.bytes,
    }).toEqual(t.expected);
  },
};

/** Generated traces converted to .hst or text (gzip or not) read back with the same counts. */
const convertOfGenerated: FuzzProperty<{ trace: TraceCase; to: 'hst' | 'txt'; gzip: boolean }> = {
  name: 'generated trace × convert',
  arbitrary: fc.record({ trace: traceCaseArb, to: fc.constantFrom('hst' as const, 'txt' as const), gzip: fc.boolean() }),
  ciRuns: 120,
  async check({ trace, to, gzip }) {
    const t = traceFile(trace);
    const out = scratchFile(`out.${to}${gzip ? '.gz' : ''}`, '');
    const o = await runCli(['convert', t.path, '-o', out, '--format', trace.format]);
    checkOutcome(o, { inputBytes: t.bytes });
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toContain(`: ${t.expected.events} events from ${trace.format}`);
    const back = await runCli(['stats', out, '--json']);
    checkOutcome(back);
    expect(back.code, back.stderr).toBe(0);
    const s = checkStatsJson(back.stdout);
    expect({ events: s.events.total, peakLiveBytes: s.peakLiveBytes, endLiveBlocks: s.neverFreed.blocks, endLiveBytes: s.neverFreed.bytes })
      .toEqual({ events: t.expected.events, peakLiveBytes: t.expected.peakLiveBytes, endLiveBlocks: t.expected.endLiveBlocks, endLiveBytes: t.expected.endLiveBytes });
  },
};

/** Generated traces replayed by `run` on a policy: the engine sees exactly the trace's events. */
const runOfGenerated: FuzzProperty<{ trace: TraceCase; policy: string; arch: string }> = {
  name: 'generated trace × run',
  arbitrary: fc.record({
    trace: traceCaseArb,
    policy: fc.constantFrom('first-fit', 'nt', 'pool', 'ptmalloc', 'tcmalloc', 'tlsf', 'buddy'),
    arch: fc.constantFrom('x86', 'x64'),
  }),
  ciRuns: 40,
  async check({ trace, policy, arch }) {
    const t = traceFile(trace);
    const o = await runCli(['run', t.path, '--policy', policy, '--arch', arch, '--json', '--format', trace.format]);
    checkOutcome(o, { inputBytes: t.bytes });
    // A policy that does not exist on this branch is a usage error, which the oracle accepts.
    if (o.code === 2 && /unknown policy|profile|architecture|not for/.test(o.stderr)) return;
    expect(o.code, o.stderr).toBe(0);
    const doc = JSON.parse(o.stdout) as { events: number; failedOps: number };
    expect(doc.events).toBe(t.expected.events);
  },
};

/** A generated trace converted to .hst (version 3, with its hint; or the same records as version 2). */
async function convertedHst(trace: TraceCase, version: 2 | 3 = 3): Promise<Buffer> {
  const src = scratchFile(`s.${EXTENSION[trace.format]}`, traceBytes({ format: trace.format, gzip: false, text: render(trace.format, resolve(trace.script)) }));
  const hst = scratchFile('s.hst', '');
  const conv = await runCli(['convert', src, '-o', hst, '--format', trace.format]);
  expect(conv.code, conv.stderr).toBe(0);
  const { readFileSync } = await import('node:fs');
  const v3 = readFileSync(hst);
  return version === 3 ? v3 : hstAsVersion2(v3);
}

/** Byte-level mutations of generated traces (any format, gzip or not, .hst versions 2 and 3 too): stats, convert, run. */
interface MutatedCase { trace: TraceCase; hst: false | 2 | 3; mutations: Mutation[]; command: 'stats' | 'convert' | 'run'; lenient: boolean }
const mutated: FuzzProperty<MutatedCase> = {
  name: 'mutated trace × stats/convert/run',
  arbitrary: fc.record({
    trace: traceCaseArb,
    hst: fc.constantFrom(false as const, false as const, 2 as const, 3 as const),
    mutations: fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
    command: fc.constantFrom('stats' as const, 'stats' as const, 'convert' as const, 'run' as const),
    lenient: fc.boolean(),
  }),
  ciRuns: 400,
  async check(c) {
    // A valid .hst to mutate: the generated trace converted.
    const seed = c.hst !== false ? await convertedHst(c.trace, c.hst)
      : traceBytes({ format: c.trace.format, gzip: false, text: render(c.trace.format, resolve(c.trace.script)) });
    const plain = mutate(seed, c.mutations);
    const bytes = c.trace.gzip ? gzipSync(plain) : plain;
    const path = scratchFile(c.hst !== false ? 'm.hst' : `m.${EXTENSION[c.trace.format]}`, bytes);
    const extra = c.lenient ? ['--lenient'] : [];
    const argv = c.command === 'stats' ? ['stats', path, '--json', ...extra]
      : c.command === 'convert' ? ['convert', path, '-o', scratchFile('m-out.hst', ''), ...extra]
        : ['run', path, '--json', ...extra];
    const o = await runCli(argv);
    // The oracle excuses a NaN the input itself spells (a caller named so): it must see the text, not the gzip.
    checkOutcome(o, { inputBytes: bytes.length, input: plain });
    if (o.code === 0 && c.command === 'stats') checkStatsJson(o.stdout);
    if (o.code === 2) expect(o.stderr).toContain(path.split('/').pop()!);
  },
};

/**
 * A .hst whose header hint lies (any two u64: none, too low, too high, absurd) replays to the same
 * `run --json` document as the true hint, and as the same records under a version 2 header.
 */
const hintLie: FuzzProperty<{ trace: TraceCase; idBound: bigint; peakLiveBlocks: bigint; policy: string }> = {
  name: 'generated .hst with a lying hint × run',
  arbitrary: fc.record({
    trace: traceCaseArb,
    idBound: fc.oneof(fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    peakLiveBlocks: fc.oneof(fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    policy: fc.constantFrom('first-fit', 'nt', 'ptmalloc'),
  }),
  ciRuns: 12,
  async check(c) {
    const honest = await convertedHst(c.trace);
    const lying = Buffer.from(honest);
    lying.writeBigUInt64LE(c.idBound, HST_HINT_OFFSET);
    lying.writeBigUInt64LE(c.peakLiveBlocks, HST_HINT_OFFSET + 8);
    const docs: string[] = [];
    for (const bytes of [honest, lying, hstAsVersion2(honest)]) {
      const path = scratchFile('hint.hst', bytes);
      const o = await runCli(['run', path, '--policy', c.policy, '--every', '1', '--json']);
      checkOutcome(o, { inputBytes: bytes.length });
      expect(o.code, o.stderr).toBe(0);
      docs.push(o.stdout.split(path).join('$IN'));
    }
    expect(docs[1]).toBe(docs[0]);
    expect(docs[2]).toBe(docs[0]);
  },
};

/** The public reader API on mutated traces: batches or an InputError, never anything else. */
const replayApi: FuzzProperty<{ trace: TraceCase; mutations: Mutation[]; lenient: boolean }> = {
  name: 'mutated trace × openReplay (API)',
  arbitrary: fc.record({ trace: traceCaseArb, mutations: fc.array(mutationArb, { maxLength: 3 }), lenient: fc.boolean() }),
  ciRuns: 200,
  async check(c) {
    const r = resolve(c.trace.script);
    const bytes = mutate(traceBytes({ format: c.trace.format, gzip: c.trace.gzip, text: render(c.trace.format, r) }), c.mutations);
    const path = scratchFile('api.trace', bytes);
    let events = 0;
    try {
      const replay = await openReplay(path, { lenient: c.lenient });
      for await (const ops of replay.batches()) events += ops.length;
      expect(replay.stats.events).toBeLessThanOrEqual(events); // marks and ticks are ops too
      if (c.mutations.length === 0 && !c.trace.gzip) expect(replay.stats.events).toBe(r.expected.events);
    } catch (err) {
      expect(err, String(err)).toBeInstanceOf(InputError);
      expect((err as InputError).file ?? path).toBe(path);
      expect((err as Error).message).not.toMatch(/\n/);
    }
  },
};

/**
 * Raw input bytes through one command: what a campaign stores when it finds a failure, and what
 * the report's failures are written as. `parts` concatenate (a part may repeat, so a 2 MB input
 * stays a small fixture); `$IN` and `$OUT` in `args` are the input file and a fresh output file.
 * `expect` pins the outcome where it is known (fixtures); generated cases leave it out.
 */
export interface RawCase {
  ext: string;
  parts: Array<{ text?: string; bytes?: Uint8Array; repeat?: number }>;
  args: string[];
  gzip?: boolean;
  expect?: { code: number; stdout?: string; stderr?: string };
}

export function rawBytes(c: RawCase): Buffer {
  const chunks: Buffer[] = [];
  for (const part of c.parts) {
    const one = part.bytes !== undefined ? Buffer.from(part.bytes) : Buffer.from(part.text ?? '', 'utf8');
    for (let i = 0; i < (part.repeat ?? 1); i++) chunks.push(one);
  }
  const raw = Buffer.concat(chunks);
  return c.gzip === true ? gzipSync(raw) : raw;
}

const raw: FuzzProperty<RawCase> = {
  name: 'raw bytes × command',
  arbitrary: fc.record({
    trace: traceCaseArb,
    mutations: fc.array(mutationArb, { maxLength: 3 }),
    args: fc.constantFrom(['stats', '$IN', '--json'], ['stats', '$IN', '--lenient'], ['convert', '$IN', '-o', '$OUT'], ['run', '$IN', '--json']),
  }).map(({ trace, mutations, args }): RawCase => ({
    ext: EXTENSION[trace.format],
    parts: [{ bytes: mutate(traceBytes({ format: trace.format, gzip: false, text: render(trace.format, resolve(trace.script)) }), mutations) }],
    gzip: trace.gzip,
    args,
  })),
  ciRuns: 100,
  async check(c) {
    const bytes = rawBytes(c);
    const input = scratchFile(`raw.${c.ext}`, bytes);
    const output = scratchFile('raw-out.hst', '');
    const argv = c.args.map((a) => (a === '$IN' ? input : a === '$OUT' ? output : a));
    const o = await runCli(argv);
    checkOutcome(o, { inputBytes: bytes.length, input: c.gzip === true ? rawBytes({ ...c, gzip: false }) : bytes });
    if (o.code === 0 && argv[0] === 'stats' && argv.includes('--json')) checkStatsJson(o.stdout);
    if (c.expect !== undefined) {
      const shown = (s: string): string => s.split(input).join('$IN').split(output).join('$OUT');
      expect(o.code, shown(o.stderr)).toBe(c.expect.code);
      if (c.expect.stderr !== undefined) expect(shown(o.stderr)).toMatch(new RegExp(c.expect.stderr));
      if (c.expect.stdout !== undefined) expect(shown(o.stdout)).toMatch(new RegExp(c.expect.stdout));
    }
  },
};

export const TRACE_PROPERTIES: FuzzProperty<never>[] = [
  statsOfGenerated, convertOfGenerated, runOfGenerated, mutated, hintLie, replayApi, raw,
] as unknown as FuzzProperty<never>[];
