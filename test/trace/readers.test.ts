// Each reader on small hand-written fixtures, odd cases included. Expected event lines were worked
// out by hand from the fixtures (see the comments); ids come from the pointer → id mapping.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { eventLines, fixture, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('mtrace reader', () => {
  it('maps pointers to dense ids, pairs < and >, classifies bad frees and failures', async () => {
    const { lines, ledger } = await eventLines(fixture('basic.mtrace'));
    expect(lines).toEqual([
      'a 0 32 @./prog:[0x401196]',
      'a 1 256 @./prog:(main+0x1a)[0x4011b2]',
      'r 0 1024 @./prog:[0x4011c7]',     // < old / > new: one realloc event, the block keeps id 0
      'f 0',
      'x unmatched-free',                 // freed pointer never allocated in the trace
      'x double-free',                    // the same pointer freed again
      'a 0 0',                            // no caller prefix; size printed as bare 0; id 0 reused
      'x failed-alloc',                   // `!`: realloc failed
      'x failed-alloc',                   // + (nil): malloc returned NULL
      'a 2 48 @./prog:[0x401200]',        // address freed earlier, new block gets a fresh id
    ]);
    expect(ledger.events).toBe(10);
    expect(ledger.unmatchedFrees).toBe(1);
    expect(ledger.doubleFrees).toBe(1);
    const leaks = ledger.leakSummary();
    expect(leaks.blocks).toBe(3);
    expect(leaks.bytes).toBe(256 + 0 + 48);
    expect(leaks.topCallers[0]).toEqual({ key: './prog:(main+0x1a)[0x4011b2]', blocks: 1, bytes: 256 });
  });

  it('accepts odd spacing, tabs, CRLF and blank lines', async () => {
    const path = join(tmp.dir, 'odd.mtrace');
    writeFileSync(path, '= Start\r\n@ ./prog:[0x401196]   +   0x10a0\t0x20   \r\n\r\n  @ ./prog:[0x401196] + 0x10d0 0x40\r\n@   ./prog:[0x4011b2]  -  0x10a0\r\n= End\r\n');
    const { lines } = await eventLines(path, { format: 'mtrace' });
    expect(lines).toEqual(['a 0 32 @./prog:[0x401196]', 'a 1 64 @./prog:[0x401196]', 'f 0']);
  });

  it('counts a cut-off last line instead of failing', async () => {
    const { lines, ledger } = await eventLines(fixture('truncated.mtrace'));
    expect(lines).toHaveLength(2);
    expect(ledger.input.truncatedLastLine).toBe(1);
    expect(ledger.input.malformedLines).toBe(0);
  });

  it('stops at a malformed line naming file, line and content', async () => {
    const err = await eventLines(fixture('malformed.mtrace')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    const e = err as InputError;
    expect(e.file).toBe(fixture('malformed.mtrace'));
    expect(e.line).toBe(3);
    expect(e.message).toContain('"@ ./prog:[0x401196] + 0x10d0"');
  });

  it('counts malformed lines under --lenient and goes on', async () => {
    const { lines, ledger } = await eventLines(fixture('malformed.mtrace'), { lenient: true });
    expect(lines).toEqual(['a 0 32 @./prog:[0x401196]', 'a 1 64 @./prog:[0x401196]']);
    expect(ledger.input.malformedLines).toBe(1);
  });

  it('turns a realloc whose > line never came into an event with unknown result', async () => {
    const path = join(tmp.dir, 'dangling.mtrace');
    writeFileSync(path, '= Start\n@ [0x1] + 0x10a0 0x20\n@ [0x2] < 0x10a0\n');
    const { lines } = await eventLines(path);
    expect(lines).toEqual(['a 0 32 @[0x1]', 'x unknown-result']);
  });

  it('does not take two libraries with the same relative caller address for one caller', async () => {
    const path = join(tmp.dir, 'callers.mtrace');
    writeFileSync(path, '@ /lib/a.so:[0x1234] + 0x1000 0x10\n@ /lib/b.so:[0x1234] + 0x2000 0x10\n@ /lib/a.so:[0x1234] + 0x3000 0x10\n');
    const { ledger } = await eventLines(path, { format: 'mtrace' });
    expect(ledger.callers).toEqual(['/lib/a.so:[0x1234]', '/lib/b.so:[0x1234]']);
    expect(ledger.leakSummary().topCallers.map((c) => [c.key, c.blocks])).toEqual([['/lib/a.so:[0x1234]', 2], ['/lib/b.so:[0x1234]', 1]]);
  });
});

