// The command line for every policy of the registry, on one recorded-style trace (a seeded text
// trace written here: marks, calloc, memalign, realloc, large blocks, a peak and its release):
// `run` and `sweep` run it; `--set NAME=DEFAULT` of every parameter gives the same document as no
// --set (so the defaults the host declares are the engine's), except for parameters the library
// adapts unless they are set; `--set parent=` of every pair runs; `run --help`, `heapsim policies`
// and `policies --json` list every policy and every parameter.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../cli/helpers.js';
import { Prng } from '../../../src/workload/prng.js';
import { policySpecs, getPolicy } from '../../../src/policies/registry.js';
import { formatParamValue, policyCatalog } from '../../../src/policies/catalog.js';
import type { RunDocument } from '../../../src/report/types.js';

const EVENTS = 3000;
let dir = '';
let trace = '';

/** A text trace: grows to a peak of mixed sizes, frees most of it, then a quiet tail. */
function traceText(seed: number): string {
  const rng = new Prng(seed);
  const lines = ['#heapsim-trace 1', 'mark start'];
  const live: number[] = [];
  let next = 0;
  const size = (): number => {
    const r = rng.next();
    return r < 0.02 ? 100_000 + rng.int(700_000) : r < 0.3 ? 257 + rng.int(16_000) : rng.int(257);
  };
  for (let i = 0; i < EVENTS; i++) {
    if (i === EVENTS / 2) lines.push('mark peak');
    const growing = i < EVENTS / 2;
    const r = rng.next();
    if (live.length && (growing ? r < 0.25 : r < 0.7)) {
      const k = rng.int(live.length);
      lines.push(`f ${live[k]}`);
      live[k] = live[live.length - 1]!;
      live.pop();
    } else if (live.length && r < 0.8) {
      lines.push(`r ${live[rng.int(live.length)]} ${size()}`);
    } else {
      const id = next++;
      const kind = rng.int(20);
      lines.push(kind === 0 ? `c ${id} ${size()}` : kind === 1 ? `m ${id} ${size()} ${2 ** (4 + rng.int(8))}` : `a ${id} ${size()}`);
      live.push(id);
    }
  }
  lines.push('mark end');
  return lines.join('\n') + '\n';
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'heapsim-policies-cli-'));
  trace = join(dir, 'mixed.txt');
  writeFileSync(trace, traceText(7));
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

async function runJson(...args: string[]): Promise<{ doc: RunDocument; text: string }> {
  const r = await cli('run', trace, '--json', ...args);
  expect(r.code, `run ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return { doc: JSON.parse(r.stdout) as RunDocument, text: r.stdout };
}

describe('the command line for every policy', () => {
  for (const p of policySpecs()) {
    const arches = p.platform === 'linux' ? ['x64'] : ['x86', 'x64'];
    it(`${p.name}: run, and --set of each of its ${p.params.length} parameters to its default (${arches.join(', ')})`, async () => {
      for (const arch of arches) {
        const base = await runJson('--policy', p.name, '--arch', arch);
        expect(base.doc.policy).toBe(p.name);
        if (!p.refuses) expect(base.doc.failedOps ?? 0, `${p.name} refuses nothing by design`).toBe(0);
        expect(base.doc.checkpoints.map((c) => c.label)).toEqual(['start', 'peak', 'end']);
        expect(base.doc.checkpoints.every((c) => c.heap.policy === p.name)).toBe(true);
        // The library's own statistics, under its own names, in every checkpoint (spec.native).
        for (const c of base.doc.checkpoints) {
          const native = c.heap.native as Record<string, unknown> | undefined;
          if (!p.native) { expect(native).toBeUndefined(); continue; }
          expect(Object.keys(native ?? {}).length, `${p.name} heap.native`).toBeGreaterThan(0);
          for (const v of Object.values(native!)) expect(Number.isSafeInteger(v)).toBe(true);
        }
        for (const q of p.params) {
          const def = q.defaultByArch?.[arch as 'x86' | 'x64'] ?? q.defaultValue;
          const set = await runJson('--policy', p.name, '--arch', arch, '--set', `${q.name}=${formatParamValue(q.unit, def)}`);
          if (!q.adaptive) expect(set.text, `${arch} --set ${q.name}=${def} (the declared default) changes nothing`).toBe(base.text);
        }
      }
    });
  }

  const stackable = policySpecs().filter((p) => p.stackable);
  for (const p of stackable) {
    it(`${p.name} runs on every policy it can sit on (--set parent=)`, async () => {
      for (const parent of p.parents ?? policySpecs().map((q) => q.name)) {
        const arch = getPolicy(parent).platform === 'linux' ? 'x64' : 'x86';
        const { doc } = await runJson('--policy', p.name, '--set', `parent=${parent}`, '--arch', arch);
        expect(doc.layers, parent).toEqual([parent]);
        expect(doc.checkpoints.at(-1)!.heaps!.map((h) => h.policy)).toEqual([p.name, parent]);
      }
    });
  }

  it('sweep runs the trace on every policy', async () => {
    const names = policySpecs().map((p) => p.name);
    const r = await cli('sweep', trace, '--policy', names.join(','), '--jobs', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const runs = (JSON.parse(r.stdout) as { runs: { policy: string; events: number }[] }).runs;
    expect(runs.map((x) => x.policy)).toEqual(names);
    expect(runs.every((x) => x.events === EVENTS)).toBe(true);
  });

  it('run --help, heapsim policies and policies --json list every policy and parameter', async () => {
    const help = (await cli('run', '--help')).stdout;
    const text = await cli('policies');
    expect(text.code).toBe(0);
    const json = await cli('policies', '--json');
    const listed = (JSON.parse(json.stdout) as { policies: ReturnType<typeof policyCatalog> }).policies;
    expect(listed).toEqual(policyCatalog());
    for (const p of policySpecs()) {
      expect(help).toMatch(new RegExp(`^ +${p.name} +${p.description.slice(0, 30).replace(/[()[\]+.*?]/g, '\\$&')}`, 'm'));
      expect(text.stdout).toMatch(new RegExp(`^${p.name} `, 'm'));
      const entry = listed.find((x) => x.name === p.name)!;
      expect(entry.params.map((q) => q.name)).toEqual(p.params.map((q) => q.name));
      for (const q of p.params) expect(text.stdout).toMatch(new RegExp(`^ {4}${q.name} +${q.unit} +default `, 'm'));
    }
    expect((await cli('policies', 'extra')).code).toBe(2);
  });
});
