// The verdict's thresholds and the CI gate as command-line options, shared by `run` and `demo`:
//   --threshold NAME=VALUE   a verdict threshold (src/report/verdict.ts); sizes take K/M/G, shares
//                            0..1 or a percentage (10%)
//   --fail-on KIND[,KIND]    exit 1 when the verdict is one of these kinds
//   --max-retained SIZE      exit 1 when committed − live at the end is above SIZE
//   --max-peak SIZE          exit 1 when the exact committed peak is above SIZE
// Exit 1 means "the run worked and a limit failed"; 2 stays for usage errors.
import { UsageError } from '../errors.js';
import { DEFAULT_VERDICT_THRESHOLDS, VERDICT_THRESHOLD_HELP, type Verdict, type VerdictThresholds } from '../report/verdict.js';
import type { DiagnosisKind, RunDocument } from '../report/types.js';
import { iec, parseSize } from '../report/units.js';

export const GATE_KINDS: readonly Exclude<DiagnosisKind, 'none'>[] = ['out-of-memory', 'first-order', 'second-order'];

export const GATE_OPTIONS = {
  threshold: { type: 'string', multiple: true },
  'fail-on': { type: 'string' },
  'max-retained': { type: 'string' },
  'max-peak': { type: 'string' },
} as const;

export const GATE_HELP = `  --threshold NAME=VALUE  a threshold of the verdict; repeatable:
${(Object.keys(VERDICT_THRESHOLD_HELP) as (keyof VerdictThresholds)[]).map((k) =>
    `                         ${k} (default ${k === 'minBytes' ? iec(DEFAULT_VERDICT_THRESHOLDS[k]) : DEFAULT_VERDICT_THRESHOLDS[k]}): ${VERDICT_THRESHOLD_HELP[k]}`).join('\n')}
  --fail-on KIND[,KIND]   exit 1 when the verdict is one of: ${GATE_KINDS.join(', ')}
  --max-retained SIZE     exit 1 when the memory retained at the end (committed − live) is above SIZE
  --max-peak SIZE         exit 1 when the exact peak of committed bytes is above SIZE
                          (exit 1: a limit failed, and which one is printed; exit 2: a usage error)
`;

const SHARES: readonly (keyof VerdictThresholds)[] = ['peakFraction', 'liveStaysFraction'];

/** Parses repeated `--threshold NAME=VALUE`. */
export function parseThresholds(values: readonly string[] | undefined): Partial<VerdictThresholds> {
  const out: Partial<VerdictThresholds> = {};
  for (const text of values ?? []) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--threshold wants NAME=VALUE, got '${text}'`);
    const name = text.slice(0, eq).trim();
    const raw = text.slice(eq + 1).trim();
    if (!Object.hasOwn(DEFAULT_VERDICT_THRESHOLDS, name)) {
      throw new UsageError(`--threshold: unknown threshold '${name}' (known: ${Object.keys(DEFAULT_VERDICT_THRESHOLDS).join(', ')})`);
    }
    const key = name as keyof VerdictThresholds;
    if (SHARES.includes(key)) {
      const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(raw);
      const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
      if (!(v >= 0 && v <= 1)) throw new UsageError(`--threshold ${name} wants a share from 0 to 1 (or 0% to 100%), got '${raw}'`);
      out[key] = v;
    } else {
      const v = parseSize(raw);
      if (v === undefined) throw new UsageError(`--threshold ${name} wants a size in bytes (K/M/G accepted), got '${raw}'`);
      out[key] = v;
    }
  }
  return out;
}

export interface Gate {
  failOn: Exclude<DiagnosisKind, 'none'>[];
  maxRetainedBytes?: number;
  maxPeakBytes?: number;
}

function sizeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = parseSize(text);
  if (v === undefined) throw new UsageError(`--${name} wants a size in bytes (K/M/G accepted), got '${text}'`);
  return v;
}

export function parseGate(values: Record<string, unknown>): Gate {
  const failOn = ((values['fail-on'] as string | undefined) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const k of failOn) {
    if (!(GATE_KINDS as readonly string[]).includes(k)) throw new UsageError(`--fail-on: unknown verdict '${k}' (one of ${GATE_KINDS.join(', ')})`);
  }
  if (values['fail-on'] !== undefined && !failOn.length) throw new UsageError(`--fail-on wants one or more of ${GATE_KINDS.join(', ')}`);
  return {
    failOn: failOn as Gate['failOn'],
    maxRetainedBytes: sizeOption('max-retained', values['max-retained'] as string | undefined),
    maxPeakBytes: sizeOption('max-peak', values['max-peak'] as string | undefined),
  };
}

/** The limits a run failed, one line each (empty: the gate passes). */
export function gateFailures(gate: Gate, doc: RunDocument, verdict: Verdict): string[] {
  const out: string[] = [];
  if ((gate.failOn as string[]).includes(verdict.kind)) out.push(`verdict ${verdict.kind} (--fail-on ${gate.failOn.join(',')}): ${verdict.headline}`);
  if (gate.maxRetainedBytes !== undefined && verdict.retainedAtEndBytes > gate.maxRetainedBytes) {
    out.push(`retained ${verdict.retainedAtEndBytes} bytes (${iec(verdict.retainedAtEndBytes)}) at the end > --max-retained ${gate.maxRetainedBytes} bytes (${iec(gate.maxRetainedBytes)})`);
  }
  const peak = doc.peaks?.committedBytes;
  if (gate.maxPeakBytes !== undefined && peak && peak.bytes > gate.maxPeakBytes) {
    out.push(`peak committed ${peak.bytes} bytes (${iec(peak.bytes)}) at event ${peak.event} > --max-peak ${gate.maxPeakBytes} bytes (${iec(gate.maxPeakBytes)})`);
  }
  return out;
}
