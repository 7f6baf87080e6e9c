// The fuzz suite's oracle: what every command must do with any input. Reader-agnostic: it drives
// the command line (main(), in process) and the public reader API, never a reader's internals, so
// the same cases judge any future reader.
//
//   - exit 0, with output that passes the format's own consistency checks (and, for generated
//     inputs, equals the model's independent count); or
//   - exit 2 with exactly one line on stderr: `heapsim CMD: …` naming the file (with a line or byte
//     offset when the problem is in the content), at most ~200 characters of quoted input;
//   - never a stack trace or `internal error`, never exit 1 (that is for write errors and engine
//     traps: a trap on any input is a bug), never longer than a linear-time budget.
import { expect } from 'vitest';
import { main } from '../../src/cli/main.js';

export interface Outcome {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Time budget of one command: fixed start-up, then linear in the input's size. */
export const BASE_BUDGET_MS = 4000;
export const BUDGET_MS_PER_MIB = 4000;

export function budgetMs(inputBytes: number): number {
  return BASE_BUDGET_MS + (inputBytes / 2 ** 20) * BUDGET_MS_PER_MIB;
}

/** Runs the CLI in memory and times it. */
export async function runCli(argv: string[]): Promise<Outcome> {
  let stdout = '', stderr = '';
  const started = performance.now();
  let code: number;
  try {
    code = await main(argv, {
      stdout: { write: (s: string) => { stdout += s; return true; } },
      stderr: { write: (s: string) => { stderr += s; return true; } },
    });
  } catch (err) {
    // What bin.ts would print as `internal error`: always a failure of the oracle.
    throw new Error(`heapsim ${argv.join(' ')}: internal error: ${err instanceof Error ? err.stack : String(err)}`);
  }
  return { argv, code, stdout, stderr, ms: performance.now() - started };
}

/** Longest stderr line allowed: the message, the paths it names, and ~200 quoted characters. */
function maxErrorChars(argv: string[]): number {
  return 600 + argv.reduce((n, a) => n + a.length, 0);
}

export interface OracleOptions {
  /** Bytes of input, for the time budget. */
  inputBytes?: number;
  /** Exit codes allowed besides 0 and 2 (1: a write error the case provokes on purpose). */
  alsoAllowed?: number[];
  /** The input, when outputs may quote it (a caller or label named `NaN` is not a broken number). */
  input?: Uint8Array;
}

/** Spellings of numbers that went wrong (a double printed for an integer). */
const BROKEN_NUMBERS = [/\bNaN\b/, /Infinity/, /\d\.\d+e[+-]\d/];

/** The rules every outcome obeys. */
export function checkOutcome(o: Outcome, options: OracleOptions = {}): void {
  const what = `heapsim ${o.argv.map((a) => (a.length > 80 ? a.slice(0, 80) + '…' : a)).join(' ')}`;
  expect([0, 2, ...(options.alsoAllowed ?? [])], `${what}: exit ${o.code}: ${o.stderr}`).toContain(o.code);
  expect(o.stderr, what).not.toMatch(/internal error|\n\s+at |TypeError|RangeError|ReferenceError/);
  expect(o.ms, `${what}: took ${o.ms.toFixed(0)} ms`).toBeLessThan(budgetMs(options.inputBytes ?? 0));
  if (o.code !== 0) {
    expect(o.stderr.endsWith('\n'), `${what}: ${o.stderr}`).toBe(true);
    expect(o.stderr.slice(0, -1).includes('\n'), `${what}: more than one line: ${o.stderr}`).toBe(false);
    expect(o.stderr, what).toMatch(/^heapsim( [a-z]+)?: \S/);
    expect(o.stderr.length, `${what}: ${o.stderr.slice(0, 300)}`).toBeLessThan(maxErrorChars(o.argv));
  }
  const input = options.input === undefined ? '' : Buffer.from(options.input).toString('latin1');
  for (const broken of BROKEN_NUMBERS) {
    if (!broken.test(input)) expect(o.stdout, what).not.toMatch(broken);
  }
}

/** `stats --json` output: every count is an exact non-negative integer and the counts add up. */
export interface StatsJson {
  events: { total: number; alloc: number; calloc: number; alignedAlloc: number; realloc: number; free: number; skipped: Record<string, number> };
  unmatchedFrees: number;
  untracedReallocs: number;
  doubleFrees: number;
  peakLiveBytes: number;
  neverFreed: { blocks: number; bytes: number };
  input: Record<string, number>;
}

export function checkStatsJson(text: string): StatsJson {
  const s = JSON.parse(text) as StatsJson;
  const ints: number[] = [];
  JSON.stringify(s, (_k, v: unknown) => { if (typeof v === 'number') ints.push(v); return v; });
  for (const v of ints) {
    expect(Number.isSafeInteger(v), `not an exact integer: ${v}`).toBe(true);
  }
  const e = s.events;
  const skipped = Object.values(e.skipped).reduce((a, b) => a + b, 0);
  expect(e.total).toBe(e.alloc + e.calloc + e.alignedAlloc + e.realloc + e.free + skipped);
  expect(s.unmatchedFrees).toBe((e.skipped['unmatched-free'] ?? 0) + (e.skipped['unmatched-realloc'] ?? 0));
  expect(s.doubleFrees).toBe(e.skipped['double-free'] ?? 0);
  expect(s.peakLiveBytes).toBeGreaterThanOrEqual(s.neverFreed.bytes);
  // Blocks are born by allocations and by reallocs of pointers the trace never saw (untraced reallocs).
  expect(s.neverFreed.blocks).toBeLessThanOrEqual(e.alloc + e.calloc + e.alignedAlloc + s.untracedReallocs);
  expect(s.untracedReallocs).toBeLessThanOrEqual(e.realloc);
  expect(s.input.oversizeRequests ?? 0).toBeLessThanOrEqual(e.skipped['failed-alloc'] ?? 0);
  return s;
}
