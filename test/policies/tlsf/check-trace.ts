// Replays a recorded trace through Matthew Conte's TLSF (the oracle test/oracle/tlsf-replay.c) and
// through heapsim's tlsf policy, and compares them after every call: the returned pointer's offset
// from the memory given to tlsf_create_with_pool, used_bytes and high_water (heap.native).
// Not part of the test suite: it needs Conte's source (see make-fixtures.ts for how the oracle is
// built). Usage:
//
//   npx tsx test/policies/tlsf/check-trace.ts PATH-TO-tlsf-replay TRACE [POOL_BYTES]
//
// The trace goes through heapsim's own reader (the ops `heapsim run` would apply), one op per
// engine call, on the default settings (zeroSizeRequest 1: a malloc(0) reaches TLSF as
// tlsf_malloc(1), which is what the oracle is given). calloc is tlsf_malloc (TLSF has no calloc);
// an aligned request of 8 bytes or less is tlsf_malloc, a larger one tlsf_memalign. Trace ids are
// renamed to small dense ids for the oracle. Prints the number of calls compared and how many
// differ (the first ten differences in full); exits 1 when any differs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../../../src/engine/engine.js';
import { Op, OP_WORDS } from '../../../src/engine/abi.js';
import { OpBuffer } from '../../../src/engine/ops.js';
import { traceToOps } from '../../../src/trace/replay.js';

const GiB = 1024 ** 3;
const SIZE_SPLIT = 0x1_0000_0000;
/** The oracle's table of ids (tlsf-replay.c MAX_IDS). */
const ORACLE_IDS = 65536;
/** tlsf.c: ALIGN_SIZE on a 64-bit build; larger alignments go to tlsf_memalign. */
const TLSF_ALIGN_BYTES = 8;

interface Call { op: number; id: number; alignLog2: number; size: number; text: string }

async function readCalls(trace: string): Promise<Call[]> {
  const calls: Call[] = [];
  const dense = new Map<number, number>();
  const freeIds: number[] = [];
  let next = 0;
  const idFor = (id: number, fresh: boolean): number => {
    if (!fresh) return dense.get(id)!;
    const d = freeIds.length ? freeIds.pop()! : next++;
    if (d >= ORACLE_IDS) throw new Error(`more than ${ORACLE_IDS} blocks live at once: the oracle's id table is too small`);
    dense.set(id, d);
    return d;
  };
  for await (const ops of traceToOps(trace)) {
    const w = ops.words;
    for (let i = 0; i < ops.length; i++) {
      const op = w[i * OP_WORDS]! & 0xff;
      const alignLog2 = w[i * OP_WORDS]! >>> 16;
      const id = w[i * OP_WORDS + 1]!;
      const size = w[i * OP_WORDS + 2]! + w[i * OP_WORDS + 3]! * SIZE_SPLIT;
      switch (op) {
        case Op.ALLOC: case Op.CALLOC: case Op.ALIGNED_ALLOC: {
          const d = idFor(id, true);
          const n = Math.max(size, 1);
          const aligned = op === Op.ALIGNED_ALLOC && 2 ** alignLog2 > TLSF_ALIGN_BYTES;
          calls.push({ op, id, alignLog2: op === Op.ALIGNED_ALLOC ? alignLog2 : 0, size, text: aligned ? `a ${d} ${2 ** alignLog2} ${n}` : `m ${d} ${n}` });
          break;
        }
        case Op.REALLOC:
          calls.push({ op, id, alignLog2: 0, size, text: `r ${idFor(id, false)} ${size}` });
          break;
        case Op.FREE: {
          const d = idFor(id, false);
          dense.delete(id);
          freeIds.push(d);
          calls.push({ op, id, alignLog2: 0, size: 0, text: `f ${d}` });
          break;
        }
        default: break; // marks, ticks, skips: no allocator call
      }
    }
  }
  return calls;
}

async function main(): Promise<void> {
  const [oracle, trace, poolArg] = process.argv.slice(2);
  if (!oracle || !trace) {
    console.error('usage: npx tsx test/policies/tlsf/check-trace.ts PATH-TO-tlsf-replay TRACE [POOL_BYTES]');
    process.exit(2);
  }
  const poolBytes = poolArg ? Number(poolArg) : 1 * GiB;
  const calls = await readCalls(trace);
  const r = spawnSync(oracle, [String(poolBytes)], { input: calls.map((c) => c.text).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`oracle failed (${r.status}): ${r.stderr}`);
  const answers = r.stdout.trim().split('\n');
  answers.shift(); // tlsf_size
  if (answers.length !== calls.length) throw new Error(`${answers.length} answers for ${calls.length} calls`);

  const e = await createEngine({ arch: 'x64' });
  const h = e.createHeap('tlsf', { params: { poolBytes } });
  const mem = e.sample().heaps[0]!.policyCounters['memAddress']!;
  const ops = new OpBuffer(1);
  let differing = 0, failed = 0;
  for (const [n, c] of calls.entries()) {
    ops.clear();
    if (c.op === Op.ALIGNED_ALLOC) ops.alignedAlloc(h, c.id, c.size, 2 ** c.alignLog2);
    else if (c.op === Op.FREE) ops.free(h, c.id);
    else ops.push(c.op, h, 0, c.id, c.size);
    const res = e.apply(ops);
    failed += res.failedOps;
    const hc = e.sample().heaps[0]!.policyCounters;
    const offset = c.op === Op.FREE || res.failedOps ? 0 : e.blockOf(c.id).address - mem;
    const mine = `${offset} ${hc['usedBytes']} ${hc['highWater']}`;
    if (mine !== answers[n]) {
      if (++differing <= 10) console.log(`call ${n + 1} (${c.text}): Conte ${answers[n]}, heapsim ${mine}`);
    }
  }
  const check = e.check();
  console.log(`${trace}: ${calls.length} calls compared (pool ${poolBytes} bytes), ${differing} differing, ${failed} refused by heapsim, check() ${check}`);
  console.log(`end: used_bytes ${answers.at(-1)!.split(' ')[1]}, high_water ${answers.at(-1)!.split(' ')[2]}`);
  if (differing || check) process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
