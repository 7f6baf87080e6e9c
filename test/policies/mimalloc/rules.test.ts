// One test per rule of the mimalloc policy (docs/mimalloc.md), each run through the installed
// mimalloc 2.0.9 (test/oracle/mimalloc-replay.c) and through the engine, compared after every
// call (current and peak commit, the five area sums, and the resident bytes of the segments with
// every block written in full), plus what the rule itself says. The random mixes compare the
// library's numbers after every call (resident bytes are compared by the rules and the recorded
// programs: writing every block of a mix in full costs the oracle minutes).
// Scripts: m ID SIZE malloc, c calloc, a ID ALIGN SIZE aligned, r ID SIZE realloc, f ID free,
// t mi_collect(true), s MS wall-clock sleep (a TICK of MS ms for heapsim), p checkpoint.
import { describe, it, expect } from 'vitest';
import {
  oracle, runOracle, runSim, parseOps, firstDifference, mixedWorkload, script, NO_DELAYS, NO_DECOMMIT,
  type Checkpoint, type Native,
} from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SLICE = 64 * KiB;
const SEGMENT = 32 * MiB;

const info = oracle();
if (info.skipReason) console.warn(`[mimalloc rules] ${info.skipReason}`);
const test = info.skipReason ? it.skip : it;

interface Setting { env: Record<string, string>; params: Record<string, number> }
const DEFAULTS: Setting = { env: {}, params: {} };
const DELAYS_0: Setting = { env: { ...NO_DELAYS }, params: { decommit_delay: 0, segment_decommit_delay: 0 } };
const DECOMMIT_0: Setting = { env: { ...NO_DECOMMIT }, params: { allow_decommit: 0 } };

/**
 * Runs a script through both, expects the same numbers after every call, returns the library's.
 * `unhinted`: from that event on the real peak may also be `alignment` lower than the model's. A
 * mapping without an address hint (above 1 GiB, or aligned above 32 MiB) is mapped once and kept
 * when the kernel happens to place it aligned; the model assumes the usual case, a misaligned
 * first try that maps size + alignment for a moment. Where the kernel puts it depends on the
 * address-space layout of the run.
 */
async function agree(text: string, setting: Setting, unhinted?: { fromEvent: number; alignment: number }): Promise<Checkpoint[]> {
  const real = runOracle({ text }, { ops: true, every: 1, env: setting.env, resident: true });
  const sim = await runSim(parseOps(text), { every: 1, params: setting.params, build: 'debug', check: true });
  if (unhinted) {
    sim.checkpoints.forEach((c, i) => {
      const r = real[i];
      if (r && c.event >= unhinted.fromEvent && c.kind !== 'start' && r.native.peak_commit === c.native.peak_commit - unhinted.alignment) {
        c.native.peak_commit = r.native.peak_commit;
      }
    });
  }
  expect(firstDifference(real, sim.checkpoints)).toBeUndefined();
  return real;
}

/** The numbers once `event` calls have run. */
function at(cps: Checkpoint[], event: number): Native {
  const c = cps.find((x) => x.event === event && x.kind !== 'start');
  if (!c) throw new Error(`no checkpoint at event ${event}`);
  return c.native;
}

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => f(i + 1)).join('\n') + '\n';

