// realloc of mmapped chunks (plain, calloc'd and memaligned) and of memaligned chunks in the break,
// against glibc 2.36. A mapped chunk is resized by mremap_chunk: the new mapping is the request's
// chunk size plus the chunk's offset in its mapping plus SIZE_SZ, rounded up to whole pages. A
// memaligned mapped chunk's offset is its alignment slack, which for alignments above a page
// depends on the address the kernel gave the mapping; there the test checks the rule on each side
// with that side's own offset (read back by shrinking to 1 byte), and everything else exactly.
import { describe, it, expect } from 'vitest';
import {
  oracle, runOracle, runSim, opsScript, firstDifference, workload, threadedWorkload, MALLINFO_FIELDS, type PtOp, type Checkpoint,
} from './harness.js';
import { parseGlibcEnv } from '../../../src/policies/ptmalloc/glibc-env.js';

const info = oracle();
if (info.skipReason) console.warn(`[ptmalloc realloc of mapped chunks] ${info.skipReason}`);
const itOracle = info.binary ? it : it.skip;

const PAGE_BYTES = 4096;            // x86-64 page size (GLRO(dl_pagesize))
const SIZE_SZ = 8;                  // malloc.c: SIZE_SZ on 64-bit
const MINSIZE = 32;                 // malloc.c: MINSIZE on 64-bit
const MALLOC_ALIGN_MASK = 15;       // malloc.c: MALLOC_ALIGNMENT - 1 on x86-64

const request2size = (n: number): number => Math.max(MINSIZE, (n + SIZE_SZ + MALLOC_ALIGN_MASK) & ~MALLOC_ALIGN_MASK);
const pagesUp = (n: number): number => Math.ceil(n / PAGE_BYTES) * PAGE_BYTES;

/** Sizes a realloc of a mapped chunk goes to: within its pages, across pages, far (the mapping
 *  moves), smaller, below the mmap threshold, down to one chunk, then back up. */
const TARGETS = [300_100, 370_000, 1_500_000, 200_000, 100_000, 5_000, 50, 640_000];
const MAPPED_BYTES = 300_000;
const BREAK_BYTES = 5_000;

/** One block of each kind, each reallocated through TARGETS, then freed (the dynamic mmap
 *  threshold then moves by the freed chunk's size, which a malloc between the old and new
 *  threshold shows). */
function familyScript(align: number): PtOp[] {
  const ops: PtOp[] = [{ op: 'm', id: 100, size: 10 }];
  const blocks: PtOp[] = [
    { op: 'a', id: 0, align, size: MAPPED_BYTES },
    { op: 'a', id: 1, align, size: BREAK_BYTES },
    { op: 'c', id: 2, size: MAPPED_BYTES },
    { op: 'm', id: 3, size: MAPPED_BYTES },
  ];
  for (const b of blocks) {
    ops.push(b, { op: 'm', id: 200 + ops.length, size: 24 });
    for (const size of TARGETS) ops.push({ op: 'r', id: (b as { id: number }).id, size });
  }
  for (const b of blocks) ops.push({ op: 'f', id: (b as { id: number }).id });
  ops.push({ op: 'm', id: 101, size: 200_000 }, { op: 'm', id: 102, size: 700_000 });
  return ops;
}

