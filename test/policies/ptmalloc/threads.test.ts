// ptmalloc with threads against the real glibc 2.36: thread arenas (made, reused, handed on from
// exited threads), a tcache per thread, frees into the owning arena. The oracle replays with one
// real thread per traced thread, one event at a time in trace order (test/oracle/replay-core.h);
// mallinfo2 and every arena's malloc_stats() figures ("system bytes", "in use bytes") must agree
// at every checkpoint, with the default arena limit (on this machine's core count, given to the
// model as --set cores=N) and with MALLOC_ARENA_MAX=1 and 2.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cli } from '../../cli/helpers.js';
import {
  oracle, runOracle, runSim, opsScript, threadedWorkload, firstDifference, scratchDir, MALLINFO_FIELDS,
  type ArenaFigures, type Checkpoint, type Mallinfo,
} from './harness.js';
import { parseGlibcEnv } from '../../../src/policies/ptmalloc/glibc-env.js';
import { which } from '../../oracle/programs.js';
import type { RunDocument } from '../../../src/report/types.js';
import type { PtmallocDiagnosis } from '../../../src/policies/ptmalloc/diagnose.js';

const info = oracle();
if (info.skipReason) console.warn(`[ptmalloc threads] ${info.skipReason}`);
const itOracle = info.binary ? it : it.skip;

const SETTINGS: readonly (readonly [string, Record<string, string>])[] = [
  ['default limit', {}],
  ['MALLOC_ARENA_MAX=1', { MALLOC_ARENA_MAX: '1' }],
  ['MALLOC_ARENA_MAX=2', { MALLOC_ARENA_MAX: '2' }],
];

describe('ptmalloc threads match glibc 2.36 after every call', () => {
  for (const seed of [1, 2]) {
    for (const [label, env] of SETTINGS) {
      itOracle(`random threads #${seed}, ${label}`, async () => {
        const ops = threadedWorkload(seed, { ops: 4000, maxThreads: 12 });
        const real = runOracle({ text: opsScript(ops) }, { ops: true, every: 1, env, arenas: true });
        const params = { ...parseGlibcEnv(Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n')), cores: real.cores! };
        const sim = await runSim(ops, { every: 1, params, build: 'debug', check: true });
        expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
        // the mix does reach several arenas (all of them are compared above)
        const arenas = real.checkpoints.at(-1)!.arenas!.length;
        expect(arenas).toBe(env.MALLOC_ARENA_MAX ? Number(env.MALLOC_ARENA_MAX) : 12);
      });
    }
  }
});

// ------------------------------------------------------------------ recorded programs

const EVERY = 500;
const WORKLOAD_SOURCE = join(import.meta.dirname, '..', '..', 'oracle', 'pthreads-workload.c');

interface ThreadedProgram {
  name: string;
  command(scratch: string): string[] | undefined;
  /** The recorder's summary: threads seen and exits recorded (a thread's exit is its TSD destructor). */
  recorded: RegExp;
}

const PROGRAMS: readonly ThreadedProgram[] = [
  {
    name: 'pthreads-workload: two waves of 4 threads, blocks freed by other threads',
    command: (scratch) => {
      const binary = join(scratch, 'pthreads-workload');
      const r = spawnSync(process.env.CC ?? 'cc', ['-O2', '-pthread', '-o', binary, WORKLOAD_SOURCE], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`cannot build ${WORKLOAD_SOURCE}: ${r.stderr}`);
      return [binary, '4', '1500'];
    },
    // pthread_join returns after the thread's destructors ran: every exit is recorded.
    recorded: /; 9 threads, 8 exits\)/,
  },
  {
    name: 'CPython: 8 threads build and drop dicts of strings and lists',
    command: () => {
      const py = which('/usr/bin/python3') ?? which('python3');
      return py && [py, '-c', [
        'import threading',
        'def work(n):',
        '    d = {}',
        '    for i in range(3000):',
        "        d[i] = ('x' * (600 + (i * 37) % 3000), [i] * (i % 50))",
        '    keep = [v for k, v in d.items() if k % 7 == 0]',
        '    del d',
        '    return len(keep)',
        'ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]',
        'for t in ts: t.start()',
        'for t in ts: t.join()',
      ].join('\n')];
    },
    // Thread.join returns when the Python thread state is gone, before the OS thread runs its
    // destructors and exits; the process may end first on a loaded machine (7 of 8 seen once).
    recorded: /; 9 threads, [1-8] exits\)/,
  },
];

