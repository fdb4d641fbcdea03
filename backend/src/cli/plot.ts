/**
 * Small SVG charts for the CLI's --plot and --plot-time: plain SVG, no dependencies, readable in
 * any browser. Every chart has both axes with ticks and tick labels; score charts mark the threshold.
 */
const W = 420;
const H = 260;
const LEFT = 52;
const RIGHT = 16;
const TOP = 32;
const BOTTOM = 40;

const GREY = '#9aa0a6';
const ORANGE = '#e0752d';
const RED = '#d93025';
const BLUE = '#1a73e8';

/** Escapes text for SVG content and attributes (titles hold file and column names). */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * About `count` round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10ᵏ (the usual "nice
 * numbers"), so labels read as 0.2, 0.4 … rather than 0.1837, 0.3674 …
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    // Rounding to the step's decimals keeps 0.30000000000000004 out of the labels.
    ticks.push(Number(v.toFixed(Math.max(0, -Math.floor(Math.log10(step))))));
  }
  return ticks;
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

interface Axis {
  lo: number;
  hi: number;
  ticks: Array<{ value: number; label: string }>;
}

function numericAxis(lo: number, hi: number, count = 5): Axis {
  if (!(hi > lo)) hi = lo + 1;
  return { lo, hi, ticks: niceTicks(lo, hi, count).map((value) => ({ value, label: tickLabel(value) })) };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Time ticks on round UTC boundaries (minutes, hours, days), labelled in UTC as the CSVs are read. */
function timeAxis(lo: number, hi: number, count = 5): Axis {
  if (!(hi > lo)) hi = lo + MINUTE;
  const steps = [1, 2, 5, 10, 15, 30]
    .map((m) => m * 1000)
    .concat([1, 2, 5, 10, 15, 30].map((m) => m * MINUTE))
    .concat([1, 2, 3, 6, 12].map((h) => h * HOUR))
    .concat([1, 2, 7, 14, 30, 91, 365].map((d) => d * DAY));
  const step = steps.find((s) => (hi - lo) / s <= count) ?? steps[steps.length - 1]!;
  const iso = (t: number): string => new Date(t).toISOString();
  const label = (t: number): string =>
    step >= DAY
      ? iso(t).slice(0, 10)
      : step >= MINUTE
        ? `${iso(t).slice(5, 10)} ${iso(t).slice(11, 16)}`
        : iso(t).slice(11, 19);
  const ticks: Axis['ticks'] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push({ value: t, label: label(t) });
  return { lo, hi, ticks };
}

/** Maps data to pixels inside a plot area [x0, x1] × [y0, y1] (y grows downwards in SVG). */
class Area {
  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly x1: number,
    readonly y1: number,
    readonly xAxis: Axis,
    readonly yAxis: Axis,
  ) {}
  x(v: number): number {
    return this.x0 + ((v - this.xAxis.lo) / (this.xAxis.hi - this.xAxis.lo)) * (this.x1 - this.x0);
  }
  y(v: number): number {
    return this.y1 - ((v - this.yAxis.lo) / (this.yAxis.hi - this.yAxis.lo)) * (this.y1 - this.y0);
  }
  private anchor(px: number): string {
    return px > this.x1 - 30 ? 'end' : px < this.x0 + 10 ? 'start' : 'middle';
  }
  /** Axis lines, ticks, tick labels and light grid lines. */
  axes(xLabel: string, yLabel: string): string {
    const out: string[] = [];
    for (const { value, label } of this.xAxis.ticks) {
      const px = this.x(value).toFixed(1);
      out.push(
        `  <line x1="${px}" y1="${this.y0}" x2="${px}" y2="${this.y1}" stroke="#eee"/>`,
        `  <line x1="${px}" y1="${this.y1}" x2="${px}" y2="${this.y1 + 4}" stroke="#333"/>`,
        // Labels at the ends are anchored inwards so they are not cut at the chart's edge.
        `  <text x="${px}" y="${this.y1 + 15}" text-anchor="${this.anchor(Number(px))}">${escapeXml(label)}</text>`,
      );
    }
    for (const { value, label } of this.yAxis.ticks) {
      const py = this.y(value).toFixed(1);
      out.push(
        `  <line x1="${this.x0}" y1="${py}" x2="${this.x1}" y2="${py}" stroke="#eee"/>`,
        `  <line x1="${this.x0 - 4}" y1="${py}" x2="${this.x0}" y2="${py}" stroke="#333"/>`,
        `  <text x="${this.x0 - 6}" y="${py}" dy="0.35em" text-anchor="end">${escapeXml(label)}</text>`,
      );
    }
    const midY = (this.y0 + this.y1) / 2;
    out.push(
      `  <line x1="${this.x0}" y1="${this.y1}" x2="${this.x1}" y2="${this.y1}" stroke="#333"/>`,
      `  <line x1="${this.x0}" y1="${this.y0}" x2="${this.x0}" y2="${this.y1}" stroke="#333"/>`,
      `  <text x="${(this.x0 + this.x1) / 2}" y="${this.y1 + 30}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
      `  <text x="12" y="${midY}" transform="rotate(-90 12 ${midY})" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    );
    return out.join('\n');
  }
}

