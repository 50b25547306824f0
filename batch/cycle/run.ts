/**
 * One retraining cycle (`npm run cycle`): train on the event store → evaluate the candidate and the live
 * version on the same holdout → gate (gate.ts) → nightly slates computed with the candidate → model pointer
 * flip (a live version that cannot be evaluated is recorded and replaced, not a blocker). Order matters for "a
 * failed step leaves the live model and slates untouched": the candidate is trained
 * without publishing, the nightly runs on a staging pointer (its own slate pointer flips only when every slate
 * is written), and models/artifacts/current.json moves last. A failed or rejected candidate's folder is removed.
 * How training and the nightly run (child processes, in the CLI) is injected, so this module stays a library.
 */
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelManifestSchema } from '../../shared/contracts/manifest.ts';
import { readPointer } from '../../core/registry/artifacts.ts';
import { publishVersion } from '../../core/registry/publish.ts';
import { decide, type GateDecision } from './gate.ts';

export interface CycleSteps {
  /** Trains `version` on the events in [since, until) into artifactsRoot without publishing; rejects on failure. */
  train(args: { version: string; artifactsRoot: string; untilMs: number; reportsDir: string; workDir: string }): Promise<void>;
  /** Re-evaluates the version folder `dir` (a copy) on the same events and holdout; its manifest's metrics are rewritten. */
  evaluate(args: { dir: string; untilMs: number; reportsDir: string; workDir: string }): Promise<void>;
  /** Computes and publishes slates with the version `stagingRoot`/current.json names; rejects on failure. */
  nightly(args: { stagingRoot: string }): Promise<void>;
}

export interface CycleOptions {
  artifactsRoot: string;
  /** Scratch folder for this cycle (reports, copies, staging pointer); removed at the end unless keepWork. */
  workDir: string;
  metric: string;
  tolerance: number;
  /** Publish even when the gate says no (operator override). */
  force?: boolean;
  keepWork?: boolean;
  now?: () => number;
  log?: (line: Record<string, unknown>) => void;
}

export interface StepRecord {
  step: 'train' | 'evaluate-live' | 'gate' | 'nightly' | 'publish';
  ok: boolean;
  ms: number;
  error?: string;
}

export interface CycleSummary {
  ok: boolean;
  decision: 'published' | 'kept-live' | 'failed';
  candidate: { version: string; metrics: Record<string, number> | null };
  live: { version: string | null; metrics: Record<string, number> | null };
  gate: (GateDecision & { metric: string; tolerance: number }) | null;
  steps: StepRecord[];
  /** The model version serving after the cycle. */
  serving: string | null;
  failedStep?: StepRecord['step'];
  error?: string;
}

const versionOf = (now: number): string => `m${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;

async function metricsOf(dir: string): Promise<Record<string, number>> {
  return ModelManifestSchema.parse(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))).metrics;
}

export async function runCycle(steps: CycleSteps, options: CycleOptions): Promise<CycleSummary> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const untilMs = now();
  const version = versionOf(untilMs);
  const live = await readPointer(options.artifactsRoot).catch(() => null);
  const summary: CycleSummary = { ok: false, decision: 'failed', candidate: { version, metrics: null }, live: { version: live, metrics: null }, gate: null, steps: [], serving: live };
  const candidateDir = join(options.artifactsRoot, version);
  await mkdir(options.workDir, { recursive: true });
  let slatesPublished = false;

  const step = async <T>(name: StepRecord['step'], work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    log({ step: name, status: 'start' });
    try {
      const result = await work();
      summary.steps.push({ step: name, ok: true, ms: Math.round(performance.now() - started) });
      log({ step: name, status: 'done' });
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      summary.steps.push({ step: name, ok: false, ms: Math.round(performance.now() - started), error: message });
      summary.failedStep = name;
      summary.error = message;
      throw error;
    }
  };

  try {
    await step('train', async () => {
      if (await readFile(join(candidateDir, 'manifest.json')).then(() => true, () => false)) throw new Error(`version ${version} exists already`);
      await steps.train({ version, artifactsRoot: options.artifactsRoot, untilMs, reportsDir: join(options.workDir, 'reports', 'candidate'), workDir: join(options.workDir, 'train') });
      summary.candidate.metrics = await metricsOf(candidateDir);
    });
    // A live version that cannot be evaluated on today's events (incompatible with this code, files missing) cannot
    // be served well either: the cycle goes on without a comparison and says so, instead of blocking every retrain.
    let liveError: string | undefined;
    if (live !== null) {
      const started = performance.now();
      try {
        // A copy: evaluation rewrites the manifest's metrics, and the live folder must stay untouched.
        const copy = join(options.workDir, 'live', live);
        await cp(join(options.artifactsRoot, live), copy, { recursive: true, filter: (src) => !src.includes('.ann-cache') });
        await steps.evaluate({ dir: copy, untilMs, reportsDir: join(options.workDir, 'reports', 'live'), workDir: join(options.workDir, 'evaluate') });
        summary.live.metrics = await metricsOf(copy);
        summary.steps.push({ step: 'evaluate-live', ok: true, ms: Math.round(performance.now() - started) });
      } catch (error) {
        liveError = error instanceof Error ? error.message : String(error);
        summary.steps.push({ step: 'evaluate-live', ok: false, ms: Math.round(performance.now() - started), error: liveError });
        log({ step: 'evaluate-live', status: 'failed', error: liveError });
      }
    }
    const gate = await step('gate', async () => {
      const decision = decide({ metric: options.metric, tolerance: options.tolerance, candidate: summary.candidate.metrics ?? {}, live: live === null || liveError !== undefined ? null : summary.live.metrics });
      return liveError === undefined || !decision.publish ? decision : { ...decision, reason: `the live model ${live} could not be evaluated on these events (${liveError}); the candidate replaces it` };
    });
    summary.gate = { ...gate, metric: options.metric, tolerance: options.tolerance };
    if (!gate.publish && !options.force) {
      await rm(candidateDir, { recursive: true, force: true });
      summary.ok = true;
      summary.decision = 'kept-live';
      return summary;
    }
    await step('nightly', async () => {
      const stagingRoot = join(options.workDir, 'staging');
      await mkdir(stagingRoot, { recursive: true });
      await symlink(candidateDir, join(stagingRoot, version), 'dir');
      await writeFile(join(stagingRoot, 'current.json'), JSON.stringify({ version }));
      await steps.nightly({ stagingRoot });
      slatesPublished = true;
    });
    await step('publish', () => publishVersion(options.artifactsRoot, version));
    summary.ok = true;
    summary.decision = 'published';
    summary.serving = version;
    return summary;
  } catch {
    // A candidate the slates already use (nightly done, pointer flip failed) stays; so does a folder we did not make.
    const clash = summary.error?.startsWith(`version ${version} exists`) ?? false;
    if (!slatesPublished && !clash) await rm(candidateDir, { recursive: true, force: true });
    return summary;
  } finally {
    if (!options.keepWork) await rm(options.workDir, { recursive: true, force: true });
  }
}
