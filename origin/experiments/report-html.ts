/**
 * The experiment report as one self-contained HTML page with inline SVG plots, in the style of the model
 * report (models/evaluate/report.ts): per-variant metrics with intervals, a forest plot of each treatment's
 * always-valid differences, guardrails, the shadow summary, the canary decision with its figures, and the log.
 * Every string from the database is escaped.
 */
import { METRIC_LABELS, METRICS, type MetricName } from '../../core/experiments/metrics.ts';
import { formatDifference, formatInterval, formatMetric, formatMs, formatP, formatPercent, formatTime } from './report-format.ts';
import type { ExperimentReport } from './service.ts';

const COLOURS = ['#8da0cb', '#66c2a5', '#fc8d62', '#e78ac3', '#a6d854'];
const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Bar {
  label: string;
  value: number;
  lo?: number | undefined;
  hi?: number | undefined;
  text: string;
}

/** Horizontal bars from 0 with optional interval whiskers. */
function barChart(title: string, bars: Bar[]): string {
  if (bars.length === 0) return '';
  const max = Math.max(1e-12, ...bars.map((b) => Math.max(b.value, b.hi ?? 0)));
  const x = (v: number): number => 170 + (Math.max(0, v) / max) * 280;
  const rows = bars.map((b, i) => {
    const whisker = b.lo !== undefined && b.hi !== undefined
      ? `<line x1="${x(b.lo).toFixed(1)}" x2="${x(b.hi).toFixed(1)}" y1="11" y2="11" stroke="#333"/><line x1="${x(b.lo).toFixed(1)}" x2="${x(b.lo).toFixed(1)}" y1="6" y2="16" stroke="#333"/><line x1="${x(b.hi).toFixed(1)}" x2="${x(b.hi).toFixed(1)}" y1="6" y2="16" stroke="#333"/>`
      : '';
    return `<g transform="translate(0,${i * 24})"><text x="0" y="15" font-size="12">${escape(b.label)}</text>` +
      `<rect x="170" y="3" width="${(x(b.value) - 170).toFixed(1)}" height="16" fill="${COLOURS[i % COLOURS.length]}"/>${whisker}` +
      `<text x="${(Math.max(x(b.value), x(b.hi ?? 0)) + 5).toFixed(1)}" y="15" font-size="11">${escape(b.text)}</text></g>`;
  });
  return `<figure><figcaption>${escape(title)}</figcaption><svg width="600" height="${bars.length * 24 + 4}" role="img" aria-label="${escape(title)}">${rows.join('')}</svg></figure>`;
}

/** Relative differences with their always-valid intervals around a zero line (a forest plot). */
function forestPlot(title: string, rows: { label: string; value: number | null; lo: number | null; hi: number | null; verdict: string }[]): string {
  const finite = rows.flatMap((r) => [r.value, r.lo, r.hi]).filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return '';
  const span = Math.max(0.01, ...finite.map(Math.abs));
  const x = (v: number): number => 330 + (Math.max(-span, Math.min(span, v)) / span) * 140;
  const colour = (verdict: string): string => (verdict === 'better' ? '#1a9850' : verdict === 'worse' ? '#d73027' : '#555');
  const body = rows.map((r, i) => {
    const y = i * 24 + 12;
    const line = r.lo !== null && r.hi !== null ? `<line x1="${x(r.lo).toFixed(1)}" x2="${x(r.hi).toFixed(1)}" y1="${y}" y2="${y}" stroke="${colour(r.verdict)}" stroke-width="2"/>` : '';
    const dot = r.value !== null ? `<circle cx="${x(r.value).toFixed(1)}" cy="${y}" r="4" fill="${colour(r.verdict)}"/>` : '';
    const text = r.value === null ? '–' : `${formatPercent(r.value, 1)} [${formatPercent(r.lo, 1)}, ${formatPercent(r.hi, 1)}] ${r.verdict}`;
    return `<text x="0" y="${y + 4}" font-size="12">${escape(r.label)}</text>${line}${dot}<text x="480" y="${y + 4}" font-size="11">${escape(text)}</text>`;
  });
  const height = rows.length * 24 + 20;
  return `<figure><figcaption>${escape(title)}</figcaption><svg width="720" height="${height}" role="img" aria-label="${escape(title)}">` +
    `<line x1="330" x2="330" y1="0" y2="${height - 14}" stroke="#999" stroke-dasharray="3,3"/><text x="326" y="${height - 2}" font-size="10">0</text>` +
    `<text x="185" y="${height - 2}" font-size="10">−${escape(formatPercent(span, 1))}</text><text x="440" y="${height - 2}" font-size="10">+${escape(formatPercent(span, 1))}</text>${body.join('')}</svg></figure>`;
}

