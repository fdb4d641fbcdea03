/**
 * Small SVG charts for the CLI's --plot: plain SVG, no dependencies, readable in any browser.
 */
const W = 420;
const H = 260;
const PAD = 40;

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">
  <title>${title}</title>
  <rect width="100%" height="100%" fill="white"/>
  <line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#333"/>
  <line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="#333"/>
  <text x="${W / 2}" y="${H - 8}" text-anchor="middle">${xLabel}</text>
  <text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle">${yLabel}</text>
  <text x="${W / 2}" y="20" text-anchor="middle">${title}</text>
${body}
</svg>
`;
}

/** A line through (x, y) points in [0, 1]² (a PR curve). */
export function svgCurve(
  title: string,
  xLabel: string,
  yLabel: string,
  points: Array<[number, number]>,
): string {
  const x = (v: number): number => PAD + v * (W - 2 * PAD);
  const y = (v: number): number => H - PAD - v * (H - 2 * PAD);
  const path = points
    .map(([a, b], i) => `${i === 0 ? 'M' : 'L'}${x(a).toFixed(1)},${y(b).toFixed(1)}`)
    .join(' ');
  return frame(title, xLabel, yLabel, `  <path d="${path}" fill="none" stroke="#e0752d" stroke-width="2"/>`);
}

/**
 * A histogram of scores: normal rows in grey, labelled anomalous rows in orange (when labels are
 * given), and the threshold as a red line, so one look shows how well the threshold separates them.
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
    min = Math.min(min, scores[i]!);
    max = Math.max(max, scores[i]!);
  }
  if (threshold !== undefined) {
    min = Math.min(min, threshold);
    max = Math.max(max, threshold);
  }
  const width = max > min ? (max - min) / bins : 1;
  const normal = new Array<number>(bins).fill(0);
  const anomalous = new Array<number>(bins).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const b = Math.min(bins - 1, Math.floor((scores[i]! - min) / width));
    if (labels?.[i]) anomalous[b]!++;
    else normal[b]!++;
  }
  const top = Math.max(1, ...normal.map((n, b) => n + anomalous[b]!));
  const bw = (W - 2 * PAD) / bins;
  const h = (n: number): number => (n / top) * (H - 2 * PAD);
  const bars = normal
    .map((n, b) => {
      const x = PAD + b * bw;
      const a = anomalous[b]!;
      return [
        n > 0
          ? `  <rect x="${x.toFixed(1)}" y="${(H - PAD - h(n)).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h(n).toFixed(1)}" fill="#9aa0a6"/>`
          : '',
        a > 0
          ? `  <rect x="${x.toFixed(1)}" y="${(H - PAD - h(n) - h(a)).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${h(a).toFixed(1)}" fill="#e0752d"/>`
          : '',
      ].join('\n');
    })
    .join('\n');
  const line =
    threshold === undefined
      ? ''
      : `  <line x1="${(PAD + ((threshold - min) / (max - min || 1)) * (W - 2 * PAD)).toFixed(1)}" y1="${PAD}" x2="${(PAD + ((threshold - min) / (max - min || 1)) * (W - 2 * PAD)).toFixed(1)}" y2="${H - PAD}" stroke="#d93025" stroke-dasharray="4 3"/>`;
  const axis = `  <text x="${PAD}" y="${H - PAD + 14}" text-anchor="middle">${min.toFixed(2)}</text>\n  <text x="${W - PAD}" y="${H - PAD + 14}" text-anchor="middle">${max.toFixed(2)}</text>`;
  return frame(title, 'score', 'rows', [bars, line, axis].filter(Boolean).join('\n'));
}
