// The playground page: controls → a run in a Web Worker (src/web/worker.ts through comlink) →
// live charts, the report text at each mark, the diagnosis and a JSON download. The page thread
// only receives checkpoints and redraws at most once per frame, so it stays responsive; Cancel
// asks the worker to stop between two batches.
import { proxy, type Remote } from 'comlink';
import { connectWorker } from '../client.js';
import type { EngineService } from '../../worker/service.js';
import type { PolicyInfo, RunRequest, WorkloadInfo } from '../../worker/protocol.js';
import type { ArchName } from '../../engine/abi.js';
import { FORMAT_NAMES, type FormatName } from '../../trace/events.js';
import type { Checkpoint, RunDocument } from '../../report/types.js';
import { runDocumentJson } from '../../report/json.js';
import { RunCharts } from './charts.js';
import { diagnosisText, markReport, type ViewOf } from './reports.js';

type State = 'loading' | 'idle' | 'running' | 'done' | 'cancelled' | 'error';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
};

const ui = {
  form: $<HTMLFormElement>('controls'),
  workload: $<HTMLSelectElement>('workload'),
  workloadDescription: $('workload-description'),
  seed: $<HTMLInputElement>('seed'),
  drop: $('drop'),
  traceFile: $<HTMLInputElement>('trace-file'),
  traceInfo: $('trace-info'),
  traceFormat: $<HTMLSelectElement>('trace-format'),
  lenient: $<HTMLInputElement>('lenient'),
  policy: $<HTMLSelectElement>('policy'),
  policyDescription: $('policy-description'),
  params: $('params'),
  parentBox: $('parent-box'),
  parent: $<HTMLSelectElement>('parent'),
  parentParams: $('parent-params'),
  arch: $<HTMLSelectElement>('arch'),
  every: $<HTMLInputElement>('every'),
  run: $<HTMLButtonElement>('run'),
  demo: $<HTMLButtonElement>('demo'),
  cancel: $<HTMLButtonElement>('cancel'),
  download: $<HTMLButtonElement>('download'),
  status: $('status'),
  markTabs: $('mark-tabs'),
  markReport: $('mark-report'),
  diagnosis: $('diagnosis'),
};

const charts = new RunCharts($('chart-bytes'), $('chart-pct'));
let api: Remote<EngineService>;
let policies: PolicyInfo[] = [];
let workloads: WorkloadInfo[] = [];
let current: { runId: string; doc?: RunDocument; request: RunRequest; view?: ViewOf } | undefined;
let runCounter = 0;

/** The seed's case (`heapsim demo`): its workload on the NT heap. */
// The seed's case: its workload on the policy it was calibrated for (the workload says which).
const DEMO = { workload: 'windows-service-peak', policy: '' };
/** The trace picked or dropped; read by the worker in chunks when a run starts. */
let traceFile: File | undefined;

function source(): 'workload' | 'trace' {
  return (ui.form.elements.namedItem('source') as RadioNodeList).value === 'trace' ? 'trace' : 'workload';
}

function useTrace(file: File | undefined): void {
  traceFile = file;
  if (!file) return;
  (ui.form.querySelector('input[name="source"][value="trace"]') as HTMLInputElement).checked = true;
  ui.traceInfo.textContent = `${file.name}: ${(file.size / 1024 / 1024).toFixed(1)} MB, read in chunks in the worker.`;
}

function setState(state: State, message: string): void {
  document.body.dataset.state = state;
  ui.status.textContent = message;
  const busy = state === 'running' || state === 'loading';
  ui.run.disabled = busy;
  ui.demo.disabled = busy;
  ui.cancel.disabled = state !== 'running';
  ui.download.disabled = state !== 'done';
}

