// === jemalloc 5.3.0 (x86-64, 4 KiB pages): size classes, slab geometry, page-size classes, PRNG ===
//
// Everything here is arithmetic on sizes; docs/jemalloc.md states the rules in words.
//   Size classes: 8 (the one tiny class), then four classes per doubling: 16, 32, 48, 64, 80, 96,
//   112, 128, 160, … Classes below 16 KiB are "small" (36 bins, carved from slabs), the rest "large"
//   (each its own page run). A size class index (szind) numbers them all from 0.
//   Page-size classes (pszind) are the classes that are whole pages: 4, 8, 12, 16, 20, 24, 28, 32,
//   40, 48 KiB, …; the extent allocator files free page runs by them.
//   A slab of a small class is the smallest whole number of pages that the class divides exactly.

// ---------------------------------------------------------------- constants (sc.h, sz.h, pages.h)

export const LG_PAGE: u64 = 12;                           // jemalloc_internal_defs.h: LG_PAGE
export const PAGE: u64 = 1 << LG_PAGE;
export const PAGE_MASK: u64 = PAGE - 1;
export const LG_QUANTUM: u64 = 4;                         // quantum.h: LG_QUANTUM (x86-64)
export const QUANTUM: u64 = 1 << LG_QUANTUM;
export const LG_TINY_MIN: u64 = 3;                        // sc.h: SC_LG_TINY_MIN
export const LG_NGROUP: u64 = 2;                          // sc.h: SC_LG_NGROUP (4 classes per doubling)
export const NGROUP: u64 = 1 << LG_NGROUP;
export const NTINY: u32 = 1;                              // sc.h: SC_NTINY (LG_QUANTUM - SC_LG_TINY_MIN)
export const NBINS: u32 = 36;                             // sc.h: SC_NBINS
export const NSIZES: u32 = 232;                           // sc.h: SC_NSIZES
export const NPSIZES: u32 = 199;                          // sc.h: SC_NPSIZES
export const SMALL_MAXCLASS: u64 = 14336;                 // sc.h: SC_SMALL_MAXCLASS
export const LARGE_MINCLASS: u64 = 16384;                 // sc.h: SC_LARGE_MINCLASS
export const LARGE_MAXCLASS: u64 = 0x7000000000000000;    // sc.h: SC_LARGE_MAXCLASS (2^62 + 3 × 2^60)
export const LG_HUGEPAGE: u64 = 21;                       // jemalloc_internal_defs.h: LG_HUGEPAGE
export const HUGEPAGE: u64 = 1 << LG_HUGEPAGE;
export const CACHELINE: u64 = 64;                         // jemalloc_internal_types.h: CACHELINE
export const LARGE_PAD: u64 = PAGE;                       // sz.c: sz_large_pad (opt.cache_oblivious on)

// @ts-ignore: decorator
@inline export function alignCeil(x: u64, a: u64): u64 { return (x + a - 1) & ~(a - 1); }
// @ts-ignore: decorator
@inline export function pageCeil(x: u64): u64 { return (x + PAGE_MASK) & ~PAGE_MASK; }
// @ts-ignore: decorator
@inline export function lgFloor(x: u64): u64 { return 63 - <u64>clz(x); }
// @ts-ignore: decorator
@inline function lgCeil(x: u64): u64 { return x <= 1 ? 0 : 64 - <u64>clz(x - 1); }

// ---------------------------------------------------------------- size class index (sz.h)

// sz_size2index: the class that holds `size` (0 → class 0; above LARGE_MAXCLASS → NSIZES).
export function size2index(size: u64): u32 {
  if (size > LARGE_MAXCLASS) return NSIZES;
  if (size <= 8) return 0;
  const x = lgFloor((size << 1) - 1);
  const shift = x < LG_NGROUP + LG_QUANTUM ? 0 : x - (LG_NGROUP + LG_QUANTUM);
  const grp = shift << LG_NGROUP;
  const lgDelta = x < LG_NGROUP + LG_QUANTUM + 1 ? LG_QUANTUM : x - LG_NGROUP - 1;
  const mod = (((size - 1) & (~(<u64>0) << lgDelta)) >> lgDelta) & (NGROUP - 1);
  return NTINY + <u32>(grp + mod);
}

