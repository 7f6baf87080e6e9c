// The installed command's start (issue 16, point 3). `heapsim` is src/cli/bin.ts bundled by
// esbuild into one CommonJS file, dist/cli/bundle.cjs (scripts/build-cli.mjs): a CommonJS entry
// skips Node's ES module loader, and the bundle's Node built-ins (zlib, crypto, child_process,
// worker_threads, ...) are required when the module that uses them is first evaluated instead of
// all at the start. The launcher (heapsim.cts) compiles the bundle with V8's code cache,
// dist/cli/bundle.cache, written by the build after one small `heapsim run`: the functions a run
// uses come from the cache instead of being parsed and compiled again in every process.
//
// V8 checks a cache against its own version and flags and against the source's length only, so
// the cache starts with the CRC-32 and the length of the bundle it was made from; a cache of
// another bundle (an edit without a rebuild of the cache, a copy) is not used. V8 may still refuse
// a cache (another Node.js): the bundle is then compiled as if there were none. Nothing here ever
// writes outside the build.
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script, constants } from 'node:vm';
import { crc32 } from 'node:zlib';

/** The bundled CLI, next to this file. */
export const BUNDLE_FILE = 'bundle.cjs';
/** Its code cache. */
export const CACHE_FILE = 'bundle.cache';
/** Cache header: u32 CRC-32 of the bundle's bytes, u32 its length in bytes (little-endian). */
const CACHE_HEADER_BYTES = 8;
/**
 * The run's start buffer (src/io/start-buffer.ts, which says why): the bundle and its cache are
 * read into it, and it waits under this global key for the engine's .wasm and the trace's chunks.
 */
const START_BUFFER_KEY = 'heapsim.startBuffer';        // src/io/start-buffer.ts START_BUFFER_KEY
const START_BUFFER_BYTES = 1 << 20;                    // src/io/start-buffer.ts START_BUFFER_BYTES
/** V8 takes a code cache in place only at this alignment (else it copies it: V8's AlignedCachedData). */
const CACHE_ALIGN_BYTES = 8;
/** Node's CommonJS wrapper: the bundle runs as a module of its own. */
export const WRAP_START = '(function (exports, require, module, __filename, __dirname) { ';
export const WRAP_END = '\n});';

/**
 * Size of the block raiseMallocThresholds allocates and drops: above glibc's starting mmap
 * threshold (128 KiB), and at most its dynamic ceiling (DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB on
 * 64-bit systems, counting the chunk's header: a 32 MiB block is past it and raises nothing).
 */
export const MALLOC_THRESHOLD_RAISE_BYTES = 8 << 20;

/**
 * Raises glibc malloc's mmap and trim thresholds for the rest of the process (issue 16: page
 * faults). glibc starts with an mmap threshold of 128 KiB and a trim threshold of 256 KiB; when a
 * block it mmapped is freed, it raises the first to that block's size and the second to twice it.
 * Until then the compiles on V8's worker threads (the engine's WASM functions, the hot
 * JavaScript) give much of their zone memory back to the kernel (an arena's top above the trim
 * threshold is trimmed, a segment above the mmap threshold unmapped), and the next compile faults
 * it in again. The start's reads once raised them by chance: their buffers, freed at the first
 * garbage collection, were mmapped blocks of up to 1 MiB; since they share one start buffer
 * (io/start-buffer.ts) nothing did, and a gzipped mtrace run took ~650 more faults. A block
 * allocated and never touched costs one mmap and one munmap and no page fault (calloc does not
 * clear a fresh mapping); V8 frees it at its first young-generation collection, early in the
 * bundle's start. `heapsim run python.mtrace.gz --policy pool`: ~1,200 fewer faults; python.hst
 * ~200-770 by policy (docs/performance.md). Other C libraries ignore it.
 */
export function raiseMallocThresholds(): void {
  const dropped = new ArrayBuffer(MALLOC_THRESHOLD_RAISE_BYTES);
  if (dropped.byteLength !== MALLOC_THRESHOLD_RAISE_BYTES) throw new Error('ArrayBuffer of the wrong size');
}

interface Compiled {
  script: Script;
  /** Whether V8 took code from the cache (false: none, another bundle's, or refused by V8). */
  cacheUsed: boolean;
  /** Runs the bundle (the CLI starts: it reads process.argv). */
  run(): void;
}

