// The ptmalloc policy against the real glibc, call by call: reproducible random mixes of malloc,
// calloc, memalign, realloc, free and malloc_trim, plus scenarios aimed at single rules, replayed
// through the oracle and the engine; all ten mallinfo2 fields must agree after every call.
import { describe, it, expect } from 'vitest';
import {
  oracle, runOracle, runSim, opsScript, workload, firstDifference, type PtOp, type WorkloadShape,
} from './harness.js';
import { parseGlibcEnv } from '../../../src/policies/ptmalloc/glibc-env.js';

const info = oracle();
if (info.skipReason) console.warn(`[ptmalloc ops fidelity] ${info.skipReason}`);
const itOracle = info.binary ? it : it.skip;

async function agree(ops: PtOp[], env: Record<string, string> = {}, every = 1, build: 'debug' | 'release' = 'debug'): Promise<number> {
  const params = parseGlibcEnv(Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n'));
  const real = runOracle({ text: opsScript(ops) }, { ops: true, every, env });
  const sim = await runSim(ops, { every, params, build, check: build === 'debug' });
  expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
  return real.checkpoints.length;
}

const SHAPES: Record<string, WorkloadShape> = {
  mixed: { ops: 5000 },
  smallChurn: { ops: 5000, tiny: 80, small: 15, medium: 3, large: 1, huge: 1, maxLive: 3000 },
  bigBlocks: { ops: 3000, tiny: 10, small: 20, medium: 40, large: 20, huge: 10, maxLive: 200 },
  reallocHeavy: { ops: 5000, free: 0.3, realloc: 0.35, maxLive: 800 },
};
const TCACHE_OFF = { GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' };

describe('ptmalloc matches glibc 2.36 after every call', () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    for (const seed of [1, 2, 3]) {
      itOracle(`${name} #${seed}, defaults`, async () => {
        await agree(workload(seed * 7919 + name.length, shape));
      });
      itOracle(`${name} #${seed}, tcache_count=0`, async () => {
        await agree(workload(seed * 7919 + name.length, shape), TCACHE_OFF);
      });
    }
  }

  itOracle('a long mixed run, checkpoints every 100 events (release build)', async () => {
    const n = await agree(workload(424242, { ops: 60000, maxLive: 4000 }), {}, 100, 'release');
    expect(n).toBeGreaterThanOrEqual(601); // 600 periodic + trims + the end
  });
});

