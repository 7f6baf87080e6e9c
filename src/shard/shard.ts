// Runs past one machine: `--shard I/N` keeps the I-th of N slices of a plan (items whose position
// modulo N is I: deterministic, balanced, I counted from 0 like JOB_COMPLETION_INDEX), `--out
// FILE.jsonl` writes a slice's results, and readShards() puts slices back together for `heapsim
// merge`, checking they come from the same plan and cover it exactly once.
//
// A shard file is JSON Lines: first a header { format, command, plan, shard, size, head }, then one
// line per item { item, data } in plan order. `plan` is a fingerprint of everything that decides
// the results (inputs, settings, the plan's items), so slices of different sweeps never merge.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError, UsageError } from '../errors.js';
import { SafeOutput } from '../io/safe-output.js';

export const SHARD_FORMAT = 'heapsim-shard 1';

export interface Shard {
  index: number;
  count: number;
}

/** `--shard I/N`: 0 <= I < N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard wants I/N (slice I of N, counted from 0), got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError(`--shard ${text}: N must be at least 1`);
  if (!Number.isSafeInteger(index) || index >= count) throw new UsageError(`--shard ${text}: I must be 0..${count - 1}`);
  return { index, count };
}

/** The item at this plan position belongs to the shard (all do without one). */
export function inShard(position: number, shard: Shard | undefined): boolean {
  return !shard || position % shard.count === shard.index;
}

/** A fingerprint of what decides a plan's results. */
export function planFingerprint(plan: unknown): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 32);
}

export interface ShardHeader<H = unknown> {
  format: typeof SHARD_FORMAT;
  command: 'sweep' | 'advise';
  plan: string;
  shard: Shard;
  /** Items in the whole plan. */
  size: number;
  /** What the report needs beside the items (the same in every slice). */
  head: H;
}

/** Writes a slice (header, then items) through the safe-write helper. */
export async function writeShardFile<H, T>(path: string, header: ShardHeader<H>, items: readonly { item: number; data: T }[]): Promise<void> {
  const out = await SafeOutput.open(path);
  try {
    await out.write(JSON.stringify(header) + '\n');
    for (const it of items) await out.write(JSON.stringify(it) + '\n');
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
}

/** Writes a whole text file through the safe-write helper. */
export async function writeTextFile(path: string, text: string): Promise<void> {
  const out = await SafeOutput.open(path);
  try {
    await out.write(text);
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
}

export interface MergedShards<H, T> {
  command: ShardHeader['command'];
  head: H;
  /** Every item of the plan, in plan order. */
  items: T[];
}

/** Reads slices, checks they are of one plan and cover it exactly once, and returns the items in order. */
export function readShards<H, T>(paths: readonly string[]): MergedShards<H, T> {
  if (!paths.length) throw new UsageError('merge wants the shard files (FILE.jsonl ...) written by sweep/advise --out');
  let first: ShardHeader<H> | undefined;
  let firstPath = '';
  const items = new Map<number, { data: T; path: string }>();
  for (const path of paths) {
    let text: string;
    try { text = readFileSync(path, 'utf8'); } catch (err) { throw new InputError(`cannot read: ${(err as Error).message}`, path); }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const parse = (i: number): Record<string, unknown> => {
      try {
        const v = JSON.parse(lines[i]!) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        return v as Record<string, unknown>;
      } catch (err) {
        throw new InputError(`line ${i + 1}: not a shard record (${(err as Error).message})`, path);
      }
    };
    if (!lines.length) throw new InputError('empty file: not a shard written by --out', path);
    const header = parse(0) as unknown as ShardHeader<H>;
    if (header.format !== SHARD_FORMAT) throw new InputError(`line 1: not a heapsim shard file (format '${String(header.format)}', expected '${SHARD_FORMAT}')`, path);
    if (!first) { first = header; firstPath = path; } else {
      if (header.command !== first.command) throw new InputError(`a ${header.command} shard; ${firstPath} is a ${first.command} shard`, path);
      if (header.plan !== first.plan || header.size !== first.size || JSON.stringify(header.head) !== JSON.stringify(first.head)) {
        throw new InputError(`a slice of another plan than ${firstPath} (different inputs, settings or results of the shared part)`, path);
      }
    }
    for (let i = 1; i < lines.length; i++) {
      const rec = parse(i);
      const n = rec.item;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n >= first.size) throw new InputError(`line ${i + 1}: item ${String(n)} is not in the plan (0..${first.size - 1})`, path);
      if (!inShard(n, header.shard)) throw new InputError(`line ${i + 1}: item ${n} does not belong to shard ${header.shard.index}/${header.shard.count}`, path);
      const seen = items.get(n);
      if (seen) {
        if (JSON.stringify(seen.data) !== JSON.stringify(rec.data)) throw new InputError(`line ${i + 1}: item ${n} differs from the same item in ${seen.path}`, path);
        continue;
      }
      items.set(n, { data: rec.data as T, path });
    }
  }
  const missing: number[] = [];
  for (let n = 0; n < first!.size && missing.length < 10; n++) if (!items.has(n)) missing.push(n);
  if (missing.length) {
    const c = first!.shard.count;
    const shards = [...new Set(missing.map((n) => n % c))].map((s) => `${s}/${c}`);
    throw new UsageError(`the shards do not cover the plan: item(s) ${missing.join(', ')}${missing.length === 10 ? ', ...' : ''} missing (shard ${shards.join(', ')} not given?)`);
  }
  return { command: first!.command, head: first!.head, items: Array.from({ length: first!.size }, (_, n) => items.get(n)!.data) };
}
