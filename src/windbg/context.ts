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
