// The playground in a real browser: Debian's Chromium driven by playwright-core (no browser
// download). Builds the page with Vite, serves it on 127.0.0.1, runs peak-hour in the page's Web
// Worker, checks the charts and mark reports, compares the downloaded JSON byte for byte with the
// Node API, and checks that Cancel stops a run while the page keeps answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serveDirectory, type StaticServer } from './serve.js';
import { cli } from '../cli/helpers.js';
import { runWorkload } from '../../src/run/run.js';
import { makeWorkload } from '../../src/workload/index.js';
import { runDocumentJson } from '../../src/report/json.js';
import { diagnoseRun } from '../../src/run/diagnose-run.js';
import { diagnosisText, markReport } from '../../src/web/playground/reports.js';
import { traceWorkload } from '../../src/trace/workload.js';
import { windowsServicePeak } from '../../src/workload/windows-service-peak.js';
import { syntheticMtrace } from '../../src/trace/synthetic.js';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
];
const OUTPUT = join(ROOT, 'test-output');

let server: StaticServer;
let context: BrowserContext;
let profileDir = '';
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'pipe' });
  server = await serveDirectory(join(ROOT, 'web-dist'));
  profileDir = mkdtempSync(join(tmpdir(), 'heapsim-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1400, height: 1100 },
    acceptDownloads: true,
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.state === 'idle', null, { timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/** A whole run in the page under a full suite on 2 shared cores (the demo takes ~12 s on an idle machine). */
const RUN_TIMEOUT_MS = 120_000;

async function finished(p: Page): Promise<string> {
  await p.waitForFunction(() => ['done', 'error', 'cancelled'].includes(document.body.dataset.state ?? ''), null, { timeout: RUN_TIMEOUT_MS });
  return p.evaluate(() => document.body.dataset.state ?? '');
}

/** Pixels of a chart canvas that are neither transparent nor white: something was drawn. */
function inkedPixels(p: Page, chartId: string): Promise<number> {
  return p.evaluate((id) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`#${id} canvas`);
    if (!canvas) return -1;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && (data[i]! < 240 || data[i + 1]! < 240 || data[i + 2]! < 240)) n++;
    return n;
  }, chartId);
}