describe('ltrace reader', () => {
  it('joins unfinished/resumed calls per thread; frees act at the call, allocations at the result', async () => {
    const { lines, ledger } = await eventLines(fixture('threads.ltrace'));
    expect(lines).toEqual([
      'thread 4195',
      'a 0 10',
      'c 1 24',
      'x unknown-result',      // posix_memalign: ltrace does not show the pointer it stored
      'm 2 50 32',             // memalign(32, 50, junk...): extra arguments ignored
      'm 3 128 64',
      'f 0',                   // realloc(p, 0) = 0 frees p
      'a 0 5',                 // realloc(NULL, 5) allocates
      'x free-null',
      'thread 4196',
      'a 4 100',
      'r 4 300',
      'f 4',
      'thread 4197',
      'a 4 100',               // resumed malloc of thread 4197
      'thread 4196',
      'a 5 101',
      'f 5',                   // free <unfinished>: applied at its call line
      'thread 4197',
      'r 4 300',               // resumed realloc, moved to a new address, same id
      'f 4',
      'thread 4195',
      'x unmatched-free',      // the posix_memalign block
      'f 2',
      'f 3',
      'x unknown-result',      // malloc(64 <no return ...>
    ]);
    expect(ledger.events).toBe(20);
    expect(ledger.input.ignoredLines).toBe(4); // pthread_create and three +++ exited lines
    expect(ledger.threadsSeen.size).toBe(3);
    expect(ledger.leakSummary()).toMatchObject({ blocks: 2, bytes: 29 });
  });

  it('reads `ltrace -f -tt -o` lines (bare pid, timestamp, no lib prefix) and ignores other calls', async () => {
    const { lines, ledger } = await eventLines(fixture('plain.ltrace'));
    // Timestamps become ticks of the microseconds since the previous line.
    expect(lines).toEqual([
      'thread 4403', 'a 0 10', 'tick 427', 'c 1 24', 'tick 122', 'f 0', 'tick 95', 'a 0 5',
      'tick 8',   // strlen(...): ignored, but time passes
      'tick 100', 'f 1', 'tick 100',
    ]);
    expect(ledger.input.ignoredLines).toBe(2); // strlen(...) and the signal line
  });

  it('reads -ttt epoch and -r relative timestamps, and clock times across midnight', async () => {
    const path = join(tmp.dir, 'times.ltrace');
    writeFileSync(path, [
      '1700000000.000100 malloc(1) = 0x10', '1700000000.000350 free(0x10) = <void>',
    ].join('\n') + '\n');
    expect((await eventLines(path, { format: 'ltrace' })).lines).toEqual(['a 0 1', 'tick 250', 'f 0']);
    writeFileSync(path, '  0.000000 malloc(1) = 0x10\n  0.000042 free(0x10) = <void>\n');
    expect((await eventLines(path, { format: 'ltrace' })).lines).toEqual(['a 0 1', 'tick 42', 'f 0']);
    writeFileSync(path, '23:59:59.999990 malloc(1) = 0x10\n00:00:00.000010 free(0x10) = <void>\n');
    expect((await eventLines(path, { format: 'ltrace' })).lines).toEqual(['a 0 1', 'tick 20', 'f 0']);
  });
});

describe('logalloc reader', () => {
  it('replays the first process, counts the others, turns jemalloc_stats into a mark', async () => {
    const { lines, ledger } = await eventLines(fixture('two-processes.logalloc'));
    expect(lines).toEqual([
      'thread 18545', 'a 0 32', 'c 1 148',
      'thread 18546', 'r 0 64', 'm 2 240 256',
      'thread 18545', 'mark jemalloc_stats', 'f 0', 'x free-null', 'x failed-alloc',
      'm 0 1024 512', 'm 3 1024 4096', 'x unmatched-free',
    ]);
    expect(ledger.input.otherProcessLines).toBe(1);
    expect(ledger.events).toBe(10);
    expect(ledger.leakSummary()).toMatchObject({ blocks: 4, bytes: 148 + 240 + 1024 + 1024 });
  });

  it('reads logs preprocessed by logalloc_munge (#N slots)', async () => {
    const { lines } = await eventLines(fixture('munged.logalloc'));
    expect(lines).toEqual([
      'thread 1', 'mark jemalloc_stats', 'a 0 42', 'a 1 24', 'f 0', 'm 0 1024 4096', 'c 2 168', 'f 1',
      'r 2 84', 'm 1 1024 256', 'mark jemalloc_stats', 'f 1',
    ]);
  });
});

describe('malloc-lab .rep reader', () => {
  it('maps trace ids to dense ids and checks the header count', async () => {
    const { lines, ledger } = await eventLines(fixture('short.rep'));
    expect(lines).toEqual(['a 0 512', 'a 1 128', 'r 0 1024', 'f 1', 'a 1 64', 'f 0', 'x unmatched-free']);
    expect(ledger.warnings).toEqual([]);
  });

  it('warns when the header disagrees with the body', async () => {
    const path = join(tmp.dir, 'short.rep');
    writeFileSync(path, '100\n2\n5\n1\na 0 10\nf 0\n');
    const { ledger } = await eventLines(path, { format: 'rep' });
    expect(ledger.warnings).toEqual(['header declares 5 requests, the trace has 2']);
  });
});

describe('heapsim text reader', () => {
  it('reads every event kind, callers and labels', async () => {
    const { lines, ledger } = await eventLines(fixture('sample.txt'));
    expect(lines).toEqual([
      'thread 7', 'a 0 32 @main.c:10', 'c 1 96', 'm 2 100 64 @pool.c:3 (pool_new)', 'mark startup done', 'tick 5',
      'r 0 64', 'f 1', 'x unmatched-free', 'a 1 16',
      'f 2',            // r 2 0: realloc to size 0 frees (glibc semantics)
      'x double-free',  // f 2 after that
      'x failed-alloc', 'mark end',
    ]);
    expect(ledger.labels).toEqual(['startup done', 'end']);
    expect(ledger.events).toBe(10);
  });

  it('an allocation into an id that is still live frees the older block first (test/trace/untraced.test.ts)', async () => {
    const path = join(tmp.dir, 'live.txt');
    writeFileSync(path, '#heapsim-trace 1\na 1 10\na 1 20\n');
    const { lines, ledger } = await eventLines(path);
    expect(lines).toEqual(['a 1 10', 'i 1', 'a 1 20']);
    expect(ledger.implicitFrees).toBe(1);
    expect(ledger.liveBytes).toBe(20);
  });
});
