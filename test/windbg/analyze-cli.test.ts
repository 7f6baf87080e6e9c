// `heapsim analyze` through main(argv, io): the table, the verdict with its evidence, --json,
// warnings on stderr with their count, user errors as one line with exit code 2, --against.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const SEED = fixture('seed-second-order.txt');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => { out += s; } }, stderr: { write: (s: string) => { err += s; } } });
  return { code, out, err };
}

describe('heapsim analyze', () => {
  it('says second-order for the seed, with the evidence: ~500 MB more committed, reservation 1255320 K, free 75 % of commit', async () => {
    const { code, out, err } = await run('analyze', SEED);
    expect(code).toBe(0);
    expect(out).toContain('diagnosis: second-order');
    const summary = out.replace(/\n {2}(?=\S)/g, ' '); // the summary is wrapped at 100 columns
    expect(summary).toMatch(/committed 606\.3 MiB → 1104\.4 MiB \(\+498\.1 MiB\)/);
    expect(summary).toContain('reservation unchanged at 1255320 K');
    expect(summary).toContain('Free 260583 K → 772682 K (75 % of Commit)');
    const header = out.split('\n')[2]!;
    expect(header.trim().split(/ {2,}/)).toEqual(['Before peak hours', 'Δ', 'During peak hours', 'Δ', 'After peak hours']);
    const row = (name: string): string[] => out.split('\n').find((l) => l.trimStart().startsWith(name))!.trim().split(/ {2,}/);
    expect(row('committed (K)')).toEqual(['committed (K)', '620864', '+448800', '1069664', '+61204', '1130868']);
    expect(row('Reserv (K)')).toEqual(['Reserv (K)', '1255320', '0', '1255320', '0', '1255320']);
    expect(row('Free (K)')).toEqual(['Free (K)', '260583', '−155205', '105378', '+667304', '772682']);
    expect(row('external fragmentation')).toEqual(['external fragmentation', '50 %', '−40 pt', '10 %', '+65 pt', '75 %']);
    expect(row('virtual address fragmentation')).toEqual(['virtual address fragmentation', '56 %', '−33 pt', '23 %', '−7 pt', '16 %']);
    expect(row('uncommitted ranges')).toEqual(['uncommitted ranges', '41898', '−25068', '16830', '+682', '17512']);
    expect(err.split('\n').filter((l) => l)).toEqual([
      expect.stringMatching(/^heapsim analyze: warning: .*seed-second-order\.txt:\d+: Type SUMMARY row has no label; taken as <free>/),
      'heapsim analyze: 1 warning',
    ]);
  });

  it('--json carries every parsed number as integer bytes and the diagnosis', async () => {
    const { code, out } = await run('analyze', SEED, '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.warningCount).toBe(1);
    expect(doc.snapshots.map((s: { label: string }) => s.label)).toEqual(['Before peak hours', 'During peak hours', 'After peak hours']);
    const after = doc.snapshots[2];
    expect(after.address.state.commit.bytes).toBe(0x4505d000);
    // Heap addresses (and flags) as WinDbg prints them.
    expect(after.heaps[0].address).toBe('00310000');
    expect(after.heaps[0].flags).toBe('00001002');
    expect(after.heaps[0].reservedBytes).toBe(1255320 * 1024);
    expect(after.heaps[0].freeBytes).toBe(772682 * 1024);
    expect(after.printed.addressRows).toHaveLength(17);
    expect(after.printed.heapLines.map((l: { kind: string; pct?: number; count: number }) => [l.kind, l.pct ?? null, l.count]))
      .toEqual([['external', 75, 264787], ['virtualAddress', 16, 17512], ['lockContention', null, 5768756]]);
    expect(doc.diagnosis.kind).toBe('second-order');
    expect(Number.isInteger(doc.diagnosis.retainedBytes)).toBe(true);
    const walk = (v: unknown): void => {
      if (typeof v === 'number') expect(Number.isInteger(v)).toBe(true);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(doc.snapshots);
  });

  it('takes several files as several snapshots and says first-order for a growing program', async () => {
    const { code, out } = await run('analyze', '--json', fixture('first-order-leak.txt'));
    expect(code).toBe(0);
    expect(JSON.parse(out).diagnosis.kind).toBe('first-order');
    const both = JSON.parse((await run('analyze', '--json', fixture('new-format-x86.txt'), SEED)).out);
    expect(both.snapshots.map((s: { label: string; file: string }) => s.label)).toEqual(['Monday 09:00', 'Monday 18:00', 'Before peak hours', 'During peak hours', 'After peak hours']);
  });

  it('user errors are one line on stderr with exit code 2', async () => {
    const unknown = await run('analyze', SEED, '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.out).toBe('');
    expect(unknown.err).toBe("heapsim analyze: Unknown option '--bogus' (see heapsim analyze --help)\n");
    const none = await run('analyze');
    expect(none.code).toBe(2);
    expect(none.err).toBe('heapsim analyze: analyze wants at least one file (see heapsim analyze --help)\n');
    const missing = await run('analyze', '/nonexistent/dump.txt');
    expect(missing.code).toBe(2);
    expect(missing.err.split('\n')).toHaveLength(2);
    expect(missing.err).toMatch(/^heapsim analyze: \/nonexistent\/dump\.txt: no such file$/m);
    const dir = mkdtempSync(join(tmpdir(), 'heapsim-analyze-'));
    const bad = join(dir, 'bad.txt');
    const lines = readFileSync(SEED, 'utf8').split('\n');
    const n = lines.findIndex((l) => l.includes('RegionUsageImage')) + 1;
    lines[n - 1] = lines[n - 1]!.replace('4352000', '43g2000');
    writeFileSync(bad, lines.join('\n'));
    // A damaged row is skipped with a warning; the rest of the file is read and diagnosed.
    const damaged = await run('analyze', bad);
    expect(damaged.code).toBe(0);
    expect(damaged.out).toContain('diagnosis: second-order');
    expect(damaged.err).toContain(`heapsim analyze: warning: ${bad}:${n}: skipped: Usage SUMMARY row: size '43g2000' is not hexadecimal\n`);
    expect(damaged.err).toMatch(/heapsim analyze: \d+ warnings, 1 damaged line skipped\n$/);
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, 'notes about a dump, but no debugger output\n');
    const nothing = await run('analyze', empty);
    expect(nothing.code).toBe(2);
    expect(nothing.err).toBe(`heapsim analyze: ${empty}: no WinDbg output found (looked for !address -summary, !address, !heap -s, !heap -stat)\n`);
  });

  it('--help explains the command and the busy measure', async () => {
    const { code, out } = await run('analyze', '--help');
    expect(code).toBe(0);
    expect(out).toMatch(/^usage: heapsim analyze <file>\.\.\. \[options\]/);
    expect(out).toContain('busy = Commit − Free per heap');
    const top = await run('--help');
    expect(top.out).toMatch(/analyze +read WinDbg/);
  });

  it('--against runs a built-in workload and prints it beside the dumps, matched by label', async () => {
    const { code, out } = await run('analyze', SEED, '--against', 'peak-hour');
    expect(code).toBe(0);
    expect(out).toContain('simulation: peak-hour on first-fit (x86, profile windows-service-x86, seed 1)');
    const header = out.split('\n').find((l) => l.includes('~ before'))!;
    expect(header.trim().split(/ {2,}/)).toEqual(['Before peak hours ~ before', 'During peak hours ~ peak', 'After peak hours ~ after']);
    // Pinned: peak-hour on first-fit keeps tens of MiB committed after the peak that the program freed.
    expect(out).toMatch(/simulation diagnosis: second-order\n {2}second-order: \d+\.\d MiB committed that the program no longer uses at "after"/);
    // The score: one ratio per number both sides have, an overall figure, and what was left out.
    expect(out).toMatch(/^ {2}heap Commit \(K\) +102808\/512712 = 0\.20 \*/m);
    expect(out).toMatch(/^overall: \d+\.\d % \(mean of min\(ratio, 1\/ratio\)\); \d+ of 23 numbers within 10 %$/m);
    expect(out).toContain('not compared: "During peak hours" heap 00310000: List length 0 with 105378 K free cannot be the number of free blocks');
    // Both verdicts are second-order, so no sentence says they differ.
    expect(out).not.toMatch(/this scenario on first-fit/);
    const json = JSON.parse((await run('analyze', SEED, '--against', 'peak-hour', '--json')).out);
    expect(json.against.matches).toEqual([
      { snapshot: 'Before peak hours', checkpoint: 'before' },
      { snapshot: 'During peak hours', checkpoint: 'peak' },
      { snapshot: 'After peak hours', checkpoint: 'after' },
    ]);
    expect(json.against.run.checkpoints.map((c: { label: string }) => c.label)).toEqual(['before', 'peak', 'after']);
    expect(json.against.agreement.compared).toBe(23);
    expect(json.against.agreement.rows[0]).toMatchObject({ snapshot: 'Before peak hours', checkpoint: 'before', metric: 'MEM_COMMIT (K)', observed: 620864 });
    expect(json.against.verdict).toBeNull(); // the verdicts agree
    expect(json.against.diagnosis.kind).toBe('second-order');
    expect(json.against.diagnosis.retainedBytes).toBeGreaterThan(40 * 1024 * 1024);
    const unknown = await run('analyze', SEED, '--against', 'no-such-workload');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^heapsim analyze: --against: unknown workload 'no-such-workload'/);
  });

  it('--against windows-service-peak --policy nt: the seed\'s verdict, every number within 10 %, no sentence', async () => {
    const { code, out } = await run('analyze', SEED, '--against', 'windows-service-peak', '--policy', 'nt');
    expect(code).toBe(0);
    expect(out).toMatch(/^diagnosis: second-order$/m);
    expect(out).toMatch(/^simulation diagnosis: second-order$/m);
    expect(out).toMatch(/^overall: 9\d\.\d % \(mean of min\(ratio, 1\/ratio\)\); 23 of 23 numbers within 10 %$/m);
    expect(out).not.toMatch(/^ {2}.* \*$/m); // no ratio marked as more than 10 % apart
    expect(out).not.toContain('this scenario on nt');
  });

  it('--against accepts a trace file and matches its marks by label', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heapsim-against-'));
    const trace = join(dir, 'service.txt');
    const lines = ['#heapsim-trace 1'];
    for (let i = 0; i < 50; i++) lines.push(`a ${i} 4096`);
    lines.push('mark before');
    for (let i = 50; i < 400; i++) lines.push(`a ${i} 4096`);
    lines.push('mark peak');
    for (let i = 50; i < 400; i++) if (i % 10) lines.push(`f ${i}`);
    lines.push('mark after');
    writeFileSync(trace, lines.join('\n') + '\n');
    const json = JSON.parse((await run('analyze', SEED, '--against', trace, '--json')).out);
    expect(json.against.matches.map((m: { checkpoint: string | null }) => m.checkpoint)).toEqual(['before', 'peak', 'after']);
    const cps = json.against.run.checkpoints;
    expect(cps.find((c: { label: string }) => c.label === 'peak').event).toBe(400);
    expect(cps.find((c: { label: string }) => c.label === 'after').heap.liveBlocks).toBe(50 + 35);
    // Pinned: 315 of the 350 peak blocks freed in runs of nine 4 KiB blocks between survivors, each run
    // below first-fit's 64 KiB decommit threshold: the freed memory stays committed.
    expect(json.against.diagnosis.kind).toBe('second-order');
    expect(json.against.diagnosis.retainedBytes).toBe(json.against.diagnosis.retainedAtEndBytes);
    expect(json.against.diagnosis.retainedBytes).toBeGreaterThan(315 * 4096 * 0.9);
  });
});
