// The conformance harness every registered policy runs through (conformance.test.ts loops over the
// registry): random op sequences in batches, and after every batch the policy's own check() (debug
// build: every invariant of its file header) plus the invariants every policy must keep whatever
// its rules:
//   C1 the engine's check() is 0: VM, id table, layers, the policy's invariants
//   C2 every live block is where the program can use it: a non-zero address, aligned as asked
//      (8 bytes at least), its whole extent inside one reservation owned by the heap's root and
//      committed page by page
//   C3 no two live blocks overlap (blocks of every heap of the engine together)
//   C4 counters equal a recount: live blocks, requested bytes, allocs, frees and failed allocs of
//      the program's heap equal the program's own count; reserved and committed bytes of every
//      root heap equal what a walk of the address space finds under its owner; the VM's total
//      equals the sum over heaps; committed covers busy
//   C5 destroying the heaps (top first) gives back everything they reserved: no region is left
//      under their owners and the address space is as it was before the first heap
//   C6 determinism: the same actions on a fresh engine of the other build give the same samples and
//      the same address for every block, batch by batch
import fc from 'fast-check';
import { expect } from 'vitest';
import { createEngine, type Engine, type Sample } from '../../../src/engine/engine.js';
import type { ArchName } from '../../../src/engine/abi.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { getPolicy } from '../../../src/policies/registry.js';

export type Action =
  | { kind: 'alloc'; sizeBytes: number }
  | { kind: 'calloc'; sizeBytes: number }
  | { kind: 'aligned'; sizeBytes: number; alignLog2: number }
  | { kind: 'free'; index: number }
  | { kind: 'realloc'; index: number; sizeBytes: number }
  | { kind: 'touch'; index: number; sizeBytes: number }
  | { kind: 'trim'; padBytes: number }
  | { kind: 'tick'; ns: number };

/** Sizes from empty to past every policy's large-block threshold (x86 NT: 508 KiB). */
function sizeArb(maxSizeBytes: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 256 }) },
    { weight: 4, arbitrary: fc.integer({ min: 257, max: 16_384 }) },
    { weight: 1, arbitrary: fc.integer({ min: 16_385, max: maxSizeBytes }) },
  );
}

export function actionArb(maxSizeBytes = 700_000): fc.Arbitrary<Action> {
  const size = sizeArb(maxSizeBytes);
  return fc.oneof(
    { weight: 10, arbitrary: size.map((sizeBytes) => ({ kind: 'alloc' as const, sizeBytes })) },
    { weight: 1, arbitrary: size.map((sizeBytes) => ({ kind: 'calloc' as const, sizeBytes })) },
    { weight: 1, arbitrary: fc.record({ sizeBytes: size, alignLog2: fc.integer({ min: 4, max: 12 }) }).map((r) => ({ kind: 'aligned' as const, ...r })) },
    { weight: 8, arbitrary: fc.nat().map((index) => ({ kind: 'free' as const, index })) },
    { weight: 3, arbitrary: fc.record({ index: fc.nat(), sizeBytes: size }).map((r) => ({ kind: 'realloc' as const, ...r })) },
    { weight: 1, arbitrary: fc.record({ index: fc.nat(), sizeBytes: fc.integer({ min: 1, max: 1 << 20 }) }).map((r) => ({ kind: 'touch' as const, ...r })) },
    { weight: 1, arbitrary: fc.constantFrom(0, 65_536).map((padBytes) => ({ kind: 'trim' as const, padBytes })) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 1_000_000_000 }).map((ns) => ({ kind: 'tick' as const, ns })) },
  );
}

/** A run: `batches` batches of up to `maxOps` actions each. */
export function runArb(batches: number, maxOps: number): fc.Arbitrary<Action[][]> {
  return fc.array(fc.array(actionArb(), { minLength: 1, maxLength: maxOps }), { minLength: batches, maxLength: batches });
}

/** One heap of the stack: heap 0 is the program's, heap i + 1 is layers[i] (the one below). */
export interface StackSpec {
  arch: ArchName;
  top: string;
  /** Policies below the top, nearest first. */
  layers: string[];
}

interface LiveBlock { id: number; sizeBytes: number; alignBytes: number }

interface ProgramCount { allocs: number; frees: number; failed: number }

const PAGE = 4096;
const MIN_ALIGN_BYTES = 8;

/** Builds the stack on a fresh engine (heap 0 = top); returns it and its address space before any heap. */
export async function stackEngine(s: StackSpec, build: 'debug' | 'release'): Promise<{ e: Engine; before: Sample['vm'] }> {
  const e = await createEngine({ arch: s.arch, build });
  const before = e.sample().vm;
  let parent = -1;
  for (let i = s.layers.length - 1; i >= 0; i--) {
    parent = e.createHeap(s.layers[i]!, parent >= 0 ? { parent } : {}, i + 1);
  }
  e.createHeap(s.top, parent >= 0 ? { parent } : {}, 0);
  return { e, before };
}

