// What every block reader receives and returns, and the shapes of what it reads.
import type { SizeAndCount, TypeName, UsageName } from '../report/types.js';

export interface BlockContext {
  /** File name as the user gave it, for messages. */
  file: string;
  /** Records a consistency warning (numbers that disagree, lines where the debugger prints none). */
  warn(line: number, message: string): void;
  /** Records a damaged line that was skipped (the rest of the block is still read). */
  skip(line: number, message: string): void;
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
  /** Heap address of the row above, as printed. */
  heap: string;
  kind: 'external' | 'virtualAddress' | 'lockContention';
  /** Percentage for the fragmentation lines. */
  pct?: number;
  /** Free blocks, uncommitted ranges, or the contention count. */
  count: number;
}

/**
 * What `!address -summary` (or a region listing, summed) shows. Unlike the report's AddressSummary
 * every section may be missing: a pasted summary often lacks one, and a listing has no percentages.
 */
export interface DumpAddress {
  /** Where the numbers come from: the old or new summary layout, or an `!address` region listing. */
  form: 'old' | 'new' | 'listing';
  /** Everything the debugger scanned (Tot: line, or the sum of a complete section). */
  totalBytes?: number;
  /** Total minus free. */
  busyBytes?: number;
  /** The State section; undefined when the paste has none. */
  state?: { commit: SizeAndCount; reserve: SizeAndCount; free: SizeAndCount };
  /** The Type section by canonical name; undefined when the paste has none. */
  type?: Record<TypeName, SizeAndCount>;
  /** The Usage section by canonical slot (WOW64 32- and 64-bit rows added together). */
  usage: Partial<Record<UsageName | 'free', SizeAndCount>>;
  /** Usage rows under the debugger's own names, in printed order. */
  usageByName?: Record<string, SizeAndCount>;
  /** New format Protect Summary rows. */
  protect?: Record<string, SizeAndCount>;
  largestFree?: { base: number; bytes: number };
  /** New format Largest Region by Usage. */
  largestByUsage?: Record<string, { base: number; bytes: number }>;
}

/** `!heap -stat -h <heap>`: the busy blocks of one heap grouped by size. */
export interface HeapSizeStats {
  line: number;
  /** Heap address (undefined when the output does not name it). */
  heap?: number;
  heapText?: string;
  /** `group-by:` as printed (TOTSIZE, BLOCKCOUNT, SIZE). */
  groupBy?: string;
  rows: Array<{ sizeBytes: number; blocks: number; totalBytes: number; pct?: number }>;
}

/** An `!address` region listing summed by usage, state and type. */
export interface RegionSums {
  line: number;
  count: number;
  byUsage: Record<string, SizeAndCount>;
  byState: Record<string, SizeAndCount>;
  byType: Record<string, SizeAndCount>;
  /** Highest end address seen (the listing's extent when it is complete). */
  endAddress: number;
}

/** One region as `!address <address>` describes it. */
export interface RegionLookup {
  line: number;
  usage: string;
  base: number;
  bytes: number;
  state?: string;
  type?: string;
  protect?: string;
}