const KiB = 1024;
function sizeText(bytes: number): string {
  if (bytes >= KiB * KiB && bytes % (KiB * KiB) === 0) return `${bytes / (KiB * KiB)}M`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB}K`;
  return String(bytes);
}

function option(value: string, text: string): HTMLOptionElement {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

function showWorkload(): void {
  ui.workloadDescription.textContent = workloads.find((w) => w.name === ui.workload.value)?.description ?? '';
}

/** One text field per parameter of a policy; empty means the default shown beside it. */
function paramFields(p: PolicyInfo | undefined): HTMLLabelElement[] {
  return (p?.params ?? []).map((param) => {
    const label = document.createElement('label');
    label.title = param.description;
    const name = document.createElement('span');
    name.textContent = param.name + ' ';
    const def = document.createElement('span');
    def.className = 'default';
    def.textContent = `(default ${sizeText(param.defaultValue)})`;
    name.append(def);
    const input = document.createElement('input');
    input.type = 'text';
    input.name = param.name;
    input.placeholder = sizeText(param.defaultValue);
    input.dataset.param = param.name;
    label.append(name, input);
    return label;
  });
}

function showPolicy(): void {
  const p = policies.find((q) => q.name === ui.policy.value);
  ui.policyDescription.textContent = p?.description ?? '';
  ui.params.replaceChildren(...paramFields(p));
  // A stackable policy may sit on another heap (the seed's layers) instead of the VM.
  ui.parentBox.hidden = !p?.stackable;
  const keep = ui.parent.value;
  ui.parent.replaceChildren(option('', 'virtual memory (no heap below)'),
    ...policies.filter((q) => q.name !== p?.name && (p?.parents ?? []).includes(q.name)).map((q) => option(q.name, `a ${q.name} heap`)));
  ui.parent.value = [...ui.parent.options].some((o) => o.value === keep) ? keep : '';
  showParent();
}

function showParent(): void {
  const below = ui.parentBox.hidden ? undefined : policies.find((q) => q.name === ui.parent.value);
  ui.parentParams.replaceChildren(...paramFields(below));
}

function fieldValues(box: HTMLElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const input of box.querySelectorAll<HTMLInputElement>('input[data-param]')) {
    if (input.value.trim() !== '') values[input.dataset.param!] = input.value.trim();
  }
  return values;
}

function readRequest(runId: string): RunRequest {
  const params = fieldValues(ui.params);
  const parent = ui.parentBox.hidden ? '' : ui.parent.value;
  const seed = Number(ui.seed.value);
  const every = Number(ui.every.value);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got '${ui.seed.value}'`);
  if (!Number.isSafeInteger(every) || every < 1) throw new Error(`checkpoint interval must be a positive integer, got '${ui.every.value}'`);
  let input: RunRequest['input'];
  if (source() === 'trace') {
    if (!traceFile) throw new Error('pick or drop a trace file first');
    input = {
      trace: traceFile,
      name: traceFile.name,
      ...(ui.traceFormat.value ? { format: ui.traceFormat.value as FormatName } : {}),
      ...(ui.lenient.checked ? { lenient: true } : {}),
    };
  } else {
    input = { workload: ui.workload.value, seed };
  }
  return {
    runId,
    input,
    policy: ui.policy.value,
    params,
    ...(parent ? { layers: [{ policy: parent, params: fieldValues(ui.parentParams) }] } : {}),
    every,
    ...(ui.arch.value ? { arch: ui.arch.value as ArchName } : {}),
  };
}

// ------------------------------------------------------------------ marks

const markCheckpoints: Checkpoint[] = [];

function isMark(cp: Checkpoint): boolean {
  return !cp.label.startsWith('#');
}

/** The vocabulary of the run on screen: the finished document's, or the one the worker said it will use. */
function viewOfRun(): ViewOf {
  if (current?.doc) return current.doc;
  return current?.view ?? { platform: 'any', arch: 'x86' };
}

function selectMark(i: number): void {
  const cp = markCheckpoints[i];
  if (!cp) return;
  ui.markTabs.querySelectorAll('button').forEach((b, j) => b.setAttribute('aria-selected', String(i === j)));
  ui.markReport.textContent = markReport(cp, viewOfRun());
}

function addMark(cp: Checkpoint): void {
  markCheckpoints.push(cp);
  const i = markCheckpoints.length - 1;
  const tab = document.createElement('button');
  tab.type = 'button';
  tab.setAttribute('role', 'tab');
  tab.textContent = `${cp.label} (event ${cp.event.toLocaleString('en-US')})`;
  tab.addEventListener('click', () => selectMark(i));
  ui.markTabs.append(tab);
  selectMark(i);
}

function clearResults(): void {
  charts.reset();
  markCheckpoints.length = 0;
  ui.markTabs.replaceChildren();
  ui.markReport.textContent = 'Marks appear here as the run reaches them.';
  ui.diagnosis.textContent = 'Shown when a run ends.';
}

/** Draws a finished run from its document (the authority over what arrived live). */
function showDocument(doc: RunDocument): void {
  clearResults();
  for (const cp of doc.checkpoints) {
    charts.add(cp, isMark(cp));
    if (isMark(cp)) addMark(cp);
  }
  charts.redraw();
  if (!markCheckpoints.length) ui.markReport.textContent = 'This input has no marks: the charts show its periodic checkpoints.';
  ui.diagnosis.textContent = diagnosisText(doc);
}

// ------------------------------------------------------------------ run