describe('mimalloc 2.0.9 rules, each against the real library', () => {
  test('size classes: exact words up to 64 bytes, four bins per doubling to 128 KiB, then pages of 64 KiB multiples', async () => {
    const sizes = [0, 1, 9, 17, 25, 33, 65, 100, 129, 1000, 1025, 16385, 131072, 131073, 600000, 17 * MiB];
    const cps = await agree(sizes.map((s, i) => `m ${i + 1} ${s}`).join('\n') + '\n', DELAYS_0);
    const blockBytes = sizes.map((_, i) => at(cps, i + 1).area_used_bytes - (i ? at(cps, i).area_used_bytes : 0));
    expect(blockBytes).toEqual([8, 8, 16, 32, 32, 48, 80, 112, 160, 1024, 1280, 20480, 131072, 196608, 1048576, 17 * MiB]);
  });

  test('a page grows its free list by 4 KiB of blocks at a time (at least 4 blocks)', async () => {
    const cps = await agree(lines(40, (i) => `m ${i} 100`) + 'm 41 5000\n', DELAYS_0);
    expect(at(cps, 36).area_committed).toBe(36 * 112);
    expect(at(cps, 37).area_committed).toBe(72 * 112);
    expect(at(cps, 41).area_committed - at(cps, 40).area_committed).toBe(4 * 5120);
  });

  test('freed blocks wait on the local free list until the free list runs out', async () => {
    const text = lines(36, (i) => `m ${i} 100`) + lines(10, (i) => `f ${i}`) + lines(11, (i) => `m ${36 + i} 100`);
    const cps = await agree(text, DELAYS_0);
    expect(at(cps, 56).area_committed).toBe(36 * 112); // the ten freed blocks came back first
    expect(at(cps, 57).area_committed).toBe(72 * 112);
  });

  test('an empty page alone in its bin is retired for 9 fresh-page countdowns (small blocks), 3 (medium)', async () => {
    const small = 'm 1 100\nf 1\n' + [8, 16, 32, 48, 64, 80, 96, 128, 160].map((s, i) => `m ${i + 2} ${s}`).join('\n') + '\n';
    const cps = await agree(small, DELAYS_0);
    expect(at(cps, 2).areas).toBe(1);
    const after = (k: number): Native => at(cps, 2 + k);
    expect(after(8).areas).toBe(after(8).area_used_blocks + 1); // still there after 8
    expect(after(9).areas).toBe(after(9).area_used_blocks);     // gone at the 9th
    const medium = await agree('m 1 20000\nf 1\nm 2 8\nm 3 16\nm 4 32\n', DELAYS_0);
    expect(at(medium, 4).areas).toBe(at(medium, 4).area_used_blocks + 1);
    expect(at(medium, 5).areas).toBe(at(medium, 5).area_used_blocks);
  });

  test('an empty page that is not alone in its bin is freed at once; a full page comes back at the end of its queue', async () => {
    const text = lines(582, (i) => `m ${i} 100`) + lines(581, (i) => `f ${i}`);
    const cps = await agree(text, DELAYS_0);
    expect(at(cps, 582).areas).toBe(2);
    expect(at(cps, 582 + 581).areas).toBe(1);
  });

  test('freed slices coalesce and, with decommit_delay 0, are decommitted at once; an empty segment goes to the cache decommitted', async () => {
    const cps = await agree('m 1 200000\nm 2 200000\nm 3 200000\nf 2\nf 1\nf 3\n', DELAYS_0);
    expect(at(cps, 3).current_commit).toBe(SEGMENT);
    expect(at(cps, 4).current_commit).toBe(SEGMENT - 4 * SLICE);
    expect(at(cps, 5).current_commit).toBe(SEGMENT - 8 * SLICE);
    expect(at(cps, 6).current_commit).toBe(0);
  });

  test('without eager commit a segment commits its header, then 1 MiB steps as pages need them', async () => {
    const cps = await agree('m 1 100\nm 2 3000000\nf 2\n', { env: { ...NO_DELAYS, MIMALLOC_EAGER_COMMIT: '0' }, params: { ...DELAYS_0.params, eager_commit: 0 } });
    expect(at(cps, 1).current_commit).toBe(1 * MiB);
    expect(at(cps, 2).current_commit).toBe(4 * MiB);
  });

  test('with a decommit delay, freed slices are decommitted by the next page allocation after the deadline (wall time)', async () => {
    const text = 'm 1 200000\nm 2 3000000\nf 1\ns 100\nm 3 3000000\n';
    const cps = await agree(text, DEFAULTS);
    expect(at(cps, 3).current_commit).toBe(SEGMENT);
    expect(at(cps, 4).current_commit).toBe(SEGMENT - 4 * SLICE);
    const long = await agree(text, { env: { MIMALLOC_DECOMMIT_DELAY: '10000' }, params: { decommit_delay: 10000 } });
    expect(at(long, 4).current_commit).toBe(SEGMENT);
  });

  test('a free after an expired deadline decommits everything pending at once; before it, it only extends the deadline', async () => {
    const expired = await agree('m 1 200000\nm 2 3000000\nm 3 200000\nf 1\ns 100\nf 3\n', DEFAULTS);
    expect(at(expired, 5).current_commit).toBe((1 + 48) * SLICE);
    const early = await agree('m 1 200000\nm 2 3000000\nm 3 200000\nf 1\nf 3\n', { env: { MIMALLOC_DECOMMIT_DELAY: '10000' }, params: { decommit_delay: 10000 } });
    expect(at(early, 5).current_commit).toBe(SEGMENT);
  });

  test('the segment cache: a cached segment keeps its commit mask (lazy commit after a decommit); mi_collect(true) unmaps it', async () => {
    const delays0 = await agree('m 1 200000\nf 1\nm 2 100\nm 3 3000000\nf 3\nf 2\nt\np\n', DELAYS_0);
    expect(at(delays0, 2).current_commit).toBe(0);
    expect(at(delays0, 3).current_commit).toBe(1 * MiB);
    expect(delays0[delays0.length - 1]!.native.current_commit).toBe(0);
    const kept = await agree('m 1 200000\nf 1\nm 2 100\nf 2\nt\np\n', DECOMMIT_0);
    expect(at(kept, 2).current_commit).toBe(SEGMENT);
    expect(at(kept, 3).current_commit).toBe(SEGMENT);
    expect(kept[kept.length - 1]!.native.current_commit).toBe(0);
    const pending = await agree('m 1 200000\nf 1\nt\np\n', DEFAULTS);
    expect(at(pending, 2).current_commit).toBe(SEGMENT);
    expect(pending[pending.length - 1]!.native.current_commit).toBe(0);
  });

  test('a huge block gets a segment of its own; the counter adds the mapped size but takes back the segment size', async () => {
    const cps = await agree('m 1 20000000\nf 1\nm 2 40000000\nf 2\n', DELAYS_0);
    expect(at(cps, 1).current_commit).toBe(21 * MiB);           // 20 MiB block + header slice, mapped in 1 MiB steps
    expect(at(cps, 2).current_commit).toBe(21 * MiB - (20 * MiB + SLICE));
  });

  test('above 1 GiB the mapping gets no address hint: size + alignment are mapped for a moment (the peak shows it)', async () => {
    const sim = await runSim(parseOps('m 1 1300000000\n'), { every: 1, params: DELAYS_0.params });
    const model = sim.checkpoints.find((c) => c.event === 1)!.native;
    expect(model.peak_commit).toBe(model.current_commit + SEGMENT); // the model: misaligned first try
    await agree('m 1 1300000000\nf 1\n', DELAYS_0, { fromEvent: 1, alignment: SEGMENT });
  });

  test('aligned allocation: small alignments by over-allocation, above 16 MiB a huge segment whose prefix is decommitted', async () => {
    const cps = await agree('a 1 64 100\na 2 4096 5000\na 3 67108864 100\nf 3\nf 2\nf 1\nm 4 8\n', DELAYS_0, { fromEvent: 3, alignment: 64 * MiB });
    expect(at(cps, 3).area_used_blocks).toBe(3);
    // The prefix is counted down when decommitted (less the 8-byte free-list link) and again when
    // the segment goes: freeing the block leaves the counter below the commit it had before.
    expect(at(cps, 4).current_commit).toBeLessThan(at(cps, 2).current_commit);
    expect(at(cps, 4).current_commit % SLICE).toBe(8);
  });

  test('realloc keeps the block when the new size fits and wastes at most half, else moves it', async () => {
    const cps = await agree('m 1 1000\nr 1 600\nr 1 400\nr 1 5000\nr 1 0\n', DELAYS_0);
    expect([1, 2, 3, 4, 5].map((k) => at(cps, k).area_used_bytes)).toEqual([1024, 1024, 448, 5120, 8]);
  });

  test('mi_collect(true) frees retired and empty pages and the cache, not the pending decommits of live segments', async () => {
    const cps = await agree('m 1 200000\nm 2 3000000\nm 3 100\nf 3\nf 1\nt\np\n', DEFAULTS);
    const end = cps[cps.length - 1]!.native;
    expect(end.areas).toBe(1);
    expect(end.current_commit).toBe(SEGMENT);
  });

  test('calloc takes the same path as malloc; page_reset changes none of these numbers', async () => {
    const text = 'c 1 100\nm 2 100\nc 3 70000\nf 1\nf 2\nf 3\n';
    await agree(text, DELAYS_0);
    await agree(text, { env: { ...NO_DELAYS, MIMALLOC_PAGE_RESET: '1' }, params: { ...DELAYS_0.params, page_reset: 1 } });
  });
});

describe('mimalloc random mixes agree with the real library after every call', () => {
  const cases: [string, number, Setting][] = [
    ['delays 0', 11, DELAYS_0], ['delays 0', 12, DELAYS_0],
    ['allow_decommit 0', 11, DECOMMIT_0], ['allow_decommit 0', 13, DECOMMIT_0],
    ['eager_commit 0', 14, { env: { ...NO_DELAYS, MIMALLOC_EAGER_COMMIT: '0' }, params: { ...DELAYS_0.params, eager_commit: 0 } }],
  ];
  for (const [label, seed, setting] of cases) {
    test(`${label}, seed ${seed}`, async () => {
      const ops = mixedWorkload(seed, 2500);
      const real = runOracle({ text: script(ops) }, { ops: true, every: 1, env: setting.env });
      const sim = await runSim(ops, { every: 1, params: setting.params });
      expect(firstDifference(real, sim.checkpoints)).toBeUndefined();
      expect(real.length).toBeGreaterThan(2000);
    });
  }
});
