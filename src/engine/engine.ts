// The typed host API over one engine instance: create heaps, apply op batches (one WASM call per
// batch), read typed samples. Same code path in Node, browsers and workers.
import {
  ABI_VERSION, ARCHS, type ArchName, H, HEAP_SLOTS, K, MAX_HEAPS, NO_OWNER, OP_WORDS, SAMPLE_HEADER_SLOTS,
  SAMPLE_SLOTS, STATUS_NAMES, Status, USAGE_COUNT, V, VM_SLOTS, REGION_TYPE_COUNT, RegionType, Usage,
  R, P, RUN_BASE, RUN_HEAP_SLOTS, FAIL_REASONS,
} from './abi.js';
import { OpBuffer } from './ops.js';
import { instantiateEngine, type BuildFlavour, type EngineExports } from './load.js';
import { releaseEngineMemory } from './memory-pool.js';
import { getPolicy, policyById, policySpecs, resolveParams } from '../policies/registry.js';
import { EngineStatusError, EngineTrapError } from '../errors.js';
import { USAGE_NAMES, TYPE_NAMES, type UsageName, type TypeName } from '../report/types.js';
import { applyProfile } from './profiles.js';

export type { VmCounters, HeapSample, Sample, Peak, HeapPeaks, AllocationFailure, ProgramCounters } from './sample.js';
import type { VmCounters, HeapSample, Sample, Peak, HeapPeaks, AllocationFailure, ProgramCounters } from './sample.js';

export interface BatchResult {
  /** Ops of this batch that returned a non-OK status (each is also counted in the engine). */
  failedOps: number;
  firstFailure?: { op: number; status: string };
  samples: Sample[];
}

export interface EngineOptions {
  arch?: ArchName;
  /** Background regions (see profiles.ts); default 'bare'. */
  profile?: string;
  /** Take a sample every N events (0 = only at marks). */
  sampleEvery?: number;
  /** 'debug' compiles invariant checks in; 'release' (default) is the fast one. */
  build?: BuildFlavour;
  /**
   * The ops are a recording or a workload written as if every call succeeded (what `runWorkload`
   * replays): a failed allocation stays the program's block, its later free succeeds, a realloc
   * of it allocates afresh, and a failed realloc leaves the program the new block. Default (false):
   * C semantics, the caller got NULL and the id stays free (or keeps its old block).
   */
  replay?: boolean;
  /**
   * An instance of the engine module of flavour `build` to use instead of a new one (the `.hst`
   * decoder's, for the one-instance replay: src/workload/workload.ts DirectSource). Its engine
   * must not have been initialised yet.
   */
  instance?: EngineExports;
}

export interface HeapOptions {
  params?: Record<string, string | number>;
  /** Index of the heap this one takes memory from (stackable policies only). */
  parent?: number;
}

export interface RegionInfo {
  base: number;
  sizeBytes: number;
  free: boolean;
  type: TypeName;
  usage: UsageName;
  /** Owner heap index, or -1. */
  owner: number;
  committedBytes: number;
}

export type VmCallResult = { status: string; ok: boolean };

