// Format detection by content: the .hst magic, the text form's first line, or the shape of the
// first lines of a text trace. `--format` overrides it.
import type { FormatName } from './events.js';
import { HST_MAGIC } from './formats/hst.js';
import { TEXT_MAGIC } from './formats/text.js';

/** How many non-blank lines of the head are scored. */
const SAMPLE_LINES = 50;

const MTRACE = /^(?:= (?:Start|End)|(?:@ .*\s)?[-+<>!] (?:0x[0-9a-fA-F]+|\(nil\))(?: (?:0x[0-9a-fA-F]+|0))?)$/;
const LOGALLOC = /^\d+ (?:\d+ )?[A-Za-z_]\w*\([^)]*\)(?:=\S+)?$/;
const LTRACE = /^(?:\[pid \d+\] |\d+ )?(?:[\d:.]+ )?(?:\[[^\]]+\] )?(?:<\.\.\. \S+ resumed>|\+\+\+ |--- |(?:\S+->)?[^\s(]+\(.*(?:\) +=|<unfinished \.\.\.>|<no return \.\.\.>))/;
const REP_BODY = /^[arf]\s+\d+(?:\s+\d+)?$/;
const REP_HEADER = /^-?\d+(?:\s+-?\d+)*$/;

/** Returns the format of a trace from its first bytes (already decompressed), or undefined. */
export function detectFormat(head: Buffer): FormatName | undefined {
  if (head.length >= HST_MAGIC.length && head.subarray(0, HST_MAGIC.length).equals(HST_MAGIC)) return 'hst';
  const lines = head.toString('latin1').split('\n');
  // The last line of the head may be cut in the middle; drop it unless it is all there is.
  if (lines.length > 1) lines.pop();
  const sample = lines.map((l) => l.trim()).filter((l) => l !== '').slice(0, SAMPLE_LINES);
  if (sample.length === 0) return undefined;
  if (sample[0]!.startsWith(TEXT_MAGIC)) return 'text';
  const score = { mtrace: 0, logalloc: 0, ltrace: 0, rep: 0 };
  let repHeader = true;
  for (const line of sample) {
    if (MTRACE.test(line)) score.mtrace++;
    if (LOGALLOC.test(line)) score.logalloc++;
    if (LTRACE.test(line)) score.ltrace++;
    if (REP_BODY.test(line)) {
      score.rep++;
      repHeader = false;
    } else if (repHeader && REP_HEADER.test(line)) score.rep++;
  }
  let best: keyof typeof score | undefined;
  for (const name of Object.keys(score) as (keyof typeof score)[]) {
    if (score[name] > 0 && (best === undefined || score[name] > score[best])) best = name;
  }
  // Require most sampled lines to fit, so a random text file is not taken for a trace.
  if (best === undefined || score[best] * 2 < sample.length) return undefined;
  return best;
}
