// The rules of docs/tcmalloc.md one at a time. Each scenario runs through the real library (the
// oracle) and the engine; the fact the rule implies is asserted on both, and the eight statistics
// must agree at every checkpoint.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, firstDifference, type TcOp, type Props } from './harness.js';
import { parseTcmallocEnv } from '../../../src/policies/tcmalloc/env.js';
import { instantiateEngine } from '../../../src/engine/load.js';

const info = oracle();
if (info.skipReason) console.warn(`[tcmalloc rules] ${info.skipReason}`);
const itOracle = info.binary ? it : it.skip;

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 8 * KiB;
const A = 'generic.current_allocated_bytes';
const HEAP = 'generic.heap_size';
const PF = 'tcmalloc.pageheap_free_bytes';
const PU = 'tcmalloc.pageheap_unmapped_bytes';
const CENTRAL = 'tcmalloc.central_cache_free_bytes';
const TRANSFER = 'tcmalloc.transfer_cache_free_bytes';
const THREAD = 'tcmalloc.thread_cache_free_bytes';

/** The statistics at each `p` (and `t`) and at the end, from the real library and from the engine. */
async function both(ops: TcOp[], env: Record<string, string> = {}): Promise<Props[]> {
  const params = parseTcmallocEnv(Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n')).params;
  const real = runOracle({ text: opsScript(ops) }, { ops: true, env }).checkpoints;
  const sim = (await runSim(ops, { params, build: 'debug', check: true })).checkpoints;
  expect(firstDifference(real, sim)).toBeUndefined();
  return real.map((c) => c.props);
}

/** The class table of the model (size, pages, batch), read from the engine module. */
async function classTable(): Promise<{ size: number; pages: number; batch: number }[]> {
  const x = await instantiateEngine('release') as unknown as { tcClassInfo(cl: number, field: number): number };
  const out: { size: number; pages: number; batch: number }[] = [];
  for (let cl = 1; x.tcClassInfo(cl, 0); cl++) out.push({ size: x.tcClassInfo(cl, 0), pages: x.tcClassInfo(cl, 1), batch: x.tcClassInfo(cl, 2) });
  return out;
}

describe('tcmalloc rules, against gperftools 2.10', () => {
  itOracle('start state: libstdc++\'s emergency pool and the TCMallocGuard calls are made before main', async () => {
    const [plain] = await both([{ op: 'p' }]);
    expect(plain).toEqual({
      [A]: 73752, [HEAP]: MiB, [PF]: 958464, [PU]: 0, [CENTRAL]: 16360, [TRANSFER]: 0, [THREAD]: 0,
      'tcmalloc.current_total_thread_cache_bytes': 0,
    });
    const [aggressive] = await both([{ op: 'p' }], { TCMALLOC_AGGRESSIVE_DECOMMIT: '1' });
    expect(aggressive![PF]).toBe(0);
    expect(aggressive![PU]).toBe(958464);
  });

  itOracle('size classes: malloc(n) takes the size SizeMap::Init computes, each new class takes a span of its pages', async () => {
    const classes = await classTable();
    expect(classes.length).toBe(85);
    expect(classes.slice(0, 9).map((c) => c.size)).toEqual([8, 16, 32, 48, 64, 80, 96, 112, 128]);
    expect(classes[classes.length - 1]).toEqual({ size: 256 * KiB, pages: 32, batch: 2 });
    // From class 3 on (8 and 16 have spans since start-up): malloc(size) then malloc(size + 1); the
    // first call that reaches a class takes a new span of the class's pages from the page heap.
    const ops: TcOp[] = [{ op: 'p' }];
    const steps: { expected: number; newSpanPages?: number }[] = [];
    const used = new Set<number>([0, 1]);
    let id = 0;
    const step = (size: number, cl: number): void => {
      ops.push({ op: 'm', id: id++, size }, { op: 'p' });
      steps.push({ expected: classes[cl]!.size, newSpanPages: used.has(cl) ? undefined : classes[cl]!.pages });
      used.add(cl);
    };
    for (let i = 2; i < classes.length; i++) {
      step(classes[i]!.size, i);
      if (i + 1 < classes.length) step(classes[i]!.size + 1, i + 1);
    }
    const m = await both(ops);
    steps.forEach((s, k) => {
      const before = m[k]!, at = m[k + 1]!;
      expect(at[A] - before[A], `step ${k}`).toBe(s.expected);
      if (s.newSpanPages !== undefined) {
        expect((at[HEAP] - before[HEAP]) - (at[PF] - before[PF]), `span of class ${s.expected}`).toBe(s.newSpanPages * PAGE);
      }
    });
  });

  itOracle('thread cache: a list fetches min(limit, batch) objects, the limit starting at 1 and growing by one per fetch', async () => {
    const ops: TcOp[] = [];
    for (let i = 0; i < 7; i++) ops.push({ op: 'm', id: i, size: 100 }, { op: 'p' });
    const m = await both(ops);
    expect(m.slice(0, 7).map((x) => x[THREAD])).toEqual([0, 112, 0, 224, 112, 0, 336]);
  });

  itOracle('thread cache: a free past the list limit sends a batch back; whole batches park in the transfer cache', async () => {
    const ops: TcOp[] = [];
    for (let i = 0; i < 400; i++) ops.push({ op: 'm', id: i, size: 64 });
    ops.push({ op: 'p' });
    for (let i = 0; i < 400; i++) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' });
    const m = await both(ops);
    expect(m[1]![TRANSFER]).toBeGreaterThan(0);
    expect(m[1]![TRANSFER] % (32 * 64)).toBe(0); // batches of 32 objects of 64 bytes
  });

  itOracle('thread cache: past its 64 KiB ceiling a scavenge hands back half of each low-water mark and raises the ceiling by 64 KiB', async () => {
    // 2000 objects drained the list (low-water mark 0): the first scavenges hand nothing back, so
    // all 100 freed objects stay; later, lists past their limit send batches to the transfer cache.
    const ops: TcOp[] = [];
    for (let i = 0; i < 2000; i++) ops.push({ op: 'm', id: i, size: 1000 });
    for (let i = 0; i < 2000; i++) { ops.push({ op: 'f', id: i }); if (i % 100 === 99) ops.push({ op: 'p' }); }
    for (let i = 0; i < 1000; i++) { ops.push({ op: 'm', id: i, size: 1000 }); if (i % 100 === 99) ops.push({ op: 'p' }); }
    for (let i = 0; i < 1000; i++) { ops.push({ op: 'f', id: i }); if (i % 100 === 99) ops.push({ op: 'p' }); }
    const m = await both(ops);
    expect(m[0]![THREAD]).toBe(100 * 1024);
    expect(Math.max(...m.map((x) => x[THREAD]))).toBeLessThan(2000 * 1024);
    expect(Math.max(...m.map((x) => x[TRANSFER]))).toBe(MiB); // 32 batches of 32 objects: the class's 1 MiB
  });

  itOracle('TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES: the caches share the budget (here the 512 KiB floor)', async () => {
    const ops: TcOp[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20000; i++) ops.push({ op: 'm', id: i, size: 16 + (i % 40) * 24 });
      for (let i = 0; i < 20000; i++) { ops.push({ op: 'f', id: i }); if (i % 1000 === 999) ops.push({ op: 'p' }); }
    }
    const small = await both(ops, { TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES: '1' });
    const big = await both(ops);
    for (const x of small) expect(x[THREAD]).toBeLessThanOrEqual(512 * KiB);
    expect(Math.max(...big.map((x) => x[THREAD]))).toBeGreaterThan(512 * KiB);
  });

  itOracle('transfer cache: at most 1 MiB of a class, but always one batch', async () => {
    // 200000 bytes → class 204800, batch 2: room for max(1, 1 MiB / (204800 × 2)) = 2 batches.
    const ops: TcOp[] = [];
    for (let i = 0; i < 60; i++) ops.push({ op: 'm', id: i, size: 200000 });
    for (let i = 0; i < 60; i++) { ops.push({ op: 'f', id: i }); ops.push({ op: 'p' }); }
    const m = await both(ops);
    for (const x of m) expect(x[TRANSFER]).toBeLessThanOrEqual(2 * 2 * 204800);
    expect(Math.max(...m.map((x) => x[TRANSFER]))).toBe(2 * 2 * 204800);
  });

  itOracle('central lists: a span whose objects all come back returns to the page heap', async () => {
    const ops: TcOp[] = [];
    for (let i = 0; i < 3000; i++) ops.push({ op: 'm', id: i, size: 8000 });
    ops.push({ op: 'p' });
    for (let i = 0; i < 3000; i++) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' });
    const m = await both(ops);
    expect(m[1]![PF] - m[0]![PF]).toBeGreaterThan(3000 * 8192 / 2);
  });

  itOracle('page heap: page-level blocks, growth by max(n, 128) pages, coalescing of freed neighbours', async () => {
    const m = await both([
      { op: 'm', id: 0, size: 300000 }, { op: 'p' },              // 37 pages
      { op: 'm', id: 1, size: 3 * MiB + 1 }, { op: 'p' },         // 385 pages: the heap grows by exactly that
      { op: 'f', id: 0 }, { op: 'f', id: 1 }, { op: 'p' },
      { op: 'm', id: 2, size: 117 * PAGE }, { op: 'p' },          // fits the re-coalesced start-up span
    ]);
    expect(m[0]![A] - 73752).toBe(37 * PAGE);
    expect(m[1]![HEAP] - MiB).toBe(385 * PAGE);
    expect(m[1]![A] - m[0]![A]).toBe(385 * PAGE);
    expect(m[2]![PF]).toBe(958464 + 385 * PAGE);
    expect(m[3]![HEAP]).toBe(m[2]![HEAP]);
  });

  itOracle('page heap: best fit among large spans; a returned span is taken only when it fits better', async () => {
    const m = await both([
      { op: 'm', id: 0, size: 200 * PAGE }, { op: 'm', id: 1, size: 8 }, { op: 'm', id: 2, size: 150 * PAGE }, { op: 'm', id: 3, size: 300 * PAGE },
      { op: 'f', id: 2 }, { op: 't', pad: 0 },                    // 150 pages returned (and the rest)
      { op: 'f', id: 0 }, { op: 'p' },                            // 200 pages normal
      { op: 'm', id: 4, size: 140 * PAGE }, { op: 'p' },
    ]);
    const before = m[1]!, after = m[2]!;
    expect(after[HEAP]).toBe(before[HEAP]);
    expect(after[PU] - before[PU]).toBe(-140 * PAGE);
    expect(after[PF]).toBe(before[PF]);
  });

  itOracle('ReleaseFreeMemory() releases every normal free span', async () => {
    const ops: TcOp[] = [];
    for (let i = 0; i < 50; i++) ops.push({ op: 'm', id: i, size: 100000 + i * 5000 });
    for (let i = 0; i < 50; i += 2) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' }, { op: 't', pad: 0 });
    const m = await both(ops);
    expect(m[0]![PF]).toBeGreaterThan(0);
    expect(m[1]![PF]).toBe(0);
    expect(m[1]![PU]).toBe(m[0]![PU] + m[0]![PF]);
    expect(m[1]![CENTRAL] + m[1]![TRANSFER] + m[1]![THREAD]).toBe(m[0]![CENTRAL] + m[0]![TRANSFER] + m[0]![THREAD]);
  });

  itOracle('TCMALLOC_AGGRESSIVE_DECOMMIT=1: every span freed to the page heap is released at once', async () => {
    const ops: TcOp[] = [];
    for (let i = 0; i < 300; i++) {
      ops.push({ op: 'm', id: i, size: [40, 3000, 70000, 400000][i % 4]! });
      if (i % 3 === 2) ops.push({ op: 'f', id: i - 1 });
      ops.push({ op: 'p' });
    }
    const m = await both(ops, { TCMALLOC_AGGRESSIVE_DECOMMIT: '1' });
    for (const x of m) expect(x[PF]).toBe(0);
    expect(m[m.length - 1]![PU]).toBeGreaterThan(0);
  });

  itOracle('the release countdown starts at 2^18 pages (the rate is unread at the first growth), then 1000 / rate pages per page released', async () => {
    const cycles = (n: number): TcOp[] => {
      const ops: TcOp[] = [];
      for (let i = 0; i < n; i++) {
        const slot = 1 + (i % 7);
        if (i >= 7) ops.push({ op: 'f', id: slot });
        ops.push({ op: 'm', id: 0, size: 8 * MiB }, { op: 'm', id: slot, size: 300000 + (i % 13) * PAGE }, { op: 'f', id: 0 }, { op: 'p' });
      }
      return ops;
    };
    const ops = cycles(420);
    const rate1 = await both(ops);
    const firstRelease = rate1.findIndex((x) => x[PU] > 0);
    // 2^18 pages = 256 frees of 8 MiB (1024 pages), less what start-up and the smaller blocks freed.
    expect(firstRelease).toBeGreaterThan(200);
    expect(firstRelease).toBeLessThan(256);
    const rate0 = await both(ops, { TCMALLOC_RELEASE_RATE: '0' });
    expect(rate0[rate0.length - 1]![PU]).toBe(0);
    const rate10 = await both(ops, { TCMALLOC_RELEASE_RATE: '10' });
    expect(rate10.findIndex((x) => x[PU] > 0)).toBe(firstRelease);
    const scavenges = (m: Props[]): number => m.filter((x, i) => i > 0 && x[PU] > m[i - 1]![PU]).length;
    expect(scavenges(rate10)).toBeGreaterThan(scavenges(rate1));
  });

  itOracle('before growing past a multiple of 128 MiB with a quarter of the heap free, every normal span is released', async () => {
    const ops: TcOp[] = [];
    let id = 0;
    for (let i = 0; i < 120; i++) ops.push({ op: 'm', id: id++, size: MiB - 100 });
    for (let i = 0; i < 120; i += 2) ops.push({ op: 'f', id: i });
    ops.push({ op: 't', pad: 0 });
    for (let i = 1; i < 120; i += 4) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' }, { op: 'm', id: id++, size: 20 * MiB }, { op: 'p' });
    const m = await both(ops);
    const before = m[1]!, after = m[2]!;
    expect(before[PF]).toBeGreaterThan(0);
    expect(before[PU]).toBeGreaterThan(0);
    expect(Math.floor(before[HEAP] / (128 * MiB))).toBe(0);
    expect(after[PF]).toBe(0);
  });

  itOracle('realloc keeps the block unless it outgrows it or falls below half; a small growth takes 1.25 × the old size', async () => {
    const m = await both([
      { op: 'm', id: 0, size: 1000 }, { op: 'p' },   // class 1024
      { op: 'r', id: 0, size: 1024 }, { op: 'p' },   // fits
      { op: 'r', id: 0, size: 600 }, { op: 'p' },    // ≥ half: kept
      { op: 'r', id: 0, size: 400 }, { op: 'p' },    // < half: class 416
      { op: 'r', id: 0, size: 450 }, { op: 'p' },    // < 416 × 1.25: malloc(520) → class 576
    ]);
    const sizes = m.slice(0, 5).map((x) => x[A] - 73752);
    expect(sizes).toEqual([1024, 1024, 1024, 416, 576]);
  });

  itOracle('memalign up to 8 KiB rounds the size up to the alignment', async () => {
    const m = await both([
      { op: 'a', id: 0, align: 16, size: 1 }, { op: 'p' },
      { op: 'a', id: 1, align: 4096, size: 5000 }, { op: 'p' },
      { op: 'a', id: 2, align: 8192, size: 300000 }, { op: 'p' },
    ]);
    expect(m[0]![A] - 73752).toBe(16);
    expect(m[1]![A] - m[0]![A]).toBe(8192);
    expect(m[2]![A] - m[1]![A]).toBe(37 * PAGE);
  });
});