/** Creates an engine: one WASM instance with its own address space. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const arch = options.arch ?? 'x86';
  if (!Object.hasOwn(ARCHS, arch)) throw new EngineStatusError(`unknown architecture '${arch}'`, Status.BAD_PARAM, 'BAD_PARAM');
  const exports = options.instance ?? await instantiateEngine(options.build ?? 'release');
  const engine = new Engine(exports, arch, options.sampleEvery ?? 0);
  if (options.replay) exports.setReplayMode(1);
  if (options.profile && options.profile !== 'bare') applyProfile(engine, options.profile);
  return engine;
}

export class Engine {
  readonly arch: ArchName;
  readonly labels: string[] = [];
  private readonly x: EngineExports;
  private readonly heapPolicies: (string | undefined)[] = new Array(MAX_HEAPS).fill(undefined);
  private readonly heapParams: Readonly<Record<string, number>>[] = new Array(MAX_HEAPS).fill(Object.freeze({}));
  private batches = 0;
  private broken: EngineTrapError | undefined;
  private released = false;
  private opsCapacity = 0;
  private opsPtr = 0;

  /** @internal use createEngine() */
  constructor(exports: EngineExports, arch: ArchName, sampleEvery: number) {
    this.x = exports;
    this.arch = arch;
    const abi = Number(exports.ABI_VERSION.value);
    if (abi !== ABI_VERSION) throw new Error(`engine module ABI ${abi}, host expects ${ABI_VERSION}: rebuild (npm run build)`);
    checkPolicyTable(exports);
    const st = this.guard(() => exports.engineInit(ARCHS[arch], sampleEvery >>> 0));
    if (st !== Status.OK) throw new EngineStatusError('engine init', st, STATUS_NAMES[st] ?? String(st));
  }

  /** Index of a mark label, added on first use. */
  label(name: string): number {
    let i = this.labels.indexOf(name);
    if (i < 0) {
      i = this.labels.length;
      if (i > 0xffff) throw new RangeError('too many mark labels');
      this.labels.push(name);
    }
    return i;
  }

  setSampleEvery(events: number): void { this.x.setSampleEvery(events >>> 0); }

  /**
   * Sizes the engine's tables for a replay (a `.hst` version 3 header's hint) before the heaps are
   * created: the id table for ids below `idBound`, the policies' block records for `peakLiveBlocks`.
   * Any values are safe (the engine caps them); results never depend on them.
   */
  reserve(hint: { idBound: number; peakLiveBlocks: number }): void {
    this.guard(() => this.x.engineReserve(hint.idBound, hint.peakLiveBlocks));
  }

  /** Creates heap `index` (default: the lowest free index) with a policy. Returns its index. */
  createHeap(policy: string, options: HeapOptions = {}, index?: number): number {
    const spec = getPolicy(policy);
    const h = index ?? this.heapPolicies.findIndex((p) => p === undefined);
    if (h < 0 || h >= MAX_HEAPS) throw new EngineStatusError(`create heap ${h}`, Status.BAD_HEAP, 'BAD_HEAP');
    const parent = options.parent ?? -1;
    if (parent >= 0 && !spec.stackable) {
      throw new EngineStatusError(`policy ${policy} cannot take memory from another heap`, Status.BAD_PARAM, 'BAD_PARAM');
    }
    const values = resolveParams(spec, options.params ?? {});
    const slots = this.x.paramSlots();
    const view = new Float64Array(this.x.memory.buffer, this.x.paramsPtr(), slots);
    view.fill(NaN);
    for (const [slot, v] of values) view[slot] = v;
    const ops = new OpBuffer(1);
    ops.heapCreate(h, spec.id, parent, 0, spec.params.length);
    const r = this.apply(ops);
    if (r.failedOps) {
      const st = r.firstFailure!.status;
      throw new EngineStatusError(`create ${policy} heap ${h}`, Status[st as keyof typeof Status], st);
    }
    this.heapPolicies[h] = policy;
    const byName: Record<string, number> = {};
    for (const [slot, v] of values) byName[spec.params.find((q) => q.slot === slot)!.name] = v;
    this.heapParams[h] = Object.freeze(byName);
    return h;
  }

  destroyHeap(h: number): void {
    const ops = new OpBuffer(1);
    ops.heapDestroy(h);
    const r = this.apply(ops);
    if (r.failedOps) {
      const st = r.firstFailure!.status;
      throw new EngineStatusError(`destroy heap ${h}`, Status[st as keyof typeof Status], st);
    }
    this.heapPolicies[h] = undefined;
    this.heapParams[h] = Object.freeze({});
  }

  heapPolicy(h: number): string | undefined { return this.heapPolicies[h]; }

  /** @internal The raw WASM exports, for a policy's own queries (src/policies/<name>/) and tests. */
  get raw(): EngineExports { return this.guard(() => this.x); }

  /**
   * Ends this engine: its memory goes to the next engine created in this process (memory-pool.ts),
   * unless the engine trapped. Every later call on it throws. Call it only when nothing will read
   * the engine again (samples already read are plain objects and stay valid).
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (!this.broken) releaseEngineMemory(this.x.memory);
  }

  /** Runs one batch: one call into WASM. Failed ops are counted, not thrown. */
  apply(ops: OpBuffer): BatchResult {
    if (this.released) throw new Error('engine already released');
    const n = ops.length;
    if (n > this.opsCapacity) {
      this.opsCapacity = Math.max(n, 4096);
      this.opsPtr = this.guard(() => this.x.opsPtr(this.opsCapacity));
    }
    new Uint32Array(this.x.memory.buffer, this.opsPtr, n * OP_WORDS).set(ops.words.subarray(0, n * OP_WORDS));
    const failed = this.guard(() => this.x.runBatch(n));
    this.batches++;
    const result: BatchResult = { failedOps: failed, samples: this.readSamples() };
    if (failed) {
      result.firstFailure = { op: this.x.batchFirstFailOp(), status: STATUS_NAMES[this.x.batchFirstFailStatus()] ?? '?' };
    }
    return result;
  }

  /** Applies every batch of a (possibly async) source; calls onSample for each sample. */
  async applyAll(
    source: Iterable<OpBuffer> | AsyncIterable<OpBuffer>,
    onSample?: (s: Sample) => void,
  ): Promise<{ failedOps: number; batches: number }> {
    let failedOps = 0, batches = 0;
    for await (const ops of source as AsyncIterable<OpBuffer>) {
      const r = this.apply(ops);
      failedOps += r.failedOps;
      batches++;
      if (onSample) for (const s of r.samples) onSample(s);
    }
    return { failedOps, batches };
  }

  /**
   * @internal Runs `fn` (a call into this engine's instance made outside apply(): the one-instance
   * replay's decoder) under the trap guard: a trap becomes an EngineTrapError.
   */
  call<T>(fn: () => T): T {
    return this.guard(fn);
  }

  /** @internal The samples taken since the instance last started a batch or a decoder call. */
  pendingSamples(): Sample[] {
    return this.readSamples();
  }

  /** Takes a sample now (outside any batch). */
  sample(label: string | null = null): Sample {
    const mark = label === null ? -1 : this.label(label);
    this.guard(() => this.x.takeSample(mark, this.x.eventCount()));
    const samples = this.readSamples();
    return samples[samples.length - 1]!;
  }

  /** Simulated address of a live block (0 if the id is not live) and the bytes it was asked for. */
  blockOf(id: number): { address: number; requestedBytes: number } {
    return { address: Number(this.x.idUserAddress(id)), requestedBytes: Number(this.x.idRequestedBytes(id)) };
  }

  get events(): number { return Number(this.x.eventCount()); }
  get failedOps(): number { return Number(this.x.failedOpCount()); }

  /** 0 when every invariant holds (VM and heaps), else the failed invariant's number. */
  check(): number { return this.guard(() => this.x.checkAll()); }

  /** Address of at least `bytes` bytes of engine memory (the ops buffer) for a query's answer; valid until the next call. */
  scratch(bytes: number): number {
    const words = Math.ceil(bytes / 16);
    if (words > this.opsCapacity) {
      this.opsCapacity = words;
      this.opsPtr = this.guard(() => this.x.opsPtr(words));
    }
    return this.opsPtr;
  }

  /** Bytes of WASM linear memory in use by this engine instance. */
  get memoryBytes(): number { return this.x.memory.buffer.byteLength; }

  /**
   * Bytes of the engine's own tables: VM nodes + page table, the id table, and per policy its
   * record pools and indexes (all heaps of the policy) with the bytes of one block record.
   */
  engineTableBytes(): { vm: number; ids: number; policies: Record<string, { tableBytes: number; recordBytes: number }> } {
    const policies: Record<string, { tableBytes: number; recordBytes: number }> = {};
    for (const p of policySpecs()) {
      policies[p.name] = { tableBytes: this.x.policyEngineBytes(p.id) >>> 0, recordBytes: this.x.policyRecordBytes(p.id) >>> 0 };
    }
    return { vm: this.x.vmEngineBytes() >>> 0, ids: this.x.idTableBytes() >>> 0, policies };
  }

  // ------------------------------------------------------------------ VM access (profiles, tests)

  readonly vm = {
    reserve: (sizeBytes: number, opts: { at?: number; type?: TypeName; usage?: UsageName; owner?: number; topDown?: boolean; pageAligned?: boolean } = {}):
      { base: number; status: string } => {
      const base = this.guard(() => this.x.vmReserve(
        BigInt(sizeBytes), BigInt(opts.at ?? 0), RegionType[opts.type ?? 'private'], Usage[opts.usage ?? 'other'],
        opts.owner ?? NO_OWNER, (opts.topDown ? 1 : 0) | (opts.pageAligned ? 2 : 0)));
      const st = Number(this.x.vmLastStatus.value);
      return { base: Number(base), status: STATUS_NAMES[st] ?? String(st) };
    },
    commit: (addr: number, sizeBytes: number): VmCallResult => this.status(this.x.vmCommit(BigInt(addr), BigInt(sizeBytes))),
    decommit: (addr: number, sizeBytes: number): VmCallResult => this.status(this.x.vmDecommit(BigInt(addr), BigInt(sizeBytes))),
    release: (base: number): VmCallResult => this.status(this.x.vmRelease(BigInt(base))),
    resize: (base: number, sizeBytes: number): VmCallResult => this.status(this.x.vmResize(BigInt(base), BigInt(sizeBytes))),
    touch: (addr: number, sizeBytes: number): VmCallResult => this.status(this.x.vmTouch(BigInt(addr), BigInt(sizeBytes))),
    purge: (addr: number, sizeBytes: number): number => Number(this.x.vmPurge(BigInt(addr), BigInt(sizeBytes))),
    isCommitted: (addr: number): boolean => this.x.vmIsCommitted(BigInt(addr)) !== 0,
    isResident: (addr: number): boolean => this.x.vmIsResident(BigInt(addr)) !== 0,
    check: (): number => this.x.vmCheck(),
    /** Every range of the address space in address order, free gaps included. */
    walk: (): RegionInfo[] => {
      const count = this.x.vmWalk(0, 0);
      const ptr = this.scratch(count * 32);
      this.x.vmWalk(ptr, count);
      const f = new Float64Array(this.x.memory.buffer, ptr, count * 4);
      const out: RegionInfo[] = [];
      for (let i = 0; i < count; i++) {
        const bits = f[i * 4 + 2]!;
        const owner = (bits >>> 16) & 0xff;
        out.push({
          base: f[i * 4]!, sizeBytes: f[i * 4 + 1]!, free: ((bits >>> 24) & 0xff) === 0,
          type: TYPE_NAMES[bits & 0xff]!, usage: USAGE_NAMES[(bits >>> 8) & 0xff]!,
          owner: owner === NO_OWNER ? -1 : owner, committedBytes: f[i * 4 + 3]! * 4096,
        });
      }
      return out;
    },
  };

  private status(st: number): VmCallResult {
    return { status: STATUS_NAMES[st] ?? String(st), ok: st === Status.OK };
  }

  // ------------------------------------------------------------------ internals

  private guard<T>(fn: () => T): T {
    if (this.released) throw new Error('engine already released');
    if (this.broken) throw this.broken;
    try {
      return fn();
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError || (err instanceof Error && err.message.startsWith('abort'))) {
        const op = this.x.currentOp();
        this.broken = new EngineTrapError(err.message, this.batches, op, { cause: err });
        throw this.broken;
      }
      throw err;
    }
  }

  private readSamples(): Sample[] {
    const count = this.x.samplesCount();
    if (!count) return [];
    // Views are re-derived after every call: any memory.grow detaches the old buffer.
    const f = new Float64Array(this.x.memory.buffer, this.x.samplesPtr(), count * SAMPLE_SLOTS);
    const extraCount = this.x.samplesExtrasCount();
    const extras = extraCount ? new Float64Array(this.x.memory.buffer, this.x.samplesExtrasPtr(), extraCount) : undefined;
    const out: Sample[] = [];
    for (let i = 0; i < count; i++) out.push(this.decodeSample(f, i * SAMPLE_SLOTS, extras));
    return out;
  }

  private decodeSample(f: Float64Array, o: number, extras?: Float64Array): Sample {
    const mark = f[o + H.MARK]!;
    const v = o + SAMPLE_HEADER_SLOTS;
    const usageBytes = {} as Record<UsageName, number>;
    const usageRegions = {} as Record<UsageName, number>;
    for (let u = 0; u < USAGE_COUNT; u++) {
      usageBytes[USAGE_NAMES[u]!] = f[v + V.USAGE_BYTES + u]!;
      usageRegions[USAGE_NAMES[u]!] = f[v + V.USAGE_REGIONS + u]!;
    }
    const typeBytes = {} as Record<TypeName, number>;
    const typeRegions = {} as Record<TypeName, number>;
    for (let t = 0; t < REGION_TYPE_COUNT; t++) {
      typeBytes[TYPE_NAMES[t]!] = f[v + V.TYPE_BYTES + t]!;
      typeRegions[TYPE_NAMES[t]!] = f[v + V.TYPE_REGIONS + t]!;
    }
    const vm: VmCounters = {
      totalBytes: f[v + V.TOTAL]!, reservedBytes: f[v + V.RESERVED]!, committedBytes: f[v + V.COMMITTED]!,
      residentBytes: f[v + V.RESIDENT]!, freeBytes: f[v + V.FREE]!, largestFreeBytes: f[v + V.LARGEST_FREE]!,
      largestFreeBase: f[v + V.LARGEST_FREE_BASE]!, regions: f[v + V.REGIONS]!,
      committedRanges: f[v + V.COMMITTED_RUNS]!, uncommittedRanges: f[v + V.UNCOMMITTED_RUNS]!,
      freeRanges: f[v + V.FREE_RUNS]!, committedPeakBytes: f[v + V.COMMITTED_PEAK]!,
      residentPeakBytes: f[v + V.RESIDENT_PEAK]!, commitCalls: f[v + V.COMMIT_CALLS]!,
      decommitCalls: f[v + V.DECOMMIT_CALLS]!, usageBytes, usageRegions, typeBytes, typeRegions,
    };
    const heaps: HeapSample[] = [];
    const live = f[o + H.HEAPS]!;
    for (let h = 0; h < MAX_HEAPS; h++) {
      if (!((live >>> h) & 1)) continue;
      const k = o + SAMPLE_HEADER_SLOTS + VM_SLOTS + h * HEAP_SLOTS;
      const spec = policyById(f[k + K.POLICY]!);
      const policyCounters: Record<string, number> = {};
      spec?.counters.forEach((name, i) => { policyCounters[name] = f[k + K.POLICY_BASE + i]!; });
      heaps.push({
        heap: h, policy: spec?.name ?? `policy-${f[k + K.POLICY]}`, parent: f[k + K.PARENT]!,
        reservedBytes: f[k + K.RESERVED]!, committedBytes: f[k + K.COMMITTED]!, residentBytes: f[k + K.RESIDENT]!,
        busyBytes: f[k + K.BUSY]!, requestedBytes: f[k + K.REQUESTED]!, liveBlocks: f[k + K.LIVE_BLOCKS]!,
        freeBytes: f[k + K.FREE]!, freeBlocks: f[k + K.FREE_BLOCKS]!, largestFreeBytes: f[k + K.LARGEST_FREE]!,
        uncommittedRanges: f[k + K.UNCOMMITTED_RANGES]!, segments: f[k + K.SEGMENTS]!,
        virtualBlocks: f[k + K.VIRTUAL_BLOCKS]!, virtualBytes: f[k + K.VIRTUAL_BYTES]!, allocs: f[k + K.ALLOCS]!,
        frees: f[k + K.FREES]!, failedAllocs: f[k + K.FAILED_ALLOCS]!, peakCommittedBytes: f[k + K.PEAK_COMMITTED]!,
        peakRequestedBytes: f[k + K.PEAK_REQUESTED]!, peaks: decodeHeapPeaks(f, o + RUN_BASE + R.HEAP_PEAKS + h * RUN_HEAP_SLOTS),
        policyCounters, params: this.heapParams[h]!,
      });
      const n = f[k + K.EXTRAS_COUNT]!;
      if (n > 0 && extras) heaps[heaps.length - 1]!.extras = Array.from(extras.subarray(f[k + K.EXTRAS_AT]!, f[k + K.EXTRAS_AT]! + n));
    }
    return {
      event: f[o + H.EVENT]!, label: mark < 0 ? null : this.labels[mark] ?? `mark-${mark}`, tick: f[o + H.TICK]!,
      failedOps: f[o + H.FAILED_OPS]!, vm, heaps, program: decodeProgram(f, o + RUN_BASE),
    };
  }
}

