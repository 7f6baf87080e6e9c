// What every block parser receives: where it is reading from, and where to put warnings.
import { InputError } from '../errors.js';

export interface BlockContext {
  /** File name as the user gave it, for messages. */
  file: string;
  /** Records a consistency warning about a 1-based line of the file. */
  warn(line: number, message: string): void;
}

/** A block parser's result: the value and the index of the first line it did not consume. */
export interface BlockResult<T> {
  value: T;
  end: number;
  /** 1-based line number where the block starts. */
  firstLine: number;
}

export function fail(ctx: BlockContext, line: number, message: string): never {
  throw new InputError(message, ctx.file, line);
}

/** Bytes as `N KB` when they are whole kilobytes, else as a byte count, for messages. */
export function describeBytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${bytes} bytes`;
}

/** One `!address -summary` row exactly as printed (sizes converted to bytes). */
export interface PrintedAddressRow {
  line: number;
  section: 'Usage' | 'Type' | 'State' | 'Protect' | 'Largest';
  /** The debugger's name, after repairing a lost label. */
  name: string;
  bytes: number;
  /** Old format: the KB column. */
  kb?: number;
  /** New format: RgnCount (undefined when printed as '-'). */
  regions?: number;
  /** New format: the human size as printed, e.g. `968.461 Mb`. */
  human?: string;
  /** Old Pct(Tots) / new %ofTotal, as printed without '%' (`05.63`). */
  pctOfTotal?: string;
  /** Old Pct(Busy) / new %ofBusy, as printed without '%'. */
  pctOfBusy?: string;
  /** Largest Region by Usage: base address. */
  base?: number;
}

/** A line printed under a `!heap -s` row. */
export interface PrintedHeapLine {
  line: number;
  /** Heap address of the row above, as hex. */
  heap: string;
  kind: 'external' | 'virtualAddress' | 'lockContention';
  /** Percentage for the fragmentation lines. */
  pct?: number;
  /** Free blocks, uncommitted ranges, or the contention count. */
  count: number;
}
