// A trace's op batches decoded once and copied, as a workload: runWorkload over it then times the
// engine alone (no reading, no decoding). Carries the trace's size hint, as a real run does.
import { openReplay } from '../dist/trace/replay.js';
import { OpBuffer } from '../dist/engine/ops.js';
import { OP_WORDS } from '../dist/engine/abi.js';
import type { Workload } from '../dist/workload/workload.js';

/** The reader and op buffer of one built checkout (this one's, or a baseline's loaded from its dist/). */
export interface DecodeKit { openReplay: typeof openReplay; OpBuffer: typeof OpBuffer; OP_WORDS: number }

/** `path`'s op batches decoded by `kit`'s reader, copied into a workload. */
export async function preDecodedWith(kit: DecodeKit, path: string): Promise<Workload> {
  const replay = await kit.openReplay(path);
  const batches: OpBuffer[] = [];
  for await (const ops of replay.batches()) {
    const copy = new kit.OpBuffer(ops.length, ops.words.slice(0, ops.length * kit.OP_WORDS));
    copy.length = ops.length;
    batches.push(copy);
  }
  return {
    name: path, labels: replay.labels, description: `pre-decoded ${path}`, defaultArch: 'x64',
    ...(replay.hint ? { sizeHint: replay.hint } : {}),
    batches: async function* () { yield* batches; },
  } as Workload;
}

/** `path`'s op batches decoded by this checkout's reader. */
export function preDecoded(path: string): Promise<Workload> {
  return preDecodedWith({ openReplay, OpBuffer, OP_WORDS }, path);
}
