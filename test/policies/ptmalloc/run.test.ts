// `heapsim run --policy ptmalloc`: heap.mallinfo in every checkpoint, --env, the --trim-at what-if
// and the ptmalloc diagnosis.
import { describe, it, expect } from 'vitest';
import { cli } from '../../cli/helpers.js';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { toCheckpoint } from '../../../src/report/checkpoint.js';
import { diagnosePtmalloc } from '../../../src/policies/ptmalloc/diagnose.js';
import { ptmallocDetail } from '../../../src/policies/ptmalloc/detail.js';
import { TrimSplicer, parseTrimAt } from '../../../src/run/trim-at.js';
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
    expect(after.call).toBe('malloc_trim(0)');
    expect(after.releasedBytes).toBe(after.residentBeforeBytes - after.residentAfterBytes);
    expect(after.releasedBytes).toBeGreaterThan(100_000_000); // the freed peak, pinned below live chunks
    expect(trims[1]!.event).toBe(200000);
    const mb = after.before.heap.mallinfo as Mallinfo2, ma = after.after.heap.mallinfo as Mallinfo2;
    // madvise lowers resident, not arena: arena drops only by what top gave back
    expect(mb.arena - ma.arena).toBe(mb.keepcost - ma.keepcost);
    // The trims never enter the run the verdict reads: same checkpoints, same verdict as without them.
    const plain = JSON.parse((await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--json')).stdout) as RunDocument;
    expect(doc.checkpoints).toEqual(plain.checkpoints);
    expect(doc.diagnosis).toEqual(plain.diagnosis);
    expect(doc.diagnosis!.kind).toBe('second-order');
    // The trim at the end beside the verdict is the same call at the same state as --trim-at after.
    expect((doc.trimAtEnd as TrimResult).releasedBytes).toBe(after.releasedBytes);
    const text = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--trim-at', 'after');
    expect(text.stdout).toMatch(/^what malloc_trim\(0\) would give back at the end \(event 650000\): \d+\.\d MiB of RSS/m);
    expect(text.stdout).toMatch(/trim what-ifs \(--trim-at; the verdict reads the run without them\):\n {2}what malloc_trim\(0\) would give back at after \(event 650000\): \d+\.\d MiB of RSS \(\d+\.\d MiB -> [\d.]+ MiB\)/);
  });

  it.each([
    [['--trim-at', 'bogus'], /--trim-at bogus: no such mark \(this run's marks: 'before', 'peak', 'after', 'end'; or an event number\)/],
    [['--trim-at', '999999999'], /--trim-at 999999999: the run has only 650000 events/],
    [['--trim-at', ''], /--trim-at wants an event number, a mark label or end/],
  ])('--trim-at %j is a usage error: one line, exit 2', async (args, message) => {
    const r = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('--trim-at end trims after the end checkpoint; the verdict is the one without it', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--arch', 'x64', '--trim-at', 'end', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as RunDocument;
    const [t] = doc.trims as TrimResult[];
    expect(t).toMatchObject({ at: 'end', event: 650000, call: 'malloc_trim(0)' });
    expect(t!.releasedBytes).toBeGreaterThan(100_000_000);
    expect(t!.before.heap.mallinfo).toEqual(doc.checkpoints[doc.checkpoints.length - 1]!.heap.mallinfo);
    expect(doc.diagnosis!.kind).toBe('second-order');
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
    expect(doc.checkpoints.map((c) => c.label)).toEqual(['full', 'emptied', 'late']);
    const t = doc.trims as TrimResult[];
    expect(t.map((x) => [x.at, x.event, x.before.label, x.after.label])).toEqual([
      ['emptied', 401, 'trim-at emptied: before', 'trim-at emptied: after'], ['10', 10, 'trim-at 10: before', 'trim-at 10: after'],
    ]);
    expect(t[0]!.releasedBytes).toBeGreaterThan(3_900_000); // 200 × 20 KB freed below the 2000-byte pin
    // A mark the trace never has is a usage error, known once the trace is read.
    const bad = await cli('run', file, '--policy', 'ptmalloc', '--trim-at', 'nowhere');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--trim-at nowhere: no such mark \(this run's marks: 'full', 'emptied', 'late', 'end'/);
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

describe('TrimSplicer', () => {
  it('splices before/trim/after at the event and after the mark, whatever the batch boundaries; implicit frees are not events', async () => {
    const a = new OpBuffer(8), b = new OpBuffer(8);
    a.alloc(0, 0, 10); a.implicitFree(0, 0); a.alloc(0, 0, 10); a.skip(2);
    b.mark(0); b.free(0, 0);
    const labels = ['m', 'trim-at 4: before', 'trim-at 4: after', 'trim-at m: before', 'trim-at m: after'];
    const splicer = new TrimSplicer([parseTrimAt('4'), parseTrimAt('m'), parseTrimAt('end')], ['m'], (n) => labels.indexOf(n), 0);
    const out: number[] = [];
    for (const buf of [a, b].map((x) => splicer.transform(x))) {
      for (let i = 0; i < buf.length; i++) out.push(buf.words[i * 4]! & 0xff, buf.words[i * 4]! >>> 16);
    }
    // alloc, implicit free, alloc, skip(2) → event 4 ≥ 4: mark(1) trim mark(2); then mark m, the m trim, free.
    // `end` is not spliced (it runs on the main engine after the end checkpoint).
    expect(out).toEqual([1, 0, 5, 1, 1, 0, 12, 0, 6, 1, 8, 0, 6, 2, 6, 0, 6, 3, 8, 0, 6, 4, 5, 0]);
    expect(splicer.finished).toBe(true);
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