function svg(width: number, height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">
  <title>${escapeXml(title)}</title>
  <rect width="100%" height="100%" fill="white"/>
  <text x="${width / 2}" y="18" text-anchor="middle">${escapeXml(title)}</text>
${body}
</svg>
`;
}

/**
 * A line through (x, y) points in [0, 1]² (a PR curve), with an optional marked point: where the
 * detector's own decisions sit on the curve.
 */
export function svgCurve(
  title: string,
  xLabel: string,
  yLabel: string,
  points: Array<[number, number]>,
  marker?: { x: number; y: number; label: string },
): string {
  const area = new Area(LEFT, TOP, W - RIGHT, H - BOTTOM, numericAxis(0, 1), numericAxis(0, 1));
  const path = points
    .map(([a, b], i) => `${i === 0 ? 'M' : 'L'}${area.x(a).toFixed(1)},${area.y(b).toFixed(1)}`)
    .join(' ');
  const body = [
    area.axes(xLabel, yLabel),
    `  <path d="${path}" fill="none" stroke="${ORANGE}" stroke-width="2"/>`,
  ];
  if (marker) {
    const mx = area.x(marker.x);
    const my = area.y(marker.y);
    body.push(
      `  <circle cx="${mx.toFixed(1)}" cy="${my.toFixed(1)}" r="4" fill="${RED}"><title>${escapeXml(marker.label)}</title></circle>`,
      `  <text x="${(mx + (mx > W / 2 ? -8 : 8)).toFixed(1)}" y="${(my + (my < TOP + 20 ? 16 : -8)).toFixed(1)}" text-anchor="${mx > W / 2 ? 'end' : 'start'}" fill="${RED}">${escapeXml(marker.label)}</text>`,
    );
  }
  return svg(W, H, title, body.join('\n'));
}

/**
 * A histogram of scores: normal rows in grey, labelled anomalous rows in orange stacked on top
 * (when labels are given), and the threshold as a dashed red line, so one look shows how well the
 * threshold separates them.
 */
export function svgScoreHistogram(
  title: string,
  scores: ArrayLike<number>,
  labels?: ArrayLike<number>,
  threshold?: number,
  bins = 40,
): string {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) continue;
    min = Math.min(min, scores[i]!);
    max = Math.max(max, scores[i]!);
  }
  if (threshold !== undefined && Number.isFinite(threshold)) {
    min = Math.min(min, threshold);
    max = Math.max(max, threshold);
  }
  if (!(max > min)) max = min + 1;
  const width = (max - min) / bins;
  const normal = new Array<number>(bins).fill(0);
  const anomalous = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) continue;
    const b = Math.min(bins - 1, Math.floor((scores[i]! - min) / width));
    if (labels?.[i]) anomalous[b]!++;
    else normal[b]!++;
  }
  const top = Math.max(1, ...normal.map((n, b) => n + anomalous[b]!));
  const area = new Area(LEFT, TOP, W - RIGHT, H - BOTTOM, numericAxis(min, max), numericAxis(0, top, 4));
  const bw = (area.x1 - area.x0) / bins;
  const bars: string[] = [];
  normal.forEach((n, b) => {
    const x = (area.x0 + b * bw).toFixed(1);
    const a = anomalous[b]!;
    const rect = (from: number, to: number, fill: string): string =>
      `  <rect x="${x}" y="${area.y(to).toFixed(1)}" width="${Math.max(0.5, bw - 1).toFixed(1)}" height="${(area.y(from) - area.y(to)).toFixed(1)}" fill="${fill}"/>`;
    if (n > 0) bars.push(rect(0, n, GREY));
    if (a > 0) bars.push(rect(n, n + a, ORANGE));
  });
  const body = [area.axes('score', 'rows'), ...bars];
  if (threshold !== undefined && Number.isFinite(threshold)) {
    const tx = area.x(threshold).toFixed(1);
    body.push(
      `  <line x1="${tx}" y1="${area.y0}" x2="${tx}" y2="${area.y1}" stroke="${RED}" stroke-dasharray="4 3"/>`,
      `  <text x="${tx}" y="${area.y0 - 3}" text-anchor="middle" fill="${RED}">threshold ${tickLabel(threshold)}</text>`,
    );
  }
  return svg(W, H, title, body.join('\n'));
}

/** One series for {@link svgScoreTimeline}. */
export interface TimelineSeries {
  name: string;
  /** Epoch milliseconds; row numbers are used when absent. */
  times?: ArrayLike<number>;
  scores: ArrayLike<number>;
  labels?: ArrayLike<number>;
  flags?: ArrayLike<number>;
  /** One threshold for the series, or one per row (a line that may move as models retrain). */
  threshold?: number | ArrayLike<number>;
}

const TIMELINE_W = 900;
const TIMELINE_TOP = 40;
/** A panel: its name, a 120 px plot, the time axis' labels below. */
const PANEL_H = 14 + 120 + BOTTOM;
/** Points drawn per series: more than a screen shows; above it each pixel column keeps its min and max. */
const MAX_POINTS = 1600;

/** Indices to draw: every row when few, else the first, min and max rows of each of `MAX_POINTS / 2` buckets (peaks survive). */
function drawnRows(n: number, values: ArrayLike<number>): number[] {
  if (n <= MAX_POINTS) return Array.from({ length: n }, (_, i) => i);
  const buckets = MAX_POINTS / 2;
  const out: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from; i < to; i++) {
      if (values[i]! < values[lo]!) lo = i;
      if (values[i]! > values[hi]!) hi = i;
    }
    out.push(...(lo < hi ? [lo, hi] : lo > hi ? [hi, lo] : [lo]));
  }
  return out;
}

/**
 * Scores over time, one panel per series: labelled incidents shaded orange, the threshold as a
 * dashed red line, flagged rows as red ticks under the curve: where the detector fired against
 * where the incidents were, at a glance.
 */
export function svgScoreTimeline(title: string, series: TimelineSeries[]): string {
  const panels: string[] = [];
  series.forEach((s, p) => {
    const n = s.scores.length;
    const at = (i: number): number => (s.times ? s.times[i]! : i);
    let xlo = Infinity;
    let xhi = -Infinity;
    let ylo = Infinity;
    let yhi = -Infinity;
    for (let i = 0; i < n; i++) {
      const t = at(i);
      if (Number.isFinite(t)) {
        xlo = Math.min(xlo, t);
        xhi = Math.max(xhi, t);
      }
      const v = s.scores[i]!;
      if (Number.isFinite(v)) {
        ylo = Math.min(ylo, v);
        yhi = Math.max(yhi, v);
      }
    }
    const thresholdAt = (i: number): number | undefined =>
      s.threshold === undefined ? undefined : typeof s.threshold === 'number' ? s.threshold : s.threshold[i];
    for (let i = 0; i < n; i++) {
      const t = thresholdAt(i);
      if (t !== undefined && Number.isFinite(t)) {
        ylo = Math.min(ylo, t);
        yhi = Math.max(yhi, t);
      }
    }
    if (!Number.isFinite(ylo)) [ylo, yhi] = [0, 1];
    const pad = (yhi - ylo) * 0.05 || 0.5;
    const y0 = TIMELINE_TOP + p * PANEL_H + 14;
    const area = new Area(
      LEFT,
      y0,
      TIMELINE_W - RIGHT,
      y0 + 120,
      s.times ? timeAxis(xlo, xhi, 8) : numericAxis(xlo, xhi, 8),
      numericAxis(ylo - pad, yhi + pad, 4),
    );
    const body: string[] = [];
    // Incidents first, so the curve draws over them.
    if (s.labels) {
      for (let i = 0; i < n; i++) {
        if (!s.labels[i]) continue;
        const start = i;
        while (i + 1 < n && s.labels[i + 1]) i++;
        const a = area.x(at(start));
        const b = Math.max(area.x(at(i)), a + 1.5);
        body.push(
          `  <rect x="${a.toFixed(1)}" y="${area.y0}" width="${(b - a).toFixed(1)}" height="${area.y1 - area.y0}" fill="${ORANGE}" fill-opacity="0.25"><title>labelled incident, rows ${start}–${i}</title></rect>`,
        );
      }
    }
    body.push(area.axes(s.times ? 'time (UTC)' : 'row', 'score'));
    const path = drawnRows(n, s.scores)
      .filter((i) => Number.isFinite(s.scores[i]!) && Number.isFinite(at(i)))
      .map((i, k) => `${k === 0 ? 'M' : 'L'}${area.x(at(i)).toFixed(1)},${area.y(s.scores[i]!).toFixed(1)}`)
      .join(' ');
    body.push(`  <path d="${path}" fill="none" stroke="${BLUE}" stroke-width="1"/>`);
    if (s.threshold !== undefined) {
      const rows = typeof s.threshold === 'number' ? [0, n - 1] : drawnRows(n, s.threshold);
      const line = rows
        .filter((i) => Number.isFinite(thresholdAt(i)!) && Number.isFinite(at(i)))
        .map(
          (i, k) => `${k === 0 ? 'M' : 'L'}${area.x(at(i)).toFixed(1)},${area.y(thresholdAt(i)!).toFixed(1)}`,
        )
        .join(' ');
      body.push(
        `  <path d="${line}" fill="none" stroke="${RED}" stroke-dasharray="4 3"><title>threshold</title></path>`,
      );
    }
    if (s.flags) {
      const ticks: string[] = [];
      let lastPx = -Infinity;
      for (let i = 0; i < n; i++) {
        if (!s.flags[i] || !Number.isFinite(at(i))) continue;
        const px = area.x(at(i));
        if (px - lastPx < 1) continue; // one tick per pixel column is all the eye can see
        lastPx = px;
        ticks.push(`M${px.toFixed(1)},${area.y1 - 6} v6`);
      }
      if (ticks.length)
        body.push(
          `  <path d="${ticks.join(' ')}" stroke="${RED}" stroke-width="1"><title>flagged rows</title></path>`,
        );
    }
    body.push(`  <text x="${LEFT}" y="${y0 - 4}" font-weight="bold">${escapeXml(s.name)}</text>`);
    panels.push(body.join('\n'));
  });
  // The legend names only what is drawn: no threshold line when none is known.
  const has = (key: 'labels' | 'threshold' | 'flags'): boolean => series.some((s) => s[key] !== undefined);
  const entries: Array<[number, string]> = [];
  if (has('labels'))
    entries.push([
      120,
      `<rect x="0" y="-8" width="12" height="8" fill="${ORANGE}" fill-opacity="0.25"/><text x="16" y="0">labelled incident</text>`,
    ]);
  entries.push([
    64,
    `<line x1="0" y1="-4" x2="16" y2="-4" stroke="${BLUE}"/><text x="20" y="0">score</text>`,
  ]);
  if (has('threshold'))
    entries.push([
      84,
      `<line x1="0" y1="-4" x2="16" y2="-4" stroke="${RED}" stroke-dasharray="4 3"/><text x="20" y="0">threshold</text>`,
    ]);
  if (has('flags'))
    entries.push([
      64,
      `<line x1="0" y1="-8" x2="0" y2="0" stroke="${RED}"/><text x="6" y="0">flagged</text>`,
    ]);
  let lx = TIMELINE_W - RIGHT - entries.reduce((a, [w]) => a + w, 0);
  const legend = entries
    .map(([w, body]) => {
      const g = `  <g transform="translate(${lx} 34)">${body}</g>`;
      lx += w;
      return g;
    })
    .join('\n');
  return svg(
    TIMELINE_W,
    TIMELINE_TOP + series.length * PANEL_H + 8,
    title,
    `${legend}\n${panels.join('\n')}`,
  );
}
