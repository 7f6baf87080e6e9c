// The share of hand-written expected numbers that a WinDbg reader finds in the corpus of public
// transcripts (test/fixtures/windbg, SOURCES.md). By default it scores this checkout's source;
// `--dist DIR` scores a built copy (DIR/windbg/parse.js), e.g. an older build kept for comparison.
//
//   npm run corpus:windbg [-- --dist DIR] [--files]
//
// --files prints one line per transcript (found/expected, refused or not, what is missing).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { scoreCorpus, type ParseFn } from '../test/windbg/corpus/score.js';

const args = process.argv.slice(2);
const distAt = args.indexOf('--dist');
const perFile = args.includes('--files');
const corpus = fileURLToPath(new URL('../test/fixtures/windbg/', import.meta.url));

let parse: ParseFn;
let what: string;
if (distAt >= 0) {
  const dist = resolve(args[distAt + 1] ?? '');
  const mod = (await import(pathToFileURL(resolve(dist, 'windbg/parse.js')).href)) as { parseWindbgText: ParseFn };
  parse = mod.parseWindbgText;
  what = dist;
} else {
  const mod = await import('../src/windbg/parse.js');
  parse = mod.parseWindbgText as ParseFn;
  what = 'src/windbg (this checkout)';
}

const scores = scoreCorpus(corpus, parse);
let expected = 0, found = 0, refused = 0;
const forms = new Map<string, number>();
for (const s of scores) {
  expected += s.expected;
  found += s.found;
  if (s.refused) refused++;
  for (const f of s.forms) forms.set(f, (forms.get(f) ?? 0) + 1);
  if (perFile) {
    const state = s.refused ? `refused: ${s.error ?? ''}`.slice(0, 110) : s.found === s.expected ? 'all found' : `missing: ${s.missing.slice(0, 3).join('; ')}`;
    console.log(`${s.file.padEnd(46)} ${String(s.found).padStart(4)}/${String(s.expected).padEnd(4)} ${state}`);
  }
}
console.log(`reader: ${what}`);
console.log(`transcripts: ${scores.length}, refused: ${refused}`);
console.log(`expected numbers found: ${found} of ${expected} (${((100 * found) / expected).toFixed(1)} %)`);
console.log(`forms: ${[...forms.entries()].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f} ${n}`).join(', ')}`);
