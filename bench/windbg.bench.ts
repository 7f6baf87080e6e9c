// WinDbg reader throughput: lines read per second by `heapsim analyze`'s reader (file opened,
// streamed in chunks, decoded, normalised, parsed into snapshots), at two sizes of the same
// generated transcript, an `!address` listing followed by an `!heap -s` table. The second size is
// four times the first; "size ratio" is the rate at the large size over the rate at the small one,
// about 1 (or above, as the JIT warms up) when reading time is linear in the file's size
// (docs/windbg.md, Limits). Rates use the median run.
//
//   npx tsx bench/windbg.bench.ts          runs on its own
//   runWindbgBench()                       for bench/index.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { openWindbgFile } from '../src/windbg/input.js';
import { readWindbg } from '../src/windbg/parse.js';
import type { BenchFigure } from './engine.bench.js';

const SMALL_REGIONS = 50_000;
const SIZE_FACTOR = 4;
/** Heap rows per listing region: well under the 10 000-row table cap at the large size. */
const HEAP_ROWS_PER_REGION = 0.02;
const ITERATIONS = 5;
const WARMUP_ITERATIONS = 1;
const MS_PER_SECOND = 1000;
const PAGE = 0x1000;

/** A transcript of `regions` listing rows and a heap table; returns its text and line count. */
function transcript(regions: number): { text: string; lines: number } {
  const out = ['0:000> !address', '  BaseAddr EndAddr+1 RgnSize     Type       State                 Protect             Usage', '-'.repeat(95)];
  for (let i = 0; i < regions; i++) {
    const base = 0x10000 + i * PAGE;
    out.push(`+ ${base.toString(16)} ${(base + PAGE).toString(16)} 1000 MEM_PRIVATE MEM_COMMIT  PAGE_READWRITE  Heap  [ID: 0]`);
  }
  out.push('', 'Later:', '', '0:000> !heap -s', '  Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast');
  const heaps = Math.round(regions * HEAP_ROWS_PER_REGION);
  for (let i = 0; i < heaps; i++) out.push(`${(0x100000 + i * 0x10000).toString(16).padStart(8, '0')} 00001002 64 4 64 2 1 1 0 0`);
  out.push('');
  return { text: out.join('\n'), lines: out.length };
}

function readFile(path: string): number {
  const input = openWindbgFile(path);
  try {
    const read = readWindbg(input.lines, path);
    if (read.snapshots.length !== 2) throw new Error(`bench transcript read as ${read.snapshots.length} snapshots`);
    return read.snapshots.length;
  } finally {
    input.close();
  }
}

export async function runWindbgBench(): Promise<BenchFigure[]> {
  const dir = await mkdtemp(join(tmpdir(), 'heapsim-windbg-bench-'));
  try {
    const sizes = [SMALL_REGIONS, SMALL_REGIONS * SIZE_FACTOR].map((regions) => ({ regions, path: join(dir, `listing-${regions}.txt`), ...transcript(regions) }));
    for (const s of sizes) await writeFile(s.path, s.text);
    const bench = new Bench({ iterations: ITERATIONS, warmupIterations: WARMUP_ITERATIONS, time: 0, warmupTime: 0 });
    let check = 0;
    for (const s of sizes) bench.add(`read ${s.regions}`, () => {
      check += readFile(s.path);
    });
    await bench.run();
    if (check === 0) throw new Error('bench read nothing');
    const rates = sizes.map((s) => {
      const r = bench.tasks.find((t) => t.name === `read ${s.regions}`)!.result;
      if (r.state !== 'completed') throw new Error(`bench task read ${s.regions}: ${r.state}`);
      return { s, rate: Math.round(s.lines / (r.latency.p50 / MS_PER_SECOND)) };
    });
    const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    return [
      ...rates.map(({ s, rate }) => ({ name: `windbg: read ${s.lines.toLocaleString('en-US')} lines`, value: rate, unit: 'lines/s', note: mib(Buffer.byteLength(s.text)) })),
      { name: 'windbg: size ratio (large / small rate)', value: Number((rates[1]!.rate / rates[0]!.rate).toFixed(2)), unit: '', note: `${SIZE_FACTOR}× the lines; about 1 or more when linear, well below 1 if not` },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const f of await runWindbgBench()) console.log(`${f.name}: ${f.value.toLocaleString('en-US')} ${f.unit}${f.note ? `  (${f.note})` : ''}`);
}
