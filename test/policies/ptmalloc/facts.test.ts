// The [measured] facts of docs/glibc-malloc.md (glibc 2.36, Debian 12, x86-64), each
// checked twice: against the real glibc through the oracle (so the fact itself is re-measured on
// this machine) and against the engine's ptmalloc policy.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, type PtOp, type Mallinfo } from './harness.js';

const info = oracle();
if (info.skipReason) console.warn(`[ptmalloc facts] ${info.skipReason}`);

const KiB = 1024;
const MiB = 1024 * KiB;

/** Runs the same calls through both; returns the mallinfo at each `p` and at the end, per side. */
async function both(ops: PtOp[], env: Record<string, string> = {}, params: Record<string, number> = {}): Promise<{ real: Mallinfo[]; sim: Mallinfo[] }> {
  const real = info.binary ? runOracle({ text: opsScript(ops) }, { ops: true, env }).checkpoints.map((c) => c.mallinfo) : [];
  const sim = (await runSim(ops, { params, build: 'debug', check: true })).checkpoints.map((c) => c.mallinfo);
  return { real, sim };
}

/** Asserts a fact on the simulation and, where the oracle runs, on the real glibc. */
function holds(r: { real: Mallinfo[]; sim: Mallinfo[] }, fact: (m: Mallinfo[]) => void): void {
  fact(r.sim);
  if (info.binary) {
    fact(r.real);
    expect(r.sim).toEqual(r.real);
  }
}

