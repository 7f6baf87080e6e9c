// Locates, compiles (once per build flavour) and instantiates the engine's WASM module. The same
// code runs in Node, browsers and workers: the module is found with `new URL(..., import.meta.url)`
// (a literal, so bundlers copy the file), read with fs on Node and with fetch elsewhere. No `node:`
// module is imported here, statically or dynamically, so a browser bundle pulls in none: on Node
// the fs module comes from process.getBuiltinModule (Node >= 20.16).
import { instantiate, instantiateSync } from '@assemblyscript/loader';
import { takeEngineMemory } from './memory-pool.js';
import { giveStartBuffer, takeStartBuffer } from '../io/start-buffer.js';

export type BuildFlavour = 'release' | 'debug';

const compiled = new Map<BuildFlavour, Promise<WebAssembly.Module>>();
const provided = new Map<BuildFlavour, WebAssembly.Module>();

function moduleUrl(build: BuildFlavour): URL {
  return build === 'debug'
    ? new URL('../../build/debug.wasm', import.meta.url)
    : new URL('../../build/release.wasm', import.meta.url);
}

interface NodeFs { readFile(url: URL): Promise<Uint8Array> }
interface NodeSyncFs {
  openSync(url: URL, flags: string): number;
  fstatSync(fd: number): { size: number };
  readSync(fd: number, into: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}
interface NodeProcess { getBuiltinModule?(id: string): unknown }

/** Node's fs/promises when running on Node, else undefined. */
function nodeFs(): NodeFs | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return proc?.getBuiltinModule?.('fs/promises') as NodeFs | undefined;
}

/**
 * The module file at `url` read whole into the run's start buffer (io/start-buffer.ts), when one is
 * waiting and the file fits (the caller gives the buffer back once compiling has copied the
 * bytes); else undefined, and the buffer, if taken, is given back.
 */
function readIntoStartBuffer(url: URL): { buffer: Uint8Array; bytes: Uint8Array<ArrayBuffer> } | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  const fs = proc?.getBuiltinModule?.('fs') as NodeSyncFs | undefined;
  if (!fs) return undefined;
  const buffer = takeStartBuffer(0);
  if (!buffer) return undefined;
  let size = -1;
  try {
    const fd = fs.openSync(url, 'r');
    try {
      const fileBytes = fs.fstatSync(fd).size;
      let n = 0;
      while (n < fileBytes && fileBytes <= buffer.length) {
        const got = fs.readSync(fd, buffer, n, fileBytes - n, n);
        if (got === 0) break;
        n += got;
      }
      if (n === fileBytes && fileBytes <= buffer.length) size = fileBytes;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Read as without the buffer: that read reports the error.
  }
  if (size < 0) {
    giveStartBuffer(buffer);
    return undefined;
  }
  return { buffer, bytes: buffer.subarray(0, size) as Uint8Array<ArrayBuffer> };
}