/**
 * One batch of actions for heap 0. Blocks live when the batch starts get at most one op each
 * (free, realloc or touch); new blocks take ids not used in the batch and get no further op in it;
 * ids freed in the batch are reused from the next batch on. So after the batch the engine tells,
 * block by block, which alloc and which realloc it refused (a policy may refuse by design: a spec
 * with `refuses`), and the program's view is updated with what really happened.
 */
interface Pending { allocs: LiveBlock[]; reallocs: { block: LiveBlock; oldBytes: number }[]; freed: number[] }

function toOps(batch: Action[], live: LiveBlock[], freeIds: number[], next: { id: number }, count: ProgramCount): { ops: OpBuffer; pending: Pending } {
  const ops = new OpBuffer(batch.length);
  const pending: Pending = { allocs: [], reallocs: [], freed: [] };
  const used = new Set<number>();
  const pick = (index: number): LiveBlock | undefined => {
    const candidates = live.filter((b) => !used.has(b.id));
    if (!candidates.length) return undefined;
    const b = candidates[index % candidates.length]!;
    used.add(b.id);
    return b;
  };
  for (const a of batch) {
    switch (a.kind) {
      case 'alloc':
      case 'calloc':
      case 'aligned': {
        const id = freeIds.length ? freeIds.pop()! : next.id++;
        used.add(id);
        if (a.kind === 'alloc') ops.alloc(0, id, a.sizeBytes);
        else if (a.kind === 'calloc') ops.calloc(0, id, a.sizeBytes);
        else ops.alignedAlloc(0, id, a.sizeBytes, 2 ** a.alignLog2);
        pending.allocs.push({ id, sizeBytes: a.sizeBytes, alignBytes: a.kind === 'aligned' ? 2 ** a.alignLog2 : MIN_ALIGN_BYTES });
        break;
      }
      case 'free': {
        const b = pick(a.index);
        if (!b) break;
        live.splice(live.indexOf(b), 1);
        ops.free(0, b.id);
        pending.freed.push(b.id);
        count.frees++;
        break;
      }
      case 'realloc': {
        const b = pick(a.index);
        if (!b) break;
        // A new size differs from the old one, so the engine's answer shows whether it moved on.
        const size = a.sizeBytes === b.sizeBytes ? a.sizeBytes + 1 : a.sizeBytes;
        ops.realloc(0, b.id, size);
        pending.reallocs.push({ block: b, oldBytes: b.sizeBytes });
        b.sizeBytes = size;
        break;
      }
      case 'touch': {
        const b = pick(a.index);
        if (b) ops.touch(0, b.id, a.sizeBytes);
        break;
      }
      case 'trim': ops.trim(0, a.padBytes); break;
      case 'tick': ops.tick(a.ns); break;
    }
  }
  return { ops, pending };
}

/** After a batch: which allocs and reallocs the engine refused; the program's view follows. Returns the refusals. */
function settle(e: Engine, pending: Pending, live: LiveBlock[], freeIds: number[], count: ProgramCount): number {
  let refused = 0;
  for (const b of pending.allocs) {
    if (e.blockOf(b.id).address === 0) { refused++; freeIds.push(b.id); continue; }
    live.push(b);
    count.allocs++;
  }
  for (const { block, oldBytes } of pending.reallocs) {
    // realloc promises malloc's alignment only (C; glibc keeps no more)
    if (e.blockOf(block.id).requestedBytes !== block.sizeBytes) { refused++; block.sizeBytes = oldBytes; continue; }
    block.alignBytes = MIN_ALIGN_BYTES;
    count.allocs++;
  }
  freeIds.push(...pending.freed);
  count.failed += refused;
  return refused;
}

function rootOf(s: Sample, h: number): number {
  for (;;) {
    const p = s.heaps.find((x) => x.heap === h)!.parent;
    if (p < 0) return h;
    h = p;
  }
}

