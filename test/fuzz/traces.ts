// Structure-aware trace generators for the fuzz suite. A generated trace is a *script* of calls on
// a model heap (which knows every block it handed out), rendered into any format heapsim reads;
// the model counts the events independently of heapsim's readers, so the oracle can check that a
// reader saw exactly what was written. Byte-level mutations of rendered traces come on top.
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import type { FormatName } from '../../src/trace/events.js';

/** One allocator call of the model program. `slot` picks a live block (modulo the live count). */
export type Call =
  | { k: 'malloc'; size: bigint }
  | { k: 'calloc'; count: bigint; size: bigint }
  | { k: 'memalign'; align: bigint; size: bigint }
  | { k: 'realloc'; slot: number; size: bigint }
  | { k: 'free'; slot: number }
  | { k: 'free-unknown' }
  | { k: 'free-null' }
  | { k: 'failed' }
  | { k: 'mark'; label: string }
  | { k: 'tick'; delta: number };

/** Sizes at every scale, edges included: 0, small, page-ish, 2^32, 2^47, 2^53 ± 1, 2^64 - 1. */
export const sizeArb: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 0n, max: 4096n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 1n << 40n }) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 1n, (1n << 32n) - 1n, 1n << 32n, 1n << 47n, (1n << 47n) + 1n,
    (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 64n) - 1n) },
);

export const callArb: fc.Arbitrary<Call> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('malloc' as const), size: sizeArb }) },
  // count × size stays below 2^64, so every format can print the total (mtrace prints it).
  { weight: 2, arbitrary: fc.record({ k: fc.constant('calloc' as const), count: fc.bigInt({ min: 0n, max: 1n << 33n }), size: fc.bigInt({ min: 0n, max: 1n << 30n }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('memalign' as const), align: fc.constantFrom(8n, 16n, 64n, 4096n, 1n << 20n), size: sizeArb }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('realloc' as const), slot: fc.nat(), size: sizeArb }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('free' as const), slot: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'free-unknown' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'free-null' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'failed' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('mark' as const), label: fc.string({ maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('tick' as const), delta: fc.nat({ max: 1_000_000 }) }) },
);

/** What the model expects a reader to report for a script. */
export interface Expected {
  /** Allocator calls (events). */
  events: number;
  /** Calls whose size no architecture can serve (counted as failed allocations). */
  oversize: number;
  peakLiveBytes: number;
  /** Blocks and bytes still live at the end (the never-freed leak candidates). */
  endLiveBlocks: number;
  endLiveBytes: number;
}

const MAX_REQUEST_BYTES = 1n << 47n;
const U64 = 1n << 64n;

/** A block of the model program: the address it got and its size. */
interface Block { address: bigint; size: bigint }

/**
 * Runs a script against the model: which calls are events, which live block each call names.
 * Returns the calls resolved to concrete addresses, ready to render.
 */
export interface Resolved {
  calls: Array<{ call: Call; address: bigint; old?: Block; block?: Block }>;
  expected: Expected;
}

