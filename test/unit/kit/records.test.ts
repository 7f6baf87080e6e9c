// The kit record pool (assembly/kit/records.ts), compiled with a small entry of its own
// (records-entry.ts), optimized and unoptimized with checks: random runs of takes and drops through
// both forms (the pool's own record size and link offset, and the same given as constants: the
// ...Of forms the hot policies use) against a model of the pool: the same indices (dropped ones
// again first, last dropped first; new ones in order; 0 past the limit), records that never
// overlap through the table's doublings (each keeps the stamp written when it was taken), offsets
// of index × record size. A checked build refuses a record size other than the pool's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface PoolExports {
  init(firstCap: number, limit: number): void;
  takeA(stamp: number): number; takeB(stamp: number): number;
  dropA(n: number): void; dropB(n: number): void;
  stampA(n: number): number; stampB(n: number): number;
  offsetA(n: number): number; offsetB(n: number): number;
  inUseA(): number; inUseB(): number;
  wrongSize(n: number): number;
}

const ENTRY = 'test/unit/kit/records-entry.ts';
const ASC = 'node_modules/assemblyscript/bin/asc.js';
const RECORD_BYTES = 12;
const builds: Record<string, PoolExports> = {};
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'heapsim-records-'));
  for (const [name, flags] of [['optimized', ['-O3']], ['checked', ['--debug', '--use', 'HEAPSIM_CHECKS=1']]] as const) {
    const out = join(dir, `${name}.wasm`);
    // From the scratch directory: the repository's asconfig.json is not read; the entry alone is compiled.
    execFileSync(process.execPath, [resolve(ASC), resolve(ENTRY), '--outFile', out, '--runtime', 'stub', ...flags], { cwd: dir });
    const env = { abort() { throw new Error('abort'); } };
    const { instance } = await WebAssembly.instantiate(readFileSync(out), { env });
    builds[name] = instance.exports as unknown as PoolExports;
  }
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

type Step = { take: true } | { take: false; pick: number };
const steps = fc.array(fc.oneof(
  fc.constant<Step>({ take: true }),
  fc.constant<Step>({ take: true }),
  fc.nat(1 << 20).map<Step>((pick) => ({ take: false, pick })),
), { minLength: 1, maxLength: 600 });

describe.each(['optimized', 'checked'])('kit record pool (%s)', (name) => {
  it('both forms hand out the model\'s indices; records keep their stamps through growth', () => {
    fc.assert(fc.property(steps, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 20, max: 400 }), (run, firstCap, limit) => {
      const w = builds[name]!;
      w.init(firstCap, limit);
      let high = 1;
      const dropped: number[] = [];
      const live = new Map<number, number>();
      let stamp = 1;
      for (const s of run) {
        if (s.take) {
          const want = dropped.length ? dropped.pop()! : high <= limit ? high++ : 0;
          stamp++;
          expect(w.takeA(stamp)).toBe(want);
          expect(w.takeB(stamp)).toBe(want);
          if (want) live.set(want, stamp);
        } else if (live.size) {
          const n = [...live.keys()][s.pick % live.size]!;
          live.delete(n);
          w.dropA(n); w.dropB(n);
          dropped.push(n);
        }
        expect(w.inUseA()).toBe(live.size);
        expect(w.inUseB()).toBe(live.size);
      }
      for (const [n, st] of live) {
        expect(w.stampA(n)).toBe(st);
        expect(w.stampB(n)).toBe(st);
        expect(w.offsetA(n)).toBe(n * RECORD_BYTES);
        expect(w.offsetB(n)).toBe(n * RECORD_BYTES);
      }
    }), { numRuns: 200 });
  });
});

it('a checked build refuses a record size other than the pool\'s', () => {
  builds.checked!.init(4, 100);
  expect(builds.checked!.takeB(1)).toBe(1);
  expect(() => builds.checked!.wrongSize(1)).toThrow('abort');
  builds.optimized!.init(4, 100);
  expect(() => builds.optimized!.wrongSize(1)).not.toThrow();
});
