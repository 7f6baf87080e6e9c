// Test helpers: read a trace into heapsim text lines, fixture paths, temp dirs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextWriter } from '../../src/trace/formats/text.js';
import { openTrace, type OpenOptions, type TraceInput } from '../../src/trace/read.js';
import type { Ledger } from '../../src/trace/ledger.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const fixture = (name: string): string => join(FIXTURES, name);

/** The events of a trace opened already (openTrace) as heapsim text lines, header and comments dropped. */
export async function inputLines(input: TraceInput): Promise<string[]> {
  const writer = new TextWriter(input.ledger);
  input.ledger.out = writer;
  let text = '';
  for await (const chunk of input.chunks) {
    input.parser.push(chunk);
    text += writer.take();
  }
  input.parser.finish();
  text += writer.take();
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

/** Reads a trace and returns its events as heapsim text lines (header and comments dropped), and the ledger. */
export async function eventLines(path: string, options: OpenOptions = {}): Promise<{ lines: string[]; ledger: Ledger }> {
  const input = await openTrace(path, null, options);
  return { lines: await inputLines(input), ledger: input.ledger };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'heapsim-trace-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** From heapsim text lines: one more than the largest block id, and the most blocks live at once. */
export function idBoundAndPeakLive(lines: readonly string[]): { idBound: number; peakLiveBlocks: number } {
  let live = 0, peakLiveBlocks = 0, idBound = 0;
  for (const l of lines) {
    const [op, id] = l.split(' ');
    if (op === 'a' || op === 'c' || op === 'm' || op === 'u') peakLiveBlocks = Math.max(peakLiveBlocks, ++live);
    else if (op === 'f' || op === 'i') live--;
    else if (op !== 'r') continue;
    idBound = Math.max(idBound, Number(id) + 1);
  }
  return { idBound, peakLiveBlocks };
}
