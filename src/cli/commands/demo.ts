// heapsim demo: the seed's case end to end. Runs `windows-service-peak` (an x86 Windows service
// whose heap commit rises at a peak and stays), prints what WinDbg would show at each of the three
// moments (`!address -summary`, `!heap -s`), then the diagnosis with the mechanisms that hold the
// memory. --json prints the checkpoint document with the diagnosis instead.
import { momentsTable, trimLine, verdictDetails, windbgViews } from '../../report/text.js';
import type { Verdict } from '../../report/verdict.js';
import type { TrimResult } from '../../report/types.js';
import { GATE_HELP, GATE_OPTIONS, gateFailures, parseGate, parseThresholds } from '../gate.js';
import { EXIT_LIMIT_FAILED } from './run.js';
import type { Command, Io } from '../io.js';
import { parse, intOption, keyValues } from '../options.js';
import { getPolicy, policyNames } from '../../policies/registry.js';
import { windowsServicePeak } from '../../workload/windows-service-peak.js';
import { WORKLOADS } from '../../workload/index.js';
import { runWorkload } from '../../run/run.js';
import type { Checkpoint, Diagnosis, RunDocument } from '../../report/types.js';
import { layerSettings } from './run.js';

// The seed's process heap: the policy windows-service-peak is calibrated for.
const DEMO_POLICY = WORKLOADS['windows-service-peak']!.defaultPolicy!;

const OPTIONS = {
  policy: { type: 'string', default: DEMO_POLICY },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  ...GATE_OPTIONS,
} as const;

const HELP = `usage: heapsim demo [options]

Reproduces the seed: a 32-bit Windows service whose heap commit rose from about half a gigabyte
to about one gigabyte at a peak and stayed there after the load went away. Runs the built-in
workload windows-service-peak (x86, profile windows-service-x86) and prints the verdict, a table
of the moments (start, before, the exact peak, after), then for the marks before, peak and after
the !address -summary and !heap -s a debugger would show, and the mechanisms that hold the memory.

options:
  --policy NAME     allocator policy: ${policyNames().join(', ')} (default ${DEMO_POLICY}, the
                    heap of the seed; others run the same ops for comparison; a stackable
                    policy takes its memory from a ${DEMO_POLICY} heap unless --set parent= says otherwise)
  --seed N          workload seed (default 1)
  --set KEY=VALUE   policy parameter (sizes accept K/M/G suffixes); repeatable, e.g.
                    --set lfh=1 or --set decommitFreeBlockThreshold=0
  --json            print the checkpoint document with "diagnosis" as JSON
${GATE_HELP}  -h, --help        this text
`;

function checkpointText(cp: Checkpoint, arch: 'x86' | 'x64'): string {
  return [`=== ${cp.label} (event ${cp.event}) ===`, '', windbgViews(cp, arch), ''].join('\n');
}


export function demoText(doc: RunDocument, diagnosis: Diagnosis): string {
  const arch = doc.arch === 'x64' ? 'x64' : 'x86';
  const head = `heapsim demo: ${doc.workload} on ${doc.policy} (${doc.arch}, profile ${doc.profile ?? 'bare'}` +
    `${doc.seed !== undefined ? `, seed ${doc.seed}` : ''}): ${doc.events} events` +
    `${doc.failedOps ? `, ${doc.failedOps} failed ops` : ''}\n\n`;
  const atEnd = doc.trimAtEnd as TrimResult | undefined;
  const verdict = [`verdict: ${(diagnosis as Partial<Verdict>).headline ?? diagnosis.summary}`, ...(atEnd ? [trimLine(atEnd, 'at the end')] : []),
    '', momentsTable(doc), ''].join('\n');
  return head + verdict + '\n' + doc.checkpoints.map((cp) => checkpointText(cp, arch)).join('\n') +
    '\n=== details ===\n\n' + verdictDetails(diagnosis) + '\n';
}

export const command: Command = {
  summary: "reproduce the seed: a service's heap commit rises at a peak and stays (WinDbg views, diagnosis)",
  async run(args: string[], io: Io): Promise<number> {
    const { values } = parse('demo', args, OPTIONS, false);
    if (values.help) { io.stdout.write(HELP); return 0; }
    const policy = values.policy as string;
    getPolicy(policy);
    const seed = intOption('seed', values.seed as string | undefined) ?? 1;
    const { params, layers } = layerSettings(keyValues(values.set as string[] | undefined));
    // The seed's second example is a custom library on top of the process heap: a stackable
    // policy takes its memory from the seed's heap unless --set parent= says otherwise.
    if (getPolicy(policy).stackable && !layers.length) layers.push({ policy: DEMO_POLICY, params: {} });
    const gate = parseGate(values);
    const thresholds = parseThresholds(values.threshold as string[] | undefined);
    const doc = await runWorkload(windowsServicePeak({ seed }), { policy, params, layers, thresholds });
    const diagnosis = doc.diagnosis as Verdict;
    io.stdout.write(values.json ? JSON.stringify(doc, null, 2) + '\n' : demoText(doc, diagnosis));
    const failed = gateFailures(gate, doc, diagnosis);
    for (const f of failed) io.stderr.write(`heapsim demo: limit failed: ${f}\n`);
    return failed.length ? EXIT_LIMIT_FAILED : 0;
  },
};
