// The `.hst` version 3 size hint (issue 16 point 3): writers put the true id bound and peak live
// blocks in the header; the engine and the WASM ledger size their tables with it before the first
// record; and a hint that lies (missing, too low, too high, absurd) changes nothing a run reports,
// with either decoder. Version 2 files (the same records, no hint) give the same documents too.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { runWorkload } from '../../src/run/run.js';
import { convertTrace } from '../../src/trace/convert.js';
import {
  HST_EVENT_COUNT_OFFSET, HST_HEADER_BYTES, HST_HINT_ID_BOUND_OFFSET, HST_HINT_PEAK_LIVE_OFFSET, HST_V2_HEADER_BYTES, hstHint,
} from '../../src/trace/formats/hst.js';
import { writeSyntheticHst } from '../../src/trace/synthetic.js';
import { traceWorkload } from '../../src/trace/workload.js';
import { eventLines, idBoundAndPeakLive, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const EVENTS = 12_000;
const LIVE_TARGET = 1000;
const U64_MAX = 2n ** 64n - 1n;
/** Policies whose block-record pools reserve from the hint (assembly/kit/hint.ts). */
const HINTED_POLICIES = ['first-fit', 'nt', 'ptmalloc', 'tcmalloc', 'jemalloc', 'best-fit', 'next-fit', 'segregated', 'buddy', 'tlsf', 'mimalloc'];
let honest: Buffer;
let truth: { idBound: number; peakLiveBlocks: number };

beforeAll(async () => {
  const path = join(tmp.dir, 'synthetic.hst');
  await writeSyntheticHst(path, { events: EVENTS, liveTarget: LIVE_TARGET, seed: 7 });
  honest = readFileSync(path);
  // The truth, counted from the events themselves (the synthetic mix has allocs, reallocs, frees).
  truth = idBoundAndPeakLive((await eventLines(path)).lines);
});

function withHint(idBound: bigint, peak: bigint): Buffer {
  const b = Buffer.from(honest);
  b.writeBigUInt64LE(idBound, HST_HINT_ID_BOUND_OFFSET);
  b.writeBigUInt64LE(peak, HST_HINT_PEAK_LIVE_OFFSET);
  return b;
}

/** The same records under a version 2 header (the checksum covers only the records). */
function asVersion2(): Buffer {
  const header = Buffer.from(honest.subarray(0, HST_V2_HEADER_BYTES));
  header.writeUInt16LE(2, 8);
  return Buffer.concat([header, honest.subarray(HST_HEADER_BYTES)]);
}

async function documentOf(bytes: Buffer, policy: string, hstDecoder: 'wasm' | 'js'): Promise<string> {
  const path = join(tmp.dir, 'variant.hst'); // one path: the document names its input
  writeFileSync(path, bytes);
  const doc = await runWorkload(await traceWorkload(path, { hstDecoder }), { policy, every: 1000 });
  return JSON.stringify(doc);
}

describe('.hst version 3 hint', () => {
  it('the writer puts the true id bound and peak live blocks in the header; convert keeps them', async () => {
    expect(honest.readUInt16LE(8)).toBe(3);
    expect(truth.peakLiveBlocks).toBeGreaterThan(LIVE_TARGET / 2);
    expect(hstHint(honest)).toEqual({ ...truth, events: EVENTS });
    // .hst -> .hst: the same bytes, hint included.
    const again = join(tmp.dir, 'again.hst');
    await convertTrace(join(tmp.dir, 'synthetic.hst'), again);
    expect(readFileSync(again).equals(honest)).toBe(true);
    expect(Number(honest.readBigUInt64LE(HST_EVENT_COUNT_OFFSET))).toBe(EVENTS);
    // What `heapsim run` hands the engine (src/run/run.ts sizes the tables with it).
    expect((await traceWorkload(again)).sizeHint).toEqual(truth);
  });

  it('sizes the engine tables before the first op, within a bound for an absurd hint', async () => {
    const recordBytes = 32; // first-fit's block record (assembly/policies/first-fit/first-fit.ts REC_BYTES)
    const tableBytes = async (hint?: { idBound: number; peakLiveBlocks: number }): Promise<{ ff: number; ids: number }> => {
      const e = await createEngine({ arch: 'x64' });
      if (hint) e.reserve(hint);
      e.createHeap('first-fit');
      const t = e.engineTableBytes();
      return { ff: t.policies['first-fit']!.tableBytes, ids: t.ids };
    };
    const none = await tableBytes();
    const sized = await tableBytes(truth);
    // Two records per live block (busy, and a free block or range beside it), one id entry (8 bytes) per id.
    expect(sized.ff).toBeGreaterThanOrEqual(2 * truth.peakLiveBlocks * recordBytes);
    expect(none.ff).toBeLessThan(sized.ff);
    expect(sized.ids - none.ids).toBeGreaterThanOrEqual(truth.idBound * 8);
    const absurd = await tableBytes({ idBound: Number(U64_MAX), peakLiveBlocks: Number(U64_MAX) });
    const capBlocks = 1 << 22; // assembly/kit/hint.ts HINT_MAX_LIVE_BLOCKS
    expect(absurd.ff).toBeLessThanOrEqual(2 * capBlocks * recordBytes + none.ff);
    const junk = await tableBytes({ idBound: NaN, peakLiveBlocks: -5 });
    expect(junk).toEqual(none);
  });

  it('every policy whose records follow the blocks sizes its pools from the hint', async () => {
    for (const policy of HINTED_POLICIES) {
      const bytes = async (hint?: { idBound: number; peakLiveBlocks: number }): Promise<number> => {
        const e = await createEngine({ arch: 'x64' });
        if (hint) e.reserve(hint);
        e.createHeap(policy);
        // best-fit and next-fit share one record pool (assembly/policies/textbook/fit.ts), counted under best-fit.
        return e.engineTableBytes().policies[policy === 'next-fit' ? 'best-fit' : policy]!.tableBytes;
      };
      // At least one record (8 bytes or more) per live block, more than an empty heap holds.
      const hint = { idBound: 100_000, peakLiveBlocks: 100_000 };
      const sized = await bytes(hint);
      expect(sized, policy).toBeGreaterThanOrEqual(hint.peakLiveBlocks * 8);
      expect(sized, policy).toBeGreaterThan(await bytes());
    }
  });

  it('a hint that lies, or none, gives the same documents as the true one (both decoders)', async () => {
    const variants: [string, Buffer][] = [
      ['no hint (0)', withHint(0n, 0n)],
      ['too low', withHint(BigInt(truth.idBound >> 1), 1n)],
      ['four times', withHint(BigInt(truth.idBound * 4), BigInt(truth.peakLiveBlocks * 4))],
      ['absurd', withHint(U64_MAX, U64_MAX)],
      ['version 2', asVersion2()],
    ];
    // The JavaScript reader has no tables to size: the engine's are what differ there.
    const runs: [string, 'wasm' | 'js', string[]][] = [
      ['first-fit', 'wasm', []], ['nt', 'wasm', []], ['first-fit', 'js', ['no hint (0)', 'four times', 'version 2']],
      // The other policies that size pools from the hint: the same document without one.
      ...HINTED_POLICIES.filter((p) => p !== 'first-fit' && p !== 'nt')
        .map((p): [string, 'wasm', string[]] => [p, 'wasm', ['too low', 'four times', 'absurd', 'version 2']]),
    ];
    for (const [policy, decoder, skip] of runs) {
      const expected = await documentOf(honest, policy, decoder);
      for (const [name, bytes] of variants) {
        if (skip.includes(name)) continue;
        expect(await documentOf(bytes, policy, decoder), `${policy}, ${decoder} decoder, hint ${name}`).toBe(expected);
      }
    }
  });
});
