// Child process of replay-memory.test.ts: replays a trace file through the reader, the id mapping,
// op generation and the engine, then prints JSON with the event count and peak RSS. Run as
// `node --import tsx replay-rss-child.ts FILE`.
import { createEngine } from '../../src/engine/engine.js';
import { openReplay } from '../../src/trace/replay.js';

const KIB = 1024;
const path = process.argv[2]!;
const replay = await openReplay(path);
const engine = await createEngine({ arch: 'x64', sampleEvery: 0 });
engine.createHeap('first-fit', {}, 0);
let failedOps = 0;
for await (const ops of replay.batches()) failedOps += engine.apply(ops).failedOps;
process.stdout.write(JSON.stringify({
  traceEvents: replay.stats.events,
  engineEvents: engine.events,
  failedOps,
  maxRssBytes: process.resourceUsage().maxRSS * KIB,
}) + '\n');
