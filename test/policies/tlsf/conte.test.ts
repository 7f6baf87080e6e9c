// tlsf against Matthew Conte's implementation: the fixtures hold his TLSF's answer to every call of
// five fixed sequences (see make-fixtures.ts for how they were made). After every call the engine's
// tlsf heap must return the same pointer (as an offset from the memory given to
// tlsf_create_with_pool) and report the same heap.native used_bytes and high_water. Four fixtures
// call tlsf_malloc directly (zeroSizeRequest 0: malloc(0) is NULL), one through a max(n, 1)
// wrapper (the default, zeroSizeRequest 1).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const CHECK_EVERY = 50;

interface Line { call: string; op: string; id: number; args: number[]; offset: number; used: number; highWater: number }

function parse(file: string): { poolBytes: number; zeroSizeRequest: number; lines: Line[] } {
  let poolBytes = 0, zeroSizeRequest = -1;
  const lines: Line[] = [];
  for (const [i, raw] of readFileSync(join(DIR, file), 'utf8').split('\n').entries()) {
    if (!raw || raw.startsWith('#')) continue;
    if (raw.startsWith('pool ')) { poolBytes = Number(raw.slice(5)); continue; }
    if (raw.startsWith('zeroSizeRequest ')) { zeroSizeRequest = Number(raw.slice(16)); continue; }
    const [call, answer] = raw.split(' | ');
    const f = call!.split(' ');
    const a = answer!.split(' ').map(Number);
    if (a.length !== 3 || f.length < 2) throw new Error(`${file}:${i + 1}: bad fixture line`);
    lines.push({ call: call!, op: f[0]!, id: Number(f[1]), args: f.slice(2).map(Number), offset: a[0]!, used: a[1]!, highWater: a[2]! });
  }
  if (!poolBytes || (zeroSizeRequest !== 0 && zeroSizeRequest !== 1)) throw new Error(`${file}: no pool or zeroSizeRequest line`);
  return { poolBytes, zeroSizeRequest, lines };
}

const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();

describe("tlsf: block placement and statistics equal Conte's TLSF after every call", () => {
  it('has the five fixtures', () => {
    expect(FIXTURES).toEqual(['exhaustion.txt', 'large.txt', 'realloc-chains.txt', 'small-mixed.txt', 'zero-as-one.txt']);
  });

  for (const file of FIXTURES) {
    it(file, async () => {
      const { poolBytes, zeroSizeRequest, lines } = parse(file);
      const e = await createEngine({ arch: 'x64' });
      // The wrapper fixture runs on the default setting (no zeroSizeRequest given).
      const h = e.createHeap('tlsf', { params: zeroSizeRequest ? { poolBytes } : { poolBytes, zeroSizeRequest } });
      const mem = e.sample().heaps[0]!.policyCounters['memAddress']!;
      expect(mem % 65536).toBe(0);
      const dead = new Set<number>(); // ids whose malloc returned NULL: Conte's side ignores them too
      const ops = new OpBuffer(1);
      let nulls = 0;
      for (const [n, l] of lines.entries()) {
        const where = `${file} call ${n + 1} (${l.call})`;
        ops.clear();
        let sent = true;
        switch (l.op) {
          case 'm': ops.alloc(h, l.id, l.args[0]!); break;
          case 'a': ops.alignedAlloc(h, l.id, l.args[1]!, l.args[0]!); break;
          case 'r': if (dead.has(l.id)) sent = false; else ops.realloc(h, l.id, l.args[0]!); break;
          case 'f': if (dead.delete(l.id)) sent = false; else ops.free(h, l.id); break;
          default: throw new Error(`${where}: unknown call`);
        }
        if (sent) {
          const r = e.apply(ops);
          const expectFailure = l.op !== 'f' && l.offset === 0;
          expect(r.failedOps, where).toBe(expectFailure ? 1 : 0);
          if (expectFailure) {
            nulls++;
            if (l.op !== 'r') dead.add(l.id);
          } else if (l.op !== 'f') {
            expect(e.blockOf(l.id).address - mem, where).toBe(l.offset);
          }
        } else {
          expect(l.offset, where).toBe(0);
        }
        const c = e.sample().heaps[0]!.policyCounters;
        expect([c['usedBytes'], c['highWater']], where).toEqual([l.used, l.highWater]);
        if (n % CHECK_EVERY === 0) expect(e.check(), where).toBe(0);
      }
      expect(e.check()).toBe(0);
      // Each fixture reaches the paths it was made for.
      if (file === 'exhaustion.txt') expect(nulls).toBeGreaterThan(500);
      if (file === 'large.txt') expect(nulls).toBeGreaterThan(10);
      if (file === 'small-mixed.txt') expect(e.sample().heaps[0]!.policyCounters['zeroSizeNulls']).toBeGreaterThan(10);
      if (file === 'zero-as-one.txt') expect(lines.filter((l) => l.op !== 'f' && l.op !== 'r' && l.args.at(-1) === 0).length).toBeGreaterThan(50);
    });
  }
});
