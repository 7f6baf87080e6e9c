// Every failure a fuzz campaign (npm run fuzz) found, minimized, replayed against the oracle.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALL_PROPERTIES } from './all.js';
import { caseFromJson } from './cases.js';

const DIR = fileURLToPath(new URL('./regressions/', import.meta.url));
const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('fuzz regressions', () => {
  it('has its fixtures (a campaign that found nothing adds none)', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });
  for (const f of fixtures) {
    it(f, async () => {
      const fixture = caseFromJson(readFileSync(join(DIR, f), 'utf8')) as { property: string; case: never };
      const p = ALL_PROPERTIES.find((q) => q.name === fixture.property);
      expect(p, `property '${fixture.property}' of ${f}`).toBeDefined();
      await p!.check(fixture.case);
    });
  }
});
