// Process profiles: background regions laid out before any heap, so a simulated process looks like
// a real one in `!address -summary`. Sizes of `windows-service-x86` come from the seed's "Before
// peak hours" dump (KB values quoted beside each item); commit amounts are our own estimate chosen
// so that the process's MEM_COMMIT before the peak is close to the seed's 620864 KB when the
// simulated heap holds about 500 MB.
import type { ArchName } from './abi.js';
import type { TypeName, UsageName } from '../report/types.js';
import { UsageError } from '../errors.js';
import { ownEntry } from '../names.js';

const KiB = 1024;
const PAGE = 4096;

export interface RegionGroup {
  what: string;
  usage: UsageName;
  type: TypeName;
  /** Total reserved bytes of the group, split into `count` regions of whole pages. */
  totalBytes: number;
  count: number;
  /** Committed bytes per region (capped at the region size); -1 = all. */
  commitBytesEach: number;
  /** Place the group from this address upwards (64 KiB aligned); default: lowest free. */
  fromAddress?: number;
}

export interface Profile {
  name: string;
  description: string;
  /** The operating system the profile imitates ('any' for an empty address space). */
  platform: 'linux' | 'windows' | 'any';
  arch: ArchName[];
  groups: RegionGroup[];
}

export const PROFILES: Record<string, Profile> = {
  bare: { name: 'bare', description: 'an empty address space', platform: 'any', arch: ['x86', 'x86-3gb', 'x64'], groups: [] },
  'windows-service-x86': {
    name: 'windows-service-x86',
    description: 'a 32-bit Windows service with 90 threads, sized from the seed dump before peak hours',
    platform: 'windows',
    arch: ['x86', 'x86-3gb'],
    groups: [
      // RegionUsageImage 68936 KB, MEM_IMAGE: executable and DLLs, committed, placed high as loaders do.
      { what: 'images', usage: 'image', type: 'image', totalBytes: 68936 * KiB, count: 40, commitBytesEach: -1, fromAddress: 0x7000_0000 },
      // RegionUsageStack 92160 KB: 90 threads × 1 MiB reserve; 64 KiB committed each (our estimate).
      { what: 'stacks', usage: 'stack', type: 'private', totalBytes: 92160 * KiB, count: 90, commitBytesEach: 64 * KiB },
      // RegionUsageTeb 360 KB: one 4 KiB TEB per thread.
      { what: 'TEBs', usage: 'teb', type: 'private', totalBytes: 360 * KiB, count: 90, commitBytesEach: -1 },
      // RegionUsagePeb, RegionUsageProcessParametrs, RegionUsageEnvironmentBlock: 4 KB each.
      { what: 'PEB', usage: 'peb', type: 'private', totalBytes: 4 * KiB, count: 1, commitBytesEach: -1 },
      { what: 'process parameters', usage: 'processParameters', type: 'private', totalBytes: 4 * KiB, count: 1, commitBytesEach: -1 },
      { what: 'environment block', usage: 'environmentBlock', type: 'private', totalBytes: 4 * KiB, count: 1, commitBytesEach: -1 },
      // MEM_MAPPED 11744 KB (counted under RegionUsageIsVAD in the old format): NLS tables, section views.
      { what: 'mapped views', usage: 'mappedFile', type: 'mapped', totalBytes: 11744 * KiB, count: 8, commitBytesEach: -1 },
      // The rest of RegionUsageIsVAD (118068 − 11744 = 106324 KB): VirtualAlloc'd private memory.
      { what: 'private VirtualAlloc regions', usage: 'other', type: 'private', totalBytes: 106324 * KiB, count: 12, commitBytesEach: 448 * KiB },
      // Other heaps of the process (1294220 KB of RegionUsageHeap minus the service heap's 1255320 K).
      { what: 'other heaps', usage: 'heap', type: 'private', totalBytes: 38900 * KiB, count: 4, commitBytesEach: 4000 * KiB },
    ],
  },
};

export function profileNames(): string[] {
  return Object.keys(PROFILES).sort();
}

/** Splits `total` bytes into `count` page-multiple sizes that add up exactly (pages spread evenly). */
export function splitPages(totalBytes: number, count: number): number[] {
  const pages = totalBytes / PAGE;
  if (!Number.isInteger(pages)) throw new RangeError(`${totalBytes} is not whole pages`);
  const base = Math.floor(pages / count);
  const extra = pages - base * count;
  return Array.from({ length: count }, (_, i) => (base + (i < extra ? 1 : 0)) * PAGE);
}

/** What a profile needs of an engine (the Engine class has it). */
export interface ProfileTarget {
  readonly arch: ArchName;
  readonly vm: {
    reserve(sizeBytes: number, opts: { at?: number; type?: TypeName; usage?: UsageName }): { base: number; status: string };
    commit(addr: number, sizeBytes: number): { status: string; ok: boolean };
  };
}

export function applyProfile(engine: ProfileTarget, name: string): void {
  const profile = ownEntry(PROFILES, name);
  if (!profile) throw new UsageError(`unknown profile '${name}' (known: ${profileNames().join(', ')})`);
  if (!profile.arch.includes(engine.arch)) {
    throw new UsageError(`profile '${name}' is for ${profile.arch.join('/')}, not ${engine.arch}`);
  }
  for (const g of profile.groups) {
    let at = g.fromAddress;
    for (const size of splitPages(g.totalBytes, g.count)) {
      const r = engine.vm.reserve(size, { at, type: g.type, usage: g.usage });
      if (!r.base) throw new Error(`profile ${name}: cannot reserve ${g.what} (${r.status})`);
      const commit = g.commitBytesEach < 0 ? size : Math.min(size, g.commitBytesEach);
      if (commit > 0) {
        const c = engine.vm.commit(r.base, commit);
        if (!c.ok) throw new Error(`profile ${name}: cannot commit ${g.what} (${c.status})`);
      }
      if (at !== undefined) at = Math.ceil((r.base + size) / 65536) * 65536;
    }
  }
}
