// Recorded real programs (the ptmalloc fidelity test's), replayed through the installed mimalloc
// 2.0.9 (the oracle) and through `heapsim run --policy mimalloc`: mi_process_info's current and
// peak commit and the five area sums agree at every checkpoint (every 1000 events, counted as the
// trace readers count them) and at the end, with the delays at 0 and with decommit disabled; so do
// the resident bytes of the segments (mincore), the blocks written in full on both sides.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { cli } from '../../cli/helpers.js';
import { RECORDED_PROGRAMS } from '../../ptmalloc/harness.js';
import { oracle, runOracle, scratchDir, NATIVE_FIELDS, NO_DELAYS, NO_DECOMMIT, type Checkpoint, type Native } from './harness.js';
import type { RunDocument } from '../../../src/report/types.js';

const EVERY = 1000;
const info = oracle();
if (info.skipReason) console.warn(`[mimalloc recorded programs] ${info.skipReason}`);

/** The two settings of the issue, as environment (oracle) and as `--set` (heapsim). */
export const SETTINGS = [
  { label: 'delays 0', env: NO_DELAYS, set: ['decommit_delay=0', 'segment_decommit_delay=0'] },
  { label: 'allow_decommit 0', env: NO_DECOMMIT, set: ['allow_decommit=0'] },
] as const;

function simCheckpoints(doc: RunDocument): Checkpoint[] {
  return doc.checkpoints.map((c) => {
    const native = {} as Native;
    for (const f of NATIVE_FIELDS) native[f] = (c.heap as unknown as Record<string, number>)[f]!;
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
      const command = program.command();
      if (!command) { console.warn(`[mimalloc recorded programs] ${program.name}: program not installed, skipped`); ctx.skip(); return; }
      const trace = join(scratchDir(), `mi-${program.name.split(' ')[0]}.mtrace`);
      const rec = await cli('record', '-o', trace, '--', ...command);
      expect(rec.code, rec.stderr).toBe(0);
      for (const setting of SETTINGS) {
        const real = runOracle({ file: trace }, { every: EVERY, env: { ...setting.env }, resident: true });
        const r = await cli('run', trace, '--policy', 'mimalloc', '--arch', 'x64', '--every', String(EVERY), '--json',
          ...setting.set.flatMap((s) => ['--set', s]));
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as RunDocument;
        expect(doc.events).toBe(real[real.length - 1]!.event);
        const c = compare(real, simCheckpoints(doc));
        console.log(`[mimalloc recorded programs] ${program.name} (${setting.label}): ${doc.events} events, ` +
          `${c.compared} checkpoints compared, ${c.differing} differ`);
        expect(c.first).toBeUndefined();
        expect(c.compared).toBeGreaterThan(doc.events >= EVERY ? 1 : 0);
      }
    }, 120_000);
  }
});
