/** Minimal SVG line charts for the results (no dependency). */

/** One line of a chart. */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

/** What to draw. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Logarithmic y axis (values <= 0 are drawn at the bottom). */
  readonly logY?: boolean;
  /** Logarithmic x axis (values must be > 0). */
  readonly logX?: boolean;
  /** A dashed horizontal line, e.g. a goal. */
  readonly guide?: { readonly y: number; readonly label: string };
}

const W = 720;
const H = 420;
const M = { left: 70, right: 20, top: 40, bottom: 60 };

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(min: number, max: number, count = 6): number[] {
  const span = max - min || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => span / s <= count) ?? 10 * mag;
  const ticks: number[] = [];
  // Up to the first tick at or above max, so every point lies inside the plot.
  for (let v = Math.ceil(min / step) * step; ticks.length === 0 || (ticks.at(-1) as number) < max; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const label = (v: number): string =>
  Math.abs(v) >= 1000
    ? `${(v / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })}k`
    : v.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** Renders `spec` as a standalone SVG document. */
export function lineChart(spec: ChartSpec): string {
  const all = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const guideY = spec.guide?.y;
  const xs = all.map(([x]) => x);
  const ys = [...all.map(([, y]) => y), ...(guideY === undefined ? [] : [guideY])].filter((y) => !spec.logY || y > 0);
  const xMax = Math.max(1, ...xs);
  let toX: (v: number) => number;
  let xTicks: number[];
  let toY: (v: number) => number;
  let yTicks: number[];
  const plotH = H - M.top - M.bottom;
  const plotW = W - M.left - M.right;
  if (spec.logY === true) {
    const lo = Math.floor(Math.log10(Math.min(...ys, 1)));
    const hi = Math.ceil(Math.log10(Math.max(...ys, 10)));
    yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    toY = (v) => M.top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo || 1)) * plotH;
  } else {
    yTicks = niceTicks(0, Math.max(1, ...ys) * 1.08); // headroom above the top line and the guide
    const top = yTicks.at(-1) ?? 1;
    toY = (v) => M.top + plotH - (v / top) * plotH;
  }
  if (spec.logX === true) {
    const lo = Math.floor(Math.log10(Math.min(...xs.filter((x) => x > 0), xMax)));
    const hi = Math.ceil(Math.log10(xMax));
    xTicks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i))
      .flatMap((t) => [t, 2 * t, 5 * t])
      .filter((t) => t <= 10 ** hi);
    toX = (v) => M.left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo || 1)) * plotW;
  } else {
    xTicks = niceTicks(0, xMax);
    const xTop = Math.max(xMax, xTicks.at(-1) ?? xMax);
    toX = (v) => M.left + (v / xTop) * plotW;
  }
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  for (const t of yTicks) {
    const y = toY(t).toFixed(1);
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = toX(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`,
      `<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle">${label(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + plotW / 2}" y="${H - 18}" text-anchor="middle">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>`,
  );
  if (spec.guide !== undefined) {
    const y = toY(spec.guide.y).toFixed(1);
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${W - M.right - 4}" y="${Number(y) - 5}" text-anchor="end" fill="#c00">${esc(spec.guide.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const pts = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => `${toX(x).toFixed(1)},${toY(y).toFixed(1)}`);
    if (pts.length > 1)
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    if (pts.length <= 60)
      for (const p of pts)
        parts.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
    const ly = M.top + 14 + i * 16;
    parts.push(
      `<line x1="${M.left + 10}" x2="${M.left + 30}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${M.left + 36}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
