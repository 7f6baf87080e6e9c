// Thread ids end to end on the host: the readers carry thread switches and thread ends, `stats`
// counts per thread (live bytes with the thread that made each block's current allocation), and
// the replay hands the engine one THREAD op per switch and one THREAD_END per exit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Op, OP_WORDS } from '../../src/engine/abi.js';
import { convertTrace } from '../../src/trace/convert.js';
import { openReplay } from '../../src/trace/replay.js';
import { traceStats } from '../../src/trace/stats.js';
import { eventLines, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const TRACE = [
  '#heapsim-trace 1',
  'thread 100',
  'a 0 1000',
  'a 1 24',
  'thread 200',
  'a 2 500',
  'f 0',            // thread 200 frees thread 100's block
  'r 1 40',         // and reallocates another: its bytes move to thread 200
  'thread-end 200',
  'thread 100',
  'x free-null',
  'f 2',
  '',
].join('\n');

describe('threads in traces', () => {
  it('stats counts events, live and peak bytes per thread, and thread exits', async () => {
    const file = join(tmp.dir, 'threads.txt');
    writeFileSync(file, TRACE);
    const s = await traceStats(file);
    expect(s.threads).toBe(2);
    expect(s.threadEnds).toBe(1);
    expect(s.perThread).toEqual([
      { thread: 100, events: 4, allocs: 2, reallocs: 0, frees: 1, liveBlocks: 0, liveBytes: 0, peakLiveBytes: 1024, ends: 0 },
      { thread: 200, events: 3, allocs: 1, reallocs: 1, frees: 1, liveBlocks: 1, liveBytes: 40, peakLiveBytes: 540, ends: 1 },
    ]);
  });

  it('.hst and text carry thread switches and ends without loss', async () => {
    const file = join(tmp.dir, 'threads2.txt');
    writeFileSync(file, TRACE);
    const hst = join(tmp.dir, 'threads2.hst');
    await convertTrace(file, hst);
    const back = await eventLines(hst);
    expect(back.lines).toEqual(TRACE.split('\n').filter((l) => l !== '' && !l.startsWith('#')));
  });

  it('the replay gives the engine a THREAD op per switch and a THREAD_END per exit, in order', async () => {
    const file = join(tmp.dir, 'threads3.txt');
    writeFileSync(file, TRACE);
    const replay = await openReplay(file);
    const seen: string[] = [];
    for await (const ops of replay.batches()) {
      for (let i = 0; i < ops.length; i++) {
        const w = ops.words;
        const op = w[i * OP_WORDS]! & 0xff;
        const size = w[i * OP_WORDS + 2]! + w[i * OP_WORDS + 3]! * 2 ** 32;
        if (op === Op.THREAD) seen.push(`thread ${size}`);
        else if (op === Op.THREAD_END) seen.push(`end ${size}`);
        else seen.push(String(op));
      }
    }
    expect(seen).toEqual(['thread 100', '1', '1', 'thread 200', '1', '5', '4', 'end 200', 'thread 100', '12', '5']);
  });
});