export function resolve(script: Call[]): Resolved {
  const live: Block[] = [];
  let nextAddress = 0x10000n;
  let liveBytes = 0n;
  const out: Resolved['calls'] = [];
  let events = 0, oversize = 0;
  let peak = 0n;
  const notePeak = (): void => { if (liveBytes > peak) peak = liveBytes; };
  const fits = (size: bigint): boolean => size <= MAX_REQUEST_BYTES && liveBytes + size <= MAX_REQUEST_BYTES;
  for (const call of script) {
    switch (call.k) {
      case 'malloc': case 'calloc': case 'memalign': {
        events++;
        const size = call.k === 'calloc' ? call.count * call.size : call.size;
        const address = nextAddress;
        nextAddress += 0x40n + ((size < 0x10000n ? size : 0x10000n) & ~0xfn);
        if (size >= U64 || !fits(size) || (call.k === 'memalign' && call.align > MAX_REQUEST_BYTES)) {
          oversize++;
          out.push({ call, address });
          break;
        }
        const block = { address, size };
        live.push(block);
        liveBytes += size;
        notePeak();
        out.push({ call, address, block });
        break;
      }
      case 'realloc': case 'free': {
        events++;
        if (live.length === 0) { out.push({ call: { k: 'free-unknown' }, address: 0n }); break; }
        const i = call.slot % live.length;
        const old = live[i]!;
        if (call.k === 'free' || call.size === 0n) {
          live.splice(i, 1);
          liveBytes -= old.size;
          out.push({ call: { k: 'free', slot: i }, address: old.address, old });
          break;
        }
        if (!(call.size <= MAX_REQUEST_BYTES && liveBytes - old.size + call.size <= MAX_REQUEST_BYTES)) {
          oversize++;
          out.push({ call, address: old.address, old }); // a failed realloc: the old block stays
          break;
        }
        const address = nextAddress;
        nextAddress += 0x40n + ((call.size < 0x10000n ? call.size : 0x10000n) & ~0xfn);
        const block = { address, size: call.size };
        live[i] = block;
        liveBytes += call.size - old.size;
        notePeak();
        out.push({ call, address, old, block });
        break;
      }
      case 'free-unknown': case 'free-null': case 'failed':
        events++;
        out.push({ call, address: 0n });
        break;
      default:
        out.push({ call, address: 0n });
    }
  }
  return {
    calls: out,
    expected: { events, oversize, peakLiveBytes: Number(peak), endLiveBlocks: live.length, endLiveBytes: Number(liveBytes) },
  };
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;
/** Labels without line breaks (a label is the rest of its line in every text format). */
const oneLine = (s: string): string => s.replace(/[\r\n]/g, ' ');

/** Renders resolved calls in one of the text formats. Marks and ticks only where the format has them. */
export function render(format: Exclude<FormatName, 'hst'>, r: Resolved): string {
  const lines: string[] = [];
  const ids = new Map<bigint, number>(); // text format: explicit ids (dense, reused after free)
  const freeIds: number[] = [];
  let nextId = 0;
  const idOf = (address: bigint, create: boolean): number => {
    let id = ids.get(address);
    if (id === undefined && create) {
      id = freeIds.pop() ?? nextId++;
      ids.set(address, id);
    }
    return id ?? 134217727;
  };
  switch (format) {
    case 'text': lines.push('#heapsim-trace 1'); break;
    case 'mtrace': lines.push('= Start'); break;
    case 'rep': break;
    default: break;
  }
  let repUnknown = 1_000_000;
  // .rep names blocks by id and a realloc keeps the id: the id of the block at each address.
  const repIds = new Map<bigint, bigint>();
  const repId = (address: bigint): bigint => repIds.get(address) ?? address;
  for (const { call, address, old, block } of r.calls) {
    switch (format) {
      case 'text':
        switch (call.k) {
          case 'malloc': lines.push(`a ${idOf(address, true)} ${call.size}`); break;
          case 'calloc': lines.push(`c ${idOf(address, true)} ${call.count * call.size}`); break;
          case 'memalign': lines.push(`m ${idOf(address, true)} ${call.size} ${call.align}`); break;
          case 'realloc': {
            const id = idOf(old!.address, false);
            lines.push(`r ${id} ${call.size}`);
            if (block) { ids.delete(old!.address); ids.set(block.address, id); }
            break;
          }
          case 'free': { const id = idOf(old!.address, false); lines.push(`f ${id}`); ids.delete(old!.address); freeIds.push(id); break; }
          case 'free-unknown': lines.push('x unmatched-free'); break;
          case 'free-null': lines.push('x free-null'); break;
          case 'failed': lines.push('x failed-alloc'); break;
          case 'mark': lines.push(`mark ${oneLine(call.label)}`); break;
          case 'tick': lines.push(`tick ${call.delta}`); break;
        }
        // An oversize allocation's id never became live: forget it again.
        if ((call.k === 'malloc' || call.k === 'calloc' || call.k === 'memalign') && !block) {
          const id = ids.get(address)!;
          ids.delete(address);
          freeIds.push(id);
        }
        break;
      case 'mtrace': {
        const at = '@ ./prog:[0x401000] ';
        switch (call.k) {
          case 'malloc': case 'memalign': lines.push(`${at}+ ${hex(address)} ${hex(call.size)}`); break;
          case 'calloc': lines.push(`${at}+ ${hex(address)} ${hex(call.count * call.size)}`); break;
          case 'realloc': lines.push(`${at}< ${hex(old!.address)}`, `${at}> ${hex(block?.address ?? address)} ${hex(call.size)}`); break;
          case 'free': lines.push(`${at}- ${hex(old!.address)}`); break;
          case 'free-unknown': lines.push(`${at}- 0xdead0`); break;
          case 'free-null': lines.push(`${at}- (nil)`); break;
          case 'failed': lines.push(`${at}! 0x1234 0x10`); break;
          default: break;
        }
        break;
      }
      case 'ltrace':
        switch (call.k) {
          case 'malloc': lines.push(`prog->malloc(${call.size}) = ${hex(address)}`); break;
          case 'calloc': lines.push(`prog->calloc(${call.count}, ${call.size}) = ${hex(address)}`); break;
          case 'memalign': lines.push(`prog->memalign(${call.align}, ${call.size}) = ${hex(address)}`); break;
          case 'realloc': lines.push(`prog->realloc(${hex(old!.address)}, ${call.size}) = ${hex(block?.address ?? address)}`); break;
          case 'free': lines.push(`prog->free(${hex(old!.address)}) = <void>`); break;
          case 'free-unknown': lines.push('prog->free(0xdead0) = <void>'); break;
          case 'free-null': lines.push('prog->free(0) = <void>'); break;
          case 'failed': lines.push('prog->malloc(16) = 0'); break;
          default: break;
        }
        break;
      case 'logalloc':
        switch (call.k) {
          case 'malloc': lines.push(`7 7 malloc(${call.size})=${hex(address)}`); break;
          case 'calloc': lines.push(`7 7 calloc(${call.count},${call.size})=${hex(address)}`); break;
          case 'memalign': lines.push(`7 7 memalign(${call.align},${call.size})=${hex(address)}`); break;
          case 'realloc': lines.push(`7 7 realloc(${hex(old!.address)},${call.size})=${hex(block?.address ?? address)}`); break;
          case 'free': lines.push(`7 7 free(${hex(old!.address)})`); break;
          case 'free-unknown': lines.push('7 7 free(0xdead0)'); break;
          case 'free-null': lines.push('7 7 free(0x0)'); break;
          case 'failed': lines.push('7 7 malloc(16)=0x0'); break;
          case 'mark': lines.push('7 7 jemalloc_stats()'); break;
          default: break;
        }
        break;
      case 'rep':
        // .rep has alloc, realloc and free only; the rest becomes calls the model also counts.
        switch (call.k) {
          case 'malloc': case 'memalign': lines.push(`a ${address} ${call.size}`); break;
          case 'calloc': lines.push(`a ${address} ${call.count * call.size}`); break;
          case 'realloc': {
            const id = repId(old!.address);
            lines.push(`r ${id} ${call.size}`);
            if (block) { repIds.delete(old!.address); repIds.set(block.address, id); }
            break;
          }
          case 'free': lines.push(`f ${repId(old!.address)}`); repIds.delete(old!.address); break;
          case 'free-unknown': lines.push(`f ${repUnknown++}`); break;
          case 'free-null': lines.push(`f ${repUnknown++}`); break;
          case 'failed': lines.push(`f ${repUnknown++}`); break;
          default: break;
        }
        break;
    }
  }
  if (format === 'mtrace') lines.push('= End');
  return lines.join('\n') + '\n';
}

/** A generated trace case: the script, the format, gzip or not. */
export interface TraceCase {
  format: Exclude<FormatName, 'hst'>;
  gzip: boolean;
  script: Call[];
}

export const traceCaseArb: fc.Arbitrary<TraceCase> = fc.record({
  format: fc.constantFrom('text', 'mtrace', 'ltrace', 'logalloc', 'rep') as fc.Arbitrary<TraceCase['format']>,
  gzip: fc.boolean(),
  script: fc.array(callArb, { maxLength: 60 }),
});

export function traceBytes(c: { format: TraceCase['format']; gzip: boolean; text: string }): Buffer {
  const raw = Buffer.from(c.text, 'utf8');
  return c.gzip ? gzipSync(raw) : raw;
}

// ---------------------------------------------------------------- byte mutations

/** Tokens that have broken readers before, or might: huge numbers, NUL spellings, odd spaces. */
const NASTY_TOKENS = [
  '18446744073709551615', '18446744073709551616', '9007199254740993', '9'.repeat(400), '0x' + 'f'.repeat(17),
  '0x' + '0'.repeat(300) + '1', '(nil)', '-1', '1e9', 'NaN', 'Infinity', ' '.repeat(5000), '\t', '\r', '\0',
  '\u00ff', '\ufeff', '= Start', '<', '>', '@', '#heapsim-trace 1', 'constructor', '__proto__', ')', '(', ',',
  '<unfinished ...>', '<... malloc resumed>', '<no return ...>', '+++ exited (status 0) +++',
];

export type Mutation =
  | { m: 'flip'; at: number; bit: number }
  | { m: 'delete'; at: number; len: number }
  | { m: 'insert'; at: number; token: number }
  | { m: 'duplicate'; at: number; len: number }
  | { m: 'truncate'; at: number }
  | { m: 'byte'; at: number; value: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ m: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ m: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ m: fc.constant('insert' as const), at: fc.nat(), token: fc.nat({ max: NASTY_TOKENS.length - 1 }) }),
  fc.record({ m: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ m: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ m: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
);

/** .hst header layout (src/trace/formats/hst.ts): version at 8; version 2 ends at 24, 3 at 40 (the hint). */
const HST_VERSION_OFFSET = 8;
const HST_V2_HEADER_BYTES = 24;
const HST_V3_HEADER_BYTES = 40;
export const HST_HINT_OFFSET = 24;

/** A version 3 .hst as version 2: the same records and trailer (the checksum covers records only), no hint. */
export function hstAsVersion2(v3: Buffer): Buffer {
  const header = Buffer.from(v3.subarray(0, HST_V2_HEADER_BYTES));
  header.writeUInt16LE(2, HST_VERSION_OFFSET);
  return Buffer.concat([header, v3.subarray(HST_V3_HEADER_BYTES)]);
}

/** Applies mutations in order; positions are taken modulo the current length. */
export function mutate(bytes: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const mu of mutations) {
    const n = b.length;
    const at = n === 0 ? 0 : mu.at % (n + 1);
    switch (mu.m) {
      case 'flip': if (n > 0) b[at % n]! ^= 1 << mu.bit; break;
      case 'byte': if (n > 0) b[at % n] = mu.value; break;
      case 'delete': b = Buffer.concat([b.subarray(0, at), b.subarray(at + mu.len)]); break;
      case 'insert': b = Buffer.concat([b.subarray(0, at), Buffer.from(NASTY_TOKENS[mu.token]!, 'utf8'), b.subarray(at)]); break;
      case 'duplicate': b = Buffer.concat([b.subarray(0, at + mu.len), b.subarray(at)]); break;
      case 'truncate': b = b.subarray(0, at); break;
    }
  }
  return b;
}
