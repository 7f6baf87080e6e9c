// .hst integrity (versions 2 and 3, by the same rules): the header's event count, the CRC-32
// trailer, canonical varints, reserved and unknown header bytes. Each damage is an error naming file and byte offset, or with
// --lenient a counted note; never a quietly different replay. Files are built by hand (hst-bytes.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { convertTrace } from '../../src/trace/convert.js';
import {
  HST_EVENT_COUNT_OFFSET, HST_HEADER_BYTES, HST_HINT_ID_BOUND_OFFSET, HST_HINT_PEAK_LIVE_OFFSET, HST_V2_HEADER_BYTES, OP_ALIGNED, OP_ALLOC, OP_FREE, OP_REALLOC, OP_TICK,
} from '../../src/trace/formats/hst.js';
import { MAX_REQUEST_BYTES } from '../../src/trace/ledger.js';
import { eventLines, fixture, tempDir } from './helpers.js';
import { hstFile, hstFile as hstFileOf, leb, type HstFileOptions } from './hst-bytes.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
function write(bytes: Buffer): string {
  const path = join(tmp.dir, `f${n++}.hst`);
  writeFileSync(path, bytes);
  return path;
}
async function failure(path: string, lenient = false): Promise<InputError> {
  const err = await eventLines(path, { lenient }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).file).toBe(path);
  return err as InputError;
}

/** alloc id 0 of 16 bytes, free it: two events. */
const ALLOC_FREE = [OP_ALLOC, 0, 16, OP_FREE, 0];

describe('.hst version 3 as written', () => {
  it('carries the event count and the hint in the header and the CRC-32 of the records in a trailer', async () => {
    const out = join(tmp.dir, 'basic.hst');
    const r = await convertTrace(fixture('basic.mtrace'), out);
    const bytes = readFileSync(out);
    expect(bytes.readUInt16LE(8)).toBe(3);
    expect(Number(bytes.readBigUInt64LE(HST_EVENT_COUNT_OFFSET))).toBe(r.stats.events);
    // basic.mtrace: ids 0..2; at the end 3 blocks are live (the 0x100 one, the 0-byte one, the last).
    expect(Number(bytes.readBigUInt64LE(HST_HINT_ID_BOUND_OFFSET))).toBe(3);
    expect(Number(bytes.readBigUInt64LE(HST_HINT_PEAK_LIVE_OFFSET))).toBe(3);
    expect(r.stats.leaks?.blocks).toBe(3);
    const { crc32 } = await import('node:zlib');
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(crc32(bytes.subarray(HST_HEADER_BYTES, bytes.length - 4)));
  });

  it('reads a hand-built file, with or without a hint', async () => {
    for (const o of [{ events: 2 }, { events: 2, version: 3 }, { events: 2, version: 3, hint: [1, 1] as [number, number] }]) {
      const { lines, ledger } = await eventLines(write(hstFile(ALLOC_FREE, o)));
      expect(lines).toEqual(['a 0 16', 'f 0']);
      expect(ledger.warnings).toEqual([]);
    }
  });
});

for (const version of [2, 3]) describe(`.hst version ${version} damage is an error, or counted under --lenient`, () => {
  const header = version === 2 ? HST_V2_HEADER_BYTES : HST_HEADER_BYTES;
  const hstFile = (records: number[], o: HstFileOptions = {}): Buffer => hstFileOf(records, { version, ...o });
  it('checksum: one changed record byte', async () => {
    const good = hstFile(ALLOC_FREE, { events: 2 });
    const bad = Buffer.from(good);
    bad[header + 2] = 17; // size 16 -> 17: still a valid record
    const path = write(bad);
    expect((await failure(path)).message).toMatch(new RegExp(`checksum mismatch: the records give CRC-32 0x[0-9a-f]+, the trailer says 0x[0-9a-f]+ at byte offset ${header + 7}(?!\\d)`));
    const { lines, ledger } = await eventLines(path, { lenient: true });
    expect(lines).toEqual(['a 0 17', 'f 0']);
    expect(ledger.warnings).toEqual(['checksum mismatch (--lenient): the file is damaged']);
  });

  it('the header event count disagrees with the file', async () => {
    const path = write(hstFile(ALLOC_FREE, { events: 2, headerCount: 3 }));
    expect((await failure(path)).message).toMatch(/the header declares 3 events, the file holds 2 at byte offset 16/);
    expect((await eventLines(path, { lenient: true })).ledger.warnings).toEqual(['the header declares 3 events, the file holds 2 (--lenient)']);
  });

  it('a non-canonical varint (a zero byte ending a longer encoding)', async () => {
    const path = write(hstFile([OP_ALLOC, 0x80, 0x00, 16, OP_FREE, 0], { events: 2 }));
    expect((await failure(path)).message).toMatch(new RegExp(`non-canonical varint \\(a longer encoding than needed\\) at byte offset ${header}(?!\\d)`));
    const { lines, ledger } = await eventLines(path, { lenient: true });
    expect(lines).toEqual(['a 0 16', 'f 0']);
    expect(ledger.warnings).toEqual(['1 non-canonical varints read (--lenient)']);
  });

  it('a reserved header byte set', async () => {
    const path = write(hstFile(ALLOC_FREE, { events: 2, reserved: [0, 7, 0] }));
    expect((await failure(path)).message).toMatch(/reserved header byte 14 is 0x7, not 0 at byte offset 14/);
    expect((await eventLines(path, { lenient: true })).ledger.warnings).toEqual(['reserved header byte 14 set (--lenient)']);
  });

  it('an unknown source format byte', async () => {
    const path = write(hstFile(ALLOC_FREE, { events: 2, source: 42 }));
    expect((await failure(path)).message).toMatch(/unknown source format byte 42 at byte offset 12/);
    expect((await eventLines(path, { lenient: true })).ledger.warnings).toEqual(['unknown source format byte 42 read as unknown (--lenient)']);
  });

  it('a missing or cut trailer, and bytes after it', async () => {
    expect((await failure(write(hstFile(ALLOC_FREE, { events: 2, trailer: [] })))).message).toMatch(/checksum trailer is missing or cut off/);
    expect((await failure(write(hstFile(ALLOC_FREE, { events: 2, trailer: [1, 2] })))).message).toMatch(/checksum trailer is missing or cut off/);
    const good = hstFile(ALLOC_FREE, { events: 2 });
    expect((await failure(write(Buffer.concat([good, Buffer.from([0])])))).message).toMatch(new RegExp(`data after the trailer at byte offset ${good.length}`));
  });

  it('a file cut in the middle of a record; --lenient replays the events before it', async () => {
    const whole = hstFile([OP_ALLOC, 0, 16, OP_ALLOC, 1, 0xc0, 0x84, 0x3d], { events: 2 });
    const cut = write(whole.subarray(0, header + 5)); // inside the second alloc's size
    expect((await failure(cut)).message).toMatch(new RegExp(`truncated .hst record at byte offset ${header + 3}(?!\\d)`));
    const { lines, ledger } = await eventLines(cut, { lenient: true });
    expect(lines).toEqual(['a 0 16']);
    expect(ledger.warnings).toEqual(['truncated .hst file: no END record (1 events read of 2 declared); replayed what is there (--lenient)']);
  });
});

