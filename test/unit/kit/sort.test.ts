// The kit heapsort (assembly/kit/sort.ts), compiled with a small entry of its own (sort-entry.ts)
// optimized and unoptimized: u64 values by themselves and u32 indices by a key table, against
// JavaScript's sort. Keys use all 64 bits (an order taken as signed, or by the low word, fails).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface SortExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  sortValues(p: number, count: number): void;
  sortIndices(p: number, count: number, table: number): void;
}

const ENTRY = 'test/unit/kit/sort-entry.ts';
const ASC = 'node_modules/assemblyscript/bin/asc.js';
const builds: Record<string, SortExports> = {};
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'heapsim-sort-'));
  for (const [name, flags] of [['optimized', ['-O3']], ['unoptimized', ['--debug']]] as const) {
    const out = join(dir, `${name}.wasm`);
    // Run from the scratch directory: the repository's asconfig.json (the engine's entries and
    // options) is not read; the entry alone is compiled.
    execFileSync(process.execPath, [resolve(ASC), resolve(ENTRY), '--outFile', out, '--runtime', 'stub', ...flags], { cwd: dir });
    const env = { abort() { throw new Error('abort'); } };
    const { instance } = await WebAssembly.instantiate(readFileSync(out), { env });
    builds[name] = instance.exports as unknown as SortExports;
  }
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** Sorts `values` in the build's memory by themselves; returns them as read back. */
function sortValues(w: SortExports, values: bigint[]): bigint[] {
  const p = w.alloc(Math.max(values.length, 1) * 8);
  const view = new BigUint64Array(w.memory.buffer, p, values.length);
  view.set(values);
  w.sortValues(p, values.length);
  return [...new BigUint64Array(w.memory.buffer, p, values.length)];
}

/** Sorts the indices `order` by `keys[index]`; returns the indices as read back. */
function sortIndices(w: SortExports, keys: bigint[], order: number[]): number[] {
  const table = w.alloc(Math.max(keys.length, 1) * 8);
  new BigUint64Array(w.memory.buffer, table, keys.length).set(keys);
  const p = w.alloc(Math.max(order.length, 1) * 4);
  new Uint32Array(w.memory.buffer, p, order.length).set(order);
  w.sortIndices(p, order.length, table);
  return [...new Uint32Array(w.memory.buffer, p, order.length)];
}

const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const TOP_BIT = 1n << 63n;
const MAX64 = 2n ** 64n - 1n;
const small = fc.bigInt({ min: 0n, max: 15n });
const key64 = fc.oneof(fc.bigInt({ min: 0n, max: MAX64 }), small, small.map((v) => v + TOP_BIT), fc.constant(MAX64));

describe.each(['optimized', 'unoptimized'])('kit heapsort (%s)', (name) => {
  it('fixed cases: empty, one, two, sorted, reversed, all equal, keys past 2^63 and 2^32', () => {
    const w = builds[name];
    const cases: bigint[][] = [
      [], [5n], [2n, 1n], [1n, 2n], [1n, 2n, 3n, 4n, 5n, 6n, 7n], [9n, 8n, 7n, 6n, 5n, 4n, 3n, 2n, 1n, 0n],
      [3n, 3n, 3n, 3n], [TOP_BIT, 1n, TOP_BIT - 1n, 0n], [1n << 32n, 1n, (1n << 32n) + 1n, 2n],
    ];
    for (const c of cases) expect(sortValues(w, c)).toEqual([...c].sort(ascending));
  });

  it('u64 values come back as JavaScript sorts them', () => {
    const w = builds[name];
    fc.assert(fc.property(fc.array(key64, { maxLength: 300 }), (values) => {
      expect(sortValues(w, values)).toEqual([...values].sort(ascending));
    }), { numRuns: 200 });
  });

  it('u32 indices come back ordered by their keys, each index once', () => {
    const w = builds[name];
    fc.assert(fc.property(fc.uniqueArray(key64, { maxLength: 300 }), (keys) => {
      const order = keys.map((_, i) => i).reverse();
      const got = sortIndices(w, keys, order);
      expect(got.map((i) => keys[i])).toEqual([...keys].sort(ascending));
      expect([...got].sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
    }), { numRuns: 200 });
  });
});
