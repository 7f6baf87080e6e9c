// Batch engine throughput (ops/s with first-fit on peak-hour) and engine bytes per live block.
import { Bench } from 'tinybench';
import { createEngine } from '../src/engine/engine.js';
import { OpBuffer } from '../src/engine/ops.js';
import { peakHour } from '../src/workload/peak-hour.js';

export interface BenchFigure { name: string; value: number; unit: string; note?: string }

const TARGET_OPS_PER_SECOND = 20e6;
const TARGET_BYTES_PER_LIVE_BLOCK = 48;
const STEADY_OPS = 1 << 20;

export async function runEngineBench(): Promise<BenchFigure[]> {
  const workload = peakHour({ seed: 1 });
  const batches = [...(workload.batches() as Iterable<OpBuffer>)];
  const ops = batches.reduce((s, b) => s + b.length, 0);

  // Throughput: a fresh engine per iteration, ops generated beforehand (only the engine is timed).
  const bench = new Bench({ iterations: 15, warmupIterations: 2, time: 0 });
  bench.add('first-fit peak-hour', async () => {
    const e = await createEngine({ arch: 'x86', profile: 'windows-service-x86' });
    e.createHeap('first-fit');
    for (const b of batches) e.apply(b);
  });
  await bench.run();
  const task = bench.tasks[0]!;
  const latency = task.result && 'latency' in task.result ? task.result.latency : undefined;
  const medianMs = latency?.p50 ?? NaN;
  const opsPerSecond = ops / (medianMs / 1000);

  // Steady state: alloc/free pairs of one size over 1024 live ids (the interpreter's own cost).
  const pairs = new OpBuffer(STEADY_OPS);
  for (let i = 0; i < STEADY_OPS / 2; i++) { pairs.alloc(0, i & 1023, 64); pairs.free(0, i & 1023); }
  const steady = new Bench({ iterations: 15, warmupIterations: 2, time: 0 });
  let steadyEngine = await createEngine({ arch: 'x86' });
  steady.add('first-fit alloc/free pairs', () => { steadyEngine.apply(pairs); }, {
    beforeEach: async () => { steadyEngine = await createEngine({ arch: 'x86' }); steadyEngine.createHeap('first-fit'); },
  });
  await steady.run();
  const st = steady.tasks[0]!.result;
  const steadyMs = st && 'latency' in st ? st.latency.p50 : NaN;
  const steadyOpsPerSecond = STEADY_OPS / (steadyMs / 1000);

  // Memory at the peak: engine tables per live block.
  const e = await createEngine({ arch: 'x86', profile: 'windows-service-x86' });
  for (const l of workload.labels) e.label(l);
  e.createHeap('first-fit');
  let peakLive = 0, tables: ReturnType<typeof e.engineTableBytes> = { vm: 0, ids: 0, policies: {} }, memAtPeak = 0;
  for (const b of batches) {
    const r = e.apply(b);
    for (const s of r.samples) {
      if (s.label === 'peak') {
        peakLive = s.heaps[0]!.liveBlocks;
        tables = e.engineTableBytes();
        memAtPeak = e.memoryBytes;
      }
    }
  }
  const ff = tables.policies['first-fit'] ?? { tableBytes: 0, recordBytes: 0 };
  const perBlockRecord = ff.recordBytes + 8; // one record + id table entry (handle + requested size)
  const perBlockCapacity = (ff.tableBytes + tables.ids) / peakLive;
  return [
    { name: 'engine ops/s (first-fit, peak-hour, median)', value: Math.round(opsPerSecond), unit: 'ops/s',
      note: `${ops} ops, median ${medianMs.toFixed(1)} ms; target ≥ ${TARGET_OPS_PER_SECOND / 1e6}M: ${opsPerSecond >= TARGET_OPS_PER_SECOND ? 'met' : 'NOT met'}` },
    { name: 'engine ops/s (first-fit, steady alloc/free pairs, median)', value: Math.round(steadyOpsPerSecond), unit: 'ops/s',
      note: `${STEADY_OPS} ops, median ${steadyMs.toFixed(1)} ms; ratio to peak-hour ${(steadyOpsPerSecond / opsPerSecond).toFixed(2)}` },
    { name: 'engine bytes per live block (record + id entry)', value: perBlockRecord, unit: 'B',
      note: `target ≤ ${TARGET_BYTES_PER_LIVE_BLOCK}: ${perBlockRecord <= TARGET_BYTES_PER_LIVE_BLOCK ? 'met' : 'NOT met'}` },
    { name: 'engine table capacity per live block at the peak', value: Math.round(perBlockCapacity * 10) / 10, unit: 'B',
      note: `${peakLive} live blocks; tables grow by doubling` },
    { name: 'WASM memory at the peak', value: memAtPeak, unit: 'B', note: `VM tables ${tables.vm} B` },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runEngineBench()) console.log(`${f.name}: ${f.value} ${f.unit}${f.note ? ` (${f.note})` : ''}`);
}
