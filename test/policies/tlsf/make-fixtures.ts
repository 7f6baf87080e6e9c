// Writes test/policies/tlsf/fixtures/*.txt: fixed call sequences and what Matthew Conte's TLSF
// answers to each call (returned offset, used bytes, high-water mark), from the oracle
// test/oracle/tlsf-replay.c. Not part of the test suite: it needs Conte's source, which is not in
// this repository nor in any Debian package, so CI (npm and Debian registries only) cannot build
// it. Procedure, with a copy of his published repository (github.com/mattconte/tlsf, BSD licence)
// at commit deff9ab (tlsf 3.1) in /tmp/conte-tlsf:
//
//   cc -O2 -Wall -I/tmp/conte-tlsf -o /tmp/tlsf-replay test/oracle/tlsf-replay.c /tmp/conte-tlsf/tlsf.c
//   npx tsx test/policies/tlsf/make-fixtures.ts /tmp/tlsf-replay      (git diff: no change)
//
// check-trace.ts compares a recorded program call by call with the same oracle.
//
// The sequences come from a seeded generator, so the same command writes the same files.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export interface Scenario {
  name: string;
  about: string;
  poolBytes: number;
  calls: number;
  seed: number;
  maxLive: number;
  /** Probabilities of memalign, realloc and free among the calls (the rest: malloc). */
  pAlign: number;
  pRealloc: number;
  pFree: number;
  aligns: number[];
  size: (r: () => number) => number;
  /**
   * The engine's zeroSizeRequest: 0 = the program calls tlsf_malloc directly (malloc(0) is NULL);
   * 1 = through a wrapper that asks for max(n, 1) (the oracle is given 1 where the program says 0).
   */
  zeroSizeRequest: 0 | 1;
}

/** mulberry32: a small seeded generator (deterministic across machines). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

export const SCENARIOS: Scenario[] = [
  {
    name: 'small-mixed', about: 'small and medium blocks, some memalign, malloc(0)', poolBytes: 8 * MiB,
    calls: 4000, seed: 11, maxLive: 400, pAlign: 0.1, pRealloc: 0.15, pFree: 0.4, aligns: [16, 32, 64, 128, 4096],
    size: (r) => { const x = r(); return x < 0.01 ? 0 : x < 0.6 ? pick(r, 1, 256) : x < 0.9 ? pick(r, 257, 4096) : pick(r, 4097, 65536); },
    zeroSizeRequest: 0,
  },
  {
    name: 'exhaustion', about: 'a 256 KiB pool run out again and again: NULLs, every list, in-place reallocs', poolBytes: 256 * KiB,
    calls: 3000, seed: 22, maxLive: 120, pAlign: 0.08, pRealloc: 0.25, pFree: 0.35, aligns: [16, 64, 256, 1024, 8192],
    size: (r) => pick(r, 1, 16 * KiB),
    zeroSizeRequest: 0,
  },
  {
    name: 'large', about: 'the 4 GiB pool of the x64 default, blocks up to 512 MiB, requests of 4 GiB and more', poolBytes: 4 * GiB,
    calls: 1500, seed: 33, maxLive: 60, pAlign: 0.1, pRealloc: 0.2, pFree: 0.4, aligns: [16, 4096, 65536],
    size: (r) => { const x = r(); return x < 0.02 ? pick(r, 4 * GiB - 64, 5 * GiB) : x < 0.3 ? pick(r, 1, 4096) : x < 0.8 ? pick(r, 4097, 16 * MiB) : pick(r, 16 * MiB, 512 * MiB); },
    zeroSizeRequest: 0,
  },
  {
    name: 'realloc-chains', about: 'mostly reallocs of a few blocks: growth into free neighbours, shrinking, moves', poolBytes: 16 * MiB,
    calls: 3000, seed: 44, maxLive: 24, pAlign: 0.05, pRealloc: 0.6, pFree: 0.15, aligns: [32, 512],
    size: (r) => { const x = r(); return x < 0.7 ? pick(r, 1, 2048) : pick(r, 2049, 200 * KiB); },
    zeroSizeRequest: 0,
  },
  {
    name: 'zero-as-one', about: "the default zeroSizeRequest 1: a program's malloc(0) reaches tlsf as tlsf_malloc(1)", poolBytes: 4 * MiB,
    calls: 2000, seed: 55, maxLive: 200, pAlign: 0.1, pRealloc: 0.15, pFree: 0.4, aligns: [16, 64, 4096],
    size: (r) => { const x = r(); return x < 0.1 ? 0 : x < 0.7 ? pick(r, 1, 256) : pick(r, 257, 8192); },
    zeroSizeRequest: 1,
  },
];

export type Call =
  | { op: 'm'; id: number; size: number }
  | { op: 'a'; id: number; align: number; size: number }
  | { op: 'r'; id: number; size: number }
  | { op: 'f'; id: number };

/** The scenario's calls; ids are dense and reused after free. */
export function calls(s: Scenario): Call[] {
  const r = rng(s.seed);
  const live: number[] = [];
  const freeIds: number[] = [];
  let next = 0;
  const out: Call[] = [];
  while (out.length < s.calls) {
    const x = r();
    if (live.length && (x < s.pFree || live.length >= s.maxLive)) {
      const i = Math.floor(r() * live.length);
      const id = live[i]!;
      live[i] = live[live.length - 1]!;
      live.pop();
      freeIds.push(id);
      out.push({ op: 'f', id });
    } else if (live.length && x < s.pFree + s.pRealloc) {
      const id = live[Math.floor(r() * live.length)]!;
      // Conte's realloc cuts a block to nothing when asked for block_size_max (4 GiB) or more
      // (adjust_request_size returns 0); heapsim refuses such a realloc, so none is generated.
      const size = s.size(r);
      out.push({ op: 'r', id, size: Math.max(1, size >= 4 * GiB ? size - 4 * GiB : size) });
    } else {
      const id = freeIds.length ? freeIds.pop()! : next++;
      live.push(id);
      if (r() < s.pAlign / (1 - s.pFree - s.pRealloc)) out.push({ op: 'a', id, align: s.aligns[Math.floor(r() * s.aligns.length)]!, size: s.size(r) });
      else out.push({ op: 'm', id, size: s.size(r) });
    }
  }
  return out;
}

