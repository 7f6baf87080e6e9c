// Every file heapsim writes goes through here, so that no command ever leaves a half-written file,
// clobbers a device or follows a symlink somewhere unexpected:
//   - the target must be absent or a regular file (a device, FIFO, directory or symlink is refused);
//   - bytes go to a temporary file beside the target (same directory, so same file system), created
//     exclusively; it gets the target's name only after its data is flushed to disk and closed;
//   - a write error (ENOSPC, EIO, EFBIG…) becomes an OutputError: one line, exit code 1;
//   - temporary files still open when the process is interrupted (Ctrl-C, SIGTERM, a closed pipe)
//     are removed by removeTemporaryFiles(), which the command-line entry point calls.
// Node only (node:fs); the browser build never imports it.
import { constants as fsConstants, createReadStream, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { InputError, describeErrno, fileKind } from '../errors.js';
import { shownPath } from '../names.js';

/** A write to an output file failed (disk full, I/O error, file too large). Exit code 1. */
export class OutputError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot write ${shownPath(path)}: ${describeErrno(cause)}`, { cause });
    this.name = 'OutputError';
    this.path = path;
    this.code = code;
  }
}

/** Temporary files not yet renamed or removed; removed synchronously on interruption. */
const temporaryFiles = new Set<string>();

/** Temporary names whose `NAME.<anything>` siblings are temporary too (a recorded program's children). */
const temporaryPrefixes = new Set<string>();

/** Removes every temporary file still pending (synchronous: safe in a signal or exit handler). */
export function removeTemporaryFiles(): void {
  for (const path of temporaryFiles) unlinkQuietly(path);
  temporaryFiles.clear();
  for (const prefix of temporaryPrefixes) {
    for (const path of siblingsOf(prefix)) unlinkQuietly(path);
  }
  temporaryPrefixes.clear();
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** The files `PREFIX.<anything>` in PREFIX's directory. */
export function siblingsOf(prefix: string): string[] {
  const dir = dirname(prefix);
  const start = basename(prefix) + '.';
  try {
    return readdirSync(dir).filter((f) => f.startsWith(start)).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** Tracks `path` and every `path.<anything>` for removal on interruption. */
export function trackTemporaryPrefix(path: string): void {
  temporaryFiles.add(path);
  temporaryPrefixes.add(path);
}
export function untrackTemporaryPrefix(path: string): void {
  temporaryFiles.delete(path);
  temporaryPrefixes.delete(path);
}

/** Registers extra temporary paths (e.g. files a recorded program writes) for removal on interruption. */
export function trackTemporaryFile(path: string): void {
  temporaryFiles.add(path);
}
export function untrackTemporaryFile(path: string): void {
  temporaryFiles.delete(path);
}

let temporarySerial = 0;

/** A temporary name beside `target` (same directory), unique to this process. */
export function temporaryNameFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.heapsim-${process.pid}-${temporarySerial++}.tmp`);
}

/**
 * Refuses a target that exists and is not a regular file (a device, FIFO, directory, socket or
 * symbolic link): writing there could block, clobber a device node or land somewhere unexpected.
 */
export async function checkOutputTarget(target: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // a new file
    throw new InputError(`cannot write here: ${describeErrno(err)}`, target);
  }
  if (!stats.isFile()) {
    throw new InputError(`refusing to write: it is ${fileKind(stats)}; heapsim writes only regular files (give a new or regular file name)`, target);
  }
}

/** Synchronous twin of checkOutputTarget, for callers that cannot await. */
export function checkOutputTargetSync(target: string): void {
  let stats;
  try {
    stats = lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InputError(`cannot write here: ${describeErrno(err)}`, target);
  }
  if (!stats.isFile()) {
    throw new InputError(`refusing to write: it is ${fileKind(stats)}; heapsim writes only regular files (give a new or regular file name)`, target);
  }
}

/** Creates `path` exclusively (O_EXCL: never reuses or follows anything already there) and tracks it. */
async function createExclusive(path: string, target: string): Promise<FileHandle> {
  try {
    const fh = await open(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o666);
    temporaryFiles.add(path);
    return fh;
  } catch (err) {
    throw new InputError(`cannot write here: ${describeErrno(err)}`, target);
  }
}

export interface SafeOutputOptions {
  /** Compress with gzip when the file is committed. */
  gzip?: boolean;
}

/** A file being written under a temporary name; `commit()` gives it its real name. */
export class SafeOutput {
  private fh: FileHandle | undefined;
  private position = 0;
  private done = false;
  /** The compressed copy, while commit() makes it. */
  private compressed: string | undefined;

  private constructor(readonly target: string, readonly temporary: string, fh: FileHandle, private readonly gzip: boolean) {
    this.fh = fh;
  }

  /** Checks the target and creates the temporary file beside it. */
  static async open(target: string, options: SafeOutputOptions = {}): Promise<SafeOutput> {
    await checkOutputTarget(target);
    const temporary = temporaryNameFor(target);
    const fh = await createExclusive(temporary, target);
    return new SafeOutput(target, temporary, fh, options.gzip === true);
  }

  /** Appends bytes (strings as UTF-8). */
  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.length === 0) return;
    const fh = this.handle();
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off, this.position);
        off += bytesWritten;
        this.position += bytesWritten;
      }
    } catch (err) {
      throw new OutputError(this.target, err);
    }
  }

  /** Overwrites bytes already written at `offset` (an event count in a header, say). */
  async patch(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset + bytes.length > this.position) throw new RangeError('patch beyond the bytes written');
    try {
      await this.handle().write(bytes, 0, bytes.length, offset);
    } catch (err) {
      throw new OutputError(this.target, err);
    }
  }

  private handle(): FileHandle {
    if (this.fh === undefined) throw new Error('SafeOutput: already committed or aborted');
    return this.fh;
  }

  /** Flushes to disk, closes, compresses if asked, and renames onto the target. */
  async commit(): Promise<void> {
    const fh = this.handle();
    try {
      await fh.datasync();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw new OutputError(this.target, err); // EINVAL: no sync here
    } finally {
      this.fh = undefined;
    }
    try {
      await fh.close();
    } catch (err) {
      throw new OutputError(this.target, err);
    }
    let ready = this.temporary;
    if (this.gzip) {
      ready = temporaryNameFor(this.target);
      this.compressed = ready;
      const out = await createExclusive(ready, this.target);
      try {
        await pipeline(createReadStream(this.temporary), createGzip(), async (compressed: AsyncIterable<Buffer>) => {
          let at = 0;
          for await (const chunk of compressed) {
            for (let off = 0; off < chunk.length;) {
              const { bytesWritten } = await out.write(chunk, off, chunk.length - off, at);
              off += bytesWritten;
              at += bytesWritten;
            }
          }
        });
        await out.datasync().catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EINVAL') throw err; });
      } catch (err) {
        throw new OutputError(this.target, err);
      } finally {
        await out.close().catch(() => undefined);
      }
      await unlink(this.temporary).catch(() => undefined);
      temporaryFiles.delete(this.temporary);
    }
    try {
      await rename(ready, this.target);
    } catch (err) {
      throw new OutputError(this.target, err);
    }
    temporaryFiles.delete(ready);
    this.done = true;
  }

  /** Removes the temporary file(s); the target is left as it was. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.done) return;
    const fh = this.fh;
    this.fh = undefined;
    if (fh !== undefined) await fh.close().catch(() => undefined);
    for (const path of [this.temporary, this.compressed]) {
      if (path === undefined) continue;
      await unlink(path).catch(() => undefined);
      temporaryFiles.delete(path);
    }
  }
}
