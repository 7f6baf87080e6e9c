// ptmalloc keeps two fields few chunks need outside the 32-byte chunk record, in a side table
// indexed like the records (assembly/policies/ptmalloc/ptmalloc.ts): the size links of large-bin
// chunks that head their size, and a mapped chunk's offset in its mapping. Here they are made
// while the record pool is small, the pool then grows several times (the side table grows with
// it), and only then are they read: the size list by best-fit searches and unlinks, the offset by
// the free of the aligned mapped chunk (its mapping's start and length). Invariants after every call (debug build) and the
// real glibc's mallinfo2 after every call.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, firstDifference, type PtOp } from './harness.js';

const info = oracle();
const itOracle = info.binary ? it : it.skip;

// Large-bin sizes (bytes requested): several chunks of some sizes, so a head has same-size followers.
const LARGE_SIZES = [1100, 1100, 1500, 2000, 2000, 2000, 3000, 5000, 5000, 12000];
// Small blocks allocated between making and reading the side fields: several doublings of the pool.
const GROWTH_BLOCKS = 9000;
const MAPPED_BYTES = 300_000;     // above the 128 KiB mmap threshold
const MAPPED_ALIGN = 1 << 16;     // the chunk starts inside its mapping: a nonzero offset

function ops(): PtOp[] {
  const out: PtOp[] = [];
  let id = 0;
  const mapped = id++;
  out.push({ op: 'a', id: mapped, align: MAPPED_ALIGN, size: MAPPED_BYTES });
  // Large chunks fenced by small busy ones (no coalescing), freed, then sorted into their bins by
  // a request none of them serves exactly.
  const large: number[] = [];
  for (const size of LARGE_SIZES) {
    large.push(id);
    out.push({ op: 'm', id: id++, size }, { op: 'm', id: id++, size: 24 });
  }
  for (const l of large) out.push({ op: 'f', id: l });
  out.push({ op: 'm', id: id++, size: 40_000 });
  for (let i = 0; i < GROWTH_BLOCKS; i++) out.push({ op: 'm', id: id++, size: 16 + (i % 7) * 16 });
  // New heads with high record indices: filing them grows the side table before the older heads
  // and the mapped chunk's offset are read again.
  const late: number[] = [];
  for (const size of [7000, 9000]) { late.push(id); out.push({ op: 'm', id: id++, size }, { op: 'm', id: id++, size: 24 }); }
  for (const l of late) out.push({ op: 'f', id: l });
  out.push({ op: 'm', id: id++, size: 40_000 });
  // Best fit through the size lists; each take unlinks a head or a follower.
  for (const size of [2900, 1050, 1900, 1400, 2000, 4000, 1100, 6000, 8500]) out.push({ op: 'm', id: id++, size });
  out.push({ op: 'f', id: mapped });
  return out;
}

describe('ptmalloc side table (large-bin size links, mapped offsets) across pool growth', () => {
  itOracle('matches glibc after every call, invariants hold', async () => {
    const script = ops();
    const real = runOracle({ text: opsScript(script) }, { ops: true, every: 1 });
    const sim = await runSim(script, { every: 1, build: 'debug', check: true });
    expect(real.checkpoints.length).toBe(script.length + 1);
    expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
  });
});
