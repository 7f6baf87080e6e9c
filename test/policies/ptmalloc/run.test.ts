// `heapsim run --policy ptmalloc`: heap.mallinfo in every checkpoint, --env, the --trim-at what-if
// and the ptmalloc diagnosis.
import { describe, it, expect } from 'vitest';
import { cli } from '../../cli/helpers.js';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { toCheckpoint } from '../../../src/report/checkpoint.js';
import { diagnosePtmalloc } from '../../../src/policies/ptmalloc/diagnose.js';
import { ptmallocDetail } from '../../../src/policies/ptmalloc/detail.js';
import { withTrims, parseTrimAt } from '../../../src/run/trim-at.js';
import type { RunDocument } from '../../../src/report/types.js';
import type { TrimResult } from '../../../src/run/trim-at.js';
import type { PtmallocDiagnosis, Mallinfo2 } from '../../../src/policies/ptmalloc/diagnose.js';

const FIELDS = ['arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost'];

describe('heapsim run --policy ptmalloc', () => {
  it('puts the ten mallinfo2 fields under heap.mallinfo in every checkpoint, next to the page view', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--every', '100000', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as RunDocument;
    expect(doc.checkpoints.length).toBeGreaterThan(5);
    for (const cp of doc.checkpoints) {
      const m = cp.heap.mallinfo as Mallinfo2;
      expect(Object.keys(m)).toEqual(FIELDS);
      expect(m.arena).toBe(m.uordblks + m.fordblks);
      expect(cp.heap.arena).toBeUndefined();
      // the page view: the break plus the mmapped chunks is what the heap has committed
      expect(cp.heap.committedBytes).toBe(m.arena + m.hblkhd);
      expect(cp.heap.residentBytes).toBeLessThanOrEqual(cp.heap.committedBytes);
    }
  });

  it('--trim-at shows what malloc_trim(0) would give back at a mark and at an event', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--trim-at', 'after', '--trim-at', '200000', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as RunDocument;
    const trims = doc.trims as TrimResult[];
    expect(trims.map((t) => t.at)).toEqual(['after', '200000']);
    const after = trims[0]!;
    expect(after.releasedBytes).toBe(after.residentBeforeBytes! - after.residentAfterBytes!);
    expect(after.releasedBytes).toBeGreaterThan(100_000_000); // the freed peak, pinned below live chunks
    expect(trims[1]!.event).toBe(200000);
    const before = doc.checkpoints.find((c) => c.label === 'trim-at after: before')!;
    const done = doc.checkpoints.find((c) => c.label === 'trim-at after: after')!;
    const mb = before.heap.mallinfo as Mallinfo2, ma = done.heap.mallinfo as Mallinfo2;
    // madvise lowers resident, not arena: arena drops only by what top gave back
    expect(mb.arena - ma.arena).toBe(mb.keepcost - ma.keepcost);
    const text = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--trim-at', 'after');
    expect(text.stdout).toMatch(/malloc_trim what-if:\n {2}at after \(event \d+\): resident \d+ -> \d+ bytes, \d+ bytes given back/);
  });

  it('--env reads production settings (and says what it ignored); --set overrides', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--json',
      '--env', 'GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.perturb=2', '--env', 'MALLOC_TRIM_THRESHOLD_=0x40000');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/glibc\.malloc\.perturb=2 ignored/);
    const doc = JSON.parse(r.stdout) as RunDocument;
    const d = doc.ptmalloc as PtmallocDiagnosis;
    expect(d.trimThresholdBytes).toBe(0x40000);
    expect(doc.checkpoints.every((c) => c.heap.tcacheBytes === 0)).toBe(true);
    const o = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--json',
      '--env', 'MALLOC_TRIM_THRESHOLD_=0x40000', '--set', 'trim_threshold=1M');
    expect(((JSON.parse(o.stdout) as RunDocument).ptmalloc as PtmallocDiagnosis).trimThresholdBytes).toBe(1 << 20);
    const bad = await cli('run', 'peak-hour', '--env', 'MALLOC_TOP_PAD_=0');
    expect(bad.code).toBe(2);
  });

  it('--env MALLOC_TOP_PAD_=0 changes the first break, alone and under a pool', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'heapsim-toppad-')), 'one.txt');
    writeFileSync(file, '#heapsim-trace 1\na 0 1\n');
    // malloc(1): the tcache (656 bytes) and a 32-byte chunk, plus top_pad and 32, in whole pages
    const arena = async (...args: string[]): Promise<number[]> => {
      const r = await cli('run', file, '--json', ...args);
      expect(r.code, r.stderr).toBe(0);
      const last = (JSON.parse(r.stdout) as RunDocument).checkpoints.at(-1)!;
      return (last.heaps ?? [last.heap]).filter((h) => h.mallinfo).map((h) => (h.mallinfo as Mallinfo2).arena);
    };
    expect(await arena('--policy', 'ptmalloc')).toEqual([135168]);
    expect(await arena('--policy', 'ptmalloc', '--env', 'MALLOC_TOP_PAD_=0')).toEqual([4096]);
    expect(await arena('--policy', 'ptmalloc', '--env', 'GLIBC_TUNABLES=glibc.malloc.top_pad=0')).toEqual([4096]);
    expect(await arena('--policy', 'ptmalloc', '--env', 'MALLOC_TOP_PAD_=0', '--set', 'top_pad=128K')).toEqual([135168]);
    // under the pool, the setting reaches the ptmalloc layer: its first break holds the pool's 64 KiB chunk
    expect(await arena('--policy', 'pool', '--set', 'parent=ptmalloc')).toEqual([135168]);
    expect(await arena('--policy', 'pool', '--set', 'parent=ptmalloc', '--env', 'MALLOC_TOP_PAD_=0')).toEqual([69632]);
  });
});

