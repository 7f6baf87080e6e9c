// Replay: the op stream a trace becomes, its event numbering, and the same trace through the
// engine via `heapsim run`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Op, OP_WORDS } from '../../src/engine/abi.js';
import { openReplay } from '../../src/trace/replay.js';
import { cli } from '../cli/helpers.js';
import { fixture, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v as number, k]));

/** Decodes op records to `NAME id size arg` strings. */
function decode(words: Uint32Array, length: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < length; i++) {
    const w0 = words[i * OP_WORDS]!;
    const size = words[i * OP_WORDS + 2]! + words[i * OP_WORDS + 3]! * 2 ** 32;
    out.push(`${OP_NAMES.get(w0 & 0xff)} ${words[i * OP_WORDS + 1]} ${size} ${w0 >>> 16}`);
  }
  return out;
}

describe('op batches', () => {
  it('emit one op per event, skip(1) for each skipped call, heap 0, log2 alignment', async () => {
    const replay = await openReplay(fixture('threads.ltrace'), { batchOps: 4 });
    const all: string[] = [];
    for await (const b of replay.batches()) {
      expect(b.length).toBeLessThanOrEqual(4);
      expect(b.words[0]! >>> 8 & 0xff).toBe(0); // heap index
      all.push(...decode(b.words, b.length));
    }
    // ltrace -f names each call's thread: a THREAD op (not an event) at every change of thread.
    expect(all.filter((o) => o.startsWith('THREAD')).map((o) => Number(o.split(' ')[2]))).toEqual([4195, 4196, 4197, 4196, 4197, 4195]);
    const ops = all.filter((o) => !o.startsWith('THREAD'));
    expect(ops.slice(0, 8)).toEqual([
      'ALLOC 0 10 0', 'CALLOC 1 24 0', 'SKIP 0 1 0', 'ALIGNED_ALLOC 2 50 5', 'ALIGNED_ALLOC 3 128 6',
      'FREE 0 0 0', 'ALLOC 0 5 0', 'SKIP 0 1 0',
    ]);
    // Engine event counting: every other op here counts one event, so op count = trace events.
    expect(ops).toHaveLength(replay.stats.events);
    expect(replay.stats).toMatchObject({ events: 20, unmatchedFrees: 1, doubleFrees: 0, otherSkips: 3 });
    expect(replay.stats.leaks).toMatchObject({ blocks: 2, bytes: 29 });
  });

  it('keeps marks (not events) with indexes into the label table', async () => {
    const replay = await openReplay(fixture('sample.txt'));
    const ops: string[] = [];
    for await (const b of replay.batches()) ops.push(...decode(b.words, b.length));
    expect(ops.filter((o) => o.startsWith('MARK')).map((o) => replay.labels[Number(o.split(' ')[3])])).toEqual(['startup done', 'end']);
    expect(ops.filter((o) => o.startsWith('TICK'))).toEqual(['TICK 0 5 0']);
  });

  it('reuses ids after free, so the id range stays at the peak live count', async () => {
    const path = join(tmp.dir, 'churn.mtrace');
    const lines: string[] = [];
    // 3000 rounds of: allocate 3 blocks at new addresses, free them. Peak live = 3.
    for (let r = 0; r < 3000; r++) {
      for (let k = 0; k < 3; k++) lines.push(`@ [0x1] + 0x${(0x10000 + (r * 3 + k) * 0x40).toString(16)} 0x20`);
      for (let k = 0; k < 3; k++) lines.push(`@ [0x2] - 0x${(0x10000 + (r * 3 + k) * 0x40).toString(16)}`);
    }
    writeFileSync(path, lines.join('\n') + '\n');
    const replay = await openReplay(path);
    let maxId = 0;
    for await (const b of replay.batches()) {
      for (let i = 0; i < b.length; i++) maxId = Math.max(maxId, b.words[i * OP_WORDS + 1]!);
    }
    expect(replay.stats.events).toBe(18000);
    expect(maxId).toBe(2);
  });
});

describe('heapsim run <trace>', () => {
  it.each([
    ['basic.mtrace', 10], ['threads.ltrace', 20], ['two-processes.logalloc', 10], ['short.rep', 7], ['sample.txt', 10],
  ])('replays %s: the engine counts the trace\'s %i events', async (name, events) => {
    const r = await cli('run', fixture(name), '--policy', 'first-fit', '--json');
    expect(r.stderr).toContain(`trace: ${events} events`);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.events).toBe(events);
    expect(doc.checkpoints.at(-1).event).toBe(events);
  });

  it('replays a converted .hst, and --every N checkpoints fall after events N, 2N, …', async () => {
    const hst = join(tmp.dir, 'threads.hst');
    expect((await cli('convert', fixture('threads.ltrace'), '-o', hst)).code).toBe(0);
    const r = await cli('run', hst, '--json', '--every', '6');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.events).toBe(20);
    expect(doc.checkpoints.map((c: { event: number }) => c.event)).toEqual([6, 12, 18, 20]);
  });

  it('shows trace marks as labelled checkpoints and reports skipped calls on stderr', async () => {
    const r = await cli('run', fixture('sample.txt'), '--json');
    const doc = JSON.parse(r.stdout);
    expect(doc.checkpoints.map((c: { label: string }) => c.label).slice(0, 2)).toEqual(['startup done', 'end']);
    expect(r.stderr).toMatch(/1 frees of pointers the trace never allocated/);
    expect(r.stderr).toMatch(/1 double frees/);
  });

  it('fails with file, line and content on a malformed trace, and counts with --lenient', async () => {
    const bad = await cli('run', fixture('malformed.mtrace'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${fixture('malformed.mtrace')}:3: malformed mtrace line`);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const ok = await cli('run', fixture('malformed.mtrace'), '--lenient', '--json');
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('1 malformed lines skipped');
  });
});
