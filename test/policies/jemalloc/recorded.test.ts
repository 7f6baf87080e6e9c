// Recorded real programs (test/oracle/programs.ts, as for ptmalloc and tcmalloc), replayed through the
// installed jemalloc (the oracle, under setarch -R) and through `heapsim run --policy jemalloc`:
// every statistic must agree at every checkpoint (every 1000 events, counted as the trace readers
// count them) and at the end, in each setting of SETTINGS (MALLOC_CONF read by the policy's own
// reader). Each line logged is one row of the fidelity table in docs/jemalloc.md.
import { describe, expect } from 'vitest';
import { join } from 'node:path';
import { cli } from '../../cli/helpers.js';
import { RECORDED_PROGRAMS } from '../../oracle/programs.js';
import {
  oracleIt, runJemallocOracle, scratchDir, SETTINGS, JE_FIELDS, type JeCheckpoint, type JeField, type JeStats,
} from './harness.js';
import type { RunDocument, TrimResult } from '../../../src/report/types.js';

const EVERY = 1000;

/** The statistics of a checkpoint of `heapsim run --json` (heap.native, mallctl names). */
function nativeStats(c: RunDocument['checkpoints'][number]): JeStats {
  const n = c.heap.native as Record<string, number>;
  const s = {} as JeStats;
  for (const f of JE_FIELDS) s[f] = f === 'dirtyBytes' || f === 'muzzyBytes' ? n[f]! : n[`stats.${f}`]!;
  return s;
}

function simStats(doc: RunDocument): Map<number, JeStats> {
  return new Map(doc.checkpoints.map((c) => [c.event, nativeStats(c)]));
}

interface Comparison { compared: number; differing: Record<JeField, number>; first?: string }

function compare(real: JeCheckpoint[], sim: Map<number, JeStats>, simEnd: JeStats): Comparison {
  const differing = Object.fromEntries(JE_FIELDS.map((f) => [f, 0])) as Record<JeField, number>;
  let compared = 0;
  let first: string | undefined;
  const check = (r: JeCheckpoint, s: JeStats | undefined): void => {
    compared++;
    for (const f of JE_FIELDS) {
      if (s && r.stats[f] === s[f]) continue;
      differing[f]++;
      first ??= `${r.kind} ${r.event}: ${f} jemalloc ${r.stats[f]} sim ${s ? s[f] : 'missing'}`;
    }
  };
  for (const r of real) if (r.kind === 'at') check(r, sim.get(r.event));
  check(real.find((c) => c.kind === 'end')!, simEnd);
  return { compared, differing, first };
}

describe('jemalloc policy replays recorded programs exactly as jemalloc 5.3.0', () => {
  for (const program of RECORDED_PROGRAMS) {
    oracleIt(program.name, async (ctx) => {
      const command = program.command(scratchDir());
      if (!command) { console.warn(`[jemalloc recorded programs] ${program.name}: program not installed, skipped`); ctx.skip(); return; }
      const trace = join(scratchDir(), `je-${program.name.split(' ')[0]}.mtrace`);
      const rec = await cli('record', '-o', trace, '--', ...command);
      expect(rec.code, rec.stderr).toBe(0);
      for (const [label, conf] of Object.entries(SETTINGS)) {
        const real = runJemallocOracle({ file: trace }, { conf, every: EVERY });
        const r = await cli('run', trace, '--policy', 'jemalloc', '--every', String(EVERY), '--json', '--env', `MALLOC_CONF=${conf}`);
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as RunDocument;
        const end = real[real.length - 1]!;
        expect(doc.events).toBe(end.event);
        const sim = simStats(doc);
        const c = compare(real, sim, nativeStats(doc.checkpoints[doc.checkpoints.length - 1]!));
        const cols = JE_FIELDS.map((f) => `${f} ${c.differing[f]}`).join(', ');
        console.log(`[jemalloc recorded programs] ${program.name} (${label}): ${doc.events} events, ${c.compared} checkpoints, differing: ${cols}` +
          ` | end: allocated ${end.stats.allocated} active ${end.stats.active} dirty ${end.stats.dirtyBytes} retained ${end.stats.retained} mapped ${end.stats.mapped}`);
        expect(c.first).toBeUndefined();
        expect(c.compared).toBeGreaterThan(doc.events >= EVERY ? 1 : 0);
      }
      // The purge what-if at 90 % of the events, with the thread cache and no decay (the most held).
      const conf = SETTINGS['tcache, decay -1']!;
      const events = runJemallocOracle({ file: trace }, { conf }).find((x) => x.kind === 'end')!.event;
      const at = Math.max(1, Math.floor(events * 0.9));
      const real = runJemallocOracle({ file: trace }, { conf, trimAt: at });
      const r = await cli('run', trace, '--policy', 'jemalloc', '--trim-at', String(at), '--json', '--env', `MALLOC_CONF=${conf}`);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as RunDocument;
      // The trim runs beside the run the verdict reads; its before/after checkpoints are in `trims`.
      const [trim] = doc.trims as TrimResult[];
      const sim = [trim!.before, trim!.after].map(nativeStats);
      const [before, after] = [real.find((x) => x.kind === 'before')!, real.find((x) => x.kind === 'after')!];
      expect(sim).toEqual([before.stats, after.stats]);
      console.log(`[jemalloc recorded programs] ${program.name}: purge at event ${at}: dirty ${before.stats.dirtyBytes} -> ${after.stats.dirtyBytes}, ` +
        `retained ${before.stats.retained} -> ${after.stats.retained}, resident ${before.stats.resident} -> ${after.stats.resident} (equal in heapsim)`);
    }, 180_000);
  }
});
