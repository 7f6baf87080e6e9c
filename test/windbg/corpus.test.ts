// The corpus of WinDbg transcripts from public pages (test/fixtures/windbg, SOURCES.md): every
// file is read through the same path as `heapsim analyze` (streamed from the file), none is
// refused, and every hand-written expected number is found.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { openWindbgFile } from '../../src/windbg/input.js';
import { parseWindbgText, readWindbg } from '../../src/windbg/parse.js';
import { scoreFile } from './corpus/score.js';

const DIR = fileURLToPath(new URL('../fixtures/windbg/', import.meta.url));
const expectedFiles = readdirSync(DIR).filter((f) => f.endsWith('.expected.json')).sort();
const transcriptOf = (expected: string): string => (JSON.parse(readFileSync(join(DIR, expected), 'utf8')) as { file?: string }).file ?? expected.replace(/\.expected\.json$/, '.txt');

async function analyze(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['analyze', ...argv], { stdout: { write: (s: string) => { out += s; } }, stderr: { write: (s: string) => { err += s; } } });
  return { code, out, err };
}

describe('corpus of public WinDbg transcripts', () => {
  it('holds at least 30 transcripts, each with expected numbers and a line in SOURCES.md', () => {
    expect(expectedFiles.length).toBeGreaterThanOrEqual(30);
    const sources = readFileSync(join(DIR, 'SOURCES.md'), 'utf8');
    for (const e of expectedFiles) expect(sources, e).toContain(`\`${transcriptOf(e).replace(/^\.\.\//, '../')}\``);
    const txt = readdirSync(DIR).filter((f) => f.endsWith('.txt'));
    for (const t of txt) expect(expectedFiles, t).toContain(t.replace(/\.txt$/, '.expected.json'));
  });

  it.each(expectedFiles)('%s: read from the file, every expected number found', (expected) => {
    const file = join(DIR, transcriptOf(expected));
    const input = openWindbgFile(file, transcriptOf(expected));
    let snapshots;
    try {
      snapshots = readWindbg(input.lines, transcriptOf(expected)).snapshots;
    } finally {
      input.close();
    }
    expect(snapshots.length).toBeGreaterThan(0);
    // The file path and the string path read the same.
    const fromText = parseWindbgText(readFileSync(file, 'utf8'), transcriptOf(expected));
    expect(JSON.parse(JSON.stringify(snapshots))).toEqual(JSON.parse(JSON.stringify(fromText)));
    const score = scoreFile(DIR, expected, parseWindbgText);
    expect(score.refused).toBe(false);
    expect(score.missing).toEqual([]);
    expect(score.found).toBe(score.expected);
  });

  it('heapsim analyze reads every transcript (exit 0, a diagnosis line, warnings counted)', async () => {
    for (const expected of expectedFiles) {
      const { code, out, err } = await analyze(join(DIR, transcriptOf(expected)));
      expect(code, `${expected}: ${err}`).toBe(0);
      expect(out).toMatch(/^diagnosis: (none|first-order|second-order)$/m);
      expect(err).not.toMatch(/internal error|\n\s+at /);
      for (const line of err.split('\n').filter((l) => l !== '')) expect(line.length, line).toBeLessThan(400);
    }
  });
});
