// free() trims the break when the top chunk reaches trim_threshold, not only when it passes it
// (malloc.c _int_free: `chunksize (av->top) >= mp_.trim_threshold`). Pinned exactly at the boundary,
// on the real glibc (the oracle) and on the model: an engine mutation of `npm run mutate` (`>=` to
// `>`) survived every other test. Additive test in ptmalloc's tests, for issue 18 point 8.
import { describe, expect, it } from 'vitest';
import { oracle, opsScript, runOracle, runSim, type Mallinfo, type PtOp } from './harness.js';

const info = oracle();
const itOracle = info.binary ? it : it.skip;

// One block from the break, freed: it merges into top, whose size is then `keepcost`.
const OPS: PtOp[] = [{ op: 'm', id: 0, size: 100_000 }, { op: 'p' }, { op: 'f', id: 0 }, { op: 'p' }];
const NEVER = 2 ** 40;

async function sim(trimThresholdBytes: number): Promise<Mallinfo[]> {
  const r = await runSim(OPS, { params: { trim_threshold: trimThresholdBytes, top_pad: 0, tcache_count: 0 }, build: 'debug', check: true });
  return r.checkpoints.map((c) => c.mallinfo);
}
function real(trimThresholdBytes: number): Mallinfo[] {
  const env = { MALLOC_TRIM_THRESHOLD_: String(trimThresholdBytes), MALLOC_TOP_PAD_: '0', GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' };
  return runOracle({ text: opsScript(OPS) }, { ops: true, env }).checkpoints.map((c) => c.mallinfo);
}

describe('ptmalloc: free trims at trim_threshold exactly', () => {
  it('model: a top of exactly trim_threshold bytes is trimmed, one byte less is kept', async () => {
    const kept = await sim(NEVER);
    const top = kept[1]!.keepcost;
    expect(kept[1]!.arena).toBe(kept[0]!.arena); // never trimmed
    const at = await sim(top);
    expect(at[1]!.arena).toBeLessThan(kept[1]!.arena);
    const above = await sim(top + 1);
    expect(above[1]!.arena).toBe(kept[1]!.arena);
  });

  itOracle('the real glibc agrees at the same three thresholds', async () => {
    const top = real(NEVER)[1]!.keepcost;
    for (const t of [NEVER, top, top + 1]) expect(await sim(t), `trim_threshold ${t}`).toEqual(real(t));
  });
});
