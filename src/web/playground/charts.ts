// Live charts of a run, drawn with uPlot: one chart of the heap's bytes over events, one of its
// fragmentation percentages, both with the run's marks as labelled vertical lines. Points are
// appended as checkpoints arrive; redraws are batched to one per animation frame.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Checkpoint } from '../../report/types.js';

const MB = 1024 * 1024;

export interface Mark {
  event: number;
  label: string;
}

interface SeriesSpec {
  label: string;
  stroke: string;
  value: (cp: Checkpoint) => number;
}

const BYTE_SERIES: SeriesSpec[] = [
  { label: 'committed', stroke: '#d1495b', value: (cp) => cp.heap.committedBytes / MB },
  { label: 'reserved', stroke: '#8d99ae', value: (cp) => cp.heap.reservedBytes / MB },
  { label: 'busy', stroke: '#00798c', value: (cp) => cp.heap.busyBytes / MB },
  { label: 'free', stroke: '#edae49', value: (cp) => cp.heap.freeBytes / MB },
  { label: 'process commit', stroke: '#6a4c93', value: (cp) => cp.address.state.commit / MB },
];

const PCT_SERIES: SeriesSpec[] = [
  { label: 'external fragmentation', stroke: '#d1495b', value: (cp) => cp.heap.externalFragmentationPct },
  { label: 'virtual address fragmentation', stroke: '#30638e', value: (cp) => cp.heap.virtualAddressFragmentationPct },
];

/** Draws each mark as a dashed vertical line with its label at the top. */
function marksPlugin(marks: () => readonly Mark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const { top, height } = u.bbox;
        ctx.save();
        ctx.strokeStyle = '#444';
        ctx.fillStyle = '#222';
        ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.lineWidth = devicePixelRatio;
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        ctx.textAlign = 'right';
        for (const m of marks()) {
          const x = Math.round(u.valToPos(m.event, 'x', true));
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.fillText(m.label, x - 4 * devicePixelRatio, top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

class Chart {
  readonly plot: uPlot;
  private readonly data: number[][];

  constructor(
    private readonly container: HTMLElement,
    title: string,
    unit: string,
    private readonly specs: SeriesSpec[],
    marks: () => readonly Mark[],
  ) {
    this.data = [[], ...specs.map(() => [])];
    const opts: uPlot.Options = {
      title,
      width: Math.max(300, container.clientWidth),
      height: 260,
      scales: { x: { time: false } },
      axes: [
        { label: 'events', values: (_u, ticks) => ticks.map((t) => t.toLocaleString('en-US')) },
        { label: unit, size: 60 },
      ],
      series: [
        { label: 'event', value: (_u, v) => (v == null ? '' : v.toLocaleString('en-US')) },
        ...specs.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          value: (_u: uPlot, v: number | null) => (v == null ? '' : `${v.toFixed(1)} ${unit}`),
        })),
      ],
      legend: { live: true },
      plugins: [marksPlugin(marks)],
    };
    this.plot = new uPlot(opts, this.data as uPlot.AlignedData, container);
  }

  push(cp: Checkpoint): void {
    this.data[0]!.push(cp.event);
    this.specs.forEach((s, i) => this.data[i + 1]!.push(s.value(cp)));
  }

  clear(): void {
    for (const column of this.data) column.length = 0;
    this.redraw();
  }

  redraw(): void {
    this.plot.setData(this.data as uPlot.AlignedData);
    this.container.dataset.points = String(this.data[0]!.length);
  }

  fit(): void {
    this.plot.setSize({ width: Math.max(300, this.container.clientWidth), height: 260 });
  }

  get points(): number {
    return this.data[0]!.length;
  }
}

/** Both charts of the page, fed checkpoint by checkpoint. */
export class RunCharts {
  private readonly marks: Mark[] = [];
  private readonly bytes: Chart;
  private readonly pct: Chart;
  private pending = false;

  constructor(bytesEl: HTMLElement, pctEl: HTMLElement) {
    this.bytes = new Chart(bytesEl, 'Heap bytes over events', 'MB', BYTE_SERIES, () => this.marks);
    this.pct = new Chart(pctEl, 'Fragmentation', '%', PCT_SERIES, () => this.marks);
    addEventListener('resize', () => { this.bytes.fit(); this.pct.fit(); });
  }

  reset(): void {
    this.marks.length = 0;
    this.bytes.clear();
    this.pct.clear();
  }

  add(cp: Checkpoint, isMark: boolean): void {
    this.bytes.push(cp);
    this.pct.push(cp);
    if (isMark) this.marks.push({ event: cp.event, label: cp.label });
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.redraw(); });
    }
  }

  redraw(): void {
    this.bytes.redraw();
    this.pct.redraw();
  }

  /** Points drawn so far (what the browser test checks). */
  get points(): number {
    return this.bytes.points;
  }
}
