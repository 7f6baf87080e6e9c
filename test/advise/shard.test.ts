// --shard I/N --out FILE.jsonl and heapsim merge: three shards run as separate processes (as a CI
// matrix or a Kubernetes Indexed Job would run them) merge into exactly the unsharded report.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cli } from '../cli/helpers.js';
import { inShard, parseShard } from '../../src/shard/shard.js';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../../dist/cli/bin.js');

function trace(): string {
  const lines = ['#heapsim-trace 1', 'mark before'];
  let id = 1;
  for (let round = 0; round < 2; round++) {
    const ids: number[] = [];
    for (let i = 0; i < 3000; i++) { ids.push(id); lines.push(`a ${id++} ${100 + (i % 9) * 40}`); }
    if (round === 1) lines.push('mark peak');
    ids.forEach((b, i) => { if (round === 0 || i % 50 !== 0) lines.push(`f ${b}`); });
  }
  lines.push('mark after');
  return lines.join('\n') + '\n';
}

let dir: string;
let input: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapsim-shard-'));
  input = join(dir, 't.txt');
  writeFileSync(input, trace());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three shard processes at once, each writing its slice. */
async function shards(command: string, args: string[], name: string): Promise<string[]> {
  const files = [0, 1, 2].map((i) => join(dir, `${name}-${i}.jsonl`));
  await Promise.all(files.map((f, i) => run(process.execPath, [BIN, command, ...args, '--jobs', '1', '--shard', `${i}/3`, '--out', f])));
  return files;
}

describe('sharded sweep and advise', () => {
  it('--shard I/N: a deterministic round-robin slice, I counted from 0', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    const n = 10;
    const slices = [0, 1, 2].map((i) => Array.from({ length: n }, (_, k) => k).filter((k) => inShard(k, { index: i, count: 3 })));
    expect(slices.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, k) => k));
    expect(slices[1]).toEqual([1, 4, 7]);
  });

  it('three sweep shards in separate processes merge into the unsharded report, byte for byte (table and --csv)', async () => {
    const axes = [input, '--policy', 'ptmalloc,first-fit,nt,jemalloc', '--trim-at', 'peak'];
    const files = await shards('sweep', axes, 'sweep');
    for (const flag of [[], ['--csv']]) {
      const whole = await cli('sweep', ...axes, '--jobs', '1', ...flag);
      const merged = await cli('merge', ...files.slice().reverse(), ...flag);
      expect(merged.code, merged.stderr).toBe(0);
      expect(merged.stdout).toBe(whole.stdout);
    }
    // Each slice holds its own runs only.
    expect(readFileSync(files[0]!, 'utf8').trim().split('\n')).toHaveLength(1 + 2);
    // A missing slice is named.
    const short = await cli('merge', files[0]!, files[2]!);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/item\(s\) 1 missing \(shard 1\/3 not given\?\)/);
  });

  it('three advise shards merge into the unsharded advice; a slice of another plan is refused', async () => {
    const axes = [input, '--policy', 'nt'];
    const files = await shards('advise', axes, 'advise');
    for (const flag of [[], ['--json']]) {
      const whole = await cli('advise', ...axes, '--jobs', '1', ...flag);
      const merged = await cli('merge', ...files, ...flag);
      expect(merged.code, merged.stderr).toBe(0);
      expect(merged.stdout).toBe(whole.stdout);
    }
    const other = join(dir, 'other.jsonl');
    expect((await cli('advise', input, '--policy', 'nt', '--set', 'lfh=1', '--jobs', '1', '--shard', '1/3', '--out', other)).code).toBe(0);
    const mixed = await cli('merge', files[0]!, other, files[2]!);
    expect(mixed.code).not.toBe(0);
    expect(mixed.stderr).toMatch(/other\.jsonl: a slice of another plan/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, readFileSync(files[1]!, 'utf8').replace(/\n[^\n]*\n$/, '\n{oops\n'));
    const damaged = await cli('merge', files[0]!, bad, files[2]!);
    expect(damaged.stderr).toMatch(/bad\.jsonl.*line \d+: not a shard record/);
  });

  it('--shard without --out is a usage error', async () => {
    const r = await cli('sweep', input, '--shard', '0/2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--shard needs --out/);
  });
});
