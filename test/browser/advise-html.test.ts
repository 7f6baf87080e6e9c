// advise --html in a real browser (Debian's Chromium through playwright-core, no download): the
// page opens from a file with no network, embeds the --json document as is, shows the ranked
// table in that order and draws the curves (the canvas is inked).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { cli } from '../cli/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];

let dir: string;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  dir = mkdtempSync(join(tmpdir(), 'heapsim-advise-html-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function trace(): string {
  const lines = ['#heapsim-trace 1', 'mark before'];
  let id = 1;
  const ids: number[] = [];
  for (let i = 0; i < 4000; i++) { ids.push(id); lines.push(`a ${id++} ${120 + (i % 5) * 64}`); }
  lines.push('mark peak');
  ids.forEach((b, i) => { if (i % 40 !== 0) lines.push(`f ${b}`); });
  lines.push('mark after');
  return lines.join('\n') + '\n';
}

describe('advise --html', () => {
  it('opens offline with the --json data, the ranked table and inked charts', async () => {
    const input = join(dir, 't.txt');
    writeFileSync(input, trace());
    const html = join(dir, 'advice.html');
    const r = await cli('advise', input, '--policy', 'nt', '--jobs', '1', '--html', html);
    expect(r.code, r.stderr).toBe(0);
    const json = await cli('advise', input, '--policy', 'nt', '--jobs', '1', '--json');
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);

    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (q) => { if (!q.url().startsWith('file:')) requests.push(q.url()); });
    await page.goto(pathToFileURL(html).href);
    await page.waitForFunction(() => document.body.dataset.state === 'drawn', null, { timeout: 20_000 });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    // The same data as --json, byte for byte.
    expect(await page.locator('#advice-data').textContent()).toBe(json.stdout);
    const runs = JSON.parse(json.stdout).advice[0].runs as { id: string }[];
    expect(await page.locator('table.ranked tr[data-id]').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.id))).toEqual(runs.map((x) => x.id));
    expect(await page.locator('p.verdict').textContent()).toBe(JSON.parse(json.stdout).advice[0].baselineVerdict.summary);
    // Baseline + three remedies + the program's live bytes in the legend; the plot has ink.
    expect(await page.locator('.u-legend .u-series').count()).toBe(1 + Math.min(4, runs.length) + 1);
    const inked = await page.evaluate(() => {
      const c = document.querySelector('.chart canvas') as HTMLCanvasElement;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(2000);
    await page.close();
  }, 60_000);
});