/** C1..C4 after one batch. */
export function checkBatch(e: Engine, live: LiveBlock[], count: ProgramCount, where: string): Sample {
  expect(e.check(), `${where}: engine invariant (100 × policy id + the policy's number)`).toBe(0);
  const s = e.sample();
  const top = s.heaps.find((h) => h.heap === 0)!;
  // C4: the program's heap counts what the program did.
  expect(top.liveBlocks, `${where}: live blocks`).toBe(live.length + 0);
  expect(top.requestedBytes, `${where}: requested bytes`).toBe(live.reduce((t, b) => t + b.sizeBytes, 0));
  expect([top.allocs, top.frees, top.failedAllocs], `${where}: allocs, frees, failed allocs`).toEqual([count.allocs, count.frees, count.failed]);
  // C4: reserved and committed per root heap = a walk of the address space by owner.
  const regions = e.vm.walk().filter((r) => !r.free);
  let vmReserved = 0, vmCommitted = 0;
  for (const h of s.heaps) {
    if (h.parent >= 0) continue;
    const mine = regions.filter((r) => r.owner === h.heap);
    const reserved = mine.reduce((t, r) => t + r.sizeBytes, 0);
    const committed = mine.reduce((t, r) => t + r.committedBytes, 0);
    expect([h.reservedBytes, h.committedBytes], `${where}: heap ${h.heap} (${h.policy}) reserved, committed = walk`).toEqual([reserved, committed]);
    vmReserved += reserved;
    vmCommitted += committed;
  }
  expect([s.vm.reservedBytes, s.vm.committedBytes], `${where}: VM totals = sum over heaps`).toEqual([vmReserved, vmCommitted]);
  for (const h of s.heaps) expect(h.committedBytes, `${where}: heap ${h.heap} committed covers busy`).toBeGreaterThanOrEqual(h.busyBytes);
  // C4: a parent was asked for what its children hold (stacked heaps report that as committed).
  for (const p of s.heaps) {
    const children = s.heaps.filter((c) => c.parent === p.heap);
    if (!children.length || p.heap === 0) continue;
    expect(p.requestedBytes, `${where}: heap ${p.heap} requested = what the heaps on it hold`)
      .toBe(children.reduce((t, c) => t + c.committedBytes, 0));
  }
  // C2, C3: every block usable, none overlapping.
  const root = rootOf(s, 0);
  const owned = regions.filter((r) => r.owner === root).sort((a, b) => a.base - b.base);
  const spans = live.map((b) => {
    const { address, requestedBytes } = e.blockOf(b.id);
    expect(address, `${where}: id ${b.id} has an address`).toBeGreaterThan(0);
    expect(requestedBytes, `${where}: id ${b.id} requested`).toBe(b.sizeBytes);
    expect(address % b.alignBytes, `${where}: id ${b.id} aligned to ${b.alignBytes}`).toBe(0);
    const end = address + Math.max(1, b.sizeBytes);
    const r = regionAt(owned, address);
    expect(r !== undefined && end <= r.base + r.sizeBytes, `${where}: id ${b.id} [${address.toString(16)}, ${end.toString(16)}) inside one region of heap ${root}`).toBe(true);
    for (let p = Math.floor(address / PAGE) * PAGE; p < end; p += PAGE) {
      if (!e.vm.isCommitted(p)) expect.fail(`${where}: page ${p.toString(16)} of id ${b.id} is not committed`);
    }
    return [address, end, b.id] as const;
  }).sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) expect.fail(`${where}: ids ${spans[i - 1]![2]} and ${spans[i]![2]} overlap`);
  }
  return s;
}

function regionAt<T extends { base: number; sizeBytes: number }>(sorted: T[], a: number): T | undefined {
  let lo = 0, hi = sorted.length - 1, found: T | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.base <= a) { found = sorted[mid]; lo = mid + 1; } else hi = mid - 1;
  }
  return found && a < found.base + found.sizeBytes ? found : undefined;
}

/** What one run observed, batch by batch: the determinism check compares two of these. */
function digestOf(e: Engine, s: Sample, live: LiveBlock[]): string {
  return JSON.stringify({ s, at: live.map((b) => e.blockOf(b.id).address) });
}

export interface RunOutcome { batches: number; digests: string[] }

/** Runs one random sequence on a fresh stack with every check after every batch (C1..C5). */
export async function conformanceRun(spec: StackSpec, run: Action[][], build: 'debug' | 'release', full = true): Promise<RunOutcome> {
  const { e, before } = await stackEngine(spec, build);
  const live: LiveBlock[] = [];
  const freeIds: number[] = [];
  const next = { id: 0 };
  const count: ProgramCount = { allocs: 0, frees: 0, failed: 0 };
  // A stacked heap passes its parent's refusals on.
  const refuses = [spec.top, ...spec.layers].some((p) => getPolicy(p).refuses !== undefined);
  const digests: string[] = [];
  const name = [spec.top, ...spec.layers].join(' on ') + ` (${spec.arch}, ${build})`;
  run.forEach((batch, i) => {
    const { ops, pending } = toOps(batch, live, freeIds, next, count);
    const r = e.apply(ops);
    const refused = settle(e, pending, live, freeIds, count);
    // Only a request the policy refuses (OUT_OF_MEMORY) may fail, and only a policy that says so.
    expect(r.failedOps, `${name} batch ${i}: failed ops = refused requests`).toBe(refused);
    if (refused) {
      expect(refuses, `${name} batch ${i}: refused a request (${JSON.stringify(r.firstFailure)}) but no spec of the stack has 'refuses'`).toBe(true);
      expect(r.firstFailure?.status).toBe('OUT_OF_MEMORY');
    }
    const s = full ? checkBatch(e, live, count, `${name} batch ${i}`) : e.sample();
    digests.push(digestOf(e, s, live));
  });
  // C5: destroy from the top; nothing stays reserved.
  const heaps = [0, ...spec.layers.map((_, i) => i + 1)];
  for (const h of heaps) {
    e.destroyHeap(h);
    expect(e.vm.walk().filter((r) => !r.free && r.owner === h), `${name}: regions left by heap ${h}`).toEqual([]);
    expect(e.check(), `${name}: check after destroying heap ${h}`).toBe(0);
  }
  const after = e.sample().vm;
  expect([after.reservedBytes, after.committedBytes, after.regions], `${name}: address space after destroy`)
    .toEqual([before.reservedBytes, before.committedBytes, before.regions]);
  return { batches: run.length, digests };
}
