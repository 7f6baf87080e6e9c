import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../src/version.js';

it('src/version.ts is kept in step with package.json', () => {
  expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
});
