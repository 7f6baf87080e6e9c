// Opening a trace: transparent gunzip (by magic bytes, not by name), format detection, and the
// reader for that format wired to a Ledger. Everything streams: a trace is read in chunks of
// CHUNK_BYTES and only the ledger's per-block tables stay in memory.
//
// A trace comes from a path (Node: fs and zlib) or from any TraceStream (a browser File, see
// src/web/trace-blob.ts). No node: module is imported at the top, so this file and the readers
// also run in a browser worker; Node's modules are fetched only when a path is opened.
import type { Readable } from 'node:stream';
import { InputError, describeErrno, errnoCode, fileKind } from '../errors.js';
import { hstHint, type HstHint } from './formats/hst.js';
import { FORMAT_NAMES, type EventSink, type FormatName } from './events.js';
import { detectFormat } from './detect.js';
import { Ledger } from './ledger.js';
import type { ParserContext, TraceParser } from './formats/parser.js';
import type { OpWordsSink } from './formats/wasm-ledger.js';
import type { EngineExports } from '../engine/load.js';
import { inflateRead, syncInflater, type SyncInflater } from './inflate.js';
import { takeStartBuffer } from '../io/start-buffer.js';
import type { InflateThread } from './inflate-thread.js';

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const GZIP_MAGIC_BYTES = 2;
/** Read size: large enough that per-chunk overhead vanishes, small enough to stay cache-friendly. */
export const CHUNK_BYTES = 1 << 20;
/** Formats read line by line (src/trace/lines.ts LineSplitter). */
const LINE_FORMATS: ReadonlySet<FormatName> = new Set<FormatName>(['text', 'mtrace', 'ltrace', 'logalloc']);
/** Output of one inflate step (decompressed bytes per chunk of a gzip file). */
const GUNZIP_OUT_BYTES = CHUNK_BYTES / 4;
/** Output of one inflate step on the second thread (the chunks the readers get). */
const INFLATE_SLOT_BYTES = GUNZIP_OUT_BYTES;
/** Chunks the inflate thread may run ahead of the reader (the slots of its ring). */
const INFLATE_SLOTS = 4;
/** Bytes of (decompressed) content looked at to detect the format. */
const DETECT_BYTES = 64 * 1024;

export interface OpenOptions {
  /** Skip detection and read the file as this format. */
  format?: FormatName;
  /** Count malformed lines instead of failing on the first one. */
  lenient?: boolean;
  /**
   * mtrace lines read by the WASM line loop and address map (the default), or by the JavaScript
   * reader alone (the reference the tests hold the WASM path to).
   */
  textDecoder?: 'wasm' | 'js';
  /**
   * Where a gzip file read by its path is inflated: on this thread (the default), or on a second
   * one, overlapping the reading (inflate-thread.ts). The second thread costs 10-25 % more CPU
   * (its start, the start of the file inflated again, chunks read from another core's cache) and
   * can pay in wall time only while a core is free for it; on this shared 2-core machine it did
   * not measure faster (issue 16, perf-text3), so it is not the default.
   */
  inflate?: 'thread' | 'inline';
  /**
   * Tests: the content offset at which the inflate thread takes over from this one (implies
   * `inflate: 'thread'`); by default it is named once the thread runs.
   */
  inflateHandoffAt?: number;
}

/** A trace's content from a source other than a path. */
export interface TraceStream {
  /** Name used in messages and as the workload name. */
  name: string;
  /** The source was gzip; `chunks` are already decompressed. */
  gzip: boolean;
  /** Size of the source (compressed bytes for gzip), for progress. */
  sourceBytes: number;
  /**
   * Size of the content, when known before reading (a plain file's size, a gzip file's trailer):
   * a hint for sizing tables, never trusted (the trailer holds the last member's size mod 2^32).
   */
  contentBytesHint?: number;
  /** Bytes of the source consumed so far. */
  bytesRead(): number;
  /** The (decompressed) content in chunks; iterated once. */
  chunks: AsyncIterable<Uint8Array>;
  /** Stops reading early (when the format cannot be recognised). */
  cancel?(): void;
}

export interface TraceInput {
  path: string;
  format: FormatName;
  gzip: boolean;
  /** Size of the file on disk. */
  fileBytes: number;
  /** Bytes of the file consumed so far (compressed bytes for .gz), for progress. */
  bytesRead(): number;
  ledger: Ledger;
  parser: TraceParser;
  /** The content, decompressed, in chunks; iterate once. */
  chunks: AsyncIterable<Buffer>;
  /** A size hint (never trusted): a `.hst` version 3 header's, or for an mtrace replay one from its content bytes. */
  hint?: HstHint;
  /**
   * A reader that can apply each event to an engine on its own instance as it reads it (the mtrace
   * line loop in WASM writing op records, when `ops` was given to openTrace; src/trace/replay.ts).
   */
  directReader?: DirectReader;
}

