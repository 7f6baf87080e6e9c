// `windows-service-peak`: the seed's Windows service (docs/scenarios.md has the full story, the
// knob table and the agreement with the seed's dumps). One heap, an x86 process on the
// `windows-service-x86` profile, eight phases; each stands for something the seed's three dumps show:
//
//   1 warm-up        the service loads its long-lived caches            (busy memory that never goes)
//   2 earlier peak   an earlier busy period: buffers of one to two pages ("medium") or tens of KiB
//                    ("bulk"), each followed by a small cache entry that survives; it grows the
//                    heap's reservation to ~1.2 GB                      (Reserv, the same in all dumps)
//   3 earlier drain  the buffers are freed: a bulk buffer's whole pages are decommitted (a hole, one
//                    uncommitted range, with a free piece of a page on either side); a medium buffer
//                    with no whole page inside stays committed as one free block of 4–6 KiB
//                                                                       (UCR and Free before the peak)
//   4 settle         the service builds its long-lived objects again, of every size below a page;
//                    best fit puts most of them exactly into the pieces the drain left
//                                                                       (about one free block per UCR)
//   5 steady         light churn of small requests                      → mark `before`
//   6 peak           requests of 1–3.8 KiB fill the free blocks, then recommit holes; a share of them
//                    completes just before the dump; large buffers get reservations of their own
//                                                                       → mark `peak` (commit ×1.9)
//   7 load goes on   more requests after the dump: the heap commits more (the seed's commit still
//                    rose after the peak dump), then the load falls: most buffers are shrunk in place
//                    to the session record the service keeps (the freed tail, walled in by two live
//                    records, has no whole page and stays committed), the rest are freed; a share of
//                    the cache expires                                  (Free after: 75 % of Commit)
//   8 quiet          light churn again                                  → mark `after`
//
// Everything random comes from one seeded Prng, so a seed gives the same ops byte for byte.
import { OpBuffer, DEFAULT_BATCH_OPS } from '../engine/ops.js';
import { Prng } from './prng.js';
import type { Workload } from './workload.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Several size ranges, each drawn with its share of the draws. */
export type SizeMix = SizeRange | Array<{ share: number; sizes: SizeRange }>;

