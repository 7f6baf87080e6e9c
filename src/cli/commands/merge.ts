// heapsim merge FILES... [--csv|--json]: the report of a whole sweep or advice from the slices its
// shards wrote with --shard I/N --out FILE.jsonl, byte for byte what the unsharded run prints.
import type { Command, Io } from '../io.js';
import { parse } from '../options.js';
import { UsageError } from '../../errors.js';
import { readShards, writeTextFile } from '../../shard/shard.js';
import { adviceHtml } from '../../advise/html.js';
import { formatSweepCsv, formatSweepJson, formatSweepTable, type SweepRow } from '../../sweep/report.js';
import { rankRuns, type AdviceHead, type UnrankedRun } from '../../advise/advise.js';
import { formatAdviceJson, formatAdviceText } from '../../advise/report.js';

const OPTIONS = {
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  html: { type: 'string' },
} as const;

const HELP = `usage: heapsim merge FILE.jsonl... [--csv|--json] [--html FILE]

Puts together the slices that heapsim sweep or heapsim advise wrote with --shard I/N --out FILE
and prints the report the unsharded command prints (the same bytes): the table by default, --csv
(sweep) or --json. The files must be slices of one plan and cover it; a missing slice, a file of
another plan or a damaged line is an error naming the file.

options:
  --csv        sweep: one CSV line per run
  --json       the JSON report
  --html FILE  advise: also write the advice's HTML page (as advise --html)
  -h, --help   this text
`;

interface AdviseItem { input: number; remedy: number; run: UnrankedRun }

export const command: Command = {
  summary: 'merge the slices of a sharded sweep or advise into one report',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('merge', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other');
    const merged = readShards<unknown, unknown>(positionals);
    if (merged.command === 'sweep') {
      if (values.html !== undefined) throw new UsageError('--html applies to advise slices; a sweep prints as a table, --csv or --json');
      const rows = merged.items as SweepRow[];
      io.stdout.write(values.json ? formatSweepJson(rows) : values.csv ? formatSweepCsv(rows) : formatSweepTable(rows));
      return 0;
    }
    if (values.csv) throw new UsageError('--csv applies to sweep slices; an advice prints as text or --json');
    const heads = (merged.head as { inputs: AdviceHead[] }).inputs;
    const items = merged.items as AdviseItem[];
    const reports = heads.map((h, i) => rankRuns(h, items.filter((it) => it.input === i).sort((a, b) => a.remedy - b.remedy).map((it) => it.run)));
    if (values.html !== undefined) await writeTextFile(values.html as string, adviceHtml(reports));
    io.stdout.write(values.json ? formatAdviceJson(reports) : reports.map(formatAdviceText).join('\n'));
    return 0;
  },
};
