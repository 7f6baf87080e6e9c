// === Simulated address space: sizes and granularities ===

export const KiB: u64 = 1024;
export const MiB: u64 = 1024 * KiB;
export const GiB: u64 = 1024 * MiB;

// 4 KiB pages on x86 and x64 (Windows and Linux alike).
export const PAGE_SHIFT: u64 = 12;
export const PAGE_SIZE_BYTES: u64 = 1 << PAGE_SHIFT;
export const PAGE_MASK: u64 = PAGE_SIZE_BYTES - 1;

// Windows VirtualAlloc: reservations start on 64 KiB boundaries (SYSTEM_INFO.dwAllocationGranularity).
export const ALLOC_GRANULARITY_SHIFT: u64 = 16;
export const ALLOC_GRANULARITY_BYTES: u64 = 1 << ALLOC_GRANULARITY_SHIFT;
export const ALLOC_GRANULARITY_MASK: u64 = ALLOC_GRANULARITY_BYTES - 1;

// User address ranges, [USER_LOW, USER_HIGH_*) (Windows: the first and last 64 KiB are never usable).
export const USER_LOW: u64 = 0x10000;
export const USER_HIGH_X86: u64 = 0x7FFF0000;       // 2 GiB layout; total 0x7FFF0000 as !address prints
export const USER_HIGH_X86_3GB: u64 = 0xBFFF0000;   // /3GB boot option
export const USER_HIGH_X64: u64 = 0x7FFFFFFF0000;   // 128 TiB

if (PAGE_SIZE_BYTES & PAGE_MASK) ERROR("PAGE_SIZE_BYTES must be a power of two");
if (ALLOC_GRANULARITY_BYTES % PAGE_SIZE_BYTES) ERROR("granularity must be whole pages");

// @ts-ignore: decorator
@inline export function alignUp(x: u64, a: u64): u64 { return (x + a - 1) & ~(a - 1); }
// @ts-ignore: decorator
@inline export function alignDown(x: u64, a: u64): u64 { return x & ~(a - 1); }