/** A log-normal size range: median, shape, bounds (bytes); or, with `uniform`, even between the bounds. */
export interface SizeRange {
  medianBytes: number;
  sigma: number;
  minBytes: number;
  maxBytes: number;
  uniform?: boolean;
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
  /** Share of the earlier peak's buffers that are medium sized (one to two pages) instead of bulk. */
  mediumShare?: number;
  /** Sizes of those medium buffers. */
  mediumSizes?: SizeRange;
  /** Phase 4: long-lived objects the service allocates after the earlier drain (they settle in its free pieces). */
  settleObjects?: number;
  settleSizes?: SizeMix;
  /** Sizes of the small cache entry that follows each bulk buffer and survives. */
  bulkEntrySizes?: SizeRange;
  /** Phases 5 and 8: churn events (alloc or free of a small request object). */
  steadyEvents?: number;
  quietEvents?: number;
  /** Live small request objects during churn. */
  churnLiveObjects?: number;
  churnSizes?: SizeRange;
  /** Phase 6: bytes of transient request buffers live at the peak plateau. */
  peakTransientBytes?: number;
  /** Phase 7: bytes of requests served after the peak snapshot, before the load falls. */
  afterPeakBytes?: number;
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

// Calibrated so that `analyze` of the seed's dumps against this scenario on nt agrees within 10 %
// on every number the seed prints for its heap and address space (docs/scenarios.md, "Agreement").
export const WINDOWS_SERVICE_PEAK_DEFAULTS: Required<WindowsServicePeakOptions> = {
  seed: 1,
  cacheBytes: 102 * MiB,
  cacheSizes: { medianBytes: 900, sigma: 0.9, minBytes: 32, maxBytes: 16 * KiB },
  earlierPeakBytes: 1100 * MiB,
  bulkSizes: { medianBytes: 48_000, sigma: 0.4, minBytes: 16 * KiB, maxBytes: 128 * KiB },
  mediumShare: 0.86,
  mediumSizes: { medianBytes: 5400, sigma: 0.05, minBytes: 4800, maxBytes: 6000 },
  settleObjects: 108_000,
  // Pieces come in two kinds: either side of a bulk hole (anything below a page) and either side of
  // a medium buffer's one decommitted page (below ~1.9 KiB together); the sizes follow both.
  settleSizes: [
    { share: 0.59, sizes: { medianBytes: 0, sigma: 0, minBytes: 8, maxBytes: 1500, uniform: true } },
    { share: 0.41, sizes: { medianBytes: 0, sigma: 0, minBytes: 8, maxBytes: 4080, uniform: true } },
  ],
  bulkEntrySizes: { medianBytes: 192, sigma: 0.5, minBytes: 64, maxBytes: 1 * KiB },
  steadyEvents: 40_000,
  quietEvents: 40_000,
  churnLiveObjects: 4_000,
  churnSizes: { medianBytes: 256, sigma: 1.0, minBytes: 16, maxBytes: 4 * KiB },
  peakTransientBytes: 650 * MiB,
  afterPeakBytes: 180 * MiB,
  requestSizes: { medianBytes: 2600, sigma: 0.2, minBytes: 1 * KiB, maxBytes: 3800 },
  sessionShare: 0.93,
  sessionSizes: { medianBytes: 48, sigma: 0.3, minBytes: 24, maxBytes: 256 },
  cacheExpiry: 0.03,
  plateauEvents: 60_000,
  plateauEndShare: 0.13,
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

function draw(rng: Prng, mix: SizeMix): number {
  let r: SizeRange;
  if (Array.isArray(mix)) {
    let u = rng.next();
    r = mix[mix.length - 1]!.sizes;
    for (const m of mix) { if (u < m.share) { r = m.sizes; break; } u -= m.share; }
  } else {
    r = mix;
  }
  if (r.uniform) return r.minBytes + rng.int(r.maxBytes - r.minBytes + 1);
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
  // 2 earlier peak: medium or bulk buffers, each followed by a surviving cache entry.
  const bulk: number[] = [];
  for (let bytes = 0; bytes < o.earlierPeakBytes;) {
    const b = rng.next() < o.mediumShare ? draw(rng, o.mediumSizes) : draw(rng, o.bulkSizes);
    bulk.push(alloc(b));
    const e = draw(rng, o.bulkEntrySizes);
    cache.push(alloc(e));
    bytes += b + e;
    yield* flush();
  }
  // 3 earlier drain: the buffers go, in random order.
  while (bulk.length) { free(takeRandom(bulk)); yield* flush(); }
  // 4 settle: long-lived objects that best fit places in the free pieces the drain left.
  for (let i = 0; i < o.settleObjects; i++) { cache.push(alloc(draw(rng, o.settleSizes))); yield* flush(); }
  // 5 steady churn.
  const churn: number[] = [];
  const churnStep = (): void => {
    if (churn.length < o.churnLiveObjects && rng.next() < 0.5 + 0.5 * (1 - churn.length / o.churnLiveObjects)) churn.push(alloc(draw(rng, o.churnSizes)));
    else if (churn.length) free(takeRandom(churn));
  };
  for (let i = 0; i < o.steadyEvents; i++) { churnStep(); yield* flush(); }
  mark(0);
  // 6 peak: each request is one buffer; occasional large buffers (own reservations).
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
  // 7 the load goes on for a while after the snapshot: more requests, the heap commits more.
  for (let bytes = 0; bytes < o.afterPeakBytes;) { bytes += request(); yield* flush(); }
  // Then it falls, in random order: most request buffers are shrunk in place (realloc) to the small
  // session record the service keeps; the rest are freed. Then the large buffers go, and a share of
  // the old cache entries expires.
  while (requests.length) {
    const id = takeRandom(requests);
    if (rng.next() < o.sessionShare) { room(); ops.realloc(0, id, draw(rng, o.sessionSizes)); cache.push(id); } else free(id);
    yield* flush();
  }
  while (large.length) { free(large.shift()!); yield* flush(); }
  for (let n = Math.floor(cache.length * o.cacheExpiry); n > 0; n--) { free(takeRandom(cache)); yield* flush(); }
  // 8 quiet churn.
  for (let i = 0; i < o.quietEvents; i++) { churnStep(); yield* flush(); }
  mark(2);
  yield* flush();
  if (ops.length) yield ops;
}
