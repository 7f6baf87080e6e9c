// Recorded real programs (test/oracle/programs.ts, as for ptmalloc), replayed through the real tcmalloc
// (the oracle) and through `heapsim run --policy tcmalloc`: the eight statistics must agree at every
// checkpoint (every 1000 events, counted as the trace readers count them) and at the end, with the
// defaults and with TCMALLOC_AGGRESSIVE_DECOMMIT=1; so must the resident bytes of the break (the
// oracle writes whole blocks, as the engine assumes a program does). Each program is recorded once
// with `heapsim record`, and the oracle runs once per program and setting.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { cli } from '../../cli/helpers.js';
import { oracle, runOracle, scratchDir, TCMALLOC_PROPERTY_NAMES, type Checkpoint, type Props } from './harness.js';
import type { RunDocument, TrimResult } from '../../../src/report/types.js';
import { RECORDED_PROGRAMS } from '../../oracle/programs.js';

const EVERY = 1000;
const PAGE_8K = 8192;
const info = oracle();
if (info.skipReason) console.warn(`[tcmalloc recorded programs] ${info.skipReason}`);

const SETTINGS: [string, Record<string, string>, string[]][] = [
  ['defaults', {}, []],
  ['TCMALLOC_AGGRESSIVE_DECOMMIT=1', { TCMALLOC_AGGRESSIVE_DECOMMIT: '1' }, ['--env', 'TCMALLOC_AGGRESSIVE_DECOMMIT=1']],
];

interface Compared { compared: number; differing: number; first?: string }

/** Compares periodic checkpoints by event number and the final states (statistics and resident bytes). */
function compare(real: Checkpoint[], doc: RunDocument): Compared {
  const simAt = new Map(doc.checkpoints.map((c) => [c.event, c]));
  let compared = 0, differing = 0;
  let first: string | undefined;
  const check = (r: Checkpoint, s: RunDocument['checkpoints'][number] | undefined, what: string): void => {
    compared++;
    const native = s?.heap.native as Props | undefined;
    const bad: string[] = [];
    if (!s || !native) bad.push('missing');
    else {
      for (const f of TCMALLOC_PROPERTY_NAMES) if (native[f] !== r.props[f]) bad.push(`${f} real ${r.props[f]} sim ${native[f]}`);
      if (s.heap.residentBytes !== r.residentBytes) bad.push(`resident real ${r.residentBytes} sim ${s.heap.residentBytes}`);
      // The real break may start 4 KiB off an 8 KiB boundary (ASLR); the first growth then skips 4 KiB.
      const seg = (x: number): number => x - (x % PAGE_8K);
      if (seg(s.heap.committedBytes) !== seg(r.segmentBytes!)) bad.push(`break real ${r.segmentBytes} sim ${s.heap.committedBytes}`);
    }
    if (bad.length) { differing++; first ??= `${what} event ${r.event}: ${bad.join(', ')}`; }
  };
  for (const r of real) if (r.kind === 'at') check(r, simAt.get(r.event), 'checkpoint');
  check(real.find((c) => c.kind === 'end')!, doc.checkpoints[doc.checkpoints.length - 1], 'end');
  return { compared, differing, first };
}

describe('tcmalloc replays recorded programs exactly as gperftools 2.10', () => {
  for (const program of RECORDED_PROGRAMS) {
    const run = info.binary ? it : it.skip;
    run(program.name, async (ctx) => {
      const command = program.command(scratchDir());
      if (!command) { console.warn(`[tcmalloc recorded programs] ${program.name}: program not installed, skipped`); ctx.skip(); return; }
      const trace = join(scratchDir(), `tc-${program.name.split(' ')[0]}.mtrace`);
      const rec = await cli('record', '-o', trace, '--', ...command);
      expect(rec.code, rec.stderr).toBe(0);
      for (const [label, env, args] of SETTINGS) {
        const real = runOracle({ file: trace }, { every: EVERY, env, write: true, resident: true }).checkpoints;
        const r = await cli('run', trace, '--policy', 'tcmalloc', '--every', String(EVERY), '--json', ...args);
        expect(r.code, r.stderr).toBe(0);
        const doc = JSON.parse(r.stdout) as RunDocument;
        const end = real[real.length - 1]!;
        expect(doc.events).toBe(end.event);
        const c = compare(real, doc);
        const last = doc.checkpoints[doc.checkpoints.length - 1]!.heap.native as Props;
        console.log(`[tcmalloc recorded programs] ${program.name} (${label}): ${doc.events} events, ${c.compared} checkpoints compared, ` +
          `${c.differing} differ; end: heap_size ${last['generic.heap_size']}, pageheap free ${last['tcmalloc.pageheap_free_bytes']}, ` +
          `unmapped ${last['tcmalloc.pageheap_unmapped_bytes']}, allocated ${last['generic.current_allocated_bytes']}`);
        expect(c.first).toBeUndefined();
        expect(c.compared).toBeGreaterThan(doc.events >= EVERY ? 1 : 0);
      }
      // The ReleaseFreeMemory() what-if at 90 % of the events, against the real call at the same event.
      const events = runOracle({ file: trace }).checkpoints[0]!.event;
      const at = Math.max(1, Math.floor(events * 0.9));
      const real = runOracle({ file: trace }, { trimAt: at, write: true, resident: true }).checkpoints;
      const rb = real.find((x) => x.kind === 'before')!, ra = real.find((x) => x.kind === 'after')!;
      const r = await cli('run', trace, '--policy', 'tcmalloc', '--trim-at', String(at), '--json');
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as RunDocument;
      // The trim runs beside the run the verdict reads; its before/after checkpoints are in `trims`.
      const [trim] = doc.trims as TrimResult[];
      const sb = trim!.before, sa = trim!.after;
      console.log(`[tcmalloc recorded programs] ${program.name}: ReleaseFreeMemory() at event ${at}: resident ` +
        `${rb.residentBytes} -> ${ra.residentBytes} (heapsim ${sb.heap.residentBytes} -> ${sa.heap.residentBytes}), ` +
        `unmapped ${rb.props['tcmalloc.pageheap_unmapped_bytes']} -> ${ra.props['tcmalloc.pageheap_unmapped_bytes']}`);
      expect(sb.heap.native).toEqual(rb.props);
      expect(sa.heap.native).toEqual(ra.props);
      expect(sb.heap.residentBytes).toBe(rb.residentBytes);
      expect(sa.heap.residentBytes).toBe(ra.residentBytes);
    });
  }
});