// sz_index2size
export function index2size(index: u32): u64 {
  if (index < NTINY) return <u64>1 << (LG_TINY_MIN + <u64>index);
  const reduced = <u64>(index - NTINY);
  const grp = reduced >> LG_NGROUP;
  const mod = reduced & (NGROUP - 1);
  const grpSize = grp ? (<u64>1 << (LG_QUANTUM + LG_NGROUP - 1)) << grp : 0;
  const lgDelta = (grp == 0 ? 1 : grp) + LG_QUANTUM - 1;
  return grpSize + ((mod + 1) << lgDelta);
}

// sz_s2u: the usable size of a request (0 when it is too big).
export function s2u(size: u64): u64 {
  if (size > LARGE_MAXCLASS) return 0;
  if (size == 0) size = 1;
  if (size <= 8) return 8;
  const x = lgFloor((size << 1) - 1);
  const lgDelta = x < LG_NGROUP + LG_QUANTUM + 1 ? LG_QUANTUM : x - LG_NGROUP - 1;
  const mask = (<u64>1 << lgDelta) - 1;
  return (size + mask) & ~mask;
}

// sz_sa2u: the usable size of an aligned request (0 when impossible).
export function sa2u(size: u64, alignment: u64): u64 {
  if (size <= SMALL_MAXCLASS && alignment <= PAGE) {
    const usize = s2u(alignCeil(size, alignment));
    if (usize < LARGE_MINCLASS) return usize;
  }
  if (alignment > LARGE_MAXCLASS) return 0;
  let usize: u64;
  if (size <= LARGE_MINCLASS) usize = LARGE_MINCLASS;
  else {
    usize = s2u(size);
    if (usize < size) return 0;
  }
  if (usize + LARGE_PAD + alignCeil(alignment, PAGE) - PAGE < usize) return 0;
  return usize;
}

// ---------------------------------------------------------------- page-size classes (sz.h, sz.c)

// sz_psz2ind: the first page-size class at or above `psz` (NPSIZES above LARGE_MAXCLASS).
export function psz2ind(psz: u64): u32 {
  if (psz > LARGE_MAXCLASS) return NPSIZES;
  const x = lgCeil(psz);
  const off = x < LG_NGROUP + LG_PAGE ? 0 : x - (LG_NGROUP + LG_PAGE);
  const lgDelta = off == 0 ? LG_PAGE : LG_PAGE + (off - 1);
  const inner = ((psz - 1) >> lgDelta) & (NGROUP - 1);
  return <u32>((off << LG_NGROUP) + inner);
}

// sz_pind2sz (NPSIZES maps to LARGE_MAXCLASS + PAGE)
export function pind2sz(pind: u32): u64 {
  if (pind >= NPSIZES) return LARGE_MAXCLASS + PAGE;
  const grp = <u64>pind >> LG_NGROUP;
  const mod = <u64>pind & (NGROUP - 1);
  const grpSize = grp ? (<u64>1 << (LG_PAGE + LG_NGROUP - 1)) << grp : 0;
  const lgDelta = (grp == 0 ? 1 : grp) + LG_PAGE - 1;
  return grpSize + ((mod + 1) << lgDelta);
}

// sz_psz2u: `psz` rounded up to its page-size class
export function psz2u(psz: u64): u64 {
  if (psz > LARGE_MAXCLASS) return LARGE_MAXCLASS + PAGE;
  const x = lgFloor((psz << 1) - 1);
  const lgDelta = x < LG_NGROUP + LG_PAGE + 1 ? LG_PAGE : x - LG_NGROUP - 1;
  const mask = (<u64>1 << lgDelta) - 1;
  return (psz + mask) & ~mask;
}

// sz_psz_quantize_floor: the largest "class + pad" size not above `size` (size: whole pages).
export function quantizeFloor(size: u64): u64 {
  const pind = psz2ind(size - LARGE_PAD + 1);
  if (pind == 0) return size;
  return pind2sz(pind - 1) + LARGE_PAD;
}

// sz_psz_quantize_ceil: the smallest "class + pad" size not below `size`.
export function quantizeCeil(size: u64): u64 {
  let ret = quantizeFloor(size);
  if (ret < size) ret = pind2sz(psz2ind(ret - LARGE_PAD + 1)) + LARGE_PAD;
  return ret;
}

// ---------------------------------------------------------------- bins (sc.c slab_size, bin_info.c)

const binRegTab = memory.data(<i32>NBINS * 8);    // u64 region size
const binPagesTab = memory.data(<i32>NBINS * 4);  // u32 slab pages
const binNregsTab = memory.data(<i32>NBINS * 4);  // u32 regions per slab
let binsReady = false;

