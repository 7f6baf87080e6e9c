import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

describe('heapsim demo', () => {
  it('prints the verdict first, the moments, !address -summary and !heap -s at each mark, then the nt mechanisms', async () => {
    const r = await cli('demo');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out.match(/^=== (before|peak|after) \(event \d+\) ===$/gm)).toHaveLength(3);
    expect(out.match(/^0:000> !address -summary$/gm)).toHaveLength(3);
    expect(out.match(/^0:000> !heap -s$/gm)).toHaveLength(3);
    expect(out.match(/^ +[0-9a-f]+ \( +\d+\) : \d\d\.\d\d% +: MEM_COMMIT$/gm)).toHaveLength(3);
    // one heap row per mark, private growable heap, no fast heap (the seed's heap had no LFH)
    const rows = out.match(/^[0-9a-f]{8} 00001002 .*$/gm)!;
    expect(rows).toHaveLength(3);
    const reserv = rows.map((l) => l.split(/\s+/)[2]);
    expect(new Set(reserv).size).toBe(1);
    expect(out).toMatch(/External fragmentation +7\d % \(\d+ free blocks\)/);
    // The verdict is the first thing after the heading, then the trim what-if and the moments.
    expect(out.split('\n')[2]).toMatch(/^verdict: second-order: \d+\.\d MiB retained at the end \(committed − live\), mostly free space trapped between live blocks \(nt back end\)$/);
    const events = /: (\d+) events/.exec(out.split('\n')[0]!)![1];
    expect(out.split('\n')[3]).toMatch(new RegExp(`^what HeapCompact would give back at the end \\(event ${events}\\): `));
    expect(out).toMatch(/^moment +event +live +committed +resident +free +frag$/m);
    expect(out.match(/^(start|committed peak|before|peak|after) +\d+ /gm)).toHaveLength(5);
    expect(out.indexOf('=== before')).toBeGreaterThan(out.indexOf('committed peak'));
    expect(out).toMatch(/^=== details ===$/m);
    expect(out).toMatch(/^second-order: \d+\.\d MiB committed that the program no longer uses at "after"/m);
    expect(out).toMatch(/^ {2}free space trapped between live blocks +\d+\.\d MiB {2}\(nt back end\)$/m);
    expect(out).toMatch(/free blocks below the decommit thresholds/);
    expect(out).toMatch(/LFH user blocks pinned by live chunks/);
  });

  it('--json: the checkpoint document plus diagnosis; --seed; --policy runs the same ops elsewhere', async () => {
    const doc = JSON.parse((await cli('demo', '--json', '--seed', '2')).stdout);
    expect(doc).toMatchObject({ policy: 'nt', workload: 'windows-service-peak', arch: 'x86', profile: 'windows-service-x86', seed: 2, failedOps: 0 });
    expect(doc.checkpoints.map((c: { label: string }) => c.label)).toEqual(['before', 'peak', 'after']);
    expect(doc.diagnosis.kind).toBe('second-order');
    expect(doc.diagnosis.causes[0]).toMatchObject({ mechanism: 'free space trapped between live blocks', layer: 'nt back end' });
    expect(doc.diagnosis.causes.map((c: { mechanism: string }) => c.mechanism).sort()).toEqual([
      'LFH user blocks pinned by live chunks', 'free blocks below the decommit thresholds', 'free space trapped between live blocks',
    ]);
    const after = doc.checkpoints[2].heap;
    for (const k of ['reservedBytes', 'committedBytes', 'virtBytes', 'freeBytes', 'freeBlocks', 'uncommittedRanges', 'virtualBlocks', 'busyBytes', 'externalFragmentationPct', 'virtualAddressFragmentationPct']) {
      expect([k, Number.isInteger(after[k])]).toEqual([k, true]);
    }
    expect(after.fastHeap).toBe('');
    const ff = JSON.parse((await cli('demo', '--json', '--policy', 'first-fit')).stdout);
    expect(ff.policy).toBe('first-fit');
    expect(ff.events).toBe(JSON.parse((await cli('demo', '--json')).stdout).events);
    expect(ff.diagnosis).toHaveProperty('kind');
  });

  it.each([
    [['demo', '--bogus'], /Unknown option '--bogus'/],
    [['demo', 'extra'], /Unexpected argument 'extra'/],
    [['demo', '--policy', 'nope'], /unknown policy 'nope'/],
    [['demo', '--seed', 'x'], /--seed wants a non-negative integer/],
    [['demo', '--set', 'nope=1'], /has no parameter 'nope'/],
  ])('bad input %j: one line on stderr, exit 2', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--policy pool stacks the pool on an nt heap: second-order, retained by the pool layer, both layers reported', async () => {
    const doc = JSON.parse((await cli('demo', '--policy', 'pool', '--json')).stdout);
    expect(doc.layers).toEqual(['nt']);
    expect(doc.failedOps).toBe(0);
    expect(doc.diagnosis.kind).toBe('second-order');
    const top = doc.diagnosis.causes[0];
    expect(top).toMatchObject({ layer: 'pool' });
    expect(top.mechanism).toMatch(/retained by pool/);
    const after = doc.checkpoints[2];
    const [pool, nt] = after.heaps;
    expect(pool.policy).toBe('pool');
    expect(nt.policy).toBe('nt');
    // The nt heap sees the pool's chunks as busy blocks.
    expect(nt.busyBytes).toBeGreaterThanOrEqual(pool.committedBytes);
    expect(top.bytes).toBeGreaterThan(0.9 * doc.diagnosis.retainedBytes);
    const text = (await cli('demo', '--policy', 'pool')).stdout;
    // !heap -s lists the NT heap only (one row per mark); the pool layer gets its own line.
    expect(text.match(/^[0-9a-f]{8} 00001002 .*$/gm)).toHaveLength(3);
    expect(text).not.toMatch(/^00000000 /m);
    expect(text.match(/^heap 0 pool \(on heap 1\): /gm)).toHaveLength(3);
    expect(text).toMatch(/retained by pool \(freed objects kept on pool lists\) +\d+\.\d (MiB|GiB) +\(pool\)/);
  });

  it('--help lists the options; the command table lists demo', async () => {
    const r = await cli('demo', '--help');
    expect(r.code).toBe(0);
    for (const o of ['--policy', '--seed', '--set', '--json', '--help']) expect(r.stdout).toContain(o);
    expect((await cli('--help')).stdout).toMatch(/^ {2}demo +reproduce the seed/m);
  });
});