async function compile(build: BuildFlavour): Promise<WebAssembly.Module> {
  const url = moduleUrl(build);
  if (url.protocol === 'file:') {
    // Before the first await: a caller that starts the compile early has the bytes copied (below)
    // and the start buffer back before it reads anything else.
    const read = readIntoStartBuffer(url);
    if (read) {
      // WebAssembly.compile copies the bytes before it returns (the spec: the module is made of a
      // copy, whatever happens to the buffer later), so the buffer goes on at once.
      const module = WebAssembly.compile(read.bytes);
      giveStartBuffer(read.buffer);
      return module;
    }
    const fs = nodeFs();
    if (!fs) throw new Error(`cannot read engine module ${url.href}: no fetch for file: URLs and no Node fs (Node >= 20.16 needed)`);
    return WebAssembly.compile(await fs.readFile(url) as Uint8Array<ArrayBuffer>);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load engine module ${url.href}: HTTP ${response.status}`);
  const contentType = response.headers.get('content-type') ?? '';
  if (contentType.startsWith('application/wasm') && typeof WebAssembly.compileStreaming === 'function') {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

/** Use an already compiled module (e.g. one posted to a worker) instead of loading the file. */
export function provideModule(module: WebAssembly.Module, build: BuildFlavour = 'release'): void {
  provided.set(build, module);
}

/** The compiled engine module, compiled at most once per flavour and process. */
export function engineModule(build: BuildFlavour = 'release'): Promise<WebAssembly.Module> {
  const given = provided.get(build);
  if (given) return Promise.resolve(given);
  let p = compiled.get(build);
  if (!p) {
    p = compile(build);
    compiled.set(build, p);
    p.catch(() => compiled.delete(build));
  }
  return p;
}

/** Raw exports of one engine instance (see assembly/index.ts). */
export interface EngineExports {
  memory: WebAssembly.Memory;
  engineInit(arch: number, every: number): number;
  setSampleEvery(every: number): void;
  opsPtr(capacity: number): number;
  paramsPtr(): number;
  paramSlots(): number;
  samplesPtr(): number;
  samplesCount(): number;
  eventCount(): bigint;
  failedOpCount(): bigint;
  batchFirstFailOp(): number;
  batchFirstFailStatus(): number;
  runBatch(count: number): number;
  takeSample(mark: number, event: bigint): void;
  checkAll(): number;
  idTableBytes(): number;
  engineReserve(idBound: number, liveBlocks: number): void;
  threadsAlive(): number;
  samplesExtrasPtr(): number;
  samplesExtrasCount(): number;
  threadSlotsUsed(): number;
  threadTableBytes(): number;
  currentOp(): number;
  idUserAddress(id: number): bigint;
  idRequestedBytes(id: number): bigint;
  setReplayMode(on: number): void;
  vmReserve(size: bigint, at: bigint, type: number, usage: number, owner: number, placement: number): bigint;
  vmCommit(addr: bigint, size: bigint): number;
  vmDecommit(addr: bigint, size: bigint): number;
  vmRelease(base: bigint): number;
  vmResize(base: bigint, size: bigint): number;
  vmTouch(addr: bigint, size: bigint): number;
  vmPurge(addr: bigint, size: bigint): bigint;
  vmIsCommitted(addr: bigint): number;
  vmIsResident(addr: bigint): number;
  vmRegionAt(addr: bigint): number;
  vmCheck(): number;
  vmWalk(out: number, max: number): number;
  vmEngineBytes(): number;
  vmLastStatus: WebAssembly.Global;
  ABI_VERSION: WebAssembly.Global;
  SAMPLE_SLOTS: WebAssembly.Global;
  MAX_HEAPS: WebAssembly.Global;
  OP_SIZE_BYTES: WebAssembly.Global;
  K_POLICY_BASE: WebAssembly.Global;
  POLICY_COUNTERS: WebAssembly.Global;
  /** The policy table (assembly/kit/policy.ts): ids 1..policyCount(); strings are module pointers. */
  policyCount(): number;
  policyName(id: number): number;
  policyParamNames(id: number): number;
  policyCounterNames(id: number): number;
  policyStackable(id: number): number;
  policyRecordBytes(id: number): number;
  policyEngineBytes(id: number): number;
  // Each policy's own queries (ntWalk, poolClassStats, ...) are typed in src/policies/<name>/.
}

/**
 * Instantiates a fresh engine from the cached module, on a new memory or on one a finished engine
 * released (memory-pool.ts): either way the instance starts from the bytes of a new memory.
 */
export async function instantiateEngine(build: BuildFlavour = 'release'): Promise<EngineExports> {
  const module = await engineModule(build);
  const imports = {
    env: {
      memory: takeEngineMemory(),
      // The engine has no clock and no randomness of the host's: determinism by construction.
      seed: () => 0,
    },
  };
  // On Node, instantiate the compiled module synchronously: the loader's async path asks whether
  // its argument is a fetch Response, and on Node the first look at the global Response loads the
  // whole fetch implementation (undici), some 60 ms of every `heapsim run`. Browsers keep the
  // async path (Chrome limits synchronous instantiation on its main thread).
  const result = nodeFs() !== undefined
    ? instantiateSync<Record<string, unknown>>(module, imports)
    : await instantiate<Record<string, unknown>>(module, imports);
  return result.instance.exports as unknown as EngineExports;
}
