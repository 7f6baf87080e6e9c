// `windows-service-peak`: the seed's Windows service (docs/scenarios.md has the full story and the
// knob table). One heap, an x86 process on the `windows-service-x86` profile, seven phases:
//
//   1 warm-up        the service loads its long-lived caches (small and medium objects)
//   2 earlier peak   an earlier busy period: bulk buffers (tens of KiB, transient) interleaved with
//                    small cache entries that survive; it grows the heap's reservation to ~1.2 GB
//   3 earlier drain  the bulk buffers are freed: their runs are big enough for the decommit rule, so
//                    their whole pages go back (holes, i.e. uncommitted ranges) while the pages
//                    around the surviving entries stay committed with free pieces in them
//   4 steady         light churn of small requests                                 → mark `before`
//   5 peak           requests, each a transient buffer plus a small session record that outlives
//                    it; the heap fills its free pieces and recommits its holes; some old cache
//                    entries are replaced; occasional large buffers (own reservations)  → mark `peak`
//   6 drain          every transient buffer of the peak is freed: each freed run lies between two
//                    surviving session records and is smaller than the decommit threshold, so it
//                    stays committed as a free block
//   7 quiet          light churn again                                              → mark `after`
//
// Everything random comes from one seeded Prng, so a seed gives the same ops byte for byte.
import { OpBuffer, DEFAULT_BATCH_OPS } from '../engine/ops.js';
import { Prng } from './prng.js';
import type { Workload } from './workload.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A log-normal size range: median, shape, bounds (bytes). */
export interface SizeRange {
  medianBytes: number;
  sigma: number;
  minBytes: number;
  maxBytes: number;
}

export interface WindowsServicePeakOptions {
  seed?: number;
  /** Phase 1: bytes of long-lived cache objects the service holds from the start. */
  cacheBytes?: number;
  /** Sizes of those cache objects. */
  cacheSizes?: SizeRange;
  /** Phase 2: bytes requested by the earlier peak (bulk buffers and their cache entries). */
  earlierPeakBytes?: number;
  /** Sizes of the earlier peak's bulk buffers (transient). */
  bulkSizes?: SizeRange;
  /** Sizes of the small cache entry that follows each bulk buffer and survives. */
  bulkEntrySizes?: SizeRange;
  /** Phases 4 and 7: churn events (alloc or free of a small request object). */
  steadyEvents?: number;
  quietEvents?: number;
  /** Live small request objects during churn. */
  churnLiveObjects?: number;
  churnSizes?: SizeRange;
  /** Phase 5: bytes of transient request buffers live at the peak plateau. */
  peakTransientBytes?: number;
  /** Sizes of the peak's transient request buffers. */
  requestSizes?: SizeRange;
  /** Share of peak requests whose buffer is shrunk (realloc) to a session record kept after the peak. */
  sessionShare?: number;
  /** Sizes of those session records. */
  sessionSizes?: SizeRange;
  /** Share of all cache entries (warm-up, earlier peak, sessions) that expire after the peak. */
  cacheExpiry?: number;
  /** Events of churn on the peak plateau (free a random transient buffer, serve a new request). */
  plateauEvents?: number;
  /** Share of the plateau's requests that complete just before the `peak` snapshot. */
  plateauEndShare?: number;
  /** One peak request in this many also allocates a large buffer (above the 508 KiB threshold)... */
  largeBufferEvery?: number;
  largeBufferSizes?: SizeRange;
  /** ...and this many large buffers stay live at a time. */
  largeBuffersLive?: number;
  batchOps?: number;
}

export const WINDOWS_SERVICE_PEAK_DEFAULTS: Required<WindowsServicePeakOptions> = {
  seed: 1,
  cacheBytes: 220 * MiB,
  cacheSizes: { medianBytes: 900, sigma: 0.9, minBytes: 32, maxBytes: 16 * KiB },
  earlierPeakBytes: 960 * MiB,
  bulkSizes: { medianBytes: 16 * KiB, sigma: 0.5, minBytes: 6 * KiB, maxBytes: 64 * KiB },
  bulkEntrySizes: { medianBytes: 192, sigma: 0.5, minBytes: 64, maxBytes: 1 * KiB },
  steadyEvents: 40_000,
  quietEvents: 40_000,
  churnLiveObjects: 4_000,
  churnSizes: { medianBytes: 256, sigma: 1.0, minBytes: 16, maxBytes: 4 * KiB },
  peakTransientBytes: 680 * MiB,
  requestSizes: { medianBytes: 2400, sigma: 0.25, minBytes: 1 * KiB, maxBytes: 3400 },
  sessionShare: 0.98,
  sessionSizes: { medianBytes: 48, sigma: 0.3, minBytes: 24, maxBytes: 256 },
  cacheExpiry: 0.05,
  plateauEvents: 60_000,
  plateauEndShare: 0.05,
  largeBufferEvery: 2_000,
  largeBufferSizes: { medianBytes: 1 * MiB, sigma: 0.4, minBytes: 600 * KiB, maxBytes: 4 * MiB },
  largeBuffersLive: 8,
  batchOps: DEFAULT_BATCH_OPS,
};

export const WINDOWS_SERVICE_PEAK_LABELS = ['before', 'peak', 'after'];

/** The heap parameters the scenario runs the `nt` policy with (see docs/scenarios.md). */
export const WINDOWS_SERVICE_PEAK_NT_PARAMS: Record<string, number> = {
  // The seed's heap prints "L" (lookaside lists, Windows Server 2003): no LFH in front of the back end.
  lfh: 0,
  // Segments double up to 64 MiB, so a 1.2 GB reservation is ~25 segments instead of one 1 GiB reservation.
  segmentReserveMaxBytes: 64 * MiB,
};

