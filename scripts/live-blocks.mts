// Engine and host memory per live block, for every policy: N live 16-byte blocks (default 10
// million) allocated through the public API on x64 (profile bare), each policy in a fresh process
// so its resident memory is its own.
//
//   npx tsx scripts/live-blocks.mts [--blocks N] [--size BYTES] [--only POLICY] [--trace]
//
// Prints, per policy: live blocks, failed ops, WebAssembly memory, the engine's tables (VM, id
// table, policy records) and the process's resident growth, each per live block; and seconds.
//
// --trace: the whole `heapsim run FILE.hst --policy P --arch x64` instead (the host's trace reader,
// id ledger and report on top of the engine): a .hst of N allocations that are never freed is
// written once to a temporary directory, then each policy replays it in a fresh process, which
// prints its peak resident memory (getrusage maxRSS) above its resident size before the run.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine, OpBuffer, policySpecs } from '../src/index.js';
import { main } from '../src/cli/main.js';
import { convertTrace } from '../src/trace/convert.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '10000000' }, size: { type: 'string', default: '16' },
    only: { type: 'string' }, child: { type: 'string' }, trace: { type: 'boolean', default: false }, file: { type: 'string' },
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

interface TraceMeasure { policy: string; events: number; failedOps: number; peakRssGrowthBytes: number; seconds: number }

/** One `heapsim run` of the trace, in this process; its peak resident memory above the start. */
async function childTrace(policy: string, file: string): Promise<TraceMeasure> {
  const rss0 = process.memoryUsage().rss;
  const started = performance.now();
  let out = '', err = '';
  const code = await main(['run', file, '--policy', policy, '--arch', 'x64', '--json'],
    { stdout: { write: (t: string) => { out += t; return true; } }, stderr: { write: (t: string) => { err += t; return true; } } });
  if (code !== 0) throw new Error(`heapsim run exited ${code}: ${err.trim()}`);
  const doc = JSON.parse(out) as { events: number; failedOps: number };
  return {
    policy, events: doc.events, failedOps: doc.failedOps,
    peakRssGrowthBytes: process.resourceUsage().maxRSS * 1024 - rss0, seconds: (performance.now() - started) / 1000,
  };
}

/** A .hst of `blocks` allocations of `size` bytes, never freed (text written, then converted). */
async function writeTrace(dir: string): Promise<string> {
  const text = join(dir, 'live.txt');
  const stream = createWriteStream(text);
  const CHUNK = 100_000;
  stream.write('#heapsim-trace 1\n');
  for (let id = 0; id < blocks; id += CHUNK) {
    let lines = '';
    for (let i = id; i < Math.min(blocks, id + CHUNK); i++) lines += `a ${i} ${size}\n`;
    if (!stream.write(lines)) await new Promise((r) => stream.once('drain', r));
  }
  await new Promise<void>((resolve, reject) => stream.end((e?: Error | null) => (e ? reject(e) : resolve())));
  const hst = join(dir, 'live.hst');
  await convertTrace(text, hst);
  rmSync(text);
  return hst;
}

if (values.child !== undefined && values.trace) {
  console.log(JSON.stringify(await childTrace(values.child, values.file!)));
} else if (values.child !== undefined) {
  console.log(JSON.stringify(await child(values.child)));
} else if (values.trace) {
  const names = policySpecs().map((p) => p.name).filter((n) => values.only === undefined || n === values.only);
  const dir = mkdtempSync(join(tmpdir(), 'heapsim-live-'));
  try {
    const file = await writeTrace(dir);
    console.log(`heapsim run of a .hst with ${blocks} live blocks of ${size} bytes (never freed), x64; peak resident growth of the process:`);
    console.log('policy         events  failed  bytes/live block  peak growth MB  seconds');
    for (const name of names) {
      const r = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, '--child', name, '--trace', '--file', file],
        { encoding: 'utf8', maxBuffer: 1 << 24 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) { console.log(`${name.padEnd(12)} failed: ${(r.stderr || line).trim().split('\n')[0]}`); continue; }
      const m = JSON.parse(line) as TraceMeasure;
      console.log(`${name.padEnd(12)} ${String(m.events).padStart(9)}  ${String(m.failedOps).padStart(6)}  ${(m.peakRssGrowthBytes / blocks).toFixed(1).padStart(16)}  ` +
        `${(m.peakRssGrowthBytes / 2 ** 20).toFixed(0).padStart(14)}  ${m.seconds.toFixed(1).padStart(7)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
