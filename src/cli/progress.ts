// A one-line progress bar on stderr for long trace reads: events done, events/s, ETA from the
// fraction of the file read. Drawn only when stderr is a terminal; silent otherwise (logs, pipes,
// tests). Twenty lines of our own rather than a dependency: we need one bar, no multi-bar layout.
import type { Io } from './io.js';

const REDRAW_INTERVAL_MS = 200;
const BAR_WIDTH = 24;
const MS_PER_SECOND = 1000;

export interface ProgressBar {
  update(events: number, bytesRead: number, totalBytes: number): void;
  done(): void;
}

const COMPACT_UNITS: ReadonlyArray<[number, string]> = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

/** 4123456 → "4.1M". */
function compact(n: number): string {
  for (const [scale, suffix] of COMPACT_UNITS) if (n >= scale) return `${(n / scale).toFixed(1)}${suffix}`;
  return String(Math.round(n));
}

export function progressBar(io: Io, now: () => number = Date.now): ProgressBar {
  if (io.stderr.isTTY !== true) return { update() {}, done() {} };
  const start = now();
  let last = 0;
  let drawn = false;
  return {
    update(events, bytesRead, totalBytes) {
      const t = now();
      if (t - last < REDRAW_INTERVAL_MS) return;
      last = t;
      const fraction = totalBytes > 0 ? Math.min(1, bytesRead / totalBytes) : 0;
      const seconds = Math.max((t - start) / MS_PER_SECOND, 1 / MS_PER_SECOND);
      const eta = fraction > 0 ? seconds * (1 - fraction) / fraction : 0;
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
      io.stderr.write(`\r[${bar}] ${(fraction * 100).toFixed(0)}% ${compact(events)} events ${compact(events / seconds)}/s ETA ${Math.ceil(eta)}s \x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) io.stderr.write('\r\x1b[K');
    },
  };
}
