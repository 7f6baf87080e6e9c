// The advice as text (the baseline's verdict, the ranked table, then how to apply each remedy)
// and as JSON. Sizes: integer bytes in JSON, MB in the table.
import { diagnosisText } from '../report/text.js';
import type { Advice } from './advise.js';

const MB = 1024 * 1024;
const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const signedMb = (bytes: number): string => (bytes > 0 ? '+' : bytes < 0 ? '-' : '±') + (Math.abs(bytes) / MB).toFixed(1);

export function formatAdviceText(a: Advice): string {
  const out: string[] = [];
  out.push(`heapsim advise: ${a.input} on ${a.policy} (${a.platform} remedies)`, '');
  out.push('baseline ' + diagnosisText(a.baselineVerdict).trimEnd(), '');
  out.push(a.quietPoints.length
    ? `quiet points: ${a.quietPoints.map((q) => `${/^\d+$/.test(q.at) ? `event ${q.at}` : `'${q.at}' (event ${q.event})`}: ${q.how}${q.caller ? `; the last call before it from ${q.caller}` : ''}`).join('; ')}`
    : 'quiet points: none (the program never holds less after its peak)');
  out.push('', `ranked by retained = ${a.held} bytes of the heaps minus the program's live bytes, at the end (then at each mark):`, '');
  const labels = a.runs[0]?.marks.map((m) => m.label).filter((l) => l !== 'end') ?? [];
  const head = ['#', 'remedy', 'retained end MB', 'vs baseline MB', ...labels.map((l) => `at ${l} MB`), 'peak commit MB', 'peak resident MB', 'failed allocs'];
  const rows = a.runs.map((r) => [
    String(r.rank), r.id, mb(r.retainedBytes), r.id === 'baseline' ? '-' : signedMb(r.changeBytes),
    ...labels.map((l) => { const m = r.marks.find((k) => k.label === l); return m ? mb(m.retainedBytes) : '-'; }),
    mb(r.peakCommittedBytes), mb(r.peakResidentBytes), String(r.failedAllocs),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const fmt = (cells: string[]): string => cells.map((s, c) => (c === 1 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ').trimEnd();
  out.push(fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  out.push('', 'the change to apply:');
  for (const r of a.runs) {
    if (r.id === 'baseline') continue;
    out.push(`  ${r.rank}. ${r.id}: ${r.title}`, `     ${r.change}`, `     why: ${r.explain}`);
  }
  if (a.notApplicable.length) {
    out.push('', 'not tried:');
    for (const n of a.notApplicable) out.push(`  ${n.id}: ${n.reason}`);
  }
  return out.join('\n') + '\n';
}

export function formatAdviceJson(advice: readonly Advice[]): string {
  return JSON.stringify({ advice }, null, 2) + '\n';
}