describe('--trim-at on traces and layers', () => {
  it('keeps the names of marks a trace discovers while it is read', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'heapsim-trim-')), 't.txt');
    const lines = ['#heapsim-trace 1'];
    for (let i = 0; i < 200; i++) lines.push(`a ${i} 20000`);
    lines.push('a 200 2000', 'mark full');
    for (let i = 0; i < 200; i++) lines.push(`f ${i}`);
    lines.push('mark emptied', 'a 201 10', 'mark late');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = await cli('run', file, '--policy', 'ptmalloc', '--trim-at', 'emptied', '--trim-at', '10', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as RunDocument;
    expect(doc.checkpoints.map((c) => c.label)).toEqual([
      'trim-at 10: before', 'trim-at 10: after', 'full', 'emptied', 'trim-at emptied: before', 'trim-at emptied: after', 'late',
    ]);
    const t = doc.trims as TrimResult[];
    expect(t[0]!.releasedBytes).toBeGreaterThan(3_900_000); // 200 × 20 KB freed below the 2000-byte pin
  });

  it('goes to the ptmalloc layer under a pool (--set parent=ptmalloc), --env too', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'pool', '--set', 'parent=ptmalloc', '--arch', 'x64',
      '--env', 'MALLOC_TOP_PAD_=0', '--trim-at', 'after', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as RunDocument;
    expect((doc.trims as TrimResult[])[0]!.releasedBytes).toBeGreaterThan(0);
    const d = doc.ptmalloc as PtmallocDiagnosis;
    expect(d.causes.length).toBeGreaterThan(0);
    const last = doc.checkpoints[doc.checkpoints.length - 1]!;
    expect(last.heaps!.find((h) => h.heap === 1)!.mallinfo).toBeDefined();
  });
});

describe('withTrims', () => {
  it('splices before/trim/after at the event and after the mark, whatever the batch boundaries', async () => {
    const a = new OpBuffer(8), b = new OpBuffer(8);
    a.alloc(0, 0, 10); a.alloc(0, 1, 10); a.skip(3);
    b.mark(0); b.free(0, 0);
    const labels = ['m', 'trim-at 4: before', 'trim-at 4: after', 'trim-at m: before', 'trim-at m: after'];
    const out: number[] = [];
    for await (const buf of withTrims([a, b], [parseTrimAt('4'), parseTrimAt('m')], ['m'], (n) => labels.indexOf(n))) {
      for (let i = 0; i < buf.length; i++) out.push(buf.words[i * 4]! & 0xff, buf.words[i * 4]! >>> 16);
    }
    // alloc, alloc, skip(3) → event 5 ≥ 4: mark(1) trim mark(2); then mark m, then the m trim, then free
    expect(out).toEqual([1, 0, 1, 0, 12, 0, 6, 1, 8, 0, 6, 2, 6, 0, 6, 3, 8, 0, 6, 4, 5, 0]);
  });
});