function arenasIn(doc: RunDocument, i: number): ArenaFigures[] {
  const a = (doc.checkpoints[i]!.heap as { arenas?: ArenaFigures[] }).arenas ?? [];
  return a.map((x) => ({ systemBytes: x.systemBytes, inUseBytes: x.inUseBytes }));
}

/** Checkpoints compared by event number (and the end); returns [compared, differing, first]. */
function compare(real: Checkpoint[], doc: RunDocument): { compared: number; differing: number; first?: string } {
  const simAt = new Map(doc.checkpoints.map((c, i) => [c.event, i]));
  let compared = 0, differing = 0;
  let first: string | undefined;
  for (const r of real) {
    const i = r.kind === 'end' ? doc.checkpoints.length - 1 : simAt.get(r.event);
    compared++;
    const m = i === undefined ? undefined : doc.checkpoints[i]!.heap.mallinfo as Mallinfo;
    const bad = m ? MALLINFO_FIELDS.filter((f) => m[f] !== r.mallinfo[f]) : ['missing'];
    const arenas = i === undefined ? [] : arenasIn(doc, i);
    if (bad.length || JSON.stringify(arenas) !== JSON.stringify(r.arenas)) {
      differing++;
      first ??= `${r.kind} ${r.event}: ${bad.join(',')} glibc ${JSON.stringify(r.arenas)} sim ${JSON.stringify(arenas)}`;
    }
  }
  return { compared, differing, first };
}

describe('ptmalloc replays recorded multi-threaded programs exactly as glibc 2.36', () => {
  for (const program of PROGRAMS) {
    itOracle(program.name, async (ctx) => {
      const command = program.command(scratchDir());
      if (!command) { console.warn(`[ptmalloc threads] ${program.name}: program not installed, skipped`); ctx.skip(); return; }
      const base = join(scratchDir(), program.name.split(':')[0]!);
      // Recorded as .hst (what heapsim replays); the oracle reads the same trace as text.
      const rec = await cli('record', '-o', `${base}.hst`, '--', ...command);
      expect(rec.code, rec.stderr).toBe(0);
      expect(rec.stderr).toMatch(program.recorded);
      const conv = await cli('convert', `${base}.hst`, '-o', `${base}.txt`);
      expect(conv.code, conv.stderr).toBe(0);
      for (const [label, env] of SETTINGS) {
        const real = runOracle({ file: `${base}.txt` }, { heapsimText: true, arenas: true, every: EVERY, env });
        const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
        const r = await cli('run', `${base}.hst`, '--policy', 'ptmalloc', '--every', String(EVERY), '--json', '--set', `cores=${real.cores}`, ...envArgs);
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as RunDocument;
        const end = real.checkpoints.at(-1)!;
        expect(doc.events).toBe(end.event);
        const c = compare(real.checkpoints, doc);
        const sum = (k: keyof ArenaFigures): number => end.arenas!.reduce((s, a) => s + a[k], 0);
        console.log(`[ptmalloc threads] ${program.name.split(':')[0]} (${label}): ${doc.events} events, ${c.compared} checkpoints compared, ` +
          `${c.differing} differ; end: ${end.arenas!.length} arenas, system ${sum('systemBytes')} B, in use ${sum('inUseBytes')} B`);
        expect(c.first).toBeUndefined();
        expect(c.compared).toBeGreaterThan(10);
        // The end-of-run diagnosis knows the arenas: what each keeps, and the arena limit as a remedy.
        const d = (doc as unknown as { ptmalloc: PtmallocDiagnosis }).ptmalloc;
        expect(d.retainedByArena.map((a) => ({ systemBytes: a.systemBytes, inUseBytes: a.inUseBytes }))).toEqual(end.arenas);
        for (const a of d.retainedByArena) expect(a.freeBytes).toBe(a.systemBytes - a.inUseBytes);
        const threadFree = d.retainedByArena.slice(1).reduce((s, a) => s + a.freeBytes, 0);
        if (env.MALLOC_ARENA_MAX) {
          expect(end.arenas!.length).toBe(Number(env.MALLOC_ARENA_MAX));
          expect(d.remedies).toEqual([]);
        } else {
          // CPython's threads take turns (the GIL): a thread that exits first hands its arena on
          expect(end.arenas!.length).toBeGreaterThanOrEqual(program.name.startsWith('pthreads') ? 3 : 2);
          const cause = d.causes.find((x) => /free chunks kept in \d+ thread arenas/.test(x.mechanism))!;
          expect(cause.bytes).toBe(threadFree);
          expect(d.remedies.map((x) => x.env)).toEqual(end.arenas!.length >= 3 ? ['MALLOC_ARENA_MAX=2'] : []);
        }
      }
    }, 120_000);
  }
});
