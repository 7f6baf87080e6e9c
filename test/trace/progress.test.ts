// The progress bar draws only on a terminal, throttled, and clears its line at the end.
import { describe, expect, it } from 'vitest';
import { progressBar } from '../../src/cli/progress.js';

function io(isTTY: boolean): { io: Parameters<typeof progressBar>[0]; out: () => string } {
  let err = '';
  return {
    io: { stdout: { write: () => true }, stderr: { isTTY, write: (s: string) => { err += s; return true; } } },
    out: () => err,
  };
}

describe('progress bar', () => {
  it('is silent when stderr is not a terminal', () => {
    const t = io(false);
    const bar = progressBar(t.io, () => 10_000);
    bar.update(1000, 50, 100);
    bar.done();
    expect(t.out()).toBe('');
  });

  it('shows events, events/s and ETA on a terminal, at most every 200 ms', () => {
    const t = io(true);
    let now = 0;
    const bar = progressBar(t.io, () => now);
    now = 2000; // 2 s in, half the file read, 4 million events
    bar.update(4_000_000, 50, 100);
    expect(t.out()).toContain('50% 4.0M events 2.0M/s ETA 2s');
    const drawn = t.out();
    now = 2100; // too soon: no redraw
    bar.update(4_100_000, 51, 100);
    expect(t.out()).toBe(drawn);
    bar.done();
    expect(t.out().endsWith('\r\x1b[K')).toBe(true);
  });
});
