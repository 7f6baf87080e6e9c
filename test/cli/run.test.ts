import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { cli } from './helpers.js';

describe('heapsim run', () => {
  it('--json prints one document with the documented fields, sizes as integer bytes', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'first-fit', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['policy', 'arch', 'workload', 'events', 'checkpoints']));
    expect(doc).toMatchObject({ policy: 'first-fit', arch: 'x86', workload: 'peak-hour', profile: 'windows-service-x86' });
    expect(doc.checkpoints.map((c: { label: string }) => c.label)).toEqual(['before', 'peak', 'after']);
    for (const cp of doc.checkpoints) {
      expect(Object.keys(cp)).toEqual(expect.arrayContaining(['label', 'event', 'heap', 'address']));
      expect(Object.keys(cp.address)).toEqual(expect.arrayContaining(['state', 'type', 'usage']));
      const { commit, reserve, free } = cp.address.state;
      expect(commit + reserve + free).toBe(0x7fff0000);
      for (const v of [commit, reserve, free, cp.heap.committedBytes, cp.heap.reservedBytes, cp.heap.busyBytes]) {
        expect(Number.isInteger(v)).toBe(true);
      }
    }
    // The peak holds more than before, and the heap's commit is part of MEM_COMMIT.
    const [before, peak] = doc.checkpoints;
    expect(peak.heap.busyBytes).toBeGreaterThan(2 * before.heap.busyBytes);
    expect(peak.address.state.commit).toBeGreaterThanOrEqual(peak.heap.committedBytes);
  });

  it('prints the verdict first, a row per moment, the platform view at the end; --dumps one per checkpoint', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'first-fit', '--seed', '3');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^heapsim run: peak-hour on first-fit \(x86, profile windows-service-x86, seed 3, WinDbg view\): 650000 events$/);
    expect(lines[2]).toMatch(/^verdict: (second-order|first-order|none|out-of-memory): /);
    expect(r.stdout.match(/^(start|before|peak|after|committed peak) +\d+ /gm)).toHaveLength(5);
    // Only the end gets the full view by default (a Windows profile: WinDbg's).
    expect(r.stdout.match(/^=== (before|peak|after) \(event \d+\) ===$/gm)).toEqual(['=== after (event 650000) ===']);
    expect(r.stdout.match(/^0:000> !address -summary$/gm)).toHaveLength(1);
    const dumps = await cli('run', 'peak-hour', '--policy', 'first-fit', '--seed', '3', '--dumps');
    expect(dumps.stdout.match(/^=== (before|peak|after) \(event \d+\) ===$/gm)).toHaveLength(3);
    expect(dumps.stdout.match(/^0:000> !address -summary$/gm)).toHaveLength(3);
    // --every adds rows to the table, not dumps.
    const every = await cli('run', 'peak-hour', '--policy', 'first-fit', '--seed', '3', '--every', '100000');
    expect(every.stdout.match(/^#\d+ +\d+ /gm)).toHaveLength(6);
    expect(every.stdout.match(/^0:000> !address -summary$/gm)).toHaveLength(1);
  });

  it('accepts --set with size units and changes the outcome', async () => {
    const a = JSON.parse((await cli('run', 'peak-hour', '--json', '--set', 'decommitBlockBytes=4K', '--set', 'decommitTotalBytes=0')).stdout);
    const b = JSON.parse((await cli('run', 'peak-hour', '--json', '--set', 'decommitBlockBytes=1G')).stdout);
    expect(a.checkpoints[2].heap.committedBytes).toBeLessThan(b.checkpoints[2].heap.committedBytes);
    expect(b.checkpoints[2].heap.decommits).toBe(0);
  });

  it.each([
    [['run', 'peak-hour', '--policy', 'nope'], /unknown policy 'nope'/],
    [['run', 'peak-hour', '--bogus'], /Unknown option '--bogus'/],
    [['run', 'peak-hour', '--arch', 'arm'], /--arch must be one of/],
    [['run', 'peak-hour', '--seed', 'x'], /--seed wants a non-negative integer/],
    [['run', 'peak-hour', '--set', 'oops'], /--set wants key=value/],
    [['run', 'peak-hour', '--set', 'nope=1'], /has no parameter 'nope'/],
    [['run', 'no-such-workload'], /unknown workload/],
    [['run'], /exactly one workload/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('bad input %j: one line on stderr, exit 2', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help and --version', async () => {
    const h = await cli('--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/run\s+run a workload/);
    const v = await cli('--version');
    expect(v.stdout.trim()).toBe(`heapsim ${JSON.parse(readFileSync('package.json', 'utf8')).version}`);
    expect((await cli('run', '--help')).stdout).toMatch(/--policy NAME/);
  });
});

describe('heapsim run: engine refusals are user errors', () => {
  it('a non-stackable policy on a parent is one line, exit 2', async () => {
    const r = await cli('run', 'peak-hour', '--policy', 'first-fit', '--set', 'parent=pool');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot take memory from another heap/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('heapsim run: diagnosis', () => {
  it('prints the diagnosis after the marks and puts it in --json', async () => {
    const text = await cli('run', 'peak-hour', '--policy', 'pool', '--set', 'maxObjectBytes=1M', '--set', 'chunkBytes=4M');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^verdict: second-order: [\d.]+ MiB retained at the end \(committed − live\), mostly retained by pool/m);
    expect(text.stdout).toMatch(/=== details ===\n\nsecond-order:/);
    expect(text.stdout).toMatch(/retained by pool/);
    const doc = JSON.parse((await cli('run', 'peak-hour', '--policy', 'pool', '--set', 'maxObjectBytes=1M', '--set', 'chunkBytes=4M', '--json')).stdout);
    expect(doc.diagnosis.kind).toBe('second-order');
    expect(doc.diagnosis.retainedBytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(Number.isInteger(doc.diagnosis.retainedBytes)).toBe(true);
  });
});

describe('heapsim: missing files', () => {
  it.each([
    [['run', './nope.mtrace'], /^heapsim run: \.\/nope\.mtrace: no such file \(and no built-in workload of that name\)$/],
    [['stats', 'nope.mtrace'], /^heapsim stats: nope\.mtrace: no such file$/],
    [['analyze', 'missing-dump.txt'], /^heapsim analyze: missing-dump\.txt: no such file$/],
  ])('%j: one line naming the file, exit 2', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
  });
});

describe('heapsim run: out-of-memory and the vocabulary of the report', () => {
  it('windows-service-peak on pool runs out of x86 address space: out-of-memory with the first failing event, replay goes on', async () => {
    const r = await cli('run', 'windows-service-peak', '--policy', 'pool', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.diagnosis.kind).toBe('out-of-memory');
    const first = doc.program.firstFailure;
    expect(first).toMatchObject({ reason: 'address-space', heap: 0 });
    expect(first.event).toBeGreaterThan(0);
    expect(first.event).toBeLessThan(doc.events);
    // Replay went on to the end; every failed call is the program's, counted once (frees of the
    // blocks that could not be placed succeed: the program freed what it asked for).
    expect(doc.program.failedAllocs).toBe(doc.failedOps);
    expect(doc.checkpoints.map((c: { label: string }) => c.label)).toEqual(['before', 'peak', 'after']);
    // The program's live bytes are the workload's, not what the pool managed to place.
    const nt = JSON.parse((await cli('run', 'windows-service-peak', '--policy', 'nt', '--json')).stdout);
    expect(doc.checkpoints.map((c: { program: { liveBytes: number } }) => c.program.liveBytes))
      .toEqual(nt.checkpoints.map((c: { program: { liveBytes: number } }) => c.program.liveBytes));
    expect(nt.diagnosis.kind).toBe('second-order');
    expect(doc.events).toBe(nt.events); // the replay went on to the end, as on a policy where nothing fails
    const text = await cli('run', 'windows-service-peak', '--policy', 'pool');
    expect(text.stdout.split('\n')[2]).toBe(`verdict: out-of-memory: ${doc.program.failedAllocs} allocations failed, the first at event ${first.event} ` +
      `(${(first.sizeBytes / 1024).toFixed(1)} KiB: address space exhausted); also second-order, ${(doc.diagnosis.findings[1].bytes / 1024 ** 3).toFixed(1)} GiB`);
    // sweep shows the failed allocations and the true peak.
    const sweep = JSON.parse((await cli('sweep', 'windows-service-peak', '--policy', 'pool', '--jobs', '1', '--json')).stdout).runs[0];
    expect(sweep).toMatchObject({ diagnosis: 'out-of-memory', failedAllocs: doc.program.failedAllocs, firstFailedEvent: first.event,
      peakCommittedBytes: doc.peaks.committedBytes.bytes, peakEvent: doc.peaks.committedBytes.event });
  });

  it('a Linux policy on a trace (x64, bare) speaks Linux, never a 128 TiB !address table; a Windows policy speaks WinDbg', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'heapsim-vocab-')), 't.txt');
    writeFileSync(file, ['#heapsim-trace 1', ...Array.from({ length: 100 }, (_, i) => `a ${i} 30000`), 'a 100 100',
      ...Array.from({ length: 100 }, (_, i) => `f ${i}`)].join('\n') + '\n');
    const linux = await cli('run', file, '--policy', 'ptmalloc');
    expect(linux.stdout).toMatch(/\(x64, profile bare, Linux view\)/);
    expect(linux.stdout).toMatch(/^RSS of the heaps [\d.]+ MiB, committed [\d.]+ MiB; the program's live bytes 100 B/m);
    expect(linux.stdout).toMatch(/^heap 0 ptmalloc: heap \(brk\) [\d.]+ MiB, mmap 0 B in 0 blocks, RSS/m);
    expect(linux.stdout).not.toMatch(/!address|TotSize|TiB|Usage SUMMARY/);
    expect(JSON.parse((await cli('run', file, '--policy', 'ptmalloc', '--json')).stdout).platform).toBe('linux');
    const windows = await cli('run', file, '--policy', 'nt');
    expect(windows.stdout).toMatch(/\(x64, profile bare, WinDbg view\)/);
    expect(windows.stdout).toMatch(/^0:000> !heap -s$/m);
    const plain = await cli('run', file, '--policy', 'first-fit');
    expect(plain.stdout).toMatch(/\(x64, profile bare, plain view\)/);
    expect(plain.stdout).not.toMatch(/!address/);
    expect(plain.stdout).toMatch(/^heap 0 first-fit: reserved /m);
    // A Linux policy on a Windows profile is reported as WinDbg shows that process.
    expect((await cli('run', 'peak-hour', '--policy', 'ptmalloc', '--json')).stdout).toMatch(/"platform": "windows"/);
  });
});