async function agree(ops: PtOp[], env: Record<string, string> = {}): Promise<void> {
  const params = parseGlibcEnv(Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n'));
  const real = runOracle({ text: opsScript(ops) }, { ops: true, every: 1, env });
  const sim = await runSim(ops, { every: 1, params, build: 'debug', check: true });
  expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
}

describe('realloc of mapped and memaligned chunks matches glibc exactly (alignments up to a page)', () => {
  for (const align of [32, 64, 128, 512, 2048, 4096]) {
    itOracle(`memalign(${align}, …), calloc and malloc blocks grown, shrunk, freed`, async () => {
      await agree(familyScript(align));
    });
  }
  itOracle('a mapped chunk reallocated below the threshold stays mapped; one in the break that must move gets a mapping', async () => {
    const ops: PtOp[] = [
      { op: 'm', id: 0, size: 400_000 }, { op: 'r', id: 0, size: 40 }, { op: 'p' },
      { op: 'm', id: 1, size: 40 }, { op: 'r', id: 1, size: 400_000 }, { op: 'p' },
    ];
    const real = runOracle({ text: opsScript(ops) }, { ops: true });
    expect(real.checkpoints[0]!.mallinfo.hblks).toBe(1);
    expect(real.checkpoints[0]!.mallinfo.hblkhd).toBe(pagesUp(request2size(40) + SIZE_SZ));
    // top (about 134 KiB) cannot hold 400,000 bytes: _int_realloc's malloc maps a new chunk.
    expect(real.checkpoints[1]!.mallinfo.hblks).toBe(2);
    expect(real.checkpoints[1]!.mallinfo.hblkhd).toBe(pagesUp(request2size(40) + SIZE_SZ) + pagesUp(request2size(400_000) + SIZE_SZ));
    await agree(ops);
  });
  // Mixes heavy in memalign (alignments 32 to 4096), calloc and realloc, with most chunks mapped.
  const MIX = { ops: 3000, memalign: 0.35, realloc: 0.3, calloc: 0.1, large: 20, huge: 10, maxLive: 300 };
  const LOW_THRESHOLD = { MALLOC_MMAP_THRESHOLD_: '4096' };
  itOracle('random memalign/calloc/realloc mix, mmap threshold 4 KiB', async () => {
    await agree(workload(5, MIX), LOW_THRESHOLD);
  });
  itOracle('random memalign/calloc/realloc mix on threads (mapped chunks resized from other threads)', async () => {
    await agree(threadedWorkload(6, MIX), LOW_THRESHOLD);
  });
});

describe('memalign above a page: the alignment slack decides the remapped size, on both sides', () => {
  // Random-looking but fixed sizes: 4 alignments × 3 starting sizes × 4 targets.
  const rng = (seed: number): (() => number) => () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
  const next = rng(16);
  const cases: { align: number; size: number; targets: number[] }[] = [];
  for (const align of [8192, 65536, 262144, 1 << 20]) {
    for (let i = 0; i < 3; i++) {
      const size = 140_000 + (next() % 600_000);
      const targets = [0, 1, 2, 3].map(() => 1 + (next() % 2_000_000));
      cases.push({ align, size, targets });
    }
  }
  // The case reported on issue ptm-fix: realloc growing memalign(65536, 300000) to 370000.
  cases.unshift({ align: 65536, size: 300_000, targets: [370_000] });

  /** hblkhd after each realloc, and the chunk's offset read from the last, 1-byte, realloc:
   *  a 1-byte request is MINSIZE, so the mapping is offset + MINSIZE + SIZE_SZ rounded to pages. */
  function offsetOf(last: Checkpoint): number {
    // The slack of a page-aligned mapping is k pages less the chunk header: k·4096 − 16.
    return last.mallinfo.hblkhd - PAGE_BYTES - 2 * SIZE_SZ;
  }

  for (const c of cases) {
    itOracle(`memalign(${c.align}, ${c.size}) → realloc ${c.targets.join(', ')} → 1`, async () => {
      const ops: PtOp[] = [{ op: 'm', id: 1, size: 10 }, { op: 'a', id: 0, align: c.align, size: c.size }, { op: 'p' }];
      for (const t of c.targets) ops.push({ op: 'r', id: 0, size: t }, { op: 'p' });
      ops.push({ op: 'r', id: 0, size: 1 }, { op: 'p' });
      const real = runOracle({ text: opsScript(ops) }, { ops: true }).checkpoints;
      const sim = (await runSim(ops, { build: 'debug', check: true })).checkpoints;
      expect(sim.length).toBe(real.length);
      // The mapping memalign makes does not depend on where it is.
      const mapped = pagesUp(request2size(request2size(c.size) + c.align + MINSIZE) + SIZE_SZ);
      expect(real[0]!.mallinfo.hblkhd).toBe(mapped);
      expect(sim[0]!.mallinfo).toEqual(real[0]!.mallinfo);
      const last = c.targets.length + 1;
      for (const [side, cps] of [['glibc', real], ['model', sim]] as const) {
        const offset = offsetOf(cps[last]!);
        // memalign's slack is at least MINSIZE and less than align + MINSIZE.
        expect(offset >= MINSIZE && offset < c.align + MINSIZE, side).toBe(true);
        c.targets.forEach((t, i) => {
          const want = pagesUp(request2size(t) + offset + SIZE_SZ);
          expect(`${side} after realloc ${t}: ${cps[1 + i]!.mallinfo.hblkhd}`).toBe(`${side} after realloc ${t}: ${want}`);
        });
      }
      // Everything but the mapping's size agrees exactly.
      real.forEach((r, i) => {
        for (const f of MALLINFO_FIELDS) if (f !== 'hblkhd') expect(`${i} ${f} ${sim[i]!.mallinfo[f]}`).toBe(`${i} ${f} ${r.mallinfo[f]}`);
      });
    });
  }
});
