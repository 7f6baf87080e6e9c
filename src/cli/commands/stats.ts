// heapsim stats <trace>: what a recorded trace contains.
import type { Command, Io } from '../io.js';
import { parse, intOption } from '../options.js';
import { UsageError } from '../../errors.js';
import { progressBar } from '../progress.js';
import { parseFormatName } from '../../trace/read.js';
import { traceStats, type HistogramBucket, type TraceStats } from '../../trace/stats.js';
import { formatBytes, inputNotes } from '../../trace/summary.js';
import { SKIP_REASON_NAMES } from '../../trace/events.js';

const OPTIONS = {
  format: { type: 'string' },
  lenient: { type: 'boolean' },
  json: { type: 'boolean' },
  top: { type: 'string' },
} as const;

const HELP = `usage: heapsim stats <trace-file> [options]

Reads a trace (mtrace, ltrace, logalloc, malloc-lab .rep, heapsim .hst or text; .gz is
decompressed) and prints events by kind, peak live bytes and when, bytes never freed with the
top sizes and callers, power-of-two size and lifetime histograms and the number of distinct sizes.

options:
  --format NAME   read as this format instead of detecting it
  --lenient       count and skip malformed lines instead of stopping at the first
  --top N         sizes and callers to list among the never-freed blocks (default 10)
  --json          print the statistics as JSON (bytes as integers)
  -h, --help      this text
`;

const HISTOGRAM_BAR_WIDTH = 40;

function histogramLines(buckets: HistogramBucket[], unit: string): string[] {
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const width = Math.max(...buckets.map((b) => `${b.min}-${b.max}`.length), 1);
  return buckets.map((b) => {
    const range = (b.min === b.max ? `${b.min}` : `${b.min}-${b.max}`).padStart(width);
    const bar = '#'.repeat(Math.max(1, Math.round((b.count / max) * HISTOGRAM_BAR_WIDTH)));
    return `  ${range} ${unit}  ${String(b.count).padStart(10)}  ${bar}`;
  });
}

/** Threads listed one per line; the rest are summed in one line. */
const LISTED_THREADS = 32;

function threadLines(s: TraceStats): string[] {
  const rows = s.perThread;
  const head = ['thread', 'events', 'allocs', 'reallocs', 'frees', 'live blocks', 'live bytes', 'peak live bytes', 'exits'];
  const cell = (t: (typeof rows)[number]): string[] => [t.thread, t.events, t.allocs, t.reallocs, t.frees, t.liveBlocks, t.liveBytes, t.peakLiveBytes, t.ends].map(String);
  const shown = rows.slice(0, LISTED_THREADS).map(cell);
  const rest = rows.slice(LISTED_THREADS);
  if (rest.length > 0) {
    const sum = (k: 'events' | 'allocs' | 'reallocs' | 'frees' | 'liveBlocks' | 'liveBytes' | 'ends'): string => String(rest.reduce((a, t) => a + t[k], 0));
    shown.push([`${rest.length} more`, sum('events'), sum('allocs'), sum('reallocs'), sum('frees'), sum('liveBlocks'), sum('liveBytes'), '', sum('ends')]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...shown.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return ['per thread (live: blocks whose current allocation the thread made):', line(head), ...shown.map(line)];
}

export function formatStatsText(s: TraceStats): string {
  const e = s.events;
  const skipped = SKIP_REASON_NAMES.map((n) => [n, s.events.skipped[n] ?? 0] as const).filter(([, v]) => v > 0);
  const skippedTotal = skipped.reduce((a, [, v]) => a + v, 0);
  const lines = [
    `trace: ${s.file} (${s.format}${s.gzip ? ', gzip' : ''})`,
    `events: ${e.total}`,
    `  alloc ${e.alloc}, calloc ${e.calloc}, aligned ${e.alignedAlloc}, realloc ${e.realloc}, free ${e.free}, skipped ${skippedTotal}` +
      (skipped.length > 0 ? ` (${skipped.map(([n, v]) => `${n} ${v}`).join(', ')})` : ''),
    `marks: ${s.marks}, ticks: ${s.ticks}, threads: ${s.threads}${s.threadEnds > 0 ? ` (${s.threadEnds} thread exits recorded)` : ''}`,
    `peak live: ${formatBytes(s.peakLiveBytes)} after event ${s.peakEvent}`,
    `never freed: ${s.neverFreed.blocks} blocks, ${formatBytes(s.neverFreed.bytes)}`,
  ];
  if (s.neverFreed.topSizes.length > 0) {
    lines.push('  top sizes:');
    for (const g of s.neverFreed.topSizes) lines.push(`    ${String(g.sizeBytes).padStart(10)} bytes × ${g.blocks} = ${g.bytes} bytes`);
  }
  if (s.neverFreed.topCallers.length > 0) {
    lines.push('  top callers:');
    for (const g of s.neverFreed.topCallers) lines.push(`    ${g.bytes} bytes in ${g.blocks} blocks  ${g.caller}`);
  }
  if (s.perThread.length > 1) lines.push(...threadLines(s));
  lines.push(`distinct sizes: ${s.distinctSizes}`);
  if (s.sizeHistogram.length > 0) lines.push('request sizes (bytes):', ...histogramLines(s.sizeHistogram, 'B'));
  if (s.lifetimeHistogram.length > 0) lines.push('lifetimes of freed blocks (events):', ...histogramLines(s.lifetimeHistogram, 'ev'));
  const notes = inputNotes(s);
  if (notes.length > 0) lines.push('notes:', ...notes.map((n) => `  ${n}`));
  return lines.join('\n') + '\n';
}

export const command: Command = {
  summary: 'events, peak, leaks and histograms of a trace file',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('stats', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length !== 1) throw new UsageError('stats wants exactly one trace file (see heapsim stats --help)');
    const format = values.format === undefined ? undefined : parseFormatName(values.format as string);
    const top = intOption('top', values.top as string | undefined, 1);
    const bar = progressBar(io);
    const stats = await traceStats(positionals[0]!, {
      format, lenient: values.lenient === true, top, onProgress: bar.update,
    });
    bar.done();
    io.stdout.write(values.json ? JSON.stringify(stats, null, 2) + '\n' : formatStatsText(stats));
    return 0;
  },
};
