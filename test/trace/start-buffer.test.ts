// The run's start buffer (src/io/start-buffer.ts): one buffer that the launcher's reads, the
// engine module's file and a trace's first chunk use in turn, one owner at a time.
//   - taken, it is gone until given back; a request larger than it leaves it waiting;
//   - the engine's module file is read into it when it fits (and the buffer is back once the
//     compile has copied the bytes), else read as without it; the module is the same;
//   - a trace reader keeps it as its chunk buffer: two traces open at once (one of them holding
//     the buffer) read exactly as each read alone without it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { START_BUFFER_BYTES, giveStartBuffer, takeStartBuffer } from '../../src/io/start-buffer.js';
import { engineModule, instantiateEngine } from '../../src/engine/load.js';
import { openTrace } from '../../src/trace/read.js';
import { writeSyntheticHst } from '../../src/trace/synthetic.js';
import { eventLines, inputLines, tempDir } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** The first bytes of every WASM module ("\0asm"). */
const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);
/** Events of each trace: a few KB, so that one chunk holds a whole file. */
const TRACE_EVENTS = 3000;

const tmp = tempDir();
const traceA = join(tmp.dir, 'a.hst');
const traceB = join(tmp.dir, 'b.hst');
beforeAll(async () => {
  await writeSyntheticHst(traceA, { events: TRACE_EVENTS, seed: 1 });
  await writeSyntheticHst(traceB, { events: TRACE_EVENTS, seed: 2 });
});
afterAll(() => {
  takeStartBuffer(0);
  tmp.cleanup();
});

/** A new start buffer (as the launcher leaves it), filled with a byte no file here starts with. */
function freshStartBuffer(): Uint8Array {
  const b = new Uint8Array(START_BUFFER_BYTES).fill(0xee);
  giveStartBuffer(b);
  return b;
}

it('the start buffer has one owner at a time: taken, it is gone until given back', () => {
  const b = freshStartBuffer();
  expect(takeStartBuffer(START_BUFFER_BYTES + 1)).toBeUndefined(); // too small: it stays
  expect(takeStartBuffer(START_BUFFER_BYTES)).toBe(b);
  expect(takeStartBuffer(0)).toBeUndefined();
  giveStartBuffer(b);
  expect(takeStartBuffer(1)).toBe(b);
  expect(takeStartBuffer(1)).toBeUndefined();
});

it('the engine module is read through the start buffer when it fits, which is back once the compile copied it; a larger one is read as before', async () => {
  const b = freshStartBuffer();
  const release = readFileSync(join(ROOT, 'build', 'release.wasm'));
  expect(release.length).toBeLessThanOrEqual(START_BUFFER_BYTES);
  const m = await engineModule('release');
  // Read there (the bytes are the file's), and waiting again for the next owner.
  expect(Buffer.from(b.subarray(0, release.length)).equals(release)).toBe(true);
  expect(takeStartBuffer(0)).toBe(b);
  expect(WebAssembly.Module.exports(m).map((e) => e.name)).toContain('hstRecords');
  // Overwritten after the compile: the module is made of its own copy.
  b.fill(0);
  const engine = await instantiateEngine('release'); // the module compiled above
  expect(engine.policyCount()).toBeGreaterThan(0);

  const c = freshStartBuffer();
  const debug = readFileSync(join(ROOT, 'build', 'debug.wasm'));
  expect(debug.length).toBeGreaterThan(START_BUFFER_BYTES);
  expect(WebAssembly.Module.exports(await engineModule('debug')).map((e) => e.name)).toContain('hstRecords');
  expect(Buffer.from(c.subarray(0, WASM_MAGIC.length)).equals(WASM_MAGIC)).toBe(false); // not read there
  expect(takeStartBuffer(0)).toBe(c);
});

it('two traces open at once, the first read into the start buffer, read as each alone without it', async () => {
  const aloneA = (await eventLines(traceA)).lines;
  const aloneB = (await eventLines(traceB)).lines;
  expect(aloneA.length).toBeGreaterThan(TRACE_EVENTS / 2);
  expect(aloneA).not.toEqual(aloneB);
  const b = freshStartBuffer();
  const a = await openTrace(traceA, null);
  expect(Buffer.from(b.subarray(0, 8)).toString('latin1')).toBe(readFileSync(traceA).subarray(0, 8).toString('latin1'));
  // The first reader keeps the buffer: the second reads into a buffer of its own.
  const second = await openTrace(traceB, null);
  expect(await inputLines(second)).toEqual(aloneB);
  expect(await inputLines(a)).toEqual(aloneA);
  expect(takeStartBuffer(0)).toBeUndefined();
});
