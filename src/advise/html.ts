// `advise --html FILE`: one self-contained page (no network at view time) with the ranked table,
// the baseline's verdict and mechanisms, and the held/live curves of the baseline and the best
// three remedies on one event axis, drawn with uPlot (the playground's chart library), whose
// script and stylesheet are inlined. The data is the --json document, embedded as is.
// Node only (reads uPlot's files from the installed package).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Advice } from './advise.js';
import { formatAdviceJson } from './report.js';

/** Curves drawn per input: the baseline and this many best remedies. */
export const CHARTED_REMEDIES = 3;

function uplotFiles(): { script: string; css: string } {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return { script: readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dist, 'uPlot.min.css'), 'utf8') };
}

/** Text safe inside <script>: no '</' (closes the element) and no U+2028/9. */
function scriptSafe(text: string): string {
  return text.replace(/<\//g, '<\\/').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const PAGE_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('advice-data').textContent);
  var MB = 1024 * 1024;
  function mb(b) { return (b / MB).toFixed(1); }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
  var root = document.getElementById('advice');
  var COLORS = ['#444', '#d62728', '#1f77b4', '#2ca02c'];
  data.advice.forEach(function (a, n) {
    var sec = el('section'); sec.dataset.input = a.input; root.appendChild(sec);
    sec.appendChild(el('h2', a.input + ' on ' + a.policy + ' (' + a.platform + ' remedies)'));
    sec.appendChild(el('h3', 'Baseline verdict: ' + a.baselineVerdict.kind));
    sec.appendChild(el('p', a.baselineVerdict.summary, 'verdict'));
    if (a.baselineVerdict.causes.length) {
      var ul = el('ul', undefined, 'mechanisms');
      a.baselineVerdict.causes.forEach(function (c) { ul.appendChild(el('li', mb(c.bytes) + ' MB: ' + c.mechanism + (c.layer ? ' (' + c.layer + ')' : ''))); });
      sec.appendChild(ul);
    }
    sec.appendChild(el('p', a.quietPoints.length ? 'Quiet points: ' + a.quietPoints.map(function (q) { return q.at + ' (event ' + q.event + ')'; }).join(', ') : 'Quiet points: none'));
    sec.appendChild(el('h3', 'Ranked by retained ' + a.held + ' bytes at the end'));
    var labels = a.runs[0].marks.map(function (m) { return m.label; }).filter(function (l) { return l !== 'end'; });
    var table = el('table', undefined, 'ranked'); var head = el('tr');
    ['#', 'remedy', 'retained end MB', 'vs baseline MB'].concat(labels.map(function (l) { return 'at ' + l + ' MB'; }), ['peak commit MB', 'peak resident MB', 'failed allocs', 'change to apply']).forEach(function (h) { head.appendChild(el('th', h)); });
    table.appendChild(head);
    a.runs.forEach(function (r) {
      var tr = el('tr'); tr.dataset.id = r.id;
      var cells = [String(r.rank), r.id, mb(r.retainedBytes), r.id === 'baseline' ? '-' : (r.changeBytes > 0 ? '+' : '') + mb(r.changeBytes)];
      labels.forEach(function (l) { var m = r.marks.find(function (k) { return k.label === l; }); cells.push(m ? mb(m.retainedBytes) : '-'); });
      cells.push(mb(r.peakCommittedBytes), mb(r.peakResidentBytes), String(r.failedAllocs));
      cells.forEach(function (c) { tr.appendChild(el('td', c)); });
      var change = el('td'); change.appendChild(el('code', r.change)); change.appendChild(el('div', r.explain, 'why')); tr.appendChild(change);
      table.appendChild(tr);
    });
    sec.appendChild(table);
    // Baseline and the best three remedies, held and live bytes, on one event axis.
    var shown = [a.runs.find(function (r) { return r.id === 'baseline'; })].concat(a.runs.filter(function (r) { return r.id !== 'baseline'; }).slice(0, ${CHARTED_REMEDIES}));
    var xs = Array.from(new Set([].concat.apply([], shown.map(function (r) { return r.curve.map(function (p) { return p.event; }); })))).sort(function (p, q) { return p - q; });
    var series = [{ label: 'event' }]; var cols = [xs];
    shown.forEach(function (r, i) {
      var byEvent = new Map(r.curve.map(function (p) { return [p.event, p]; }));
      cols.push(xs.map(function (x) { var p = byEvent.get(x); return p ? p.heldBytes / MB : null; }));
      series.push({ label: r.id + ' ' + a.held + ' MB', stroke: COLORS[i], width: 2, spanGaps: true });
    });
    var base = shown[0]; var live = new Map(base.curve.map(function (p) { return [p.event, p]; }));
    cols.push(xs.map(function (x) { var p = live.get(x); return p ? p.liveBytes / MB : null; }));
    series.push({ label: 'program live MB', stroke: '#999', dash: [6, 4], width: 1.5, spanGaps: true });
    var box = el('div', undefined, 'chart'); box.id = 'chart-' + n; sec.appendChild(box);
    new uPlot({ width: 1100, height: 360, title: a.held + ' and live bytes: baseline and the best three remedies', series: series, axes: [{ label: 'event' }, { label: 'MB' }] }, cols, box);
  });
  document.body.dataset.state = 'drawn';
})();
`;

export function adviceHtml(advice: readonly Advice[]): string {
  const { script, css } = uplotFiles();
  const json = formatAdviceJson(advice);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heapsim advise</title>
<style>${css}
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222 }
table.ranked { border-collapse: collapse; margin: 0.5em 0 1em }
table.ranked th, table.ranked td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; vertical-align: top }
table.ranked td:nth-child(2), table.ranked td:last-child { text-align: left }
table.ranked td:last-child { max-width: 40em } .why { color: #666; font-size: 12px } code { font-size: 12px }
p.verdict { max-width: 70em }
</style></head>
<body data-state="loading"><h1>heapsim advise</h1><div id="advice"></div>
<script type="application/json" id="advice-data">${scriptSafe(json)}</script>
<script>${scriptSafe(script)}</script>
<script>${scriptSafe(PAGE_SCRIPT)}</script>
</body></html>
`;
}