function variantsTable(report: ExperimentReport): string {
  const { results } = report;
  const head = ['variant', 'weight', 'visitors', 'impressions', 'clicks', 'add-to-carts', 'purchases', 'revenue', ...METRICS.map((m) => METRIC_LABELS[m]), 'requests', 'error rate', 'fallback rate', 'p50', 'p95', 'p99'];
  const rows = results.variants.map((v) => [v.id, String(v.weight), String(v.counts.visitors), String(v.counts.impressions), String(v.counts.clicks), String(v.counts.addToCarts), String(v.counts.purchases), v.counts.revenue.toFixed(2),
    ...METRICS.map((m) => `${formatMetric(m, v.metrics[m]?.value)} ${formatInterval(m, v.metrics[m]?.ci ?? null)}`), String(v.guardrails.requests), formatPercent(v.guardrails.errorRate), formatPercent(v.guardrails.fallbackRate), formatMs(v.guardrails.p50Ms), formatMs(v.guardrails.p95Ms), formatMs(v.guardrails.p99Ms)]);
  return `<table><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr><th>${escape(r[0]!)}</th>${r.slice(1).map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function comparisonTable(report: ExperimentReport, variant: string): string {
  const rows = report.results.comparisons.filter((c) => c.variant === variant).map((c) =>
    [METRIC_LABELS[c.metric], formatMetric(c.metric, c.control), formatMetric(c.metric, c.treatment), formatDifference(c.metric, c.difference), formatPercent(c.relativeDifference, 1), formatInterval(c.metric, c.ci, true), formatP(c.pValue), formatP(c.fixedHorizon.pValue), c.verdict]);
  const head = ['metric', report.results.control, variant, 'difference', 'relative', 'always-valid CI', 'p (always valid)', 'p (fixed horizon)', 'verdict'];
  return `<table><thead><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr><th>${escape(r[0]!)}</th>${r.slice(1).map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function metricCharts(report: ExperimentReport): string {
  return METRICS.map((m: MetricName) => barChart(`${METRIC_LABELS[m]} per variant (95 % interval)`, report.results.variants.flatMap((v) => {
    const value = v.metrics[m];
    return value ? [{ label: v.id, value: value.value, lo: value.ci?.[0], hi: value.ci?.[1], text: formatMetric(m, value.value) }] : [];
  }))).join('\n');
}

function guardrailCharts(report: ExperimentReport): string {
  const vs = report.results.variants.filter((v) => v.guardrails.requests > 0);
  if (vs.length === 0) return '<p>No serving counters yet (they are flushed every few seconds by each origin).</p>';
  return [
    barChart('p99 latency per variant (ms)', vs.map((v) => ({ label: v.id, value: v.guardrails.p99Ms ?? 0, text: formatMs(v.guardrails.p99Ms) }))),
    barChart('p50 latency per variant (ms)', vs.map((v) => ({ label: v.id, value: v.guardrails.p50Ms ?? 0, text: formatMs(v.guardrails.p50Ms) }))),
    barChart('error rate per variant', vs.map((v) => ({ label: v.id, value: v.guardrails.errorRate ?? 0, text: formatPercent(v.guardrails.errorRate) }))),
    barChart('fallback rate per variant', vs.map((v) => ({ label: v.id, value: v.guardrails.fallbackRate ?? 0, text: formatPercent(v.guardrails.fallbackRate) }))),
  ].join('\n');
}

function shadowSection(report: ExperimentReport): string {
  const s = report.results.shadow;
  if (!s) return '';
  return `<h2>Shadow</h2><p>${s.comparisons} comparisons of the shadow configuration's slate with the served one (${s.errors} failed).</p>
<table><tbody><tr><th>mean overlap@k</th><td>${escape(s.meanOverlapAtK?.toFixed(3) ?? '–')} ± ${escape(s.overlapStdError?.toFixed(3) ?? '–')}</td></tr>
<tr><th>mean rank correlation (Kendall tau, shared items)</th><td>${escape(s.meanRankCorrelation?.toFixed(3) ?? '–')}</td></tr>
<tr><th>served latency p50 / p99</th><td>${escape(formatMs(s.servedP50Ms))} / ${escape(formatMs(s.servedP99Ms))}</td></tr>
<tr><th>shadow latency p50 / p99</th><td>${escape(formatMs(s.shadowP50Ms))} / ${escape(formatMs(s.shadowP99Ms))}</td></tr></tbody></table>
${barChart('shadow vs served', [
    { label: 'overlap@k', value: s.meanOverlapAtK ?? 0, text: s.meanOverlapAtK?.toFixed(3) ?? '–' },
    { label: 'Kendall tau', value: Math.max(0, s.meanRankCorrelation ?? 0), text: s.meanRankCorrelation?.toFixed(3) ?? '–' },
  ])}`;
}

function canarySection(report: ExperimentReport): string {
  const decided = report.log.filter((e) => e.action === 'promoted' || e.action === 'rolled-back');
  if (!report.canary && decided.length === 0) return '';
  const now = report.canary ? `<p>The rule applied to these figures now: <b>${escape(report.canary.action)}</b> — ${escape(report.canary.reasons.join('; '))}</p>` : '';
  const past = decided.map((e) => {
    const d = e.details as { modelVersion?: string; reasons?: string[]; figures?: unknown };
    return `<p><b>${escape(e.action)}</b> ${escape(d.modelVersion ?? '')} at ${escape(formatTime(e.at))} by ${escape(e.actor)}: ${escape((d.reasons ?? []).join('; '))}</p><pre>${escape(JSON.stringify(d.figures ?? {}, null, 2))}</pre>`;
  });
  return `<h2>Canary</h2>${now}${past.join('')}`;
}

function logTable(report: ExperimentReport): string {
  if (report.log.length === 0) return '';
  const rows = report.log.map((e) => `<tr><td>${escape(formatTime(e.at))}</td><td>${escape(e.action)}</td><td>${escape(e.actor)}</td><td>${escape(((e.details as { reasons?: string[]; reason?: string }).reasons ?? [(e.details as { reason?: string }).reason ?? '']).join('; '))}</td></tr>`);
  return `<h2>Log</h2><table><thead><tr><th>at</th><th>action</th><th>by</th><th>why</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderExperimentHtml(report: ExperimentReport): string {
  const { experiment, results, window } = report;
  const forests = results.variants.slice(1).map((v) => `<h3>${escape(v.id)} vs ${escape(results.control)}</h3>${comparisonTable(report, v.id)}` +
    forestPlot(`${v.id} − ${results.control}, relative to ${results.control} (always-valid ${formatPercent(1 - results.test.perComparisonAlpha, 1)} interval)`, results.comparisons.filter((c) => c.variant === v.id).map((c) => ({
      label: METRIC_LABELS[c.metric],
      value: c.relativeDifference,
      lo: c.ci && c.control !== 0 ? c.ci[0] / c.control : null,
      hi: c.ci && c.control !== 0 ? c.ci[1] / c.control : null,
      verdict: c.verdict,
    })))).join('\n');
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>Experiment — ${escape(experiment.id)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}figure{display:inline-block;margin:1em}figcaption{font-weight:600}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}pre{background:#f6f6f6;padding:.5em;overflow:auto}.warn{color:#b00}</style>
<h1>Experiment: ${escape(experiment.id)}</h1>
<p>Status <b>${escape(experiment.status)}</b>, window ${escape(formatTime(window.from))} → ${escape(experiment.stoppedAt ? formatTime(experiment.stoppedAt) : 'now')}.${experiment.definition?.description ? ` ${escape(experiment.definition.description)}` : ''}</p>
<p>Test: ${escape(results.test.name)}, alpha ${results.test.alpha} (${results.test.perComparisonAlpha} per comparison), tuned for a ${escape(formatPercent(results.test.mde, 0))} effect; verdicts from ${results.test.minVisitors} visitors per arm. The always-valid interval and p-value may be read at any time; the fixed-horizon p-value only at a sample size planned in advance.</p>
<p>Primary metric: <b>${escape(METRIC_LABELS[results.primaryMetric])}</b>. Winner: <b>${escape(results.winner ?? 'none yet')}</b> — ${escape(results.winnerReason)}.</p>
<p${results.srm.flagged ? ' class="warn"' : ''}>Sample ratio check: ${results.srm.pValue === null ? 'n/a' : `p = ${escape(formatP(results.srm.pValue))}`}${results.srm.flagged ? ' — visitors per arm do not follow the weights: assignment or logging is broken, do not trust the comparison.' : ' (visitors per arm follow the weights).'}</p>
<h2>Variants</h2>${variantsTable(report)}
${metricCharts(report)}
<h2>Comparisons</h2>${forests || '<p>One variant only: nothing to compare.</p>'}
<h2>Guardrails</h2>${guardrailCharts(report)}
${shadowSection(report)}
${canarySection(report)}
${logTable(report)}
</html>`;
}
