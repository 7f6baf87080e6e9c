// ptmalloc's chunk record stores a chunk's size only in the sized states (in use, top, a fence, a
// mapped chunk); a chunk in a bin, a tcache or a fastbin keeps its list's fd in that field and its
// size follows from its successor's address (assembly/policies/ptmalloc/ptmalloc.ts, the chunk
// record). Every way from a list back to a sized state must store the size again, and every merge
// must leave the stored size of the chunk it grows right. Here small scripts, each on a fresh heap,
// take each such way: a tcache chunk handed out, and one returned by the unsorted pass (tcache_get after
// an exact fit was cached), an exact fit handed out at once (calloc), a fastbin chunk taken, a
// small-bin chunk taken, a large-bin chunk split, the last remainder split again, a binned chunk
// merging a freed chunk and top, a chunk grown by realloc into the free chunk after it, mapped
// chunks linked and unlinked, and a thread's tcache emptied at its exit. glibc's figures must match after every call, and the invariants (the
// records tile each arena: a stored size that is wrong breaks the tiling) hold after every call.
import { describe, it, expect } from 'vitest';
import { oracle, runOracle, runSim, opsScript, firstDifference, type PtOp } from './harness.js';

const info = oracle();
const itOracle = info.binary ? it : it.skip;

const TCACHE_FILL = 7;             // glibc's tcache_count
const FAST_BYTES = 24;             // a 32-byte chunk: tcache and fastbin sized
const SMALL_BYTES = 200;           // a 208-byte chunk: past the fastbins, tcache sized
const LARGE_BYTES = 1500;          // past the tcache: frees go to unsorted
const BIG_FREE_BYTES = 4000;       // a large-bin chunk to split
const MAPPED_BYTES = 300_000;      // past the mmap threshold: a mapped chunk
const GUARD_BYTES = 40;            // keeps a freed chunk from merging with what follows

/** A script's calls: m(size) allocates and returns the block's id, f(id) frees it. */
function build(body: (m: (size: number) => number, f: (id: number) => void, out: PtOp[]) => void): PtOp[] {
  const out: PtOp[] = [];
  let id = 1;
  body((size) => { const x = id++; out.push({ op: 'm', id: x, size }); return x; }, (x) => { out.push({ op: 'f', id: x }); }, out);
  return out;
}

/** n blocks of `size` bytes, each with a guard after it (so that none merges when freed). */
function apart(m: (size: number) => number, n: number, size: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) { ids.push(m(size)); m(GUARD_BYTES); }
  return ids;
}

const SCRIPTS: Record<string, PtOp[]> = {
  // the tcache filled, one more to the fastbin; the tcache's hand-outs, then the fastbin pop
  'tcache and fastbin chunks taken back': build((m, f) => {
    for (const x of apart(m, TCACHE_FILL + 1, FAST_BYTES)) f(x);
    for (let i = 0; i <= TCACHE_FILL; i++) m(FAST_BYTES);
  }),
  // 7 to the tcache, 2 to unsorted; the tcache emptied; then the unsorted pass caches both exact
  // fits and returns one (tcache_get)
  'exact fits cached by the unsorted pass': build((m, f) => {
    for (const x of apart(m, TCACHE_FILL + 2, SMALL_BYTES)) f(x);
    for (let i = 0; i <= TCACHE_FILL + 1; i++) m(SMALL_BYTES);
  }),
  // calloc skips the tcache (its bin full): the exact fit in unsorted is handed out at once
  'an exact fit handed out at once': build((m, f, out) => {
    const [exact] = apart(m, 1, SMALL_BYTES);
    for (const x of apart(m, TCACHE_FILL, SMALL_BYTES)) f(x);
    f(exact!);
    out.push({ op: 'c', id: 1000, size: SMALL_BYTES });
  }),
  // a large request files the chunk into its small bin; the tcache's chunks, then the small bin's
  'a small-bin chunk taken': build((m, f) => {
    const [s1] = apart(m, 1, SMALL_BYTES);
    for (const x of apart(m, TCACHE_FILL, SMALL_BYTES)) f(x);
    f(s1!);
    m(LARGE_BYTES);
    for (let i = 0; i <= TCACHE_FILL; i++) m(SMALL_BYTES);
  }),
  // a large-bin chunk split (its rest the last remainder), the remainder split again
  'a large-bin chunk and the last remainder split': build((m, f) => {
    const [big] = apart(m, 1, BIG_FREE_BYTES);
    f(big!);
    m(LARGE_BYTES);
    m(FAST_BYTES); m(FAST_BYTES);
  }),
  // a binned chunk before a chunk next to top: freeing that chunk merges all three into top
  'a binned chunk, a freed chunk and top merged': build((m, f) => {
    const a = m(LARGE_BYTES), b = m(LARGE_BYTES);
    f(a); f(b);
  }),
  // realloc grows a chunk into the free chunk after it
  'realloc into the free chunk that follows': build((m, f, out) => {
    const c = m(LARGE_BYTES), d = m(LARGE_BYTES); m(GUARD_BYTES);
    f(d);
    out.push({ op: 'r', id: c, size: 2 * LARGE_BYTES });
    m(FAST_BYTES);
  }),
  // mapped chunks: three on the list, the middle one freed, one resized, the rest freed
  'mapped chunks linked and unlinked': build((m, f, out) => {
    const maps = [m(MAPPED_BYTES), m(MAPPED_BYTES), m(MAPPED_BYTES)];
    f(maps[1]!);
    out.push({ op: 'r', id: maps[0]!, size: 2 * MAPPED_BYTES });
    f(maps[2]!); f(maps[0]!);
  }),
  // a thread's tcache emptied into its arena at the thread's exit
  'a thread\'s tcache emptied at its exit': build((m, f, out) => {
    m(FAST_BYTES);
    out.push({ op: 'T', tid: 1 });
    for (const x of apart(m, 3, SMALL_BYTES)) f(x);
    out.push({ op: 'E', tid: 1 }, { op: 'T', tid: 0 });
    m(LARGE_BYTES);
  }),
};

describe('ptmalloc chunk records: sizes stored in sized states, derived in the lists', () => {
  for (const [name, ops] of Object.entries(SCRIPTS)) {
    itOracle(`${name}: glibc after every call, invariants after every call`, async () => {
      const real = runOracle({ text: opsScript(ops) }, { ops: true, every: 1, arenas: true });
      const sim = await runSim(ops, { every: 1, params: { cores: real.cores! }, build: 'debug', check: true, checkAfterEach: true });
      expect(firstDifference(real.checkpoints, sim.checkpoints)).toBeUndefined();
      expect(sim.checkpoints.length).toBe(real.checkpoints.length);
    });
  }
});
