/** The experiment report as plain text: what `npm run experiment -- report ID` prints. */
import { METRIC_LABELS, METRICS } from '../../core/experiments/metrics.ts';
import { formatDifference, formatInterval, formatMetric, formatMs, formatP, formatPercent, formatTime } from './report-format.ts';
import type { ExperimentReport } from './service.ts';

const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
};

export function renderExperimentText(report: ExperimentReport): string {
  const { experiment, results, canary, log, window } = report;
  const lines: string[] = [];
  lines.push(`Experiment ${experiment.id} — ${experiment.status}, ${formatTime(window.from)} → ${experiment.stoppedAt ? formatTime(experiment.stoppedAt) : 'now'}`);
  if (experiment.definition?.description) lines.push(experiment.definition.description);
  lines.push(`Test: ${results.test.name}; alpha ${results.test.alpha} (${results.test.perComparisonAlpha} per comparison), tuned for a ${formatPercent(results.test.mde, 0)} effect, verdicts from ${results.test.minVisitors} visitors per arm.`);
  lines.push(`Primary metric: ${METRIC_LABELS[results.primaryMetric]}. Winner: ${results.winner ?? 'none yet'} — ${results.winnerReason}.`);
  lines.push(`Sample ratio: ${results.srm.pValue === null ? 'n/a' : `p = ${formatP(results.srm.pValue)}`}${results.srm.flagged ? ' — MISMATCH: visitors per arm do not follow the weights; do not trust the comparison' : ' (ok)'}`);
  lines.push('');
  lines.push(table([
    ['variant', 'weight', 'visitors', 'impressions', 'clicks', 'carts', 'purchases', 'revenue', ...METRICS.map((m) => m), 'requests', 'errors', 'fallbacks', 'p50', 'p99'],
    ...results.variants.map((v) => [v.id, String(v.weight), String(v.counts.visitors), String(v.counts.impressions), String(v.counts.clicks), String(v.counts.addToCarts), String(v.counts.purchases), v.counts.revenue.toFixed(2),
      ...METRICS.map((m) => formatMetric(m, v.metrics[m]?.value)), String(v.guardrails.requests), formatPercent(v.guardrails.errorRate), formatPercent(v.guardrails.fallbackRate), formatMs(v.guardrails.p50Ms), formatMs(v.guardrails.p99Ms)]),
  ]));
  for (const variant of results.variants.slice(1)) {
    lines.push('', `${variant.id} vs ${results.control}:`);
    lines.push(table([
      ['metric', 'control', 'treatment', 'difference', 'relative', 'always-valid CI', 'p (always valid)', 'p (fixed horizon)', 'verdict'],
      ...results.comparisons.filter((c) => c.variant === variant.id).map((c) => [c.metric, formatMetric(c.metric, c.control), formatMetric(c.metric, c.treatment), formatDifference(c.metric, c.difference), formatPercent(c.relativeDifference, 1), formatInterval(c.metric, c.ci, true), formatP(c.pValue), formatP(c.fixedHorizon.pValue), c.verdict]),
    ]));
  }
  if (results.shadow) {
    const s = results.shadow;
    lines.push('', `Shadow: ${s.comparisons} comparisons (${s.errors} failed); overlap@k ${s.meanOverlapAtK?.toFixed(3) ?? '–'} ± ${s.overlapStdError?.toFixed(3) ?? '–'}; Kendall tau ${s.meanRankCorrelation?.toFixed(3) ?? '–'}; latency p50/p99 served ${formatMs(s.servedP50Ms)}/${formatMs(s.servedP99Ms)}, shadow ${formatMs(s.shadowP50Ms)}/${formatMs(s.shadowP99Ms)}`);
  }
  if (canary) lines.push('', `Canary rule now: ${canary.action.toUpperCase()} — ${canary.reasons.join('; ')}`);
  if (log.length > 0) {
    lines.push('', 'Log:');
    for (const entry of log) {
      const details = entry.details as { reasons?: string[]; reason?: string } | null;
      const why = details?.reasons?.join('; ') ?? details?.reason;
      lines.push(`  ${formatTime(entry.at)}  ${entry.action} by ${entry.actor}${why ? ` — ${why}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
