// malloc's second try in another arena (glibc's arena_get_retry after a failed _int_malloc, with
// threads). A thread arena's heap holds at most HEAP_MAX_SIZE (64 MiB), so a larger request there
// falls back to a mapping; once a 32-bit address space (arch x86) has no room left for one,
// _int_malloc fails in the thread's arena and malloc tries the main arena, whose top keeps a freed
// 80 MiB (mmap_max 0: the main arena grows its break instead of mapping; a high trim threshold
// keeps the top). glibc's oracle cannot run this (its address space is 64-bit), so the test reads
// the model: the main arena serves one of the thread's requests. Guards libcMallocArena's early
// returns (docs/ptmalloc.md): the retry is the last of them. realloc has the same second try
// (__libc_realloc: malloc in another arena, copy, then free the old chunk in its own arena): a
// thread's chunk grown beyond what its arena and the mappings can give moves to the main arena,
// and the old chunk goes back to the thread's arena, not to the arena that served the new one.
import { describe, it, expect } from 'vitest';
import { createEngine } from '../../../src/engine/engine.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { arenasOf } from '../../../src/policies/ptmalloc/diagnose.js';

const MIB = 1024 * 1024;
const SMALL_BYTES = 100;
const MAIN_TOP_BYTES = 80 * MIB;        // grown on the main arena's break, then freed into its top
const BEYOND_HEAP_BYTES = 70 * MIB;     // more than a thread heap holds: mapped, or retried
const TRIM_THRESHOLD_BYTES = 1024 * MIB; // the main arena keeps its top
const MAX_REQUESTS = 64;                // 64 × 70 MiB: more than a 32-bit address space holds
const UNCACHED_BYTES = 2000;            // past the tcache and the fastbins: freed into its arena's bins

describe('ptmalloc: a request its thread arena cannot serve is retried in the main arena', () => {
  for (const build of ['debug', 'release'] as const) {
    it(`the main arena's top serves it once no mapping fits (${build})`, async () => {
      const engine = await createEngine({ arch: 'x86', build });
      const heap = engine.createHeap('ptmalloc', { params: { mmap_max: 0, trim_threshold: TRIM_THRESHOLD_BYTES } });
      const run = (fill: (o: OpBuffer) => void): number => {
        const o = new OpBuffer(8);
        fill(o);
        return engine.apply(o).failedOps;
      };
      expect(run((o) => {
        o.thread(1); o.alloc(heap, 1, SMALL_BYTES); o.alloc(heap, 2, MAIN_TOP_BYTES); o.free(heap, 2);
        o.thread(2); o.alloc(heap, 3, SMALL_BYTES); // thread 2 gets an arena of its own
      })).toBe(0);
      const mainInUse = (): number => arenasOf(engine.sample().heaps.find((h) => h.heap === heap)!)[0]!.inUseBytes;
      const before = mainInUse();
      let served = 0;
      for (let i = 0; i < MAX_REQUESTS && mainInUse() - before < BEYOND_HEAP_BYTES; i++) {
        if (run((o) => { o.thread(2); o.alloc(heap, 10 + i, BEYOND_HEAP_BYTES); }) === 0) served++;
      }
      expect(engine.check()).toBe(0);
      // the mappings ran out of room, and the main arena then served one request of thread 2
      expect(served).toBeLessThan(MAX_REQUESTS);
      expect(mainInUse() - before).toBeGreaterThanOrEqual(BEYOND_HEAP_BYTES);
    });
  }

});

describe('ptmalloc: a realloc its thread arena cannot serve is retried in the main arena', () => {
  for (const build of ['debug', 'release'] as const) {
    it(`the old chunk is freed into its own arena (${build})`, async () => {
      const engine = await createEngine({ arch: 'x86', build });
      const heap = engine.createHeap('ptmalloc', { params: { mmap_max: 0, trim_threshold: TRIM_THRESHOLD_BYTES } });
      const run = (fill: (o: OpBuffer) => void): number => {
        const o = new OpBuffer(8);
        fill(o);
        return engine.apply(o).failedOps;
      };
      expect(run((o) => {
        o.thread(1); o.alloc(heap, 1, SMALL_BYTES); o.alloc(heap, 2, MAIN_TOP_BYTES); o.free(heap, 2);
        o.thread(2); o.alloc(heap, 3, UNCACHED_BYTES); o.alloc(heap, 4, SMALL_BYTES); // thread 2's arena
      })).toBe(0);
      const arenas = () => arenasOf(engine.sample().heaps.find((h) => h.heap === heap)!);
      // the mappings run out: the first request the main arena serves is freed again (into its top)
      const mainBefore = arenas()[0]!.inUseBytes;
      let id = 10;
      for (; id < 10 + MAX_REQUESTS && arenas()[0]!.inUseBytes === mainBefore; id++) {
        run((o) => { o.thread(2); o.alloc(heap, id, BEYOND_HEAP_BYTES); });
      }
      expect(arenas()[0]!.inUseBytes).toBeGreaterThan(mainBefore);
      expect(run((o) => { o.thread(2); o.free(heap, id - 1); })).toBe(0);
      const before = arenas();
      expect(run((o) => { o.thread(2); o.realloc(heap, 3, BEYOND_HEAP_BYTES); })).toBe(0);
      expect(engine.check()).toBe(0);
      const after = arenas();
      // the new chunk in the main arena, the old one free in the thread's arena
      expect(after[0]!.inUseBytes - before[0]!.inUseBytes).toBeGreaterThanOrEqual(BEYOND_HEAP_BYTES);
      expect(before[1]!.inUseBytes - after[1]!.inUseBytes).toBeGreaterThanOrEqual(UNCACHED_BYTES);
      expect(after[0]!.freeBytes).toBe(before[0]!.freeBytes - (after[0]!.inUseBytes - before[0]!.inUseBytes));
    });
  }
});
