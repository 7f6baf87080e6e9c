// Hand-built .hst files for damage tests: a version 2 header (or 3, with a hint; or 1), the given
// record bytes, END and the CRC-32 trailer, each part overridable. Independent of HstWriter, so a writer bug cannot hide a
// reader bug.
import { crc32 } from 'node:zlib';
import { HST_MAGIC, OP_END } from '../../src/trace/formats/hst.js';

/** Unsigned LEB128 of any value below 2^64 (bigint for the large ones). */
export function leb(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

export interface HstFileOptions {
  version?: number;
  flags?: number;
  source?: number;
  /** Bytes 13..15. */
  reserved?: [number, number, number];
  /** Event records in `records` (default 0); END and the header say this unless overridden. */
  events?: number;
  headerCount?: number;
  endCount?: number;
  /** Leave out the END record (and the trailer). */
  noEnd?: boolean;
  /** Trailer bytes instead of the right CRC (an empty array: no trailer). */
  trailer?: number[];
  /** Version 3: the hint's id bound and peak live blocks (default 0, 0: not known). */
  hint?: [number | bigint, number | bigint];
}

export function hstFile(records: number[], o: HstFileOptions = {}): Buffer {
  const version = o.version ?? 2;
  const events = o.events ?? 0;
  const header = Buffer.alloc(version === 1 ? 16 : version === 2 ? 24 : 40);
  HST_MAGIC.copy(header);
  header.writeUInt16LE(version, 8);
  header.writeUInt16LE(o.flags ?? 0, 10);
  header[12] = o.source ?? 1;
  const [r0, r1, r2] = o.reserved ?? [0, 0, 0];
  header[13] = r0; header[14] = r1; header[15] = r2;
  if (version !== 1) header.writeBigUInt64LE(BigInt(o.headerCount ?? events), 16);
  if (version >= 3) {
    header.writeBigUInt64LE(BigInt(o.hint?.[0] ?? 0), 24);
    header.writeBigUInt64LE(BigInt(o.hint?.[1] ?? 0), 32);
  }
  const body = Buffer.from([...records, ...(o.noEnd ? [] : [OP_END, ...leb(o.endCount ?? events)])]);
  if (version === 1 || o.noEnd) return Buffer.concat([header, body]);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(crc32(body), 0);
  return Buffer.concat([header, body, o.trailer !== undefined ? Buffer.from(o.trailer) : trailer]);
}