describe('.hst values: exact or refused', () => {
  it('a varint of 2^64 or more is an error', async () => {
    const path = write(hstFile([OP_ALLOC, 0, ...leb(2n ** 64n)], { events: 1 }));
    expect((await failure(path)).message).toMatch(/varint does not fit 64 bits at byte offset 24/);
  });

  it('a size of 2^53 or more (and anything above the largest address space) is a failed allocation, counted', async () => {
    const path = write(hstFile([
      OP_ALLOC, 0, ...leb(2n ** 64n - 1n),
      OP_ALLOC, 1, ...leb(2n ** 53n + 1n),
      OP_ALLOC, 2, ...leb(MAX_REQUEST_BYTES + 1),
      OP_ALLOC, 3, ...leb(MAX_REQUEST_BYTES),
    ], { events: 4 }));
    const { lines, ledger } = await eventLines(path);
    expect(lines).toEqual(['x failed-alloc', 'x failed-alloc', 'x failed-alloc', `a 3 ${MAX_REQUEST_BYTES}`]);
    expect(ledger.input.oversizeRequests).toBe(3);
    expect(ledger.peakLiveBytes).toBe(MAX_REQUEST_BYTES);
  });

  it('ticks and thread ids of 2^53 or more, an alignment that is not a power of two, a realloc to 0 bytes are errors', async () => {
    expect((await failure(write(hstFile([OP_TICK, ...leb(2n ** 53n)])))).message).toMatch(/tick delta above 2\^53-1/);
    expect((await failure(write(hstFile([OP_ALIGNED, 0, 16, 24], { events: 1 })))).message).toMatch(/alignment 24 is not a power of two/);
    expect((await failure(write(hstFile([OP_ALLOC, 0, 16, OP_REALLOC, 0, 0], { events: 2 })))).message).toMatch(/realloc to 0 bytes/);
  });

  it('a block id of 2^53 or more cannot be allocated; its free is unmatched', async () => {
    expect((await failure(write(hstFile([OP_ALLOC, ...leb(2n ** 60n), 16], { events: 1 })))).message).toMatch(/block id 2\^53 or more is larger than 134217727/);
    const { lines } = await eventLines(write(hstFile([OP_FREE, ...leb(2n ** 60n)], { events: 1 })));
    expect(lines).toEqual(['x unmatched-free']);
  });
});

describe('.hst versions', () => {
  it('a version above 3 is refused', async () => {
    expect((await failure(write(hstFile(ALLOC_FREE, { version: 4, events: 2 })))).message).toMatch(/unsupported .hst version 4 \(this heapsim reads 1 to 3\) at byte offset 8/);
  });
});

describe('.hst version 1', () => {
  it('still reads, with a note that it has no checksum', async () => {
    const { lines, ledger } = await eventLines(write(hstFile(ALLOC_FREE, { version: 1, events: 2 })));
    expect(lines).toEqual(['a 0 16', 'f 0']);
    expect(ledger.warnings).toEqual(['.hst version 1: no checksum, so damage cannot be detected; convert the file again to add one']);
  });
});
