// One test per jemalloc rule the model relies on (docs/jemalloc.md). Each runs a short call script
// through the installed jemalloc and through the policy, requires every statistic to agree after
// every call, and then checks the effect the rule predicts on the real library's numbers, so the
// test fails if the rule is wrong in the model or in our reading of jemalloc.
import { describe, expect } from 'vitest';
import {
  oracleIt, runJemallocOracle, runJemallocSim, paramsFor, firstDifference, opsScript, JE_FIELDS,
  type PtOp, type JeCheckpoint, type JeField,
} from './harness.js';

const PAGE = 4096;
const KiB = 1024;
const MiB = 1024 * KiB;
const BASE = 'narenas:1,tcache:false,background_thread:false';
const NEVER = `${BASE},dirty_decay_ms:-1,muzzy_decay_ms:-1`;
const AT_ONCE = `${BASE},dirty_decay_ms:0,muzzy_decay_ms:0`;

const m = (id: number, size: number): PtOp => ({ op: 'm', id, size });
const a = (id: number, align: number, size: number): PtOp => ({ op: 'a', id, align, size });
const r = (id: number, size: number): PtOp => ({ op: 'r', id, size });
const f = (id: number): PtOp => ({ op: 'f', id });
const purge: PtOp = { op: 't', pad: 0 };

/** Both sides after every call; returns the real library's checkpoints (index i = after call i). */
async function both(ops: PtOp[], conf: string, fields: readonly JeField[] = JE_FIELDS): Promise<JeCheckpoint[]> {
  const real = runJemallocOracle({ text: opsScript(ops) }, { conf, ops: true, every: 1 });
  const sim = await runJemallocSim(ops, { params: paramsFor(conf), every: 1, check: true, build: 'debug' });
  expect(firstDifference(real, sim.checkpoints, fields)).toBeUndefined();
  return real.filter((c) => c.kind !== 'end');
}
const delta = (cps: JeCheckpoint[], i: number, field: JeField): number => cps[i]!.stats[field] - cps[i - 1]!.stats[field];

