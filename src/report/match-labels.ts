// Pairs the snapshots of real dumps with the checkpoints of a simulation by their labels, so a
// dump labelled "Before peak hours" sits next to the simulation's `before` mark.

/**
 * For each dump label, the index of the matching checkpoint label, or undefined. Each checkpoint
 * is used at most once, dumps are matched in order. A checkpoint matches when its label equals
 * the dump label (ignoring case), or else when it is a whole word of the dump label; among several
 * such checkpoints the one whose word comes first in the dump label wins ("Before peak hours"
 * takes `before`, not `peak`; "During peak hours" takes `peak`).
 */
export function matchLabels(dumpLabels: readonly string[], checkpointLabels: readonly string[]): Array<number | undefined> {
  const used = new Set<number>();
  const lower = checkpointLabels.map((l) => l.trim().toLowerCase());
  return dumpLabels.map((label) => {
    const d = label.trim().toLowerCase();
    const exact = lower.findIndex((c, i) => !used.has(i) && c === d);
    if (exact >= 0) { used.add(exact); return exact; }
    const dumpWords = d.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
    let best: { index: number; position: number } | undefined;
    lower.forEach((c, i) => {
      if (used.has(i) || c.length === 0) return;
      const position = dumpWords.indexOf(c);
      if (position >= 0 && (best === undefined || position < best.position)) best = { index: i, position };
    });
    if (best === undefined) return undefined;
    used.add(best.index);
    return best.index;
  });
}
