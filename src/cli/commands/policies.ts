// heapsim policies [--json]: every allocator policy with its one-line description, its parameters
// (name, unit, default, meaning), its counters and what it can be stacked on. `run --help` and the
// playground read the same list (src/policies/catalog.ts).
import type { Command, Io } from '../io.js';
import { parse } from '../options.js';
import { UsageError } from '../../errors.js';
import { policyCatalog, policyCatalogText } from '../../policies/catalog.js';

const OPTIONS = { json: { type: 'boolean' } } as const;

const HELP = `usage: heapsim policies [--json]

Lists every allocator policy: what it models, which report vocabulary it uses (linux, windows
or any), the heaps it can be stacked on (--set parent=POLICY), what --trim-at performs on it,
what --env reads for it, and each parameter with its unit, default and meaning (--set NAME=VALUE;
bytes take K/M/G suffixes and 0x hex).

options:
  --json       the same as JSON: { "policies": [...] }, values as numbers
  -h, --help   this text
`;

export const command: Command = {
  summary: 'list the allocator policies, their parameters and what they stack on',
  async run(args: string[], io: Io): Promise<number> {
    const { values, positionals } = parse('policies', args, OPTIONS);
    if (values.help) { io.stdout.write(HELP); return 0; }
    if (positionals.length) throw new UsageError(`policies takes no arguments, got '${positionals[0]}' (see heapsim policies --help)`);
    io.stdout.write(values.json ? JSON.stringify({ policies: policyCatalog() }, null, 2) + '\n' : policyCatalogText());
    return 0;
  },
};