describe('jemalloc rules, each checked against the installed jemalloc', () => {
  oracleIt('start state: the C++ runtime\'s 72704-byte malloc (80 KiB class + 1 page) and the metadata of init and of the first mallctl', async () => {
    const one = await both([m(1, 1)], NEVER);
    expect(one[0]!.stats.allocated).toBe(80 * KiB);
    expect(one[0]!.stats.active).toBe(80 * KiB + PAGE);
    // narenas decides how many statistics tables the first mallctl allocates (37856 bytes each)
    const eight = await both([m(1, 1)], 'narenas:8,tcache:false,dirty_decay_ms:-1');
    expect(eight[0]!.stats.metadata - one[0]!.stats.metadata).toBe(7 * 37856);
  });

  oracleIt('small classes: a slab is the fewest pages the region size divides', async () => {
    const cps = await both([m(1, 8), m(2, 48), m(3, 80), m(4, 112), m(5, 14336)], NEVER);
    expect([1, 2, 3, 4, 5].map((i) => delta(cps, i, 'active'))).toEqual([1, 3, 5, 7, 7].map((p) => p * PAGE));
    expect([1, 2, 3, 4, 5].map((i) => delta(cps, i, 'allocated'))).toEqual([8, 48, 80, 112, 14336]);
  });

  oracleIt('regions: lowest free region of the current slab; a freed region makes a lower slab current', async () => {
    // 2048-byte class: two regions per one-page slab. Slabs 1 and 2 full, slab 3 holds e.
    const ops = [m(1, 2048), m(2, 2048), m(3, 2048), m(4, 2048), m(5, 2048), f(1), m(6, 2048), f(5)];
    const cps = await both(ops, NEVER);
    // f(1) made slab 1 current again, so the next region went there and slab 3 emptied: it is freed
    expect(delta(cps, 8, 'active')).toBe(-PAGE);
    expect(delta(cps, 8, 'dirtyBytes')).toBe(PAGE);
  });

  oracleIt('large classes: the size class plus one page (cache-oblivious padding)', async () => {
    const cps = await both([m(1, 20000), m(2, 100000), m(3, 5 * MiB)], NEVER);
    expect([1, 2, 3].map((i) => delta(cps, i, 'allocated'))).toEqual([20 * KiB, 112 * KiB, 5 * MiB]);
    expect([1, 2, 3].map((i) => delta(cps, i, 'active'))).toEqual([24 * KiB, 116 * KiB, 5 * MiB + PAGE]);
  });

  oracleIt('new mappings: 2 MiB, then one page-size class more each time (2.5, 3, 3.5, 4 MiB ...)', async () => {
    // Each 1.75 MiB block (+ a page) needs a new mapping; what it leaves unused is retained (too
    // small for the next block until the 4 MiB mapping).
    const ops = [1, 2, 3, 4, 5, 6].map((i) => m(i, 1.75 * MiB));
    const cps = await both(ops, NEVER);
    // address space of the arena's mappings: mapped (live and cached pages, plus base blocks, which
    // do not change here) + retained
    const space = (i: number): number => cps[i]!.stats.mapped + cps[i]!.stats.retained;
    const grown = [2, 3, 4, 5, 6].map((i) => space(i) - space(i - 1));
    expect(grown).toEqual([2.5, 3, 3.5, 4, 0].map((x) => x * MiB));
  });

  oracleIt('first fit in the dirty cache is capped: a free extent more than 64x the request is not split', async () => {
    const ops = [m(1, 2 * MiB - 8 * KiB), m(2, 100), f(1), m(3, 20 * KiB)];
    const capped = await both(ops, NEVER);
    expect(delta(capped, 4, 'dirtyBytes')).toBe(0);                 // the 2 MiB dirty extent stayed
    const wide = await both(ops, `${NEVER},lg_extent_max_active_fit:10`);
    expect(delta(wide, 4, 'dirtyBytes')).toBe(-(20 * KiB + PAGE));   // split for the request
  });

  oracleIt('dirty extents under 16 KiB merge only when purged; larger ones merge at once', async () => {
    // Two adjacent one-page slabs freed: two dirty extents, so a two-page slab cannot reuse them.
    const small = await both([m(1, 4096), m(2, 4096), m(9, 100), f(1), f(2), m(3, 8192)], NEVER);
    expect(delta(small, 6, 'dirtyBytes')).toBe(0);
    expect(delta(small, 6, 'mapped')).toBe(2 * PAGE);
    // Two adjacent 24 KiB large extents freed: merged, so a 44 KiB request reuses them.
    const large = await both([m(1, 20 * KiB), m(2, 20 * KiB), m(9, 100), f(1), f(2), m(3, 40 * KiB)], NEVER);
    expect(delta(large, 6, 'dirtyBytes')).toBe(-(40 * KiB + PAGE));
    expect(delta(large, 6, 'mapped')).toBe(0);
  });

  oracleIt('decay: 0 purges freed pages at once (retained), -1 keeps them dirty, purge empties the cache', async () => {
    const ops = [m(1, 64 * KiB), m(2, 100), f(1), purge];
    const atOnce = await both(ops, AT_ONCE);
    expect(atOnce[3]!.stats.dirtyBytes).toBe(0);
    expect(delta(atOnce, 3, 'retained')).toBe(68 * KiB);
    const never = await both(ops, NEVER);
    expect(never[3]!.stats.dirtyBytes).toBe(68 * KiB);
    expect(never[4]!.stats.dirtyBytes).toBe(0);
    expect(never[4]!.stats.retained - never[3]!.stats.retained).toBe(68 * KiB);
  });

  oracleIt('oversize requests go to the huge arena: its own base (metadata) and decay 0', async () => {
    const cps = await both([m(1, 20 * MiB), f(1)], `${BASE},dirty_decay_ms:10000`);
    expect(delta(cps, 1, 'metadata')).toBe(2 * 128 + 144 + 3968 + 87040);  // two descriptors, block header, base_t, arena_t
    expect(cps[2]!.stats.dirtyBytes).toBe(0);                              // purged at once despite 10 s
    const lower = await both([m(1, 2 * MiB), f(1)], `${BASE},dirty_decay_ms:-1,oversize_threshold:1048576`);
    expect(delta(lower, 1, 'metadata')).toBeGreaterThan(90000);            // 2 MiB is oversize now
  });

  oracleIt('radix tree: a 2 MiB leaf of metadata for each GiB of address space that holds extent boundaries', async () => {
    const cps = await both([m(1, 1.5 * 1024 * MiB)], NEVER);
    // the huge arena (91408 bytes), a second leaf, and the new 4 MiB base block it needed (header)
    expect(delta(cps, 1, 'metadata')).toBe(91408 + 2 * MiB + 144);
  });

  oracleIt('realloc: a large block grows into the free pages after it and shrinks in place', async () => {
    const cps = await both([m(1, 100 * KiB), r(1, 300 * KiB), r(1, 60 * KiB)], NEVER);
    expect(delta(cps, 2, 'active')).toBe(320 * KiB - 112 * KiB);   // 112 KiB → 320 KiB class, no move
    expect(delta(cps, 2, 'dirtyBytes')).toBe(0);
    expect(delta(cps, 3, 'dirtyBytes')).toBe(320 * KiB - 64 * KiB);
    const small = await both([m(1, 40), r(1, 48), r(1, 33), r(1, 49)], NEVER);
    expect(delta(small, 2, 'allocated')).toBe(0);                   // same class: nothing moves
    expect(delta(small, 4, 'allocated')).toBe(64 - 48);
  });

  oracleIt('memalign: a large aligned block is cut from an aligned spot, the lead stays free', async () => {
    const cps = await both([m(1, 100), a(2, 256 * KiB, 300 * KiB), a(3, 64, 20000), a(4, 4096, 100)], NEVER);
    expect(delta(cps, 2, 'allocated')).toBe(320 * KiB);
    expect(delta(cps, 3, 'allocated')).toBe(20 * KiB);
    expect(delta(cps, 4, 'allocated')).toBe(4096);                  // the smallest class that is a multiple of 4096
  });

  oracleIt('thread cache: a miss fills half the bin; frees wait in the cache; a full bin sends half back', async () => {
    const conf = `${BASE},tcache:true,dirty_decay_ms:-1,muzzy_decay_ms:-1`;
    const fill = await both([m(1, 8)], conf);
    expect(delta(fill, 1, 'allocated')).toBe(100 * 8);              // 200 slots >> 1
    const ops: PtOp[] = [];
    for (let i = 0; i < 300; i++) ops.push(m(i, 1024));
    for (let i = 0; i < 300; i++) ops.push(f(i));
    const cps = await both(ops, conf);
    // 1024-byte class: 20 slots. Frees stay cached (allocated unchanged) until the bin is full.
    expect(delta(cps, 301, 'allocated')).toBe(0);
    expect(cps[600]!.stats.allocated).toBeLessThan(cps[300]!.stats.allocated);
  });

  oracleIt('thread cache GC: every 64 KiB allocated, one bin gives back three quarters of its low-water mark', async () => {
    const conf = `${BASE},tcache:true,dirty_decay_ms:-1,muzzy_decay_ms:-1`;
    const ops: PtOp[] = [m(1, 8), f(1)];
    for (let i = 0; i < 300; i++) ops.push(m(10 + i, 4096), f(10 + i));   // 300 × 4 KiB: several GC passes
    await both(ops, conf);
  });

  oracleIt('retain:false: freed and purged pages are unmapped, nothing is retained', async () => {
    const cps = await both([m(1, 3 * MiB), m(2, 100), f(1)], `${BASE},dirty_decay_ms:0,retain:false`);
    expect(cps[3]!.stats.retained).toBe(0);
    expect(delta(cps, 3, 'mapped')).toBe(-(3 * MiB + PAGE));
  });
});
