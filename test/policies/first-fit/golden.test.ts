// Golden results of first-fit: the full `heapsim run peak-hour --json` document (every checkpoint
// of every 1000 events) must stay byte for byte what it was when these hashes were recorded.
// Any change to first-fit, the VM or the engine loop that alters a single printed number fails
// here. The hashes were first recorded before the performance work on the policy's data structures
// (commit 4e21106), and re-recorded when the perf branch joined main: main had meanwhile added the
// diagnosis to `run --json` and new sample fields (pool layers, ptmalloc params), and main's own
// build just before that merge gives these same five hashes, so the faster engine changed nothing.
// A deliberate change of behaviour must re-record them and say why.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cli } from '../../cli/helpers.js';
import { createEngine } from '../../../src/engine/engine.js';
import { addressTrace, type TraceOptions } from './trace.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const RUN = ['run', 'peak-hour', '--policy', 'first-fit', '--every', '1000', '--json'];

const GOLDEN: Array<[string, string[], string]> = [
  ['x86 defaults', [], '5951110419ee8a78cae91f3cec163cc99438aab46331cc023fcd0b84e7f6ee32'],
  ['x64', ['--arch', 'x64'], '26683f3a0d355e75f10dcc9d0794707f1b0a37f9ca90cf278def2e4ac9c61019'],
  ['x86 eager decommit', ['--set', 'decommitBlockBytes=4K', '--set', 'decommitTotalBytes=0'],
    'c9729b19a5b960f7a557d6d9f56be0accc16ddd141e2dbb2d01a60c5d439ffe5'],
];

describe('first-fit golden runs (peak-hour, --every 1000 --json)', () => {
  for (const [name, extra, hash] of GOLDEN) {
    it(`${name} reproduces the recorded document`, async () => {
      const r = await cli(...RUN, ...extra);
      expect(r.code, r.stderr).toBe(0);
      expect(sha256(r.stdout)).toBe(hash);
    });
  }
});

// Block addresses themselves (the JSON holds counters only): a mixed trace with aligned allocs,
// reallocs, trims and large blocks, in small batches, hashing where every placed block went.
const TRACES: Array<[string, 'x86' | 'x64', Record<string, string | number>, TraceOptions, string]> = [
  ['x86 defaults', 'x86', {}, { seed: 11, ops: 40_000, maxLive: 5000, largeShare: 0.01 },
    'bfe7fb33d380e19c46c871707495c75f1f359dc8cfa426be1f30358a40d0c520'],
  ['x64 small segments, eager decommit', 'x64',
    { segmentReserveBytes: '64K', segmentCommitBytes: '4K', decommitBlockBytes: '4K', decommitTotalBytes: 0, largeBlockBytes: '32K' },
    { seed: 12, ops: 40_000, maxLive: 3000, largeShare: 0.02 },
    'ac6ec33f21a98e146524186810ab865e2ae4bce325bb197f1576215dd0c936be'],
];

describe('first-fit golden address traces', () => {
  for (const [name, arch, params, opts, hash] of TRACES) {
    it(`${name} places every block where it did`, async () => {
      const e = await createEngine({ arch });
      e.createHeap('first-fit', { params });
      expect(addressTrace(e, opts)).toBe(hash);
    });
  }
});
