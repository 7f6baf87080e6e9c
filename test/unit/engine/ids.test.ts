// Block ids and requested sizes (regression tests for the reliability report's failure 6): every id
// the engine documents works at the cost of one id-table page, never a table as large as the
// largest id (ids from 67,108,864 up trapped in TLSF, 33,554,432 cost 614 MB), and requested sizes
// of 4 GiB and more are counted exactly (they were saturated at 2^32 - 1).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { MAX_BLOCK_ID } from '../../../src/trace/ledger.js';
import { tempDir } from '../../trace/helpers.js';

const ENGINE_MAX_ID = 2 ** 28; // assembly/ids.ts MAX_ID
const PAGE_BYTES = 4096 * 8;    // one id-table page
const DIRECTORY_BYTES = (ENGINE_MAX_ID / 4096) * 4;
const GIB = 2 ** 30;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('engine id table', () => {
  it('takes every id below 2^28, one page per 4096-id range, and refuses 2^28 with a status', async () => {
    const engine = await createEngine({ arch: 'x64' });
    engine.createHeap('first-fit');
    const ids = [0, 33_554_432, 67_108_864, MAX_BLOCK_ID, ENGINE_MAX_ID - 1];
    const ops = new OpBuffer(16);
    for (const id of ids) ops.alloc(0, id, 24);
    ops.alloc(0, ENGINE_MAX_ID, 24);
    const r = engine.apply(ops);
    expect(r.failedOps).toBe(1);
    expect(r.firstFailure).toEqual({ op: ids.length, status: 'ID_OUT_OF_RANGE' });
    for (const id of ids) expect(engine.blockOf(id).requestedBytes).toBe(24);
    expect(engine.engineTableBytes().ids).toBe(DIRECTORY_BYTES + ids.length * PAGE_BYTES);
    expect(engine.check()).toBe(0);
    const free = new OpBuffer(16);
    for (const id of ids) free.free(0, id);
    free.free(0, MAX_BLOCK_ID); // a second time: not live any more
    const f = engine.apply(free);
    expect(f.failedOps).toBe(1);
    expect(f.firstFailure?.status).toBe('UNKNOWN_ID');
    for (const id of ids) expect(engine.blockOf(id)).toEqual({ address: 0, requestedBytes: 0 });
    expect(engine.sample().heaps[0]!.liveBlocks).toBe(0);
    expect(engine.check()).toBe(0);
  });

  it('counts requests of 4 GiB and more exactly, through alloc, realloc both ways and free', async () => {
    const engine = await createEngine({ arch: 'x64' });
    engine.createHeap('first-fit');
    const big = 5 * GIB + 3;
    const ops = new OpBuffer(8);
    ops.alloc(0, 7, big);
    ops.alloc(0, 8, 16);
    let r = engine.apply(ops);
    expect(r.failedOps).toBe(0);
    expect(engine.blockOf(7).requestedBytes).toBe(big);
    expect(engine.sample().heaps[0]!.requestedBytes).toBe(big + 16);
    expect(engine.check()).toBe(0);
    ops.clear();
    ops.realloc(0, 8, 6 * GIB); // small -> big
    ops.realloc(0, 7, 100);     // big -> small
    r = engine.apply(ops);
    expect(r.failedOps).toBe(0);
    expect(engine.blockOf(7).requestedBytes).toBe(100);
    expect(engine.blockOf(8).requestedBytes).toBe(6 * GIB);
    expect(engine.sample().heaps[0]!.requestedBytes).toBe(6 * GIB + 100);
    expect(engine.check()).toBe(0);
    ops.clear();
    ops.free(0, 8);
    ops.free(0, 7);
    engine.apply(ops);
    expect(engine.sample().heaps[0]!.requestedBytes).toBe(0);
    expect(engine.check()).toBe(0);
  });

  it('forgets a destroyed heap\'s ids, huge ones included', async () => {
    const engine = await createEngine({ arch: 'x64' });
    engine.createHeap('first-fit', {}, 0);
    engine.createHeap('first-fit', {}, 1);
    const ops = new OpBuffer(8);
    ops.alloc(1, 5000, 5 * GIB);
    ops.alloc(1, 70_000_000, 32);
    ops.alloc(0, 1, 32);
    engine.apply(ops);
    engine.destroyHeap(1);
    expect(engine.blockOf(5000).address).toBe(0);
    expect(engine.blockOf(70_000_000).address).toBe(0);
    expect(engine.blockOf(1).requestedBytes).toBe(32);
    expect(engine.check()).toBe(0);
  });
});

describe('trace ids', () => {
  it(`a trace using ids up to ${MAX_BLOCK_ID} replays with a small, bounded memory`, () => {
    const path = join(tmp.dir, 'sparse.txt');
    const ids = [33_554_432, 67_108_864, 100_000_000, MAX_BLOCK_ID];
    writeFileSync(path, '#heapsim-trace 1\n' + ids.map((id) => `a ${id} 16\n`).join('') + ids.map((id) => `f ${id}\n`).join(''));
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../trace/replay-rss-child.ts', import.meta.url)), path],
      { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    const r = JSON.parse(child.stdout);
    expect(r.engineEvents).toBe(8);
    expect(r.failedOps).toBe(0);
    // Node and the engine alone take about 60 MB; the flat tables took 614 MB for id 33,554,432.
    expect(r.maxRssBytes).toBeLessThan(150 * 2 ** 20);
  });
});
