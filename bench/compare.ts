// Interleaved A/B throughput of two engine builds in one process (a shared machine makes separate
// runs incomparable): npx tsx bench/compare.ts A.wasm B.wasm [rounds=9]
// Each round times, for each build in turn, a fresh engine running first-fit on peak-hour (seed 1,
// as bench/engine.bench.ts) and 2^20 ops of steady alloc/free pairs; prints medians and B/A ratios.
// Wall-clock medians are what the ratio quotes; CPU-time medians (process.cpuUsage) are printed
// beside them because a shared machine deschedules the process (they drop waiting, not cache effects).
// Also checks that both builds give the same peak-hour checkpoints (a quick differential check).
import { readFileSync } from 'node:fs';
import { createEngine } from '../src/engine/engine.js';
import { provideModule } from '../src/engine/load.js';
import { OpBuffer } from '../src/engine/ops.js';
import { peakHour } from '../src/workload/peak-hour.js';

const [pathA, pathB, roundsArg] = process.argv.slice(2);
if (!pathA || !pathB) { console.error('usage: compare.ts A.wasm B.wasm [rounds]'); process.exit(2); }
const rounds = Number(roundsArg ?? 9);
const mods = [pathA, pathB].map((p) => new WebAssembly.Module(readFileSync(p)));

const workload = peakHour({ seed: 1 });
for (const l of workload.labels) void l;
const batches = [...(workload.batches() as Iterable<OpBuffer>)];
const peakOps = batches.reduce((s, b) => s + b.length, 0);
const STEADY = 1 << 20;
const pairs = new OpBuffer(STEADY);
for (let i = 0; i < STEADY / 2; i++) { pairs.alloc(0, i & 1023, 64); pairs.free(0, i & 1023); }

async function peak(m: WebAssembly.Module): Promise<{ ms: number; cpu: number; digest: string }> {
  provideModule(m);
  const e = await createEngine({ arch: 'x86', profile: 'windows-service-x86' });
  for (const l of workload.labels) e.label(l);
  e.createHeap('first-fit');
  const samples: unknown[] = [];
  const c0 = process.cpuUsage(), t0 = performance.now();
  for (const b of batches) samples.push(e.apply(b).samples);
  const ms = performance.now() - t0, c = process.cpuUsage(c0);
  return { ms, cpu: (c.user + c.system) / 1000, digest: JSON.stringify(samples) };
}

async function steady(m: WebAssembly.Module): Promise<{ ms: number; cpu: number }> {
  provideModule(m);
  const e = await createEngine({ arch: 'x86' });
  e.createHeap('first-fit');
  const c0 = process.cpuUsage(), t0 = performance.now();
  e.apply(pairs);
  const ms = performance.now() - t0, c = process.cpuUsage(c0);
  return { ms, cpu: (c.user + c.system) / 1000 };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };
const times = { peak: [[], []] as number[][], steady: [[], []] as number[][] };
const cpu = { peak: [[], []] as number[][], steady: [[], []] as number[][] };
const digests: string[] = [];
for (let w = 0; w < 2; w++) for (let k = 0; k < 2; k++) { await peak(mods[k]!); await steady(mods[k]!); } // warm-up
for (let r = 0; r < rounds; r++) {
  const order = r & 1 ? [1, 0] : [0, 1];
  for (const k of order) {
    const p = await peak(mods[k]!);
    times.peak[k]!.push(p.ms);
    cpu.peak[k]!.push(p.cpu);
    if (r === 0) digests[k] = p.digest;
    const s = await steady(mods[k]!);
    times.steady[k]!.push(s.ms);
    cpu.steady[k]!.push(s.cpu);
  }
}
const fmt = (ms: number, ops: number): string => `${(ops / ms / 1000).toFixed(2)} M ops/s (${ms.toFixed(1)} ms)`;
for (const [name, ops] of [['peak', peakOps], ['steady', STEADY]] as const) {
  const a = median(times[name][0]!), b = median(times[name][1]!);
  const ca = median(cpu[name][0]!), cb = median(cpu[name][1]!);
  console.log(`${name.padEnd(6)} A ${fmt(a, ops)}  B ${fmt(b, ops)}  B/A speed ${(a / b).toFixed(3)}` +
    `  (CPU time: A ${fmt(ca, ops)}  B ${fmt(cb, ops)}  B/A ${(ca / cb).toFixed(3)})`);
}
console.log(`peak-hour samples identical: ${digests[0] === digests[1]}`);
