// A deterministic mixed op trace for first-fit (alloc, aligned alloc, realloc, free, trim) applied in
// small batches, hashing the address of every block an op placed plus a final sample. Shared by the
// golden test and by bench/compare.ts (differential runs of two engine builds).
import { createHash } from 'node:crypto';
import type { Engine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { Prng } from '../../../src/workload/prng.js';

export interface TraceOptions { seed: number; ops: number; maxLive: number; largeShare: number }

/** Runs the trace on heap 0 of `e`; returns the SHA-256 of everything observed. */
export function addressTrace(e: Engine, o: TraceOptions): string {
  const rng = new Prng(o.seed);
  const hash = createHash('sha256');
  const live: number[] = [];
  const freeIds: number[] = [];
  let nextId = 0;
  const size = (): number => {
    const r = rng.next();
    if (r < o.largeShare) return 16_384 + rng.int(600_000);
    if (r < 0.3) return 257 + rng.int(16_000);
    return rng.int(257);
  };
  let done = 0;
  while (done < o.ops) {
    const n = 1 + rng.int(32);
    const ops = new OpBuffer(n);
    const placed: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      if (live.length < o.maxLive && (r < 0.5 || !live.length)) {
        const id = freeIds.length ? freeIds.pop()! : nextId++;
        if (rng.next() < 0.05) ops.alignedAlloc(0, id, size(), 2 ** (5 + rng.int(8)));
        else ops.alloc(0, id, size());
        live.push(id);
        placed.push(id);
      } else if (r < 0.58 && live.length) {
        const id = live[rng.int(live.length)]!;
        ops.realloc(0, id, size());
        placed.push(id);
      } else if (r < 0.583) {
        ops.trim(0, rng.int(2) ? 0 : 65_536);
      } else if (live.length) {
        const k = rng.int(live.length);
        const id = live[k]!;
        live[k] = live[live.length - 1]!;
        live.pop();
        ops.free(0, id);
        freeIds.push(id);
      }
    }
    done += n;
    const r = e.apply(ops);
    hash.update(`${r.failedOps};`);
    for (const id of placed) hash.update(`${e.blockOf(id).address},`);
  }
  hash.update(JSON.stringify(e.sample()));
  hash.update(`check ${e.check()}`);
  return hash.digest('hex');
}