/** A reader running in an engine module instance that can feed that instance's heap 0 itself. */
export interface DirectReader {
  readonly instance: EngineExports;
  /** From now on ops go to the instance's engine; `applied` runs after each return that may have applied some. */
  direct(applied: () => void): void;
}

/** Checks a `--format` value. */
export function parseFormatName(value: string): FormatName {
  if ((FORMAT_NAMES as readonly string[]).includes(value)) return value as FormatName;
  throw new InputError(`unknown trace format '${value}' (one of: ${FORMAT_NAMES.join(', ')})`);
}

/**
 * The reader of a format. Each reader's module is imported when a trace of its format is opened,
 * so that `heapsim run X.hst` loads none of the text readers (test/cli/startup.test.ts).
 */
export async function createParser(format: FormatName, ctx: ParserContext): Promise<TraceParser> {
  switch (format) {
    case 'hst': return new (await import('./formats/hst.js')).HstParser(ctx);
    case 'text': return new (await import('./formats/text.js')).TextParser(ctx);
    case 'mtrace': return new (await import('./formats/mtrace.js')).MtraceParser(ctx);
    case 'ltrace': return new (await import('./formats/ltrace.js')).LtraceParser(ctx);
    case 'logalloc': return new (await import('./formats/logalloc.js')).LogallocParser(ctx);
    case 'rep': return new (await import('./formats/rep.js')).RepParser(ctx);
  }
}

interface NodeModules {
  fs: typeof import('node:fs');
  fsp: typeof import('node:fs/promises');
  stream: typeof import('node:stream');
  zlib: typeof import('node:zlib');
}

/** Node's modules for reading by path (process.getBuiltinModule: Node >= 20.16). */
function nodeModules(path: string): NodeModules {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const get = proc?.getBuiltinModule;
  if (typeof get !== 'function') throw new InputError('reading a trace by its path needs Node.js (>= 20.16); pass its content as a stream', path);
  return {
    fs: get.call(proc, 'fs') as NodeModules['fs'],
    fsp: get.call(proc, 'fs/promises') as NodeModules['fsp'],
    stream: get.call(proc, 'stream') as NodeModules['stream'],
    zlib: get.call(proc, 'zlib') as NodeModules['zlib'],
  };
}

async function isGzip(path: string, { fsp }: NodeModules): Promise<boolean> {
  const fh = await fsp.open(path, 'r');
  try {
    const magic = Buffer.alloc(GZIP_MAGIC_BYTES);
    const { bytesRead } = await fh.read(magic, 0, GZIP_MAGIC_BYTES, 0);
    return bytesRead === GZIP_MAGIC_BYTES && magic[0] === GZIP_MAGIC_0 && magic[1] === GZIP_MAGIC_1;
  } finally {
    await fh.close();
  }
}

/** A chunk as the readers want it: a Buffer over the same bytes (no copy). */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function* guarded(path: string, gzip: boolean, iterator: AsyncIterator<Uint8Array>, head: Buffer[]): AsyncGenerator<Buffer> {
  yield* head;
  try {
    for (;;) {
      const r = await iterator.next();
      if (r.done === true) return;
      yield asBuffer(r.value);
    }
  } catch (err) {
    throw gzipError(path, gzip, err);
  } finally {
    // Stopped early (an error in a reader, a consumer that broke off): close the source now.
    await iterator.return?.();
  }
}

function gzipError(path: string, gzip: boolean, err: unknown): unknown {
  if (gzip && err instanceof Error && (err as { code?: string }).code?.startsWith('Z_')) {
    return new InputError(`corrupt or truncated gzip data (${err.message})`, path);
  }
  return err;
}

/**
 * A plain file's chunks, read with one open handle. Each chunk is a new buffer until `reuse` is
 * set; from then on every chunk is the same buffer, overwritten by the next read (no new memory,
 * so no page faults, per chunk): only for a consumer that is done with a chunk before it asks for
 * the next one and keeps no view of it (the .hst reader copies what it keeps). That buffer is the
 * last one read before `reuse` was set (the consumer is done with it when it asks for the next
 * chunk): a 1 MiB buffer's first touch is 256 page faults, some 4 ms of CPU on a virtual machine.
 */
