// Recorded real programs (the ptmalloc fidelity test's), replayed through the installed mimalloc
// 2.0.9 (the oracle) and through `heapsim run --policy mimalloc`: mi_process_info's current and
// peak commit and the five area sums agree at every checkpoint (every 1000 events, counted as the
// trace readers count them) and at the end, with the delays at 0 and with decommit disabled; so do
// the resident bytes of the segments (mincore), the blocks written in full on both sides.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { cli } from '../../cli/helpers.js';
import { RECORDED_PROGRAMS } from '../../oracle/programs.js';
import { oracle, runOracle, scratchDir, NATIVE_FIELDS, NO_DELAYS, NO_DECOMMIT, type Checkpoint, type Native } from './harness.js';
import type { RunDocument, TrimResult } from '../../../src/report/types.js';

const EVERY = 1000;
const info = oracle();
if (info.skipReason) console.warn(`[mimalloc recorded programs] ${info.skipReason}`);

/** The two settings of the issue: the same environment for the oracle and for `heapsim run --env`. */
export const SETTINGS = [
  { label: 'MIMALLOC_DECOMMIT_DELAY=0 MIMALLOC_SEGMENT_DECOMMIT_DELAY=0', env: NO_DELAYS },
  { label: 'MIMALLOC_ALLOW_DECOMMIT=0', env: NO_DECOMMIT },
] as const;

function simCheckpoints(doc: RunDocument): Checkpoint[] {
  return doc.checkpoints.map((c) => {
    const native = {} as Native;
    const fromDoc = c.heap.native as Record<string, number>;
    for (const f of NATIVE_FIELDS) native[f] = fromDoc[f]!;
    return { event: c.event, kind: 'at' as const, native, residentBytes: c.heap.residentBytes };
  });
}

/** Compares the oracle's periodic checkpoints by event number, and the end states. */
export function compare(real: Checkpoint[], sim: Checkpoint[]): { compared: number; differing: number; first?: string } {
  const simAt = new Map(sim.map((c) => [c.event, c]));
  let compared = 0, differing = 0;
  let first: string | undefined;
  const check = (r: Checkpoint, s: Checkpoint | undefined, what: string): void => {
    compared++;
    const bad: string[] = s ? NATIVE_FIELDS.filter((f) => r.native[f] !== s.native[f]) : ['missing'];
    if (s && r.residentBytes !== undefined && r.residentBytes !== s.residentBytes) bad.push('residentBytes');
    if (bad.length) {
      differing++;
      const show = (f: string, x: Checkpoint): number | undefined => (f === 'residentBytes' ? x.residentBytes : x.native[f as keyof Native]);
      first ??= `${what} event ${r.event}: ` + bad.map((f) => (s ? `${f} mimalloc ${show(f, r)} sim ${show(f, s)}` : f)).join(', ');
    }
  };
  for (const r of real) if (r.kind === 'at') check(r, simAt.get(r.event), 'checkpoint');
  check(real.find((c) => c.kind === 'end')!, sim[sim.length - 1], 'end');
  return { compared, differing, first };
}

describe('mimalloc replays recorded programs exactly as mimalloc 2.0.9', () => {
  for (const program of RECORDED_PROGRAMS) {
    const run = info.skipReason ? it.skip : it;
    run(program.name, async (ctx) => {
      const command = program.command(scratchDir());
      if (!command) { console.warn(`[mimalloc recorded programs] ${program.name}: program not installed, skipped`); ctx.skip(); return; }
      const trace = join(scratchDir(), `mi-${program.name.split(' ')[0]}.mtrace`);
      const rec = await cli('record', '-o', trace, '--', ...command);
      expect(rec.code, rec.stderr).toBe(0);
      for (const setting of SETTINGS) {
        const real = runOracle({ file: trace }, { every: EVERY, env: { ...setting.env }, resident: true });
        const r = await cli('run', trace, '--policy', 'mimalloc', '--every', String(EVERY), '--json',
          ...Object.entries(setting.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]));
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as RunDocument;
        expect(doc.events).toBe(real[real.length - 1]!.event);
        const c = compare(real, simCheckpoints(doc));
        console.log(`[mimalloc recorded programs] ${program.name} (${setting.label}): ${doc.events} events, ` +
          `${c.compared} checkpoints compared, ${c.differing} differ`);
        expect(c.first).toBeUndefined();
        expect(c.compared).toBeGreaterThan(doc.events >= EVERY ? 1 : 0);
      }
      // --trim-at near the end (90 % of the events) against a real mi_collect(true) at the same event.
      const events = runOracle({ file: trace }, { env: { ...NO_DELAYS } }).at(-1)!.event;
      const mid = Math.max(1, Math.floor(events * 0.9));
      const real = runOracle({ file: trace }, { env: { ...NO_DELAYS }, trimAt: mid, resident: true });
      const r = await cli('run', trace, '--policy', 'mimalloc', '--trim-at', String(mid), '--json',
        ...Object.entries(NO_DELAYS).flatMap(([k, v]) => ['--env', `${k}=${v}`]));
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as RunDocument;
      // The trim runs beside the run the verdict reads; its before/after checkpoints are in `trims`.
      const [trim] = doc.trims as TrimResult[];
      expect(trim!.event).toBe(mid);
      const rb = real.find((x) => x.kind === 'before')!, ra = real.find((x) => x.kind === 'after')!;
      const [sb, sa] = simCheckpoints({ ...doc, checkpoints: [trim!.before, trim!.after] });
      console.log(`[mimalloc recorded programs] ${program.name}: mi_collect(true) at event ${mid}: mimalloc commit ` +
        `${rb.native.current_commit} -> ${ra.native.current_commit}, resident ${rb.residentBytes} -> ${ra.residentBytes}; ` +
        `heapsim ${sb.native.current_commit} -> ${sa.native.current_commit}, resident ${sb.residentBytes} -> ${sa.residentBytes}`);
      expect(sb.native).toEqual(rb.native);
      expect(sa.native).toEqual(ra.native);
      expect(sb.residentBytes).toBe(rb.residentBytes);
      expect(sa.residentBytes).toBe(ra.residentBytes);
    }, 120_000);
  }
});
