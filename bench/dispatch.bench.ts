// Policy dispatch: today's engine (calls through the policy registry's PolicyDef, kit/policy.ts)
// against the same engine with the switch on the policy id that heaps.ts used before the registry
// (bench/baseline/switch-heaps.ts, compiled from source at bench time by bench/baseline/build.ts
// into the git-ignored bench/.build/; nothing generated is tracked). Both builds are the same
// source and options except the dispatch, run in one process, rounds interleaved (a shared machine
// makes separate runs incomparable), driven raw (engineInit, HEAP_CREATE, runBatch). After each run
// the address of every live block is hashed: both builds must place every block at the same address.
// Run alone: npx tsx bench/dispatch.bench.ts [rounds=15]
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OpBuffer } from '../src/engine/ops.js';
import { Op, OP_WORDS } from '../src/engine/abi.js';
import { peakHour } from '../src/workload/peak-hour.js';
import type { BenchFigure } from './engine.bench.js';
import { buildSwitchBaseline } from './baseline/build.js';
import { getPolicy } from '../src/policies/registry.js';

const CURRENT = fileURLToPath(new URL('../build/release.wasm', import.meta.url));
const STEADY_OPS = 1 << 20;
const ARCH_X86 = 0;
/** The ids bench/baseline/switch-heaps.ts switches on. */
const SWITCH_IDS: Array<[string, number]> = [['first-fit', 1], ['nt', 2], ['pool', 3], ['ptmalloc', 4]];

interface Raw {
  memory: WebAssembly.Memory;
  engineInit(arch: number, every: number): number;
  paramsPtr(): number;
  paramSlots(): number;
  opsPtr(capacity: number): number;
  runBatch(count: number): number;
  idUserAddress(id: number): bigint;
  eventCount(): bigint;
}

function instance(module: WebAssembly.Module): Raw {
  const abort = (): never => { throw new Error('engine abort'); };
  return new WebAssembly.Instance(module, { env: { abort, seed: () => 0 } }).exports as unknown as Raw;
}

function apply(x: Raw, ops: OpBuffer): void {
  const ptr = x.opsPtr(Math.max(ops.length, 4096));
  new Uint32Array(x.memory.buffer, ptr, ops.length * OP_WORDS).set(ops.words.subarray(0, ops.length * OP_WORDS));
  if (x.runBatch(ops.length)) throw new Error('an op failed');
}

function fresh(module: WebAssembly.Module, policyId: number): Raw {
  const x = instance(module);
  if (x.engineInit(ARCH_X86, 0)) throw new Error('engine init');
  new Float64Array(x.memory.buffer, x.paramsPtr(), x.paramSlots()).fill(NaN);
  const create = new OpBuffer(1);
  create.heapCreate(0, policyId, -1, 0, 0);
  apply(x, create);
  return x;
}

/** Addresses of ids 0..maxId-1 (0 when not live): where each build put every live block. */
function placement(x: Raw, maxId: number): string {
  const h = createHash('sha256');
  for (let id = 0; id < maxId; id++) h.update(`${x.idUserAddress(id)},`);
  return h.digest('hex');
}

function maxIdOf(batches: OpBuffer[]): number {
  let m = 0;
  for (const b of batches) for (let i = 0; i < b.length; i++) {
    const op = b.words[i * OP_WORDS]! & 0xff;
    if (op === Op.ALLOC) m = Math.max(m, b.words[i * OP_WORDS + 1]! + 1);
  }
  return m;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

export async function runDispatchBench(rounds = 15): Promise<BenchFigure[]> {
  // switch-heaps.ts names the ids of the registry's order; the switch must call the policy asked for.
  for (const [name, id] of SWITCH_IDS) if (getPolicy(name).id !== id) throw new Error(`switch-heaps.ts: ${name} is id ${getPolicy(name).id} now, not ${id}`);
  const mods = [buildSwitchBaseline(), CURRENT].map((p) => new WebAssembly.Module(readFileSync(p)));
  const peak = [...(peakHour({ seed: 1 }).batches() as Iterable<OpBuffer>)];
  const peakOps = peak.reduce((s, b) => s + b.length, 0);
  const pairs = new OpBuffer(STEADY_OPS);
  for (let i = 0; i < STEADY_OPS / 2; i++) { pairs.alloc(0, i & 1023, 64); pairs.free(0, i & 1023); }
  const cases: Array<{ name: string; policyId: number; batches: OpBuffer[]; ops: number }> = [
    { name: 'first-fit peak-hour', policyId: getPolicy('first-fit').id, batches: peak, ops: peakOps },
    { name: 'first-fit steady alloc/free pairs', policyId: getPolicy('first-fit').id, batches: [pairs], ops: STEADY_OPS },
    { name: 'ptmalloc peak-hour', policyId: getPolicy('ptmalloc').id, batches: peak, ops: peakOps },
  ];
  const out: BenchFigure[] = [];
  for (const c of cases) {
    const maxId = maxIdOf(c.batches);
    const times: number[][] = [[], []];
    const cpu: number[][] = [[], []];
    const digests: string[] = [];
    const once = (k: number, record: boolean): void => {
      const x = fresh(mods[k]!, c.policyId);
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (const b of c.batches) apply(x, b);
      const ms = performance.now() - t0, used = process.cpuUsage(c0);
      if (record) { times[k]!.push(ms); cpu[k]!.push((used.user + used.system) / 1000); }
      if (digests[k] === undefined) digests[k] = placement(x, maxId);
    };
    for (let w = 0; w < 2; w++) for (let k = 0; k < 2; k++) once(k, false);
    for (let r = 0; r < rounds; r++) for (const k of r & 1 ? [1, 0] : [0, 1]) once(k, true);
    // CPU time is the figure: on a shared machine wall time also counts the waits for a core. The
    // ratio is the median over rounds of each round's pair (the two builds ran back to back, so
    // they saw the same load), not the ratio of two medians taken at different moments.
    const a = median(cpu[0]!), b = median(cpu[1]!);
    const ratio = median(cpu[0]!.map((t, r) => t / cpu[1]![r]!));
    const wallRatio = median(times[0]!.map((t, r) => t / times[1]![r]!));
    out.push({
      name: `dispatch: ${c.name}, registry / switch speed (CPU time)`, value: Math.round(ratio * 1000) / 1000, unit: '×',
      note: `switch ${(c.ops / a / 1000).toFixed(2)} M ops/s (${a.toFixed(1)} ms CPU), registry ${(c.ops / b / 1000).toFixed(2)} M ops/s ` +
        `(${b.toFixed(1)} ms CPU); wall ratio ${wallRatio.toFixed(3)}; medians of ${rounds} interleaved rounds; ` +
        `same placement: ${digests[0] === digests[1] ? 'yes' : 'NO'}`,
    });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runDispatchBench(Number(process.argv[2] ?? 15))) console.log(`${f.name}: ${f.value} ${f.unit}  (${f.note})`);
}
