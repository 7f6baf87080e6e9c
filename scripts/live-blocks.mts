// Engine and host memory per live block, for every policy: N live 16-byte blocks (default 10
// million) allocated through the public API on x64 (profile bare), each policy in a fresh process
// so its resident memory is its own.
//
//   npx tsx scripts/live-blocks.mts [--blocks N] [--size BYTES] [--only POLICY]
//
// Prints, per policy: live blocks, failed ops, WebAssembly memory, the engine's tables (VM, id
// table, policy records) and the process's resident growth, each per live block; and seconds.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { createEngine, OpBuffer, policySpecs } from '../src/index.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '10000000' }, size: { type: 'string', default: '16' },
    only: { type: 'string' }, child: { type: 'string' },
  },
});
const blocks = Number(values.blocks), size = Number(values.size);
const BATCH_OPS = 65536;

interface Measure {
  policy: string; liveBlocks: number; failedOps: number; wasmBytes: number;
  vmTableBytes: number; idTableBytes: number; policyTableBytes: number; rssGrowthBytes: number; seconds: number;
}

async function child(policy: string): Promise<Measure> {
  const rss0 = process.memoryUsage().rss;
  const started = performance.now();
  const e = await createEngine({ arch: 'x64', profile: 'bare' });
  const heap = e.createHeap(policy);
  const ops = new OpBuffer(BATCH_OPS);
  let failedOps = 0;
  for (let id = 0; id < blocks; id++) {
    ops.alloc(heap, id, size);
    if (ops.full || id === blocks - 1) { failedOps += e.apply(ops).failedOps; ops.clear(); }
  }
  const s = e.sample();
  const t = e.engineTableBytes();
  const policyTableBytes = Object.values(t.policies).reduce((a, p) => a + p.tableBytes, 0);
  return {
    policy, liveBlocks: s.heaps.reduce((a, h) => a + h.liveBlocks, 0), failedOps, wasmBytes: e.memoryBytes,
    vmTableBytes: t.vm, idTableBytes: t.ids, policyTableBytes, rssGrowthBytes: process.memoryUsage().rss - rss0,
    seconds: (performance.now() - started) / 1000,
  };
}

if (values.child !== undefined) {
  console.log(JSON.stringify(await child(values.child)));
} else {
  const names = policySpecs().map((p) => p.name).filter((n) => values.only === undefined || n === values.only);
  console.log(`${blocks} live blocks of ${size} bytes, x64, profile bare; bytes per live block:`);
  console.log('policy       live blocks  failed   wasm  tables (vm+ids+policy)  rss growth  seconds');
  for (const name of names) {
    const r = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--child', name, '--blocks', String(blocks), '--size', String(size)],
      { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) { console.log(`${name.padEnd(12)} failed: ${(r.stderr || line).trim().split('\n')[0]}`); continue; }
    const m = JSON.parse(line) as Measure;
    const per = (b: number): string => (b / Math.max(m.liveBlocks, 1)).toFixed(1);
    const tables = m.vmTableBytes + m.idTableBytes + m.policyTableBytes;
    console.log(`${name.padEnd(12)} ${String(m.liveBlocks).padStart(11)}  ${String(m.failedOps).padStart(6)}  ${per(m.wasmBytes).padStart(5)}  ` +
      `${per(tables).padStart(6)} (${per(m.vmTableBytes)}+${per(m.idTableBytes)}+${per(m.policyTableBytes)})`.padEnd(24) +
      `${per(m.rssGrowthBytes).padStart(10)}  ${m.seconds.toFixed(1).padStart(7)}`);
  }
}
