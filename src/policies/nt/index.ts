// nt: the host spec (engine side: assembly/policies/nt/). Listed once in src/policies/registry.ts.
import type { PolicyDecl } from '../kit/spec.js';
import { ntHeapView, ntRetentionCauses } from './view.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export const policy: PolicyDecl = {
  name: 'nt',
  description: 'Windows NT heap: NT5 back end (segments, UCRs, best fit, decommit thresholds) with the LFH front end',
  platform: 'windows',
  stackable: false,
  // Defaults marked "by architecture" are chosen by the engine when the parameter is not set; the
  // number shown is the x86 one.
  params: [
    { name: 'segmentReserveBytes', defaultValue: 1 * MiB, unit: 'bytes', meaning: 'first segment reservation (SegmentReserve)' },
    { name: 'segmentCommitBytes', defaultValue: 8 * KiB, unit: 'bytes', meaning: 'initial commit of a new segment (SegmentCommit)' },
    { name: 'segmentGrowthFactor', defaultValue: 2, unit: 'factor', meaning: 'next reservation += (factor - 1) x this one; 2 doubles (ReactOS), 1 keeps it fixed; Vista+ behaviour unknown' },
    { name: 'segmentReserveMaxBytes', defaultValue: 0, unit: 'bytes', meaning: 'cap on one segment reservation, 0 = none (Wine caps at 128 MiB; Windows unknown)' },
    { name: 'decommitFreeBlockThreshold', defaultValue: 4 * KiB, defaultByArch: { x64: 16 * KiB }, unit: 'bytes', meaning: 'DFBT: smallest coalesced free block whose whole pages are decommitted; by architecture: 4 KiB x86, 16 KiB x64 (one Win10 dump); raise it to model the Vista+ heuristics' },
    { name: 'decommitTotalFreeThreshold', defaultValue: 64 * KiB, unit: 'bytes', meaning: 'DTFT: back-end free bytes (with the block) needed before any decommit' },
    { name: 'virtualMemoryThreshold', defaultValue: 0x7f000, defaultByArch: { x64: 0xff000 }, unit: 'bytes', meaning: 'blocks above get their own reservation; by architecture: 0x7F000 x86, 0xFF000 x64' },
    { name: 'lfh', defaultValue: 1, unit: 'flag', meaning: '1 = the Low Fragmentation Heap front end may switch on; 0 = back end only' },
    { name: 'noSerialize', defaultValue: 0, unit: 'flag', meaning: '1 = HEAP_NO_SERIALIZE (flag 0x1): no LFH' },
    { name: 'lfhRandomChunks', defaultValue: 1, unit: 'flag', meaning: '1 = random free chunk in a user block (Win8+), 0 = lowest index (Win7)' },
    { name: 'virtCorrection', defaultValue: 1, unit: 'choice', meaning: 'Virt = Reserv minus: 0 nothing, 1 each segment\'s largest UCR (XP-era debugger), 2 every UCR >= virtLargeUcrBytes' },
    { name: 'virtLargeUcrBytes', defaultValue: 1 * MiB, unit: 'bytes', meaning: 'threshold of virtCorrection 2 (unknown in Windows)' },
    { name: 'freeListOrder', defaultValue: 0, unit: 'choice', meaning: 'ties between equal-size free blocks: 0 lowest address, 1 first inserted' },
  ],
  counters: [
    'segmentReservedBytes', 'segmentCommittedBytes', 'virtBytes', 'freeWholePageBytes', 'lfhUserBlocks',
    'lfhUserBlockBytes', 'lfhFreeChunkBytes', 'lfhLiveChunkBytes', 'decommittedBytes', 'heapAddress',
    'heapFlags', 'frontEndHeapType',
  ],
  heapView: ntHeapView,
  retentionCauses: ntRetentionCauses,
  // HeapCompact as the "what if the thresholds were zero" view: whole free pages decommitted.
  trimName: 'HeapCompact',
};