function peakAt(f: Float64Array, bytes: number, event: number): Peak {
  return { bytes: f[bytes]!, event: f[event]! };
}

function decodeHeapPeaks(f: Float64Array, p: number): HeapPeaks {
  return {
    committedBytes: peakAt(f, p + P.COMMITTED, p + P.COMMITTED_EVENT),
    residentBytes: peakAt(f, p + P.RESIDENT, p + P.RESIDENT_EVENT),
    reservedBytes: peakAt(f, p + P.RESERVED, p + P.RESERVED_EVENT),
    requestedBytes: peakAt(f, p + P.REQUESTED, p + P.REQUESTED_EVENT),
  };
}

function decodeProgram(f: Float64Array, r: number): ProgramCounters {
  const failEvent = f[r + R.FIRST_FAIL_EVENT]!;
  return {
    liveBytes: f[r + R.LIVE_BYTES]!,
    liveBlocks: f[r + R.LIVE_BLOCKS]!,
    failedAllocs: f[r + R.FAILED_ALLOCS]!,
    failedBytes: f[r + R.FAILED_BYTES]!,
    firstFailure: failEvent ? {
      event: failEvent, sizeBytes: f[r + R.FIRST_FAIL_BYTES]!,
      reason: (FAIL_REASONS[f[r + R.FIRST_FAIL_REASON]!] ?? 'policy-limit') as AllocationFailure['reason'],
      heap: f[r + R.FIRST_FAIL_HEAP]!,
    } : null,
    implicitFrees: f[r + R.IMPLICIT_FREES]!,
    heapsCommittedBytes: f[r + R.HEAPS_COMMITTED]!,
    heapsResidentBytes: f[r + R.HEAPS_RESIDENT]!,
    atCommittedPeak: { liveBytes: f[r + R.AT_PEAK_LIVE]!, heapsResidentBytes: f[r + R.AT_PEAK_RESIDENT]! },
    peaks: {
      liveBytes: peakAt(f, r + R.LIVE_PEAK, r + R.LIVE_PEAK_EVENT),
      heapsCommittedBytes: peakAt(f, r + R.HEAPS_COMMITTED_PEAK, r + R.HEAPS_COMMITTED_PEAK_EVENT),
      heapsResidentBytes: peakAt(f, r + R.HEAPS_RESIDENT_PEAK, r + R.HEAPS_RESIDENT_PEAK_EVENT),
      processCommittedBytes: peakAt(f, r + R.PROCESS_COMMITTED_PEAK, r + R.PROCESS_COMMITTED_PEAK_EVENT),
      processResidentBytes: peakAt(f, r + R.PROCESS_RESIDENT_PEAK, r + R.PROCESS_RESIDENT_PEAK_EVENT),
    },
  };
}

/**
 * The module's policy table (assembly/policies/registry.ts, read through its exports) must be the
 * host's (src/policies/registry.ts) name for name, id for id: a stale build or a policy registered
 * on one side only is an error here, not a heap of the wrong policy later.
 */
function checkPolicyTable(x: EngineExports): void {
  const host = policySpecs();
  const count = x.policyCount();
  const names: string[] = [];
  for (let id = 1; id <= count; id++) names.push(readString(x, x.policyName(id)));
  const hostNames = host.map((p) => p.name);
  if (names.join(',') !== hostNames.join(',')) {
    throw new Error(`engine module policies [${names.join(', ')}] differ from the host's [${hostNames.join(', ')}]: rebuild (npm run build)`);
  }
}

/** An AssemblyScript string of the module (UTF-16, byte length in the word before it). */
export function readString(x: { memory: WebAssembly.Memory }, ptr: number): string {
  if (!ptr) return '';
  const bytes = new Uint32Array(x.memory.buffer, ptr - 4, 1)[0]!;
  return String.fromCharCode(...new Uint16Array(x.memory.buffer, ptr, bytes >>> 1));
}