/** The bundle's text in the wrapper (a `#!` line becomes a comment of the same length). */
function wrapped(text: string): string {
  return WRAP_START + (text.startsWith('#!') ? '//' + text.slice(2) : text) + WRAP_END;
}

/**
 * The bundle's source as a script: the file as it is when the build wrapped it already
 * (wrapBundle), else wrapped here. A file read whole is one flat string; the wrapper joined to it
 * here is a string of three parts that V8 copies into one before it compiles (~480 KB: some 120
 * page faults and ~2 ms in every process).
 */
function source(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.startsWith(WRAP_START) && text.endsWith(WRAP_END) ? text : wrapped(text);
}

/** The build's step after esbuild: writes the bundle in `dir` in its wrapper, as compileBundle compiles it. */
export function wrapBundle(dir: string): void {
  const file = join(dir, BUNDLE_FILE);
  const text = readFileSync(file, 'utf8');
  if (!text.startsWith(WRAP_START)) writeFileSync(file, wrapped(text));
}

/**
 * File `path` read whole into `into` from `at` on (a view of those bytes), or undefined when it
 * does not fit there (or changed while read): the caller reads it on its own then.
 */
function readInto(path: string, into: Buffer, at: number): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > into.length - at) return undefined;
    let n = 0;
    while (n < size) {
      const got = readSync(fd, into, at + n, size - n, n);
      if (got === 0) return undefined;
      n += got;
    }
    return into.subarray(at, at + size);
  } finally {
    closeSync(fd);
  }
}

/**
 * The code cache for `bytes`, or undefined when there is none or it was made from another bundle
 * (read into `into` from `at` on when it fits there).
 */
function cacheFor(dir: string, bytes: Buffer, into?: Buffer, at = 0): Buffer | undefined {
  let data: Buffer;
  try {
    const file = join(dir, CACHE_FILE);
    data = (into && readInto(file, into, at)) ?? readFileSync(file);
  } catch {
    return undefined;
  }
  if (data.length <= CACHE_HEADER_BYTES) return undefined;
  if (data.readUInt32LE(0) !== crc32(bytes) || data.readUInt32LE(4) !== bytes.length) return undefined;
  return data.subarray(CACHE_HEADER_BYTES);
}

/**
 * Compiles the bundle in `dir` (with its code cache when `useCache` and it matches). With the
 * cache, both files are read into the run's start buffer, which is handed on once V8 is done with
 * them (it copies the source into a string and consumes the cache inside `new Script`).
 */
export function compileBundle(dir: string, useCache = true): Compiled {
  const file = join(dir, BUNDLE_FILE);
  const start = useCache ? Buffer.allocUnsafe(START_BUFFER_BYTES) : undefined;
  const inStart = start && readInto(file, start, 0);
  const bytes = inStart ?? readFileSync(file);
  // The cache right after the bundle, 8-byte aligned (V8 copies a code cache that is not).
  const cacheAt = inStart ? Math.ceil(bytes.length / CACHE_ALIGN_BYTES) * CACHE_ALIGN_BYTES : 0;
  const cachedData = useCache ? cacheFor(dir, bytes, start, cacheAt) : undefined;
  const script = new Script(source(bytes), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    // The bundle's import() of a module file (a worker's entry) goes to Node's own loader.
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (start) (globalThis as unknown as Record<symbol, Buffer>)[Symbol.for(START_BUFFER_KEY)] = start;
  return {
    script,
    cacheUsed: cachedData !== undefined && script.cachedDataRejected === false,
    run(): void {
      const fn = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
      const module = { exports: {} };
      fn.call(module.exports, module.exports, createRequire(file), module, file, dir);
    },
  };
}

/**
 * The build's step: runs the bundle in `dir` as `heapsim <args>` and, when the process exits,
 * writes the code cache of everything it compiled (the call is the whole of a child process).
 */
export function writeCodeCache(dir: string, args: string[]): void {
  const compiled = compileBundle(dir, false);
  const bytes = readFileSync(join(dir, BUNDLE_FILE));
  process.argv = [process.argv[0]!, join(dir, 'heapsim.cjs'), ...args];
  process.on('exit', () => {
    const data = compiled.script.createCachedData();
    const header = Buffer.alloc(CACHE_HEADER_BYTES);
    header.writeUInt32LE(crc32(bytes), 0);
    header.writeUInt32LE(bytes.length, 4);
    writeFileSync(join(dir, CACHE_FILE), Buffer.concat([header, data]));
  });
  compiled.run();
}