describe('ptmalloc rules one at a time, against glibc', () => {
  itOracle('the unsorted pass files at most 10000 chunks per call (MAX_ITERS)', async () => {
    const ops: PtOp[] = [];
    let id = 0;
    for (let i = 0; i < 12000; i++) { ops.push({ op: 'm', id: id++, size: 200 }, { op: 'm', id: id++, size: 24 }); }
    for (let i = 0; i < 24000; i += 2) ops.push({ op: 'f', id: i });
    ops.push({ op: 'm', id: id++, size: 300 }, { op: 'm', id: id++, size: 300 }, { op: 'm', id: id++, size: 5000 });
    await agree(ops, {}, 1000);
    await agree(ops, TCACHE_OFF, 1000);
  });

  itOracle('large bins: many chunks of equal and near sizes, best fit and size-list heads', async () => {
    const ops: PtOp[] = [];
    let id = 0;
    const sizes = [1500, 1500, 1500, 1600, 1520, 1500, 2000, 1600, 1500, 9000, 9000, 8800, 70000, 70000, 65000];
    for (let round = 0; round < 4; round++) {
      const ids: number[] = [];
      for (const s of sizes) { ids.push(id); ops.push({ op: 'm', id: id++, size: s + round * 16 }, { op: 'm', id: id++, size: 40 }); }
      for (const i of ids) ops.push({ op: 'f', id: i });
      ops.push({ op: 'm', id: id++, size: 1200 });               // sorts unsorted into the large bins
      for (const s of [1490, 1500, 1510, 1590, 8000, 8990, 64000, 1500, 1500]) ops.push({ op: 'm', id: id++, size: s });
    }
    await agree(ops);
    await agree(ops, TCACHE_OFF);
  });

  itOracle('last remainder: runs of small requests split the same remainder', async () => {
    const ops: PtOp[] = [{ op: 'm', id: 0, size: 20000 }, { op: 'm', id: 1, size: 16 }, { op: 'f', id: 0 }];
    for (let i = 2; i < 200; i++) ops.push({ op: 'm', id: i, size: 100 + (i % 7) * 48 });
    await agree(ops);
    await agree(ops, TCACHE_OFF);
  });

  itOracle('realloc: grow into top, into a free neighbour, shrink, move, and mmapped chunks (mremap)', async () => {
    const ops: PtOp[] = [
      { op: 'm', id: 0, size: 100 }, { op: 'r', id: 0, size: 5000 }, { op: 'r', id: 0, size: 300 },
      { op: 'm', id: 1, size: 3000 }, { op: 'm', id: 2, size: 3000 }, { op: 'm', id: 3, size: 10 },
      { op: 'f', id: 2 }, { op: 'r', id: 1, size: 5500 }, { op: 'r', id: 1, size: 9000 },
      { op: 'm', id: 4, size: 300000 }, { op: 'r', id: 4, size: 600000 }, { op: 'r', id: 4, size: 601000 },
      { op: 'r', id: 4, size: 140000 }, { op: 'r', id: 4, size: 50 }, { op: 'f', id: 4 },
      { op: 'm', id: 5, size: 100 }, { op: 'm', id: 6, size: 100 }, { op: 'f', id: 5 }, { op: 'r', id: 6, size: 2000 },
    ];
    await agree(ops);
    await agree(ops, TCACHE_OFF);
  });

  itOracle('memalign: leaders and tails given back, small and mmapped chunks', async () => {
    const ops: PtOp[] = [];
    let id = 0;
    for (const align of [32, 64, 128, 256, 1024, 4096]) {
      for (const size of [1, 40, 1000, 5000, 300000]) {
        ops.push({ op: 'a', id: id++, align, size }, { op: 'm', id: id++, size: 30 });
      }
    }
    for (let i = 0; i < id; i += 3) ops.push({ op: 'f', id: i });
    await agree(ops);
    await agree(ops, TCACHE_OFF);
  });

  itOracle('calloc skips the tcache', async () => {
    const ops: PtOp[] = [{ op: 'm', id: 0, size: 40 }, { op: 'f', id: 0 }, { op: 'c', id: 1, size: 40 }, { op: 'm', id: 2, size: 40 }];
    await agree(ops);
  });

  itOracle('a top of exactly 32 bytes: malloc_trim and trimming free grow the break (signed/unsigned quirk)', async () => {
    // 135168 − 656 (tcache) − 32 − 134448 leaves top at 32 bytes; nb ≥ the mmap threshold, but top serves it.
    const ops: PtOp[] = [
      { op: 'm', id: 0, size: 1 }, { op: 'm', id: 1, size: 134440 }, { op: 'p' },
      { op: 't', pad: 0 }, { op: 'm', id: 2, size: 4096 - 32 - 8 - 32 }, { op: 'p' }, { op: 't', pad: 5000 },
    ];
    const real = runOracle({ text: opsScript(ops) }, { ops: true });
    expect(real.checkpoints[0]!.mallinfo.keepcost).toBe(32);
    expect(real.checkpoints[1]!.mallinfo.arena - real.checkpoints[0]!.mallinfo.arena).toBe(4096);
    await agree(ops);
    const viaFree: PtOp[] = [
      { op: 'm', id: 0, size: 70000 }, { op: 'm', id: 1, size: 16 }, { op: 'm', id: 2, size: 135168 - 656 - 70016 - 32 - 32 - 8 },
      { op: 'p' }, { op: 'f', id: 0 }, { op: 'p' },
    ];
    await agree(viaFree, { MALLOC_TRIM_THRESHOLD_: '0' });
  });

  itOracle('malloc_trim with pads', async () => {
    const ops: PtOp[] = [];
    for (let i = 0; i < 300; i++) ops.push({ op: 'm', id: i, size: 9000 + (i % 5) * 3000 });
    for (let i = 0; i < 300; i += 2) ops.push({ op: 'f', id: i });
    for (let i = 1; i < 300; i += 6) ops.push({ op: 'f', id: i });
    ops.push({ op: 't', pad: 0 }, { op: 'm', id: 1000, size: 100 }, { op: 't', pad: 1 << 20 }, { op: 'f', id: 299 }, { op: 't', pad: 4096 });
    await agree(ops);
  });
});

