// Plain-text lines shared by the commands that read traces: what was skipped or ignored, so no
// count is ever silent, and byte amounts written for people.
import type { InputCounts } from './ledger.js';

const KIB = 1024;
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];
const HUMAN_DIGITS = 1;

/** `123456 bytes (120.6 KiB)`. */
export function formatBytes(bytes: number): string {
  if (bytes < KIB) return `${bytes} bytes`;
  let v = bytes;
  let u = -1;
  while (v >= KIB && u < UNITS.length - 1) {
    v /= KIB;
    u++;
  }
  return `${bytes} bytes (${v.toFixed(HUMAN_DIGITS)} ${UNITS[u]})`;
}

export interface CountsForNotes {
  unmatchedFrees: number;
  untracedReallocs?: number;
  implicitFrees?: number;
  doubleFrees: number;
  input: InputCounts;
  warnings: string[];
}

/** One line per non-zero count of things that were not replayed as they stood. */
export function inputNotes(s: CountsForNotes): string[] {
  const lines: string[] = [];
  if (s.unmatchedFrees > 0) lines.push(`${s.unmatchedFrees} frees of pointers the trace never allocated (skipped; the trace began after they were allocated)`);
  if (s.untracedReallocs) lines.push(`${s.untracedReallocs} reallocs of pointers the trace never allocated (replayed as allocations of the new size: the old block was never in the simulated heap)`);
  if (s.implicitFrees) lines.push(`${s.implicitFrees} allocations returned an address the trace still had live (a free is missing from the trace; the older block was freed first)`);
  if (s.doubleFrees > 0) lines.push(`${s.doubleFrees} double frees (skipped)`);
  const i = s.input;
  if (i.malformedLines > 0) lines.push(`${i.malformedLines} malformed lines skipped (--lenient)`);
  if (i.truncatedLastLine > 0) lines.push('the last line was cut off (no newline, incomplete) and was skipped');
  if (i.ignoredLines > 0) lines.push(`${i.ignoredLines} lines that are not allocator calls ignored (other functions, signals, exits)`);
  if (i.otherProcessLines > 0) lines.push(`${i.otherProcessLines} lines of other processes ignored (only the first process is replayed)`);
  if (i.oversizeRequests > 0) lines.push(`${i.oversizeRequests} allocations larger than any simulated address space (2^47 bytes, or the live total beyond it) counted as failed allocations`);
  for (const w of s.warnings) lines.push(w);
  return lines;
}
