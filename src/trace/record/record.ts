// `heapsim record -- command args...`: run a program with a preload library that records its
// allocator calls. Formats hst (default) and text: heapsim's own recorder (recorder-source.ts),
// every thread with its id, caller and time. Format mtrace: glibc's own malloc tracing, one
// thread, no times. Linux with glibc 2.34 or later and a C compiler; otherwise a clear error
// saying what is missing. Nothing is hard-coded: the compiler comes from $CC or PATH, the debug
// library (mtrace) from the directory of the libc this process runs on, else `ldconfig -p`, else
// the compiler.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import {
  OutputError, checkOutputTarget, siblingsOf, temporaryNameFor, trackTemporaryPrefix, untrackTemporaryPrefix,
} from '../../io/safe-output.js';
import { PRELOAD_SOURCE, RECORD_FILE_VARIABLE, RECORD_OWNER_VARIABLE } from './preload-source.js';
import { RECORDER_FORMAT_VARIABLE, RECORDER_PARENT_VARIABLE, RECORDER_SOURCE } from './recorder-source.js';

/** What `record` writes: heapsim's .hst or text (its own recorder, threads included), or glibc's mtrace. */
export type RecordFormat = 'hst' | 'text' | 'mtrace';
export const RECORD_FORMATS: readonly RecordFormat[] = ['hst', 'text', 'mtrace'];

/** The format a file name asks for when none is given: .mtrace → mtrace, .txt → text, anything else hst. */
export function recordFormatFor(outPath: string): RecordFormat {
  if (/\.mtrace$/i.test(outPath)) return 'mtrace';
  if (/\.txt$/i.test(outPath)) return 'text';
  return 'hst';
}

const DEBUG_LIBRARY = 'libc_malloc_debug.so.0';
const MIN_GLIBC = [2, 34] as const;
const COMPILERS = ['cc', 'gcc', 'clang'];
const LIBC_PATTERN = /\/libc\.so\.6$/;
const SIGNAL_EXIT_BASE = 128;

export interface RecordEnvironment {
  compiler: string;
  /** glibc's libc_malloc_debug.so.0 (mtrace format only). */
  debugLibrary?: string;
  glibcVersion: string;
}

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

function atLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const p = parts[i] ?? 0;
    if (p !== min[i]) return p > min[i]!;
  }
  return true;
}