describe('ptmalloc parameters as GLIBC_TUNABLES / MALLOC_*_ (same text to glibc and to parseGlibcEnv)', () => {
  const cases: Record<string, string>[] = [
    { GLIBC_TUNABLES: 'glibc.malloc.mxfast=0' },
    { GLIBC_TUNABLES: 'glibc.malloc.mxfast=160:glibc.malloc.tcache_count=2' },
    { GLIBC_TUNABLES: 'glibc.malloc.tcache_max=0' },
    { GLIBC_TUNABLES: 'glibc.malloc.tcache_max=200:glibc.malloc.tcache_count=65535' },
    { GLIBC_TUNABLES: 'glibc.malloc.tcache_max=5000' },                 // out of range: ignored
    { GLIBC_TUNABLES: 'glibc.malloc.tcache_unsorted_limit=3' },
    { MALLOC_TRIM_THRESHOLD_: '0x10000', MALLOC_TOP_PAD_: '0' },
    { MALLOC_MMAP_THRESHOLD_: '12k' },                                  // glibc reads 12
    { MALLOC_MMAP_THRESHOLD_: '1048576', MALLOC_MMAP_MAX_: '2' },
    { MALLOC_MMAP_MAX_: '0', MALLOC_TOP_PAD_: '01000000' },              // octal
    { MALLOC_MMAP_MAX_: '-1' },                                         // out of range: ignored
    { MALLOC_TRIM_THRESHOLD_: '4096', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=10000000' }, // tunable wins
  ];
  for (const env of cases) {
    const name = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
    itOracle(name, async () => {
      await agree(workload(99, { ops: 4000, maxLive: 600 }), env);
    });
  }
});

describe('ptmalloc resident pages of the break match glibc (programs that write their whole blocks)', () => {
  // The oracle writes every usable byte of each block (--write) and reads residency with mincore;
  // the engine assumes the same writes. What malloc itself writes (headers, free-list links,
  // footers) and what malloc_trim madvises decide the rest, page for page.
  async function residentAgree(ops: PtOp[]): Promise<void> {
    const real = runOracle({ text: opsScript(ops) }, { ops: true, every: 1, resident: true, write: true });
    const sim = await runSim(ops, { every: 1 });
    expect(sim.samples.length).toBe(real.checkpoints.length);
    real.checkpoints.forEach((r, i) => {
      const h = sim.samples[i]!.heaps[0]!;
      const simBreakResident = h.residentBytes - h.policyCounters.hblkhd!; // mapped chunks are all written
      if (simBreakResident !== r.breakResidentBytes) {
        expect(`event ${r.event}: sim ${simBreakResident}`).toBe(`event ${r.event}: sim ${r.breakResidentBytes}`);
      }
    });
  }
  for (const seed of [11, 12, 13]) {
    itOracle(`mixed calls with malloc_trim #${seed}`, async () => {
      await residentAgree(workload(seed, { ops: 4000, maxLive: 500, trim: 0.01 }));
    });
  }
  itOracle('malloc_trim on a pinned heap gives back the same pages', async () => {
    const ops: PtOp[] = [];
    for (let i = 0; i < 300; i++) ops.push({ op: 'm', id: i, size: 3000 + (i % 13) * 1500 });
    ops.push({ op: 'm', id: 300, size: 2000 });
    for (let i = 0; i < 300; i += 1 + (i % 3)) ops.push({ op: 'f', id: i });
    ops.push({ op: 't', pad: 0 }, { op: 'm', id: 301, size: 70000 }, { op: 't', pad: 65536 });
    await residentAgree(ops);
  });
});
