// heapsim convert <in> -o <out>: any trace to heapsim's binary .hst (or its text form).
import type { Command, Io } from '../io.js';
import { parse, oneOf } from '../options.js';
import { UsageError } from '../../errors.js';
import { progressBar } from '../progress.js';
import { parseFormatName } from '../../trace/read.js';
import { convertTrace, type OutputFormat } from '../../trace/convert.js';
import { inputNotes } from '../../trace/summary.js';

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  to: { type: 'string' },
  format: { type: 'string' },
  lenient: { type: 'boolean' },
} as const;

const HELP = `usage: heapsim convert <trace-file> -o <out.hst> [options]

Converts a trace (any format heapsim reads, .gz included) to heapsim's compact binary format
(.hst, described in docs/trace-format.md) or to its line-oriented text form. Block addresses
become dense ids; skipped calls (unmatched or double frees, failed allocations) are kept as
such, so the converted trace replays with the same event numbers.

options:
  -o, --output FILE   where to write (required); a name ending in .gz is gzip-compressed
  --to hst|text       output format (default: text for *.txt[.gz], else hst)
  --format NAME       read the input as this format instead of detecting it
  --lenient           count and skip malformed lines instead of stopping at the first
  -h, --help          this text
`;

export const command: Command = {
  summary: 'convert a trace to heapsim .hst (or text)',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('convert', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length !== 1) throw new UsageError('convert wants exactly one input trace (see heapsim convert --help)');
    const out = values.output as string | undefined;
    if (out === undefined) throw new UsageError('convert needs -o FILE');
    const to = oneOf<OutputFormat>('to', values.to as string | undefined, ['hst', 'text']);
    const format = values.format === undefined ? undefined : parseFormatName(values.format as string);
    const bar = progressBar(io);
    const r = await convertTrace(positionals[0]!, out, { to, format, lenient: values.lenient === true, onProgress: bar.update });
    bar.done();
    io.stdout.write(`wrote ${out} (${r.to}${r.gzip ? ', gzip' : ''}): ${r.stats.events} events from ${r.stats.format}\n`);
    for (const note of inputNotes(r.stats)) io.stdout.write(`  ${note}\n`);
    return 0;
  },
};
