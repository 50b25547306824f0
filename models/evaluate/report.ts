/** Renders the evaluation as a self-contained HTML page with inline SVG bar and loss charts (no plotting deps). */
import type { SystemMetrics } from './evaluate.ts';

interface Summary {
  dataset: string;
  protocol: string;
  k: number;
  users: number;
  results: Record<string, SystemMetrics>;
  session?: { line: string; metrics: Record<string, number> };
  createdAt: string;
}

const COLOURS = ['#8da0cb', '#66c2a5', '#fc8d62', '#e78ac3', '#a6d854'];
const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function barChart(title: string, values: { label: string; value: number }[]): string {
  const max = Math.max(1e-9, ...values.map((v) => v.value));
  const bars = values.map((v, i) => {
    const w = (v.value / max) * 300;
    return `<g transform="translate(0,${i * 24})"><text x="0" y="15" font-size="12">${escape(v.label)}</text>` +
      `<rect x="170" y="3" width="${w.toFixed(1)}" height="16" fill="${COLOURS[i % COLOURS.length]}"/>` +
      `<text x="${(175 + w).toFixed(1)}" y="15" font-size="11">${v.value.toFixed(4)}</text></g>`;
  });
  return `<figure><figcaption>${escape(title)}</figcaption><svg width="540" height="${values.length * 24 + 4}" role="img" aria-label="${escape(title)}">${bars.join('')}</svg></figure>`;
}

function lossChart(name: string, losses: number[]): string {
  if (losses.length === 0) return '';
  const max = Math.max(...losses);
  const min = Math.min(...losses);
  const points = losses.map((l, i) => `${(20 + (i / Math.max(1, losses.length - 1)) * 260).toFixed(1)},${(10 + ((max - l) / Math.max(1e-9, max - min)) * 100).toFixed(1)}`);
  return `<figure><figcaption>${escape(name)} training loss (${losses.map((l) => l.toFixed(3)).join(' → ')})</figcaption>` +
    `<svg width="300" height="130"><polyline fill="none" stroke="#333" stroke-width="2" points="${points.join(' ')}"/></svg></figure>`;
}

function metricsTable(summary: Summary, metrics: (keyof SystemMetrics)[]): string {
  const head = metrics.map((m) => `<th>${escape(`${m}@${summary.k}`)}</th>`).join('');
  const rows = Object.entries(summary.results).map(([system, r]) =>
    `<tr><th>${escape(system)}</th>${metrics.map((m) => `<td>${r[m] === undefined ? '–' : (r[m] ?? 0).toFixed(4)}</td>`).join('')}</tr>`);
  return `<table><thead><tr><th>system</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderReport(summary: Summary, losses: Record<string, number[]>): string {
  const systems = Object.keys(summary.results);
  const metrics: (keyof SystemMetrics)[] = ['hr', 'recall', 'ndcg', 'map', 'mrr', 'coverage', 'diversity'];
  const charts = metrics.map((m) =>
    barChart(`${m}@${summary.k}`, systems.filter((s) => summary.results[s]?.[m] !== undefined).map((s) => ({ label: s, value: summary.results[s]?.[m] ?? 0 }))));
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>Model evaluation — ${escape(summary.dataset)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}figure{display:inline-block;margin:1em}figcaption{font-weight:600}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}</style>
<h1>Offline evaluation: ${escape(summary.dataset)}</h1>
<p>Protocol: <b>${escape(summary.protocol)}</b>, ${summary.users} users, K=${summary.k}, generated ${escape(summary.createdAt)}.
Seen (training) items are excluded from every list; lists rank the full catalogue.</p>
${metricsTable(summary, metrics)}
${charts.join('\n')}
${summary.session ? `<p>${escape(summary.session.line)}</p>` : ''}
<h2>Training</h2>${Object.entries(losses).map(([n, l]) => lossChart(n, l)).join('')}
</html>`;
}