/** What reaches tlsf for a call of the program (a max(n, 1) wrapper turns 0 into 1). */
export function oracleCall(c: Call, zeroSizeRequest: 0 | 1): Call {
  if (!zeroSizeRequest || (c.op !== 'm' && c.op !== 'a') || c.size) return c;
  return { ...c, size: 1 };
}

export function callText(c: Call): string {
  switch (c.op) {
    case 'm': return `m ${c.id} ${c.size}`;
    case 'a': return `a ${c.id} ${c.align} ${c.size}`;
    case 'r': return `r ${c.id} ${c.size}`;
    case 'f': return `f ${c.id}`;
  }
}

function main(): void {
  const oracle = process.argv[2];
  if (!oracle) {
    console.error('usage: npx tsx test/policies/tlsf/make-fixtures.ts PATH-TO-tlsf-replay');
    process.exit(2);
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
  for (const s of SCENARIOS) {
    const list = calls(s);
    const input = list.map((c) => callText(oracleCall(c, s.zeroSizeRequest))).join('\n') + '\n';
    const r = spawnSync(oracle, [String(s.poolBytes)], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`${s.name}: oracle failed (${r.status}): ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    const head = lines.shift()!;
    if (lines.length !== list.length) throw new Error(`${s.name}: ${lines.length} answers for ${list.length} calls`);
    const text = [
      `# ${s.name}: ${s.about}`,
      '# Answers of Matthew Conte\'s TLSF 3.1 (github.com/mattconte/tlsf deff9ab, x86-64, cc -O2) to these calls,',
      '# written by test/policies/tlsf/make-fixtures.ts with test/oracle/tlsf-replay.c (see both headers).',
      '# call | offset of the returned pointer from mem (0: NULL or free), used_bytes, high_water',
      ...(s.zeroSizeRequest ? ['# The calls are the program\'s; where it asks for 0 bytes, tlsf_malloc / tlsf_memalign was given 1.'] : []),
      `# ${head}`,
      `pool ${s.poolBytes}`,
      `zeroSizeRequest ${s.zeroSizeRequest}`,
      ...list.map((c, i) => `${callText(c)} | ${lines[i]}`),
    ].join('\n') + '\n';
    writeFileSync(join(dir, `${s.name}.txt`), text);
    console.log(`${s.name}: ${list.length} calls`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
