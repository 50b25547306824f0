/**
 * `npm run cycle [-- flags]`: one retraining cycle (batch/cycle/run.ts) — train on the event store → evaluate
 * candidate and live model on the same holdout → publish only if not worse (gate) → nightly → model pointer flip —
 * or, with --every 24h / --cron PATTERN, the same on a schedule (croner; a run still going is never overlapped).
 *   --since 90d              event-store window for training and the holdout
 *   --metric M --tolerance T gate (default served.ndcg@10, 0.02 = 2 % relative; see batch/cycle/gate.ts)
 *   --force                  publish even when the gate says no
 *   --epochs E --dim D       training size (default 4, 64)
 *   --artifacts DIR          model artifacts root (default models/artifacts)
 *   --nightly="ARGS"         extra flags for the nightly (e.g. --nightly="--kv local --persist-to .wrangler/state")
 *   --summary FILE           also write the JSON summary there
 *   --keep-work              keep the cycle's scratch folder (reports of both evaluations)
 * Database: DATABASE_URL, else PGlite in PGLITE_DIR or var/pglite (adapters/postgres/env.ts).
 * Prints one JSON summary line per cycle on stdout (decision, both metric rows, steps); exit 1 when a step failed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Cron } from 'croner';
import { runCycle, type CycleSummary } from '../batch/cycle/run.ts';
import { DEFAULT_GATE_METRIC, DEFAULT_GATE_TOLERANCE } from '../batch/cycle/gate.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    since: { type: 'string', default: '90d' },
    metric: { type: 'string', default: DEFAULT_GATE_METRIC },
    tolerance: { type: 'string', default: String(DEFAULT_GATE_TOLERANCE) },
    force: { type: 'boolean', default: false },
    epochs: { type: 'string', default: '4' },
    dim: { type: 'string', default: '64' },
    artifacts: { type: 'string', default: join(root, 'models', 'artifacts') },
    nightly: { type: 'string', default: '' },
    summary: { type: 'string' },
    'keep-work': { type: 'boolean', default: false },
    every: { type: 'string' },
    cron: { type: 'string' },
  },
});

const tolerance = Number(values.tolerance);
if (!(tolerance >= 0 && tolerance < 1)) throw new Error(`--tolerance must be in [0, 1), got ${values.tolerance}`);
for (const [name, text] of [['epochs', values.epochs], ['dim', values.dim]] as const) {
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`--${name} must be a positive integer, got ${text}`);
}
const artifactsRoot = resolve(values.artifacts);

/** Runs a Node script as a child process; its output goes to our stderr (stdout is the summary's). */
function node(script: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(root, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let tail = '';
    const keep = (chunk: Buffer): void => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`${script} exited with ${code}: ${tail.trim().split('\n').at(-1) ?? ''}`))));
  });
}

async function once(): Promise<CycleSummary> {
  const common = ['--dataset', 'events', '--since', values.since];
  const summary = await runCycle(
    {
      train: (a) => node('models/train.ts', [...common, '--until', String(a.untilMs), '--version', a.version, '--out', a.artifactsRoot, '--reports', a.reportsDir, '--work', a.workDir, '--epochs', values.epochs, '--dim', values.dim, '--no-publish']),
      evaluate: (a) => node('models/train.ts', [...common, '--until', String(a.untilMs), '--evaluate', a.dir, '--reports', a.reportsDir, '--work', a.workDir]),
      nightly: (a) => node('scripts/nightly.ts', ['--artifacts', a.stagingRoot, '--no-progress', ...values.nightly.split(/\s+/).filter(Boolean)]),
    },
    {
      artifactsRoot,
      workDir: await mkdtemp(join(tmpdir(), 'reco-cycle-')),
      metric: values.metric,
      tolerance,
      force: values.force,
      keepWork: values['keep-work'],
      log: (line) => process.stderr.write(`[cycle] ${JSON.stringify(line)}\n`),
    },
  );
  const line = JSON.stringify(summary);
  console.log(line);
  if (values.summary) await writeFile(values.summary, `${line}\n`);
  return summary;
}

if (values.every === undefined && values.cron === undefined) {
  const summary = await once();
  process.exit(summary.ok ? 0 : 1);
} else {
  let pattern: string;
  let interval: number | undefined;
  if (values.cron !== undefined) pattern = values.cron;
  else {
    const match = /^(\d+)(h|m)$/.exec(values.every ?? '');
    if (!match) throw new Error(`--every ${values.every}: expected hours or minutes, e.g. 24h or 90m`);
    // Every second is a candidate trigger; croner's interval keeps runs that far apart (the first runs at once).
    pattern = '* * * * * *';
    interval = Number(match[1]) * (match[2] === 'h' ? 3600 : 60);
  }
  const job = new Cron(pattern, { protect: true, ...(interval === undefined ? {} : { interval }) }, async () => {
    await once().catch((error: unknown) => process.stderr.write(`[cycle] ${error instanceof Error ? error.message : String(error)}\n`));
  });
  process.stderr.write(`[cycle] scheduled (${values.cron ?? `every ${values.every}`}); next run ${job.nextRun()?.toISOString() ?? 'never'}\n`);
}