export function windowsServicePeak(options: WindowsServicePeakOptions = {}): Workload {
  const o = { ...WINDOWS_SERVICE_PEAK_DEFAULTS, ...options };
  return {
    name: 'windows-service-peak',
    labels: WINDOWS_SERVICE_PEAK_LABELS,
    description: 'the seed: an earlier peak grows the heap to ~1.2 GB; before/peak/after of a later peak (commit rises and stays)',
    seed: o.seed,
    defaultArch: 'x86',
    defaultProfile: 'windows-service-x86',
    policyParams: { nt: WINDOWS_SERVICE_PEAK_NT_PARAMS },
    batches: () => generate(o),
  };
}

function draw(rng: Prng, r: SizeRange): number {
  const v = Math.round(rng.logNormal(r.medianBytes, r.sigma));
  return Math.min(r.maxBytes, Math.max(r.minBytes, v));
}

function* generate(o: Required<WindowsServicePeakOptions>): Generator<OpBuffer> {
  const rng = new Prng(o.seed);
  let ops = new OpBuffer(o.batchOps);
  const freeIds: number[] = [];
  let nextId = 0;
  const newId = (): number => (freeIds.length ? freeIds.pop()! : nextId++);
  // Emits one op through a buffer that is yielded when full.
  const pending: OpBuffer[] = [];
  const room = (): void => {
    if (ops.length + 1 > ops.capacity) { pending.push(ops); ops = new OpBuffer(o.batchOps); }
  };
  const alloc = (size: number): number => { room(); const id = newId(); ops.alloc(0, id, size); return id; };
  const free = (id: number): void => { room(); ops.free(0, id); freeIds.push(id); };
  const mark = (label: number): void => { room(); ops.mark(label); };
  /** Removes and returns a random element (order does not matter). */
  const takeRandom = (a: number[]): number => {
    const k = rng.int(a.length);
    const v = a[k]!;
    a[k] = a[a.length - 1]!;
    a.pop();
    return v;
  };
  const flush = function* (): Generator<OpBuffer> { while (pending.length) yield pending.shift()!; };

  // 1 warm-up: long-lived caches.
  const cache: number[] = [];
  for (let bytes = 0; bytes < o.cacheBytes;) {
    const s = draw(rng, o.cacheSizes);
    cache.push(alloc(s));
    bytes += s;
    yield* flush();
  }
  // 2 earlier peak: bulk buffers, each followed by a surviving cache entry.
  const bulk: number[] = [];
  for (let bytes = 0; bytes < o.earlierPeakBytes;) {
    const b = draw(rng, o.bulkSizes);
    bulk.push(alloc(b));
    const e = draw(rng, o.bulkEntrySizes);
    cache.push(alloc(e));
    bytes += b + e;
    yield* flush();
  }
  // 3 earlier drain: the bulk buffers go, in random order.
  while (bulk.length) { free(takeRandom(bulk)); yield* flush(); }
  // 4 steady churn.
  const churn: number[] = [];
  const churnStep = (): void => {
    if (churn.length < o.churnLiveObjects && rng.next() < 0.5 + 0.5 * (1 - churn.length / o.churnLiveObjects)) churn.push(alloc(draw(rng, o.churnSizes)));
    else if (churn.length) free(takeRandom(churn));
  };
  for (let i = 0; i < o.steadyEvents; i++) { churnStep(); yield* flush(); }
  mark(0);
  // 5 peak: each request is one buffer; occasional large buffers (own reservations).
  const requests: number[] = [];
  const large: number[] = [];
  let served = 0;
  const request = (): number => {
    const size = draw(rng, o.requestSizes);
    requests.push(alloc(size));
    if (++served % o.largeBufferEvery === 0) {
      large.push(alloc(draw(rng, o.largeBufferSizes)));
      if (large.length > o.largeBuffersLive) free(large.shift()!);
    }
    return size;
  };
  for (let bytes = 0; bytes < o.peakTransientBytes;) { bytes += request(); yield* flush(); }
  // Plateau: requests complete (buffer freed) and new ones arrive.
  for (let i = 0; i < o.plateauEvents; i++) {
    free(takeRandom(requests));
    request();
    yield* flush();
  }
  // The load starts to fall: a share of the requests complete before the peak's snapshot.
  for (let n = Math.floor(requests.length * o.plateauEndShare); n > 0; n--) { free(takeRandom(requests)); yield* flush(); }
  mark(1);
  // 6 drain, in random order: most request buffers are shrunk in place (realloc) to the small
  // session record the service keeps; the rest are freed. Then the large buffers go, and a share of
  // the old cache entries expires.
  while (requests.length) {
    const id = takeRandom(requests);
    if (rng.next() < o.sessionShare) { room(); ops.realloc(0, id, draw(rng, o.sessionSizes)); cache.push(id); } else free(id);
    yield* flush();
  }
  while (large.length) { free(large.shift()!); yield* flush(); }
  for (let n = Math.floor(cache.length * o.cacheExpiry); n > 0; n--) { free(takeRandom(cache)); yield* flush(); }
  // 7 quiet churn.
  for (let i = 0; i < o.quietEvents; i++) { churnStep(); yield* flush(); }
  mark(2);
  yield* flush();
  if (ops.length) yield ops;
}