describe('playground in Chromium', () => {
  it('is built as static files: page, worker and WASM, with no Node module in any script', () => {
    const assets = readdirSync(join(ROOT, 'web-dist', 'assets'));
    expect(assets.some((f) => f.endsWith('.wasm'))).toBe(true);
    const scripts = assets.filter((f) => f.endsWith('.js'));
    expect(scripts.some((f) => f.startsWith('worker'))).toBe(true);
    for (const f of scripts) expect(readFileSync(join(ROOT, 'web-dist', 'assets', f), 'utf8'), f).not.toMatch(/["'`]node:/);
  });

  it('runs peak-hour in the worker, draws the charts and marks, and downloads the JSON the Node API gives', async () => {
    const seed = Number(await page.inputValue('#seed'));
    const every = Number(await page.inputValue('#every'));
    const policy = await page.inputValue('#policy');
    expect(await page.inputValue('#workload')).toBe('peak-hour');
    const blank = await inkedPixels(page, 'chart-bytes');
    await page.click('#run');
    expect(await finished(page)).toBe('done');

    const expected = await runWorkload(makeWorkload('peak-hour', { seed }), { policy, every });
    const points = expected.checkpoints.length;
    expect(await page.getAttribute('#chart-bytes', 'data-points')).toBe(String(points));
    expect(await page.getAttribute('#chart-pct', 'data-points')).toBe(String(points));
    expect(await inkedPixels(page, 'chart-bytes')).toBeGreaterThan(blank + 2000);
    expect(await inkedPixels(page, 'chart-pct')).toBeGreaterThan(blank + 1000);

    const tabs = await page.locator('#mark-tabs button').allTextContents();
    expect(tabs).toEqual(['before (event 150,000)', 'peak (event 400,000)', 'after (event 650,000)']);
    await page.click('#mark-tabs button:nth-child(2)');
    const peak = expected.checkpoints.find((c) => c.label === 'peak')!;
    const report = await page.textContent('#mark-report');
    expect(report).toBe(markReport(peak, expected));
    expect(report).toMatch(/^0:000> !heap -s$/m);
    expect(report).toMatch(/MEM_COMMIT/);
    expect(await page.textContent('#diagnosis')).toBe(diagnosisText(expected));
    // The verdict line first, then the moments with the exact committed peak from the document.
    const verdict = diagnoseRun(expected);
    expect(diagnosisText(expected).split('\n')[0]).toBe(verdict.headline);
    expect(diagnosisText(expected)).toMatch(new RegExp(`^committed peak +${expected.peaks!.committedBytes.event} `, 'm'));
    expect(await page.textContent('#status')).toContain(`exact committed peak ${(expected.peaks!.committedBytes.bytes / 1048576).toFixed(1)} MiB at event ${expected.peaks!.committedBytes.event.toLocaleString('en-US')}`);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(`heapsim-peak-hour-${policy}-seed${seed}.json`);
    const bytes = readFileSync((await download.path())!);
    expect(bytes.equals(Buffer.from(runDocumentJson(expected), 'utf8'))).toBe(true);
    // …which is what the command line prints for the same settings.
    const printed = await cli('run', 'peak-hour', '--seed', String(seed), '--policy', policy, '--every', String(every), '--json');
    expect(bytes.equals(Buffer.from(printed.stdout, 'utf8'))).toBe(true);
    expect(JSON.parse(printed.stdout).diagnosis.kind).toBe(diagnoseRun(expected).kind);

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'playground.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 2 * RUN_TIMEOUT_MS);

  it('runs the demo (the seed\'s Windows service on the NT heap) with one click: charts, second-order diagnosis', async () => {
    const every = Number(await page.inputValue('#every'));
    await page.click('#demo');
    expect(await finished(page)).toBe('done');
    expect(await page.inputValue('#workload')).toBe('windows-service-peak');
    expect(await page.inputValue('#policy')).toBe('nt');
    const expected = await runWorkload(windowsServicePeak({ seed: 1 }), { policy: 'nt', every });
    expect(await page.getAttribute('#chart-bytes', 'data-points')).toBe(String(expected.checkpoints.length));
    expect(await page.locator('#mark-tabs button').allTextContents()).toEqual(
      expected.checkpoints.filter((c) => !c.label.startsWith('#')).map((c) => `${c.label} (event ${c.event.toLocaleString('en-US')})`));
    const diagnosis = await page.textContent('#diagnosis');
    expect(diagnosis).toBe(diagnosisText(expected));
    expect(diagnosis).toMatch(/^second-order: [\d.]+ MiB retained at the end \(committed − live\), mostly free space trapped between live blocks \(nt back end\)$/m);
    expect(diagnosis).toMatch(/where the committed memory the program does not use is held/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(readFileSync((await download.path())!).equals(Buffer.from(runDocumentJson(expected), 'utf8'))).toBe(true);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'playground-demo.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 2 * RUN_TIMEOUT_MS);

  it('runs a trace file picked on the page (gzip, read in chunks in the worker) like the Node API', async () => {
    const file = join(profileDir, 'service.mtrace.gz');
    writeFileSync(file, gzipSync(syntheticMtrace({ events: 60_000, liveTarget: 3000, seed: 4 })));
    await page.setInputFiles('#trace-file', file);
    expect(await page.isChecked('input[name="source"][value="trace"]')).toBe(true);
    await page.fill('#every', '5000');
    await page.click('#run');
    expect(await finished(page)).toBe('done');
    const policy = await page.inputValue('#policy');
    const node = await runWorkload(await traceWorkload(file), { policy, every: 5000 });
    // The page names the input by the File's name; Node by the path it was given.
    const expected = { ...node, workload: 'service.mtrace.gz' };
    expect(await page.getAttribute('#chart-bytes', 'data-points')).toBe(String(node.checkpoints.length));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe(`heapsim-service.mtrace.gz-${policy}.json`);
    const bytes = readFileSync((await download.path())!);
    expect(bytes.equals(Buffer.from(runDocumentJson(expected), 'utf8'))).toBe(true);
    await page.click('input[name="source"][value="workload"]');
    expect(pageErrors).toEqual([]);
  });

  it('stays responsive during a run and Cancel stops it; the next run works', async () => {
    await page.fill('#every', '500');
    await page.click('#run');
    await page.waitForFunction(() => /Running: [1-9]/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 30_000 });
    // The page thread answers promptly while the worker runs (one animation frame round trip).
    const t0 = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    expect(Date.now() - t0).toBeLessThan(1000);
    await page.click('#cancel');
    expect(await finished(page)).toBe('cancelled');
    expect(await page.textContent('#status')).toMatch(/^Cancelled after [\d,]+ events$/);
    expect(await page.isDisabled('#download')).toBe(true);
    await page.fill('#every', '50000');
    // Busy at once, in the click's own task: the cancelled run's state must not be taken for the
    // new run's end while the worker answers (it did under load).
    const stateAfterClick = await page.evaluate(() => {
      document.getElementById('run')!.click();
      return document.body.dataset.state;
    });
    expect(stateAfterClick).toMatch(/^(loading|running)$/);
    expect(await finished(page)).toBe('done');
    expect(pageErrors).toEqual([]);
  });
});