describe('diagnosePtmalloc', () => {
  it('names the bytes kept below a live chunk, in fastbins, in the tcache and in top', async () => {
    const e = await createEngine({ arch: 'x64' });
    const h = e.createHeap('ptmalloc');
    const ops = new OpBuffer(4096);
    let id = 0;
    for (let i = 0; i < 50; i++) ops.alloc(h, id++, 20000);   // 1 MB in the break
    for (let i = 0; i < 100; i++) ops.alloc(h, id++, 64);      // fastbin/tcache size
    ops.alloc(h, id++, 3000);                                  // the pin near top
    for (let i = 0; i < 150; i++) ops.free(h, i);
    e.apply(ops);
    const cp = toCheckpoint(e.sample());
    const d = diagnosePtmalloc(cp.heap, {}, ptmallocDetail(e, h));
    const by = (s: string): number => d.causes.find((c) => c.mechanism.startsWith(s))?.bytes ?? -1;
    const m = cp.heap.mallinfo as Mallinfo2;
    expect(by('free chunks below a live chunk')).toBe(m.fordblks - m.keepcost - m.fsmblks);
    expect(by('free chunks below a live chunk')).toBeGreaterThan(1_000_000);
    expect(by('fastbin chunks')).toBe(93 * 80);
    expect(by('tcache chunks')).toBe(7 * 80);
    expect(by('top chunk below the trim threshold')).toBe(m.keepcost);
    expect(d.mallocTrimBytes).toBeGreaterThan(900_000);
    expect(ptmallocDetail(e, h).pinnedBelowBytes).toBe(by('free chunks below a live chunk') + m.fsmblks);
  });
});

describe('ptmallocCauses with the shared diagnose()', () => {
  it('calls a peak-hour run on ptmalloc second-order, with glibc mechanisms as causes', async () => {
    const { runWorkload } = await import('../../../src/run/run.js');
    const { makeWorkload } = await import('../../../src/workload/index.js');
    const { diagnose, seriesFromCheckpoints } = await import('../../../src/report/diagnose.js');
    const { ptmallocCauses } = await import('../../../src/policies/ptmalloc/causes.js');
    const doc = await runWorkload(makeWorkload('peak-hour', { seed: 1 }), { policy: 'ptmalloc', arch: 'x64' });
    const marks = doc.checkpoints.filter((c) => ['before', 'peak', 'after'].includes(c.label));
    const causes = ptmallocCauses(doc.checkpoints[doc.checkpoints.length - 1]!);
    expect(causes[0]!.mechanism).toMatch(/^free chunks below a live chunk/);
    expect(causes.every((c) => c.layer === 'ptmalloc' && c.seedLayer === '1b' && c.bytes > 0)).toBe(true);
    const d = diagnose(seriesFromCheckpoints(marks), { causes });
    expect(d.kind).toBe('second-order');
    expect(d.causes).toEqual(causes);
  });
});

describe('ptmalloc checkpoints carry their thresholds; diagnoseRun names glibc mechanisms', () => {
  it('trimThresholdBytes and dynamicThresholds follow the parameters and the dynamic rule', async () => {
    const { runWorkload } = await import('../../../src/run/run.js');
    const { makeWorkload } = await import('../../../src/workload/index.js');
    const { diagnoseRun } = await import('../../../src/run/diagnose-run.js');
    const dyn = await runWorkload(makeWorkload('peak-hour', { seed: 1 }), { policy: 'ptmalloc', arch: 'x64' });
    const last = dyn.checkpoints[dyn.checkpoints.length - 1]!.heap;
    expect(last.dynamicThresholds).toBe(true);
    expect(last.trimThresholdBytes).toBe(2 * (last.mmapThresholdBytes as number)); // raised by a free of an mmapped chunk
    const fixed = await runWorkload(makeWorkload('peak-hour', { seed: 1 }), { policy: 'ptmalloc', arch: 'x64', params: { top_pad: 0 } });
    const f = fixed.checkpoints[fixed.checkpoints.length - 1]!.heap;
    expect(f.dynamicThresholds).toBe(false);
    expect(f.trimThresholdBytes).toBe(128 * 1024);
    expect(f.mmapThresholdBytes).toBe(128 * 1024);
    const d = diagnoseRun(dyn);
    expect(d.causes.some((c) => /^free chunks below a live chunk/.test(c.mechanism))).toBe(true);
    expect(d.causes.find((c) => /^top chunk/.test(c.mechanism))!.mechanism).toContain(`(${last.trimThresholdBytes} bytes)`);
  });
});
