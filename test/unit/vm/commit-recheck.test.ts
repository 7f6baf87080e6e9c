// vmCommit's shortcut for pages that are committed already (one page: no region lookup; up to 16
// pages: checked one by one before the scan). The shortcut must count the call, change nothing
// else, and never answer OK for a range that is not inside one reservation or has a page that is
// not committed yet. Small hand-made cases on both page-table layouts (x64 sparse, x86 flat).
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../../src/engine/engine.js';

const PAGE = 4096;
const GRAN = 65536;
/** Pages checked one by one before the scan (space.ts COMMIT_RECHECK_PAGES). */
const RECHECK_PAGES = 16;

/** Everything the VM reports but the commit-call count (and, with `calls`, the decommit-call count). */
function state(e: Engine, calls: 'commit' | 'both' = 'commit'): string {
  const { commitCalls: _, decommitCalls, ...vm } = e.sample().vm;
  return JSON.stringify({ walk: e.vm.walk(), vm, ...(calls === 'commit' ? { decommitCalls } : {}) });
}

function commitCalls(e: Engine): number {
  return e.sample().vm.commitCalls;
}

describe.each(['x64', 'x86'] as const)('vmCommit over committed pages (%s)', (arch) => {
  it('counts every recommit of one page, a few pages and many pages and changes nothing else', async () => {
    const e = await createEngine({ arch });
    const { base } = e.vm.reserve(4 * GRAN);
    expect(e.vm.commit(base, 4 * GRAN).ok).toBe(true);
    const before = state(e);
    let calls = commitCalls(e);
    for (const [at, pages] of [[0, 1], [5, 1], [63, 1], [3, 2], [10, RECHECK_PAGES], [0, RECHECK_PAGES + 1], [0, 64]] as const) {
      expect(e.vm.commit(base + at * PAGE, pages * PAGE).status).toBe('OK');
      expect(commitCalls(e)).toBe(++calls);
      expect(state(e)).toBe(before);
    }
    expect(e.check()).toBe(0);
  });

  it('commits the one uncommitted page of a short or long range wherever it lies', async () => {
    for (const pages of [1, 2, RECHECK_PAGES, RECHECK_PAGES + 1]) {
      for (let hole = 0; hole < pages; hole++) {
        const e = await createEngine({ arch });
        const { base } = e.vm.reserve(2 * GRAN);
        expect(e.vm.commit(base, 2 * GRAN).ok).toBe(true);
        const full = state(e, 'both');
        const at = base + 2 * PAGE;
        expect(e.vm.decommit(at + hole * PAGE, PAGE).ok).toBe(true);
        expect(e.sample().vm.committedBytes).toBe(2 * GRAN - PAGE);
        expect(e.vm.commit(at, pages * PAGE).ok).toBe(true);
        expect(e.vm.isCommitted(at + hole * PAGE), `${pages} pages, hole at ${hole}`).toBe(true);
        expect(state(e, 'both'), `${pages} pages, hole at ${hole}`).toBe(full);
        expect(commitCalls(e)).toBe(2);
        expect(e.check()).toBe(0);
      }
    }
  });

  it('refuses committed pages across two adjacent reservations, after a release and past a shrink', async () => {
    const e = await createEngine({ arch });
    const at = arch === 'x64' ? 2 ** 40 : 0x20000000;
    const a = e.vm.reserve(GRAN, { at }).base, b = e.vm.reserve(GRAN, { at: at + GRAN }).base;
    expect(b).toBe(a + GRAN);
    expect(e.vm.commit(a, GRAN).ok && e.vm.commit(b, GRAN).ok).toBe(true);
    const before = state(e), calls = commitCalls(e);
    expect(e.vm.commit(b - PAGE, 2 * PAGE).status).toBe('NOT_RESERVED');
    expect(e.vm.commit(b - PAGE, PAGE + 1).status).toBe('MISALIGNED');
    expect(e.vm.commit(b - PAGE + 8, PAGE).status).toBe('MISALIGNED');
    expect(e.vm.commit(b, 0).status).toBe('BAD_SIZE');
    expect(commitCalls(e)).toBe(calls);
    expect(state(e)).toBe(before);
    expect(e.vm.release(b).ok).toBe(true);
    expect(e.vm.commit(b, PAGE).status).toBe('NOT_RESERVED');
    expect(e.vm.commit(b, 2 * PAGE).status).toBe('NOT_RESERVED');
    expect(e.vm.resize(a, PAGE).ok).toBe(true);
    expect(e.vm.commit(a + PAGE, PAGE).status).toBe('NOT_RESERVED');
    expect(e.vm.commit(a, PAGE).status).toBe('OK');
    expect(commitCalls(e)).toBe(calls + 1);
    expect(e.check()).toBe(0);
  });
});
