// Time-series charts drawn by uPlot: a line chart with an optional objective line and scaling
// decisions marked on the time axis, and a sparkline. Times come in as epoch ms, uPlot takes seconds.
import uPlot from 'uplot';

export interface Line {
  label: string;
  color: string;
  /** Replica counts step; measurements are lines. */
  stepped?: boolean;
  values: (number | null)[];
}

export interface Marker {
  /** Epoch ms. */
  t: number;
  label: string;
}

export interface TimeChartOptions {
  title: string;
  /** Formats a y value for the axis and the legend. */
  format: (v: number) => string;
  /** The objective (dashed), e.g. the p95 target; omitted when the app sets none. */
  target?: { label: string; value: number };
  /** The y axis starts at 0 and reaches at least this. */
  minMax?: number;
}

export interface ChartData {
  t: number[];
  lines: Line[];
  markers: Marker[];
}

const HEIGHT = 170;
const MARKER_COLOR = '#8250df';
const TARGET_COLOR = '#cf222e';

export class TimeChart {
  private plot: uPlot | undefined;
  private markers: Marker[] = [];
  private readonly resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));

  constructor(
    private readonly el: HTMLElement,
    private readonly options: TimeChartOptions,
  ) {
    this.resize.observe(el);
  }

  update(data: ChartData): void {
    this.markers = data.markers;
    const xs = data.t.map((t) => t / 1000);
    const columns: uPlot.AlignedData = [xs, ...data.lines.map((l) => l.values)];
    const target = this.options.target;
    if (target) columns.push(xs.map(() => target.value));
    // Read by the browser tests: how many samples the chart holds now.
    this.el.dataset.points = String(xs.length);
    const shape = data.lines.map((l) => l.label).join('|');
    if (this.plot && this.plot.series.length === columns.length && this.el.dataset.shape === shape) {
      this.plot.setData(columns);
    } else {
      this.plot?.destroy();
      this.el.dataset.shape = shape;
      this.plot = new uPlot(this.plotOptions(data.lines), columns, this.el);
    }
    showLatest(this.plot);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(240, this.el.clientWidth);
  }

  private plotOptions(lines: Line[]): uPlot.Options {
    const { format, target, minMax = 1 } = this.options;
    const series: uPlot.Series[] = [
      {},
      ...lines.map((l) => ({
        label: l.label,
        stroke: l.color,
        width: 1.5,
        value: (_u: uPlot, v: number | null) => (v === null ? '-' : format(v)),
        ...(l.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
      })),
    ];
    if (target) series.push({ label: target.label, stroke: TARGET_COLOR, width: 1, dash: [6, 4], value: () => format(target.value) });
    return {
      title: this.options.title,
      width: this.width(),
      height: HEIGHT,
      series,
      scales: {
        // Wide enough for a decision taken after the newest sample.
        x: { time: true, range: (_u, min, max) => [min, Math.max(max, ...this.markers.map((m) => m.t / 1000))] },
        y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, (target?.value ?? 0) * 1.15, minMax)] },
      },
      axes: [{}, { size: 64, values: (_u, ticks) => ticks.map(format) }],
      plugins: [{ hooks: { draw: (u) => drawMarkers(u, this.markers), setCursor: (u) => u.cursor.idx == null && showLatest(u) } }],
    };
  }
}

/** The legend shows the newest values while the pointer is not over the chart. */
function showLatest(u: uPlot): void {
  const last = (u.data[0]?.length ?? 0) - 1;
  if (last >= 0 && u.cursor.idx == null) u.setLegend({ idx: last });
}

/** Scaling decisions: a dashed vertical line at each, labelled "2→3", within the plotted range. */
function drawMarkers(u: uPlot, markers: Marker[]): void {
  const { ctx, bbox } = u;
  const [min, max] = [u.scales.x!.min!, u.scales.x!.max!];
  ctx.save();
  ctx.strokeStyle = MARKER_COLOR;
  ctx.fillStyle = MARKER_COLOR;
  ctx.setLineDash([3, 3]);
  ctx.lineWidth = 1;
  ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
  for (const m of markers) {
    const t = m.t / 1000;
    if (t < min || t > max) continue;
    const x = Math.round(u.valToPos(t, 'x', true));
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    ctx.fillText(m.label, x + 3 * devicePixelRatio, bbox.top + 12 * devicePixelRatio);
  }
  ctx.restore();
}

/** A 120x28 line of one series, no axes or legend (the apps page's requests per second). */
export class Sparkline {
  private readonly plot: uPlot;

  constructor(el: HTMLElement, color = '#0969da') {
    this.plot = new uPlot(
      {
        width: 120,
        height: 28,
        pxAlign: false,
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        legend: { show: false },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 0)] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: color, width: 1, fill: `${color}22` }],
      },
      [[], []],
      el,
    );
  }

  update(t: number[], values: (number | null)[]): void {
    this.plot.setData([t.map((x) => x / 1000), values]);
  }

  destroy(): void {
    this.plot.destroy();
  }
}
