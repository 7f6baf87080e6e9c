// Peak hour on a pool: a service keeps a base population of objects, doubles it during a peak,
// then frees the peak's objects and goes on at the base level (the seed's before / peak / after).
// Prints committed bytes at the three marks for the pool on the VM, the pool over first-fit,
// first-fit alone, and the pool with the releaseEmptyChunks what-if.
//
//   npx tsx scripts/pool-peak-hour.mts [baseObjects] [--small]
//
// --small: only objects up to 2 KiB, all of them in the pool's classes.
//
// The workload is generated with a fixed-seed xorshift, so every run prints the same numbers.
import { createEngine, type Sample } from '../src/engine/engine.js';
import { OpBuffer } from '../src/engine/ops.js';
import { poolRetainedCause } from '../src/policies/pool/retained.js';

export interface PeakHourOptions {
  baseObjects: number;
  /** Objects added during the peak, as a multiple of baseObjects. */
  peakFactor: number;
  /** Free+alloc pairs at the base level before the peak and after it. */
  churnOps: number;
  seed: number;
  /** Only sizes up to 2 KiB (all served by the pool's classes, none passed through). */
  smallOnly?: boolean;
}

export const DEFAULT_PEAK_HOUR: PeakHourOptions = { baseObjects: 40_000, peakFactor: 1, churnOps: 40_000, seed: 0x2545f491 };

// Object sizes: mostly small records, some buffers, a few big ones (those pass through a pool).
function sizeOf(r: number, smallOnly: boolean): number {
  const u = (r / 0x1_0000_0000) * (smallOnly ? 0.95 : 1);
  if (u < 0.7) return 16 + Math.floor(u / 0.7 * 240);
  if (u < 0.95) return 256 + Math.floor((u - 0.7) / 0.25 * 1792);
  return 4096 + Math.floor((u - 0.95) / 0.05 * 28 * 1024);
}

export type PeakHourOp = { op: 'alloc'; id: number; size: number } | { op: 'free'; id: number } | { op: 'mark'; label: string };

/** The workload as a list of ops (ids are dense and reused; heap chosen by the caller). */
export function peakHourOps(o: PeakHourOptions = DEFAULT_PEAK_HOUR): PeakHourOp[] {
  let x = o.seed >>> 0;
  const next = (): number => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  const out: PeakHourOp[] = [];
  const freeIds: number[] = [];
  let nextId = 0;
  const take = (): number => freeIds.pop() ?? nextId++;
  const base: number[] = [];
  const churn = (): void => {
    for (let i = 0; i < o.churnOps; i++) {
      const k = next() % base.length;
      out.push({ op: 'free', id: base[k]! });
      freeIds.push(base[k]!);
      const id = take();
      base[k] = id;
      out.push({ op: 'alloc', id, size: sizeOf(next(), o.smallOnly ?? false) });
    }
  };
  for (let i = 0; i < o.baseObjects; i++) { const id = take(); base.push(id); out.push({ op: 'alloc', id, size: sizeOf(next(), o.smallOnly ?? false) }); }
  churn();
  out.push({ op: 'mark', label: 'before' });
  const peak: number[] = [];
  for (let i = 0; i < o.baseObjects * o.peakFactor; i++) { const id = take(); peak.push(id); out.push({ op: 'alloc', id, size: sizeOf(next(), o.smallOnly ?? false) }); }
  churn();
  out.push({ op: 'mark', label: 'peak' });
  for (const id of peak) { out.push({ op: 'free', id }); freeIds.push(id); }
  churn();
  out.push({ op: 'mark', label: 'after' });
  return out;
}

export interface Layout { name: string; policy: 'pool' | 'first-fit'; overFirstFit?: boolean; params?: Record<string, number> }

export const LAYOUTS: Layout[] = [
  { name: 'pool (VM)', policy: 'pool' },
  { name: 'pool over first-fit', policy: 'pool', overFirstFit: true },
  { name: 'first-fit', policy: 'first-fit' },
  { name: 'pool releaseEmptyChunks=1', policy: 'pool', params: { releaseEmptyChunks: 1 } },
];

/** Runs the workload on one layout; returns the samples taken at the marks. */
export async function runPeakHour(layout: Layout, ops: PeakHourOp[], build: 'release' | 'debug' = 'release'):
  Promise<{ samples: Sample[]; top: number; bottom: number; addresses: number[] }> {
  const e = await createEngine({ build });
  const bottom = layout.overFirstFit ? e.createHeap('first-fit') : -1;
  const top = e.createHeap(layout.policy, { params: layout.params ?? {}, parent: layout.overFirstFit ? bottom : undefined });
  const samples: Sample[] = [];
  const addresses: number[] = [];
  const buf = new OpBuffer(8192);
  const flush = (): void => {
    const r = e.apply(buf);
    if (r.failedOps) throw new Error(`${layout.name}: ${r.failedOps} failed ops (${JSON.stringify(r.firstFailure)})`);
    samples.push(...r.samples);
    buf.clear();
  };
  for (const op of ops) {
    if (buf.full) flush();
    if (op.op === 'alloc') buf.alloc(top, op.id, op.size);
    else if (op.op === 'free') buf.free(top, op.id);
    else {
      buf.mark(e.label(op.label));
      flush();
      addresses.push(e.blockOf(0).address);
    }
  }
  flush();
  return { samples, top, bottom: bottom >= 0 ? bottom : top, addresses };
}

const MiB = 1024 * 1024;
const mb = (n: number): string => (n / MiB).toFixed(1).padStart(7);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smallOnly = args.includes('--small');
  const baseObjects = Number(args.find((a) => !a.startsWith('--')) ?? DEFAULT_PEAK_HOUR.baseObjects);
  const ops = peakHourOps({ ...DEFAULT_PEAK_HOUR, baseObjects, churnOps: baseObjects, smallOnly });
  console.log(`peak hour: ${baseObjects} base objects, +${baseObjects} at the peak, ${baseObjects} churn pairs per phase` +
    `, sizes ${smallOnly ? '16 B..2 KiB' : '16 B..32 KiB (5% above 4 KiB)'}`);
  console.log('committed MiB (VM)            before    peak   after   busy after   retained by pool after');
  for (const layout of LAYOUTS) {
    const { samples, top } = await runPeakHour(layout, ops);
    const [b, p, a] = samples;
    const topAfter = a!.heaps.find((h) => h.heap === top)!;
    const cause = poolRetainedCause(topAfter, a);
    const retained = cause ? `${mb(cause.bytes)} (${cause.freeObjects} objects, layer ${cause.layer} over ${cause.below.kind === 'vm' ? 'VM' : cause.below.policy})` : '      -';
    console.log(`${layout.name.padEnd(28)} ${mb(b!.vm.committedBytes)} ${mb(p!.vm.committedBytes)} ${mb(a!.vm.committedBytes)}      ${mb(topAfter.busyBytes)}   ${retained}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