// The slab of a class: the smallest number of pages that the region size divides exactly (sc.c).
function slabPagesOf(reg: u64): u32 {
  let pages: u64 = 1;
  while ((pages * PAGE) % reg) pages++;
  return <u32>pages;
}

export function initSizes(): void {
  if (binsReady) return;
  for (let i: u32 = 0; i < NBINS; i++) {
    const reg = index2size(i);
    const pages = slabPagesOf(reg);
    store<u64>(binRegTab + (<usize>i << 3), reg);
    store<u32>(binPagesTab + (<usize>i << 2), pages);
    store<u32>(binNregsTab + (<usize>i << 2), <u32>((<u64>pages * PAGE) / reg));
  }
  initTables();
  binsReady = true;
}

// @ts-ignore: decorator
@inline export function binRegSize(b: u32): u64 { return load<u64>(binRegTab + (<usize>b << 3)); }
// @ts-ignore: decorator
@inline export function binSlabBytes(b: u32): u64 { return <u64>load<u32>(binPagesTab + (<usize>b << 2)) << LG_PAGE; }
// @ts-ignore: decorator
@inline export function binNregs(b: u32): u32 { return load<u32>(binNregsTab + (<usize>b << 2)); }

// ---------------------------------------------------------------- decay and ticker tables

export const SMOOTHSTEP_NSTEPS: u32 = 200;   // smoothstep.h: SMOOTHSTEP_NSTEPS
export const SMOOTHSTEP_BFP: u64 = 24;       // smoothstep.h: SMOOTHSTEP_BFP (fixed-point fraction bits)
const TICKER_GEOM_NBITS: u64 = 6;            // ticker.h: TICKER_GEOM_NBITS
const TICKER_GEOM_MUL: u64 = 61;             // ticker.h: TICKER_GEOM_MUL
const hSteps = memory.data(<i32>SMOOTHSTEP_NSTEPS * 8);
const geomTable = memory.data(1 << <i32>TICKER_GEOM_NBITS);

// h[i] = floor(2^24 × S((i + 1) / 200)), S(x) = 6x^5 − 15x^4 + 10x^3 (the "smoother" step), computed
// exactly in integers as the generator script does with arbitrary precision.
// Ticker table: round(−61 × ln((i + 1) / 64)) for i in 0..63 (ticker.py).
function initTables(): void {
  const n = <u64>SMOOTHSTEP_NSTEPS;
  const den = n * n * n * n * n;
  for (let i: u64 = 0; i < n; i++) {
    const s = i + 1;
    const num = 6 * s * s * s * s * s - 15 * n * s * s * s * s + 10 * n * n * s * s * s;
    store<u64>(hSteps + (<usize>i << 3), (num << SMOOTHSTEP_BFP) / den);
  }
  const size = 1 << <i32>TICKER_GEOM_NBITS;
  for (let i = 0; i < size; i++) {
    store<u8>(geomTable + <usize>i, <u8>Math.round(-<f64>TICKER_GEOM_MUL * Math.log(<f64>(i + 1) / <f64>size)));
  }
}

// @ts-ignore: decorator
@inline export function hStep(i: u32): u64 { return load<u64>(hSteps + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline export function geomEntry(i: u32): u32 { return <u32>load<u8>(geomTable + <usize>i); }
export function tickerGeomBits(): u64 { return TICKER_GEOM_NBITS; }
export function tickerGeomMul(): u64 { return TICKER_GEOM_MUL; }

// ---------------------------------------------------------------- PRNG (prng.h, 64-bit LCG)

const PRNG_A_64: u64 = 6364136223846793005;   // prng.h: PRNG_A_64
const PRNG_C_64: u64 = 1442695040888963407;   // prng.h: PRNG_C_64

// prng_lg_range_u64: advances the state at `statePtr`, returns its top `lgRange` bits.
export function prngLgRange(statePtr: usize, lgRange: u64): u64 {
  const s = load<u64>(statePtr) * PRNG_A_64 + PRNG_C_64;
  store<u64>(statePtr, s);
  return s >> (64 - lgRange);
}

// prng_range_u64: uniform in [0, range) by rejection.
export function prngRange(statePtr: usize, range: u64): u64 {
  if (range <= 1) return 0;
  const lg = lgCeil(range);
  let r: u64;
  do { r = prngLgRange(statePtr, lg); } while (r >= range);
  return r;
}