/**
 * A new chunk buffer: the run's start buffer when it is waiting (io/start-buffer.ts: memory the
 * start touched already; this reader keeps it), else a new one.
 */
function chunkBuffer(): Buffer {
  const start = takeStartBuffer(CHUNK_BYTES);
  return start ? Buffer.from(start.buffer, start.byteOffset, CHUNK_BYTES) : Buffer.allocUnsafe(CHUNK_BYTES);
}

async function* plainChunks(fh: import('node:fs/promises').FileHandle, state: { bytesRead: number; reuse: boolean; cancelled: boolean }): AsyncGenerator<Buffer> {
  let fixed: Buffer | undefined;
  let last: Buffer | undefined;
  try {
    while (!state.cancelled) {
      const buf = state.reuse ? (fixed ??= last ?? chunkBuffer()) : (last = chunkBuffer());
      const { bytesRead } = await fh.read(buf, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return;
      state.bytesRead += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** A file as a TraceStream: read in CHUNK_BYTES chunks, gunzipped when it starts with gzip's magic. */
async function fileStream(path: string, options: OpenOptions): Promise<TraceStream & { reuseChunks?(): void }> {
  const node = nodeModules(path);
  let info;
  try {
    info = await node.fsp.stat(path);
  } catch (err) {
    throw new InputError(errnoCode(err) === 'ENOENT' ? 'no such file' : `cannot read: ${describeErrno(err)}`, path);
  }
  // A FIFO or device could block or never end, a directory has no content: only regular files.
  if (!info.isFile()) throw new InputError(`cannot read: it is ${fileKind(info)}, not a regular file`, path);
  let gzip: boolean;
  try {
    gzip = await isGzip(path, node);
  } catch (err) {
    throw new InputError(`cannot read: ${describeErrno(err)}`, path);
  }
  if (!gzip) {
    let fh;
    try {
      fh = await node.fsp.open(path, 'r');
    } catch (err) {
      throw new InputError(`cannot read: ${describeErrno(err)}`, path);
    }
    const state = { bytesRead: 0, reuse: false, cancelled: false };
    return {
      name: path,
      gzip,
      sourceBytes: info.size,
      contentBytesHint: info.size,
      bytesRead: () => state.bytesRead,
      chunks: plainChunks(fh, state),
      cancel: () => { state.cancelled = true; void fh.close().catch(() => undefined); },
      reuseChunks: () => { state.reuse = true; },
    };
  }
  const gunzip = node.zlib.createGunzip({ chunkSize: GUNZIP_OUT_BYTES });
  const inflater = syncInflater(gunzip, node.zlib.constants);
  if (inflater === undefined) {
    // A Node.js without zlib's synchronous handle: its stream (a new buffer per output chunk).
    gunzip.destroy();
    const raw = node.fs.createReadStream(path, { highWaterMark: CHUNK_BYTES });
    const content: Readable = node.stream.pipeline(raw, node.zlib.createGunzip({ chunkSize: GUNZIP_OUT_BYTES }), () => undefined);
    return {
      name: path,
      gzip,
      sourceBytes: info.size,
      bytesRead: () => raw.bytesRead,
      chunks: content as AsyncIterable<Buffer>,
      cancel: () => raw.destroy(),
    };
  }
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await node.fsp.open(path, 'r');
  } catch (err) {
    gunzip.destroy();
    throw new InputError(`cannot read: ${describeErrno(err)}`, path);
  }
  const state = { bytesRead: 0, reuse: false, cancelled: false };
  const contentBytesHint = await gzipTrailerSize(fh, info.size);
  const handoffAt = options.inflateHandoffAt;
  const thread = handoffAt !== undefined || options.inflate === 'thread'
    ? new (await inflateThreadModule()).InflateThread(fh.fd, {
      inputBytes: CHUNK_BYTES, slots: INFLATE_SLOTS, slotBytes: INFLATE_SLOT_BYTES,
      ...(handoffAt === undefined ? {} : { handoffAt }), ...(workerModule === undefined ? {} : { workerModule }),
    })
    : undefined;
  const chunks = gunzipChunks(fh, inflater, state, thread);
  return {
    name: path,
    gzip,
    sourceBytes: info.size,
    ...(contentBytesHint === undefined ? {} : { contentBytesHint }),
    bytesRead: () => state.bytesRead,
    chunks,
    cancel: () => {
      state.cancelled = true;
      void (async () => { await thread?.stop(); await fh.close().catch(() => undefined); })();
    },
    reuseChunks: () => { state.reuse = true; },
  };
}

/**
 * The inflate thread's host side (inflate-thread.ts), Node-only like its thread: imported by a
 * path known only when run, so that no bundle of this module takes it in (a browser bundle must
 * not name worker_threads). '../trace/': the same folder from dist/trace/read.js and from the CLI
 * bundled into dist/cli/bundle.cjs.
 */
async function inflateThreadModule(): Promise<typeof import('./inflate-thread.js')> {
  // A name in a variable: a bundler follows `new URL('literal', import.meta.url)` (and a template).
  const name = `../trace/inflate-thread.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`;
  const module = new URL(name, import.meta.url).href;
  return await import(/* @vite-ignore */ module) as typeof import('./inflate-thread.js');
}

/** The inflate thread's module when set by setInflateWorkerModule. */
let workerModule: URL | undefined;

/**
 * Runs the inflate thread from this module (a built inflate-worker.js) instead of the one next to
 * inflate-thread's. Tests running from the TypeScript sources set the build's: a thread that
 * loads the .ts module registers tsx first, which takes most of a second per thread.
 */
export function setInflateWorkerModule(url: URL | undefined): void {
  workerModule = url;
}

/** Bytes of a gzip member's trailer field ISIZE: its uncompressed size mod 2^32, little-endian (RFC 1952). */
const GZIP_ISIZE_BYTES = 4;
/** Smallest gzip member: 10-byte header, an empty deflate block (2 bytes), CRC-32 and ISIZE. */
const GZIP_MIN_MEMBER_BYTES = 20;

/** The ISIZE of a gzip file's last member (a hint only), or undefined when it cannot be read. */
async function gzipTrailerSize(fh: import('node:fs/promises').FileHandle, fileBytes: number): Promise<number | undefined> {
  if (fileBytes < GZIP_MIN_MEMBER_BYTES) return undefined;
  const trailer = Buffer.alloc(GZIP_ISIZE_BYTES);
  try {
    const { bytesRead } = await fh.read(trailer, 0, GZIP_ISIZE_BYTES, fileBytes - GZIP_ISIZE_BYTES);
    return bytesRead === GZIP_ISIZE_BYTES ? trailer.readUInt32LE(0) : undefined;
  } catch {
    return undefined; // the read of the content reports the problem, if it is one
  }
}

/**
 * A gzip file's content, inflated by the loop of inflate.ts from one reused input buffer into one
 * reused output buffer once `reuse` is set (before that, a new buffer per chunk, as plainChunks).
 * The stream would make a new buffer for every output chunk and hand each to the event loop; this
 * is a plain loop, a few times cheaper. With `thread`, this loop inflates only the start, up to the
 * offset where it hands over to the inflate thread (inflate-thread.ts), whose chunks follow.
 */
async function* gunzipChunks(
  fh: import('node:fs/promises').FileHandle,
  inflater: SyncInflater,
  state: { bytesRead: number; reuse: boolean; cancelled: boolean },
  thread?: InflateThread,
): AsyncGenerator<Uint8Array> {
  const input = chunkBuffer(); // kept for the whole file
  let fixed: Buffer | undefined;
  const output = (): Buffer => (state.reuse ? (fixed ??= Buffer.allocUnsafe(GUNZIP_OUT_BYTES)) : Buffer.allocUnsafe(GUNZIP_OUT_BYTES));
  try {
    read: while (!state.cancelled) {
      const { bytesRead } = await fh.read(input, 0, CHUNK_BYTES, null);
      state.bytesRead += bytesRead;
      const steps = inflateRead(inflater, input, bytesRead, output);
      for (let step = steps.next(); ; step = steps.next()) {
        if (step.done === true) {
          if (step.value) return;
          break;
        }
        if (thread === undefined) {
          yield step.value;
          continue;
        }
        const kept = thread.keep(step.value.length);
        if (kept > 0) yield step.value.subarray(0, kept);
        if (thread.handedOver) break read;
      }
    }
    if (thread?.handedOver === true) {
      inflater.gunzip.destroy();
      yield* thread.chunks(state);
    }
  } finally {
    inflater.gunzip.destroy();
    // The thread reads the file through its descriptor: close it only once the thread has stopped.
    await thread?.stop();
    await fh.close().catch(() => undefined);
  }
}

/** A reader for `.hst` with its own ledger (the WASM record loop, src/trace/formats/hst-wasm.ts). */
export type HstReaderFactory = (file: string, lenient: boolean) => Promise<{ ledger: Ledger; parser: TraceParser }>;

/**
 * Opens a trace (a path, or a stream of its content) for reading; events flow into a new Ledger and
 * on to `out`. `hst`, when given, makes the ledger and reader of a `.hst` trace instead. `ops`,
 * when given, takes the op records of the same events (it is the `out` of a replay): a reader that
 * writes them in WASM (mtrace's) then sends them there instead of events to `out`.
 */
export async function openTrace(
  source: string | TraceStream, out: EventSink | null, options: OpenOptions = {}, hst?: HstReaderFactory, ops?: OpWordsSink,
): Promise<TraceInput> {
  const stream: TraceStream & { reuseChunks?(): void } = typeof source === 'string' ? await fileStream(source, options) : source;
  const path = stream.name;
  const gzip = stream.gzip;
  const iterator = stream.chunks[Symbol.asyncIterator]();
  // Collect enough of the start to recognise the format.
  const head: Buffer[] = [];
  let headBytes = 0;
  try {
    while (headBytes < DETECT_BYTES) {
      const r = await iterator.next();
      if (r.done === true) break;
      head.push(asBuffer(r.value));
      headBytes += r.value.length;
    }
  } catch (err) {
    throw gzipError(path, gzip, err);
  }
  // The first DETECT_BYTES of content, for the format check and the .hst hint: a view of the first
  // chunk when it holds them (a file's chunk is 1 MiB: no copy), else the head's chunks joined.
  const start = (head.length === 1 ? head[0]! : Buffer.concat(head)).subarray(0, DETECT_BYTES);
  // The API may be handed anything (a worker message): an unknown format is a clear error.
  let format = options.format === undefined ? undefined : parseFormatName(String(options.format));
  if (format === undefined) {
    format = detectFormat(start);
    if (format === undefined) {
      stream.cancel?.();
      throw new InputError(
        headBytes === 0 ? 'empty file: no trace in it'
          : `cannot tell the trace format from its content; name it with --format (${FORMAT_NAMES.join(', ')})`,
        path);
    }
  }
  let ledger: Ledger;
  let parser: TraceParser;
  let directReader: DirectReader | undefined;
  let textHint: HstHint | undefined; // a replay of an mtrace trace: sizes from its content bytes (text-wasm.ts mtraceSizeHint)
  if (format === 'hst' && hst !== undefined) {
    ({ ledger, parser } = await hst(path, options.lenient === true));
    // This reader copies what it keeps of a chunk: the file can be read into one buffer.
    stream.reuseChunks?.();
  } else if (format === 'mtrace' && options.textDecoder !== 'js') {
    const textWasm = await import('./formats/text-wasm.js');
    let text;
    if (ops === undefined) text = await textWasm.textWasm(path, ledger = new Ledger(out), stream.contentBytesHint);
    else {
      ({ ledger, text } = await textWasm.textWasmOps(path, ops, stream.contentBytesHint));
      directReader = text;
      textHint = textWasm.mtraceSizeHint(stream.contentBytesHint);
    }
    parser = await createParser(format, { file: path, lenient: options.lenient === true, ledger, text });
    stream.reuseChunks?.(); // a line reader (see below)
  } else {
    ledger = new Ledger(out);
    parser = await createParser(format, { file: path, lenient: options.lenient === true, ledger });
    // Line readers keep no view of a chunk (a line cut by the chunk's end is copied; callers and
    // tokens become strings or copies): the file can be read into one buffer too.
    if (LINE_FORMATS.has(format)) stream.reuseChunks?.();
  }
  ledger.format = format;
  const hint = format === 'hst' ? hstHint(start) : textHint;
  return {
    ...(hint ? { hint } : {}),
    ...(directReader ? { directReader } : {}),
    path,
    format,
    gzip,
    fileBytes: stream.sourceBytes,
    bytesRead: () => stream.bytesRead(),
    ledger,
    parser,
    chunks: guarded(path, gzip, iterator, head),
  };
}

/**
 * Reads a whole trace into `out`. `afterChunk` runs after each chunk has been parsed (a writer
 * flushes there, a progress bar updates); awaiting it applies backpressure.
 */
export async function readTrace(
  path: string,
  out: EventSink | null,
  options: OpenOptions = {},
  afterChunk?: (input: TraceInput) => void | Promise<void>,
): Promise<TraceInput> {
  const input = await openTrace(path, out, options);
  for await (const chunk of input.chunks) {
    input.parser.push(chunk);
    if (afterChunk !== undefined) await afterChunk(input);
  }
  input.parser.finish();
  if (afterChunk !== undefined) await afterChunk(input);
  return input;
}
