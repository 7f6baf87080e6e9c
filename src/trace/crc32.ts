// CRC-32 (zlib's polynomial, as gzip and PNG use) over .hst records. Node's own `zlib.crc32`
// (Node >= 20.15) does the work; the readers also run in a browser worker, where node:zlib does not
// exist, so a table-driven version of the same function stands in there. No node: import at the top
// (see read.ts).

export type Crc32 = (data: Uint8Array, previous: number) => number;

const POLYNOMIAL = 0xedb88320; // reflected 0x04C11DB7
const TABLE_SIZE = 256;
const BITS_PER_BYTE = 8;

let table: Uint32Array | undefined;

function tableCrc32(data: Uint8Array, previous: number): number {
  if (table === undefined) {
    table = new Uint32Array(TABLE_SIZE);
    for (let n = 0; n < TABLE_SIZE; n++) {
      let c = n;
      for (let k = 0; k < BITS_PER_BYTE; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> BITS_PER_BYTE);
  return ~c >>> 0;
}

function nodeCrc32(): Crc32 | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.call(proc, 'zlib') as { crc32?: Crc32 } | undefined;
  return typeof zlib?.crc32 === 'function' ? zlib.crc32 : undefined;
}

/** crc32(data, previous): the CRC of everything so far followed by `data` (start with 0). */
export const crc32: Crc32 = nodeCrc32() ?? tableCrc32;

/** The fallback, exported so a test can hold it against node:zlib. */
export const crc32Portable: Crc32 = tableCrc32;