async function run(): Promise<void> {
  const runId = `run-${++runCounter}`;
  let request: RunRequest;
  try {
    request = readRequest(runId);
  } catch (err) {
    setState('error', (err as Error).message);
    return;
  }
  current = { runId, request };
  // Running from the click on: the state never shows the previous run's end while the worker answers.
  setState('running', 'Starting…');
  try {
    current.view = await api.platformOf(request);
  } catch (err) {
    setState('error', `Error: ${(err as Error).message}`);
    return;
  }
  clearResults();
  setState('running', 'Running…');
  const started = performance.now();
  let events = 0;
  // Callbacks arrive on their own message channels, so one may land after the run's result: only
  // those that come while the run is live are drawn; the finished document is then drawn whole.
  let live = true;
  const onCheckpoint = (cp: Checkpoint): void => {
    if (!live) return;
    charts.add(cp, isMark(cp));
    if (isMark(cp)) addMark(cp);
  };
  const onProgress = (n: number, bytesRead?: number, bytes?: number): void => {
    if (!live) return;
    events = n;
    const share = bytesRead !== undefined && bytes ? `, ${Math.floor((bytesRead * 100) / bytes)} % of the trace read` : '';
    ui.status.textContent = `Running: ${n.toLocaleString('en-US')} events${share}`;
  };
  try {
    const doc = await api.run(request, proxy(onCheckpoint), proxy(onProgress));
    live = false;
    if (current?.runId !== runId) return;
    current.doc = doc;
    showDocument(doc);
    const peak = doc.peaks?.committedBytes;
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    setState('done', `Done: ${doc.events.toLocaleString('en-US')} events, ${doc.checkpoints.length} checkpoints in ${seconds} s` +
      (peak ? `; exact committed peak ${(peak.bytes / KiB / KiB).toFixed(1)} MiB at event ${peak.event.toLocaleString('en-US')}` : '') +
      (doc.program?.failedAllocs ? `, ${doc.program.failedAllocs} failed allocations` : ''));
  } catch (err) {
    live = false;
    if (current?.runId !== runId) return;
    const message = (err as Error).message;
    if (message === 'run cancelled') setState('cancelled', `Cancelled after ${events.toLocaleString('en-US')} events`);
    else setState('error', `Error: ${message}`);
  }
}

function download(): void {
  const doc = current?.doc;
  if (!doc) return;
  const blob = new Blob([runDocumentJson(doc)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  const seed = doc.seed !== undefined ? `-seed${doc.seed}` : '';
  const input = doc.workload.replace(/^.*[\\/]/, '').replace(/[^\w.-]+/g, '_');
  const below = Array.isArray(doc.layers) ? doc.layers.map((l) => `-on-${String(l)}`).join('') : '';
  a.download = `heapsim-${input}-${doc.policy}${below}${seed}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

async function start(): Promise<void> {
  setState('loading', 'Loading the engine…');
  const worker = new Worker(new URL('../worker.ts', import.meta.url), { type: 'module' });
  api = await connectWorker(worker);
  [policies, workloads] = await Promise.all([api.policies(), api.workloads()]);
  ui.workload.replaceChildren(...workloads.map((w) => option(w.name, w.name)));
  ui.policy.replaceChildren(...policies.map((p) => option(p.name, p.name)));
  showWorkload();
  showPolicy();
  ui.traceFormat.append(...FORMAT_NAMES.map((f) => option(f, f)));
  ui.workload.addEventListener('change', () => {
    (ui.form.querySelector('input[name="source"][value="workload"]') as HTMLInputElement).checked = true;
    showWorkload();
  });
  ui.traceFile.addEventListener('change', () => useTrace(ui.traceFile.files?.[0]));
  ui.drop.addEventListener('dragover', (e) => { e.preventDefault(); ui.drop.classList.add('over'); });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.drop.classList.remove('over');
    useTrace(e.dataTransfer?.files[0]);
  });
  ui.policy.addEventListener('change', showPolicy);
  ui.parent.addEventListener('change', showParent);
  ui.form.addEventListener('submit', (e) => { e.preventDefault(); void run(); });
  ui.cancel.addEventListener('click', () => { if (current) void api.cancel(current.runId); });
  ui.download.addEventListener('click', download);
  DEMO.policy = workloads.find((w) => w.name === DEMO.workload)?.defaultPolicy ?? '';
  ui.demo.hidden = !workloads.some((w) => w.name === DEMO.workload) || !policies.some((p) => p.name === DEMO.policy);
  ui.demo.addEventListener('click', () => {
    (ui.form.querySelector('input[name="source"][value="workload"]') as HTMLInputElement).checked = true;
    ui.workload.value = DEMO.workload;
    ui.policy.value = DEMO.policy;
    ui.seed.value = '1';
    ui.arch.value = '';
    showWorkload();
    showPolicy();
    void run();
  });
  setState('idle', 'Ready: pick a workload and a policy, then Run.');
}

start().catch((err: unknown) => setState('error', `Cannot start the engine: ${(err as Error).message}`));
