// Memory stays bounded whatever the trace length: a generated 20-million-event .hst replayed
// through the reader, id mapping, op generation and the engine, in a child process whose peak RSS
// is measured.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticHst } from '../../src/trace/synthetic.js';
import { tempDir } from './helpers.js';

const EVENTS = 20_000_000;
const MAX_RSS_BYTES = 300 * 1024 * 1024;
const CHILD_TIMEOUT_MS = 60_000;
const CHILD = fileURLToPath(new URL('./replay-rss-child.ts', import.meta.url));

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('replay memory', () => {
  it(`replays ${EVENTS} events with peak RSS under 300 MB`, async () => {
    const path = join(tmp.dir, 'long.hst');
    await writeSyntheticHst(path, { events: EVENTS });
    const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, path], { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const r = JSON.parse(child.stdout);
    expect(r.traceEvents).toBe(EVENTS);
    expect(r.engineEvents).toBe(EVENTS);
    expect(r.failedOps).toBe(0);
    expect(r.maxRssBytes).toBeLessThan(MAX_RSS_BYTES);
    // The file alone is a sizeable fraction of the bound: the replay must not hold it in memory.
    expect(statSync(path).size).toBeGreaterThan(MAX_RSS_BYTES / 5);
  }, 120_000);
});
