// jemalloc policy: throughput on peak-hour (x64) as a ratio to ptmalloc in the same run, and
// engine bytes per live block at the peak (allocation record + id entry, and the tables' capacity).
import { Bench } from 'tinybench';
import { createEngine } from '../src/engine/engine.js';
import type { OpBuffer } from '../src/engine/ops.js';
import { peakHour } from '../src/workload/peak-hour.js';
import type { BenchFigure } from './engine.bench.js';

const CONF = { tcache: 1, dirty_decay_ms: 0, narenas: 1 };

export async function runJemallocBench(): Promise<BenchFigure[]> {
  const workload = peakHour({ seed: 1 });
  const batches = [...(workload.batches() as Iterable<OpBuffer>)];
  const ops = batches.reduce((s, b) => s + b.length, 0);
  const bench = new Bench({ iterations: 9, warmupIterations: 1, time: 0 });
  for (const policy of ['jemalloc', 'ptmalloc']) {
    bench.add(policy, async () => {
      const e = await createEngine({ arch: 'x64' });
      e.createHeap(policy, { params: policy === 'jemalloc' ? CONF : {} });
      for (const b of batches) e.apply(b);
    });
  }
  await bench.run();
  const median = (i: number): number => {
    const r = bench.tasks[i]!.result;
    return r && 'latency' in r ? r.latency.p50 : NaN;
  };
  const je = ops / (median(0) / 1000), pt = ops / (median(1) / 1000);

  const e = await createEngine({ arch: 'x64' });
  for (const l of workload.labels) e.label(l);
  e.createHeap('jemalloc', { params: CONF });
  let live = 0, tableBytes = 0, ids = 0;
  for (const b of batches) {
    for (const s of e.apply(b).samples) {
      if (s.label !== 'peak') continue;
      live = s.heaps[0]!.liveBlocks;
      const t = e.engineTableBytes();
      tableBytes = t.policies.jemalloc?.tableBytes ?? 0;
      ids = t.ids;
    }
  }
  const recordBytes = e.engineTableBytes().policies.jemalloc?.recordBytes ?? 0;
  return [
    { name: 'jemalloc ops/s (peak-hour x64, tcache, decay 0, median)', value: Math.round(je), unit: 'ops/s',
      note: `${ops} ops; ptmalloc in the same run ${Math.round(pt).toLocaleString('en-US')} ops/s, ratio ${(je / pt).toFixed(2)}` },
    { name: 'jemalloc engine bytes per live block (allocation record + id entry)', value: recordBytes + 8, unit: 'B',
      note: 'slabs and large blocks add a 128-byte extent record each' },
    { name: 'jemalloc table capacity per live block at the peak', value: Math.round(((tableBytes + ids) / live) * 10) / 10, unit: 'B',
      note: `${live} live blocks; extent and allocation pools grow by doubling` },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runJemallocBench()) console.log(`${f.name}: ${f.value} ${f.unit}${f.note ? ` (${f.note})` : ''}`);
}
