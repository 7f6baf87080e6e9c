// Golden results of first-fit: the full `heapsim run peak-hour --json` document (every checkpoint
// of every 1000 events) must stay byte for byte what it was when these hashes were recorded.
// Any change to first-fit, the VM or the engine loop that alters a single printed number fails
// here. The hashes were recorded before the performance work on the policy's data structures
// (commit 4e21106); a deliberate change of behaviour must re-record them and say why.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cli } from '../../cli/helpers.js';
import { createEngine } from '../../../src/engine/engine.js';
import { addressTrace, type TraceOptions } from './first-fit-trace.js';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const RUN = ['run', 'peak-hour', '--policy', 'first-fit', '--every', '1000', '--json'];

const GOLDEN: Array<[string, string[], string]> = [
  ['x86 defaults', [], 'a7d8fe791d57974d1e65346c520d1fa6d5c3d6a7fde5d818548ea41b2fd9edcc'],
  ['x64', ['--arch', 'x64'], 'fdff065146a4af6e2b19f8c7fa55fe381b4414c70c152c59b3ad2345d8d4f9bc'],
  ['x86 eager decommit', ['--set', 'decommitBlockBytes=4K', '--set', 'decommitTotalBytes=0'],
    'd02f3929688089f555ee1fbca2400252ca9f08e3cb150ba0813aaefbcc6bd239'],
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
    'a8f284288a87c403a4683c933f6a62de5b07e7aa4a6ec9f6c287aeeb4853151a'],
  ['x64 small segments, eager decommit', 'x64',
    { segmentReserveBytes: '64K', segmentCommitBytes: '4K', decommitBlockBytes: '4K', decommitTotalBytes: 0, largeBlockBytes: '32K' },
    { seed: 12, ops: 40_000, maxLive: 3000, largeShare: 0.02 },
    '8e4d3853abd9a00f18d9ec852e31be120b88d3f4d07cbf241ef6072aac7d303b'],
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