describe('ptmalloc [measured] facts', () => {
  it('the first malloc maps 135168 bytes of break (top_pad is 128 KiB, not 0)', async () => {
    holds(await both([{ op: 'm', id: 0, size: 1 }, { op: 'p' }]), (m) => {
      expect(m[0]!.arena).toBe(135168);
    });
  });

  it('malloc(1) is a 32-byte chunk: 24 usable bytes', async () => {
    // The tcache itself is the first chunk (656 bytes); malloc(1) adds 32, malloc(24) 32, malloc(25) 48.
    holds(await both([
      { op: 'm', id: 0, size: 1 }, { op: 'p' }, { op: 'm', id: 1, size: 24 }, { op: 'p' }, { op: 'm', id: 2, size: 25 }, { op: 'p' },
    ]), (m) => {
      expect(m[1]!.uordblks - m[0]!.uordblks).toBe(32);
      expect(m[2]!.uordblks - m[1]!.uordblks).toBe(48);
    });
  });

  it('mmapped chunks are ALIGN_UP(nb + 8, 4096): malloc(200000) → 200704, malloc(1 MiB) → 1052672', async () => {
    holds(await both([
      { op: 'm', id: 0, size: 200000 }, { op: 'p' }, { op: 'm', id: 1, size: MiB }, { op: 'p' },
    ]), (m) => {
      expect(m[0]!.hblkhd).toBe(200704);
      expect(m[0]!.hblks).toBe(1);
      expect(m[1]!.hblkhd - m[0]!.hblkhd).toBe(1052672);
    });
  });

  it('the mmap threshold is only consulted when bins and top cannot serve: 1 MiB comes from a big top', async () => {
    // 20000 fastbin chunks merge into a 2.2 MB top when the large request consolidates them.
    const ops: PtOp[] = [];
    for (let i = 0; i < 20000; i++) ops.push({ op: 'm', id: i, size: 100 });
    for (let i = 0; i < 20000; i++) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' }, { op: 'm', id: 20000, size: MiB }, { op: 'p' });
    holds(await both(ops), (m) => {
      expect(m[1]!.hblks).toBe(0);
      expect(m[1]!.arena).toBe(m[0]!.arena);
      expect(m[1]!.smblks).toBe(0);
    });
  });

  it('a later malloc(200000) with a 130368-byte top grows the break by exactly 204800', async () => {
    holds(await both([
      { op: 'm', id: 0, size: 4128 }, { op: 'p' },                      // 135168 − 656 − 4144 = 130368 of top
      { op: 'm', id: 1, size: MiB }, { op: 'f', id: 1 },                // raise the mmap threshold
      { op: 'm', id: 2, size: 200000 }, { op: 'p' },
    ]), (m) => {
      expect(m[0]!.keepcost).toBe(130368);
      expect(m[1]!.hblks).toBe(0);
      expect(m[1]!.arena - m[0]!.arena).toBe(204800);
    });
  });

  it('freeing a 1 MiB mmapped chunk raises the thresholds: the next 1 MiB comes from the heap and its free leaves ~1.18 MB of top', async () => {
    holds(await both([
      { op: 'm', id: 0, size: 1 }, { op: 'm', id: 1, size: MiB }, { op: 'p' },
      { op: 'f', id: 1 }, { op: 'm', id: 2, size: MiB }, { op: 'p' },
      { op: 'f', id: 2 }, { op: 'p' },
    ]), (m) => {
      expect(m[0]!.hblks).toBe(1);
      expect(m[1]!.hblks).toBe(0);
      expect(m[2]!.keepcost).toBeGreaterThan(1_180_000);
      expect(m[2]!.keepcost).toBeLessThan(1_190_000);
      expect(m[2]!.arena).toBe(m[1]!.arena); // trim threshold is 2105344 now: nothing given back
    });
  });

  it('a 40 MiB block is mmapped and its free does not move the threshold', async () => {
    holds(await both([
      { op: 'm', id: 0, size: 40 * MiB }, { op: 'p' }, { op: 'f', id: 0 },
      { op: 'm', id: 1, size: 200 * KiB }, { op: 'p' },
    ]), (m) => {
      expect(m[0]!.hblks).toBe(1);
      expect(m[1]!.hblks).toBe(1); // 200 KiB is still above the 128 KiB threshold
    });
  });

  it('20000 frees of 100-byte requests stay in fastbins: smblks = 19993 (7 sit in the tcache)', async () => {
    const ops: PtOp[] = [];
    for (let i = 0; i < 20000; i++) ops.push({ op: 'm', id: i, size: 100 });
    for (let i = 0; i < 20000; i++) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' });
    holds(await both(ops), (m) => {
      expect(m[0]!.smblks).toBe(19993);
      expect(m[0]!.fsmblks).toBe(19993 * 112);
      expect(m[0]!.arena).toBeGreaterThan(2_200_000);
    });
  });

  it('a single live chunk near the top pins everything beneath it', async () => {
    const ops: PtOp[] = [];
    for (let i = 0; i < 100; i++) ops.push({ op: 'm', id: i, size: 10000 });
    ops.push({ op: 'm', id: 100, size: 2000 }); // too big for the tcache and fastbins: its free coalesces
    for (let i = 0; i < 100; i++) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' }, { op: 'f', id: 100 }, { op: 'p' });
    holds(await both(ops), (m) => {
      expect(m[0]!.fordblks - m[0]!.keepcost).toBeGreaterThan(990_000); // held below the pin
      expect(m[0]!.arena).toBeGreaterThan(1_000_000);
      expect(m[1]!.arena).toBeLessThan(300_000);                        // the pin gone: trimmed
    });
  });

  it('malloc_trim madvises a pinned heap: resident falls, arena stays', async () => {
    const ops: PtOp[] = [];
    for (let i = 0; i < 1000; i++) ops.push({ op: 'm', id: i, size: 100_000 });
    ops.push({ op: 'm', id: 1000, size: 16 });
    for (let i = 0; i < 1000; i++) ops.push({ op: 'f', id: i });
    ops.push({ op: 'p' }, { op: 't', pad: 0 });
    const sim = await runSim(ops, { build: 'release' });
    const cps = sim.checkpoints;
    const before = cps[0]!, after = cps[1]!;
    // Only top's tail leaves the arena; the ~98 MB of madvised free chunks stay counted.
    expect(before.mallinfo.arena - after.mallinfo.arena).toBe(before.mallinfo.keepcost - after.mallinfo.keepcost);
    expect(after.mallinfo.arena).toBeGreaterThan(98_000_000);
    const resident = sim.samples.map((s) => s.heaps[0]!.residentBytes);
    expect(resident[0]!).toBeGreaterThan(98_000_000);
    expect(resident[1]!).toBeLessThan(3_000_000);
    expect(sim.trims[0]!.residentBytesGiven).toBeGreaterThan(95_000_000);
    if (info.binary) {
      const real = runOracle({ text: opsScript(ops) }, { ops: true, resident: true });
      expect(sim.checkpoints.map((c) => c.mallinfo)).toEqual(real.checkpoints.map((c) => c.mallinfo));
      expect(real.trims[0]!.result).toBe(1);
      // The real process touched only what malloc wrote; after the trim both hold about a page per chunk.
      expect(real.checkpoints[1]!.breakResidentBytes!).toBeLessThan(3_000_000);
    }
  });
});
