// Error classes shared by every layer of the host. User mistakes are InputError (printed as one
// line, exit code 2, never a stack trace); engine traps are EngineTrapError.

import { shownPath } from './names.js';

/** Bad input from a user: a file, a line in it, or a command-line value. */
export class InputError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(message: string, file?: string, line?: number) {
    super(message);
    this.name = 'InputError';
    this.file = file;
    this.line = line;
  }
  /** `file:line: message`, or just the message when there is no file. */
  describe(): string {
    if (this.file === undefined) return this.message;
    const file = shownPath(this.file);
    return this.line === undefined ? `${file}: ${this.message}` : `${file}:${this.line}: ${this.message}`;
  }
}

/** Bad command-line usage (unknown option, policy, value). Exit code 2. */
export class UsageError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A WASM trap inside the engine. The engine instance that raised it is unusable afterwards. */
export class EngineTrapError extends Error {
  readonly batch: number;
  readonly op: number;
  constructor(message: string, batch: number, op: number, options?: { cause?: unknown }) {
    super(`engine trap in batch ${batch}, op ${op}: ${message}`, options);
    this.name = 'EngineTrapError';
    this.batch = batch;
    this.op = op;
  }
}

/** An engine call rejected with a status code (misuse of the typed API, not a trap). */
export class EngineStatusError extends Error {
  readonly status: number;
  readonly statusName: string;
  constructor(what: string, status: number, statusName: string) {
    super(`${what}: ${statusName}`);
    this.name = 'EngineStatusError';
    this.status = status;
    this.statusName = statusName;
  }
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'name too long',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EXDEV: 'cross-device rename',
  EMFILE: 'too many open files',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EBUSY: 'device or resource busy',
};

/** The errno code of a Node file-system error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** `no space left on the device (ENOSPC)`: an errno error in words, for a one-line message. */
export function describeErrno(err: unknown): string {
  const code = errnoCode(err);
  if (code !== undefined) return Object.hasOwn(ERRNO_TEXT, code) ? `${ERRNO_TEXT[code]} (${code})` : code;
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

/** What a non-regular file is, from fs.Stats (lstat for symbolic links), for a refusal message. */
export function fileKind(stats: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isSymbolicLink(): boolean }): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}
