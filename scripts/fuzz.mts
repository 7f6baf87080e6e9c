// npm run fuzz -- --minutes N [--only NAME]: a long fuzz campaign over every property of the fuzz
// suite (test/fuzz/properties.ts and the other *-properties.ts), with random seeds, until the time
// is up. Each failure is shrunk by fast-check and written, minimized, to test/fuzz/regressions/ as
// a JSON fixture (property, seed, case, what went wrong, and the outcome the oracle expects);
// test/fuzz/regressions.test.ts replays every fixture in `npm test`.
//
// Runs under vitest's `expect` outside vitest: the properties use it for their checks.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { ALL_PROPERTIES } from '../test/fuzz/all.js';
import { caseToJson } from '../test/fuzz/cases.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '5' }, only: { type: 'string' }, 'runs-per-seed': { type: 'string', default: '200' } },
});
const minutes = Number(values.minutes);
if (!(minutes > 0)) {
  console.error('fuzz: --minutes wants a positive number');
  process.exit(2);
}
const properties = ALL_PROPERTIES.filter((p) => values.only === undefined || p.name.includes(values.only));
if (properties.length === 0) {
  console.error(`fuzz: no property matches '${values.only}' (${ALL_PROPERTIES.map((p) => p.name).join('; ')})`);
  process.exit(2);
}
const runsPerSeed = Number(values['runs-per-seed']);
const deadline = Date.now() + minutes * 60_000;
const dir = join(import.meta.dirname, '..', 'test', 'fuzz', 'regressions');
mkdirSync(dir, { recursive: true });

const cases = new Map<string, number>();
const spentMs = new Map<string, number>();
const started = Date.now();
let failures = 0;
for (let round = 0; Date.now() < deadline; round++) {
  for (const p of properties) {
    if (Date.now() >= deadline) break;
    const seed = Math.floor(Math.random() * 2 ** 31);
    const t0 = Date.now();
    const result = await fc.check(fc.asyncProperty(p.arbitrary, (c) => p.check(c)), {
      seed, numRuns: runsPerSeed, interruptAfterTimeLimit: Math.max(1000, deadline - Date.now()), markInterruptAsFailure: false,
    });
    cases.set(p.name, (cases.get(p.name) ?? 0) + result.numRuns);
    spentMs.set(p.name, (spentMs.get(p.name) ?? 0) + (Date.now() - t0));
    if (!result.failed) continue;
    failures++;
    const counterexample = result.counterexample?.[0];
    const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    const json = caseToJson({
      property: p.name,
      seed,
      path: result.counterexamplePath,
      expected: 'the fuzz oracle (test/fuzz/oracle.ts): exit 0 with consistent output, or exit 2 with one line naming the file; within the time budget',
      failure: error.split('\n').slice(0, 12).join('\n'),
      case: counterexample,
    });
    const id = createHash('sha256').update(p.name + caseToJson(counterexample)).digest('hex').slice(0, 12);
    const file = join(dir, `${p.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}-${id}.json`);
    writeFileSync(file, json + '\n');
    console.log(`FAIL ${p.name} (seed ${seed}): ${error.split('\n')[0]}\n  minimized case written to ${file}`);
  }
}
console.log('cases run per property (cases, seconds spent, cases per second):');
let total = 0;
for (const [name, n] of cases) {
  const seconds = (spentMs.get(name) ?? 0) / 1000;
  total += n;
  console.log(`  ${String(n).padStart(8)}  ${seconds.toFixed(0).padStart(6)} s  ${(n / Math.max(seconds, 1e-3)).toFixed(1).padStart(8)}/s  ${name}`);
}
const wallSeconds = (Date.now() - started) / 1000;
console.log(`${total} cases in ${wallSeconds.toFixed(0)} s (${(total / wallSeconds).toFixed(1)} cases/s); ${failures} failure(s) in ${minutes} minute(s)`);
process.exitCode = failures ? 1 : 0;
