// Daily sessions as an inline SVG bar chart drawn on the server: no script, no external asset,
// readable offline and in any browser. Successful sessions green, failed red, stacked; a day
// with any failure always shows a visible red cap, however small next to the successes.
import { html, type SafeHtml } from '../html.js';

export interface ChartPoint {
  day: string;
  successful: number;
  failed: number;
}

const W = 480;
const H = 170;
const PAD_L = 40;
const PAD_B = 24;
const PAD_T = 8;

function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function shortNumber(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

export function sessionsChart(points: readonly ChartPoint[], label: string): SafeHtml {
  if (points.every((p) => p.successful + p.failed === 0))
    return html`<p class="nochart muted">No reports for this period.</p>`;
  const max = niceMax(Math.max(0, ...points.map((p) => p.successful + p.failed)));
  const plotW = W - PAD_L - 4;
  const plotH = H - PAD_T - PAD_B;
  const step = points.length > 0 ? plotW / points.length : plotW;
  const barW = Math.max(1, step * 0.7);
  const y = (v: number) => PAD_T + plotH - (v / max) * plotH;
  const bars = points.map((p, i) => {
    const x = PAD_L + i * step + (step - barW) / 2;
    const total = p.successful + p.failed;
    let failH = (p.failed / max) * plotH;
    if (p.failed > 0 && failH < 2) failH = 2;
    const totalH = Math.max((total / max) * plotH, failH);
    const okH = totalH - failH;
    const top = PAD_T + plotH - totalH;
    const tip = `${p.day}: ${p.successful} successful, ${p.failed} failed`;
    return html`<g><title>${tip}</title>${
      okH > 0
        ? html`<rect class="ok" x="${x.toFixed(1)}" y="${(top + failH).toFixed(1)}" width="${barW.toFixed(1)}" height="${okH.toFixed(1)}"/>`
        : ''
    }${failH > 0 ? html`<rect class="fail" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${failH.toFixed(1)}"/>` : ''}</g>`;
  });
  const ticks = [0, max / 2, max].map(
    (v) =>
      html`<line class="grid" x1="${PAD_L}" x2="${W - 4}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text class="axis" x="${PAD_L - 4}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${shortNumber(v)}</text>`,
  );
  const labelEvery = Math.max(1, Math.ceil(points.length / 5));
  // Label every n-th day from the last one backwards, so today always has its label.
  const xLabels = points.map((p, i) =>
    (points.length - 1 - i) % labelEvery === 0
      ? html`<text class="axis" x="${(i === points.length - 1 ? W - 2 : PAD_L + i * step + step / 2).toFixed(1)}" y="${H - 6}" text-anchor="${i === points.length - 1 ? 'end' : 'middle'}">${p.day.slice(5)}</text>`
      : '',
  );
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${label}" preserveAspectRatio="xMidYMid meet">${ticks}${bars}${xLabels}</svg>`;
}