function onPath(name: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

async function findDebugLibrary(compiler: string): Promise<string | undefined> {
  // 1. Beside the libc this very process has mapped.
  try {
    const maps = await readFile('/proc/self/maps', 'utf8');
    for (const line of maps.split('\n')) {
      const path = line.slice(line.indexOf('/'));
      if (line.includes('/') && LIBC_PATTERN.test(path)) {
        const candidate = join(dirname(path), DEBUG_LIBRARY);
        if (existsSync(candidate)) return candidate;
      }
    }
  } catch {
    // no /proc: try the other ways
  }
  // 2. The dynamic linker's cache.
  const ldconfig = onPath('ldconfig') ?? ['/sbin', '/usr/sbin'].map((d) => join(d, 'ldconfig')).find((p) => existsSync(p));
  if (ldconfig !== undefined) {
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8' });
    const m = new RegExp(`^\\s*${DEBUG_LIBRARY.replace(/\./g, '\\.')} .*=> (\\S+)$`, 'm').exec(r.stdout ?? '');
    if (m !== null && existsSync(m[1]!)) return m[1];
  }
  // 3. The compiler's library search path.
  const r = spawnSync(compiler, [`-print-file-name=${DEBUG_LIBRARY}`], { encoding: 'utf8' });
  const p = (r.stdout ?? '').trim();
  return p.startsWith('/') && existsSync(p) ? p : undefined;
}

/** Checks that recording can work here; throws an InputError saying what is missing. */
export async function recordEnvironment(format: RecordFormat = 'mtrace'): Promise<RecordEnvironment> {
  if (process.platform !== 'linux') {
    throw new InputError(`heapsim record needs Linux with glibc ${MIN_GLIBC.join('.')} or later (this is ${process.platform}); record elsewhere and copy the trace file here`);
  }
  const version = glibcVersion();
  if (version === undefined) {
    throw new InputError(`heapsim record needs glibc ${MIN_GLIBC.join('.')} or later; this system's C library is not glibc (musl?)`);
  }
  if (!atLeast(version, MIN_GLIBC)) {
    throw new InputError(`heapsim record needs glibc ${MIN_GLIBC.join('.')} or later (for ${DEBUG_LIBRARY}); this system has ${version}`);
  }
  const compiler = process.env.CC !== undefined && process.env.CC !== '' ? onPath(process.env.CC) : COMPILERS.map(onPath).find((c) => c !== undefined);
  if (compiler === undefined) {
    throw new InputError(`heapsim record needs a C compiler to build its small preload library (looked for ${process.env.CC ?? COMPILERS.join(', ')}); install one (e.g. apt-get install gcc) or set CC`);
  }
  if (format !== 'mtrace') return { compiler, glibcVersion: version };
  const debugLibrary = await findDebugLibrary(compiler);
  if (debugLibrary === undefined) {
    throw new InputError(`heapsim record needs glibc's ${DEBUG_LIBRARY}, which was not found (it ships with glibc ${MIN_GLIBC.join('.')}+; on Debian/Ubuntu in libc6)`);
  }
  return { compiler, debugLibrary, glibcVersion: version };
}

export interface RecordResult {
  /** The program's exit code (128 + signal number when a signal ended it). */
  exitCode: number;
  /** The trace of the first process. */
  mainFile: string;
  /** Traces of child processes, `FILE.<pid>`. */
  childFiles: string[];
  format: RecordFormat;
}

/** Builds the preload library in a fresh temporary directory; the caller removes the directory. */
async function buildPreload(env: RecordEnvironment, dir: string, format: RecordFormat): Promise<string> {
  const name = format === 'mtrace' ? 'heapsim-mtrace' : 'heapsim-recorder';
  const source = join(dir, `${name}.c`);
  const library = join(dir, `${name}.so`);
  await writeFile(source, format === 'mtrace' ? PRELOAD_SOURCE : RECORDER_SOURCE);
  const r = spawnSync(env.compiler, ['-shared', '-fPIC', '-O2', '-o', library, source], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new InputError(`could not build the preload library with ${env.compiler}: ${(r.stderr || r.error?.message || '').trim()}`);
  }
  return library;
}

export interface RecordOptions {
  outPath: string;
  command: string[];
  /** Default: from the file name (recordFormatFor). */
  format?: RecordFormat;
  /** Where the program's stdio goes (default: inherited). */
  stdio?: 'inherit' | 'ignore';
}

/** Flushes a finished trace file to disk and gives it its real name; returns that name. */
async function settle(temporary: string, target: string): Promise<string> {
  try {
    const fh = await open(temporary, 'r');
    try {
      await fh.datasync().catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EINVAL') throw err; });
    } finally {
      await fh.close();
    }
    await rename(temporary, target);
  } catch (err) {
    throw new OutputError(target, err);
  }
  return target;
}

export async function recordTrace(options: RecordOptions): Promise<RecordResult> {
  if (options.command.length === 0) throw new InputError('record needs a command to run after --');
  const format = options.format ?? recordFormatFor(options.outPath);
  if (/\.gz$/i.test(options.outPath)) throw new InputError(`record writes an uncompressed trace; name it without .gz (${options.outPath}) and compress it afterwards`);
  const env = await recordEnvironment(format);
  const outPath = resolve(options.outPath);
  await checkOutputTarget(outPath);
  const dir = await mkdtemp(join(tmpdir(), 'heapsim-record-'));
  // The program writes under a temporary name beside the target (children: TEMP.<pid>); the files
  // get their real names only once the program has exited, so an interrupted recording leaves the
  // target as it was and no partial file.
  const temporary = temporaryNameFor(outPath);
  trackTemporaryPrefix(temporary);
  try {
    const preload = await buildPreload(env, dir, format);
    const childEnv: NodeJS.ProcessEnv = { ...process.env };
    delete childEnv[RECORD_OWNER_VARIABLE];
    delete childEnv.MALLOC_TRACE;
    childEnv[RECORD_FILE_VARIABLE] = temporary;
    if (format === 'mtrace') {
      delete childEnv[RECORDER_FORMAT_VARIABLE];
      delete childEnv[RECORDER_PARENT_VARIABLE];
      childEnv.LD_PRELOAD = [env.debugLibrary, preload, childEnv.LD_PRELOAD].filter((x) => x !== undefined && x !== '').join(':');
    } else {
      // The process this recorder starts writes the file; its parent is this process.
      childEnv[RECORDER_FORMAT_VARIABLE] = format;
      childEnv[RECORDER_PARENT_VARIABLE] = String(process.pid);
      childEnv.LD_PRELOAD = [preload, childEnv.LD_PRELOAD].filter((x) => x !== undefined && x !== '').join(':');
    }
    const [program, ...args] = options.command;
    const exitCode = await new Promise<number>((resolveExit, reject) => {
      const child = spawn(program!, args, { env: childEnv, stdio: options.stdio ?? 'inherit' });
      child.on('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOENT' ? new InputError(`cannot run '${program}': not found`) : err);
      });
      child.on('exit', (code, signal) => {
        resolveExit(code ?? SIGNAL_EXIT_BASE + (signal !== null ? constants.signals[signal] ?? 0 : 0));
      });
    });
    if (!existsSync(temporary)) {
      throw new InputError(`the program ran (exit code ${exitCode}) but wrote no trace to ${outPath}; a statically linked or setuid program cannot be traced this way`);
    }
    const childFiles: string[] = [];
    for (const path of siblingsOf(temporary).sort()) {
      const pid = path.slice(temporary.length + 1);
      if (!/^\d+$/.test(pid)) continue;
      childFiles.push(await settle(path, `${outPath}.${pid}`));
    }
    await settle(temporary, outPath);
    return { exitCode, mainFile: outPath, childFiles, format };
  } finally {
    await rm(dir, { recursive: true, force: true });
    for (const path of [temporary, ...siblingsOf(temporary)]) await unlink(path).catch(() => undefined);
    untrackTemporaryPrefix(temporary);
  }
}
