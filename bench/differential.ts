// Differential check of two engine builds: npx tsx bench/differential.ts A.wasm B.wasm
// 48 mixed address traces (alloc, aligned alloc, realloc, free, trim in small batches; the hash
// covers every placed block's address and a final sample) over four parameter sets, and four
// peak-hour run documents (checkpoints every 997 events); prints which differ.
import { readFileSync } from 'node:fs';
import { provideModule } from '../src/engine/load.js';
import { createEngine } from '../src/engine/engine.js';
import { addressTrace } from '../test/policies/first-fit/trace.js';
import { runWorkload } from '../src/run/run.js';
import { peakHour } from '../src/workload/peak-hour.js';
const [pathA, pathB] = process.argv.slice(2);
if (!pathA || !pathB) { console.error('usage: differential.ts A.wasm B.wasm'); process.exit(2); }
const mods = [pathA, pathB].map((p) => new WebAssembly.Module(readFileSync(p)));
const configs: Array<[string, 'x86' | 'x64', Record<string, string | number>]> = [
  ['default', 'x86', {}],
  ['small segs eager', 'x64', { segmentReserveBytes: '64K', segmentCommitBytes: '4K', decommitBlockBytes: '4K', decommitTotalBytes: 0, largeBlockBytes: '32K' }],
  ['mid', 'x86', { segmentReserveBytes: '256K', segmentCommitBytes: '16K', decommitBlockBytes: '8K', decommitTotalBytes: '64K', largeBlockBytes: '128K' }],
  ['x64 default', 'x64', {}],
];
let bad = 0, n = 0;
for (const [name, arch, params] of configs) {
  for (let seed = 100; seed < 112; seed++) {
    const hs: string[] = [];
    for (const m of mods) {
      provideModule(m);
      const e = await createEngine({ arch });
      e.createHeap('first-fit', { params });
      hs.push(addressTrace(e, { seed, ops: 20_000, maxLive: 500 + 300 * (seed % 7), largeShare: (seed % 3) * 0.01 }));
    }
    n++;
    if (hs[0] !== hs[1]) { bad++; console.log('DIFF', name, seed); }
  }
}
console.log(`traces: ${n - bad}/${n} identical`);
if (bad) process.exitCode = 1;
for (const [seed, arch, params] of [[4, 'x86', {}], [9, 'x64', {}], [2, 'x86', { decommitBlockBytes: '4K', decommitTotalBytes: 0 }], [3, 'x86-3gb', { segmentReserveBytes: '128K', largeBlockBytes: '64K' }]] as const) {
  const docs: string[] = [];
  for (const m of mods) {
    provideModule(m);
    docs.push(JSON.stringify(await runWorkload(peakHour({ seed }), { policy: 'first-fit', arch: arch as any, every: 997, params: params as any })));
  }
  console.log(`peak-hour seed ${seed} ${arch} ${JSON.stringify(params)}: ${docs[0] === docs[1] ? 'identical' : 'DIFFERENT'} (${docs[0]!.length} chars)`);
  if (docs[0] !== docs[1]) process.exitCode = 1;
}
