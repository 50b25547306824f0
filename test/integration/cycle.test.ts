/**
 * `npm run cycle` on real parts: a private Postgres database holding a small shop's catalogue and events, a
 * private artifacts root, PyTorch training, ONNX evaluation, the real nightly CLI into a private local KV.
 *   - no live model: the candidate is trained, evaluated, slates are written with it, then the pointer flips;
 *   - a failing nightly (Cloudflare KV without credentials): the live model and the slates stay as they were,
 *     the candidate folder is removed, the summary names the step;
 *   - a second good cycle: both metric rows on the same holdout and the gate's decision in the summary;
 *   - an empty window: training fails, nothing changes.
 * The gate's arithmetic is unit-tested below.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../shared/catalog/generator.ts';
import { SLATE_POINTER_KEY } from '../../shared/kv/keys.ts';
import { openLocalKv } from '../../adapters/kv/local.ts';
import { decide } from '../../batch/cycle/gate.ts';
import type { CycleSummary } from '../../batch/cycle/run.ts';
import { createTestDatabase, seedDatabase } from '../origin/support.ts';

const root = join(import.meta.dirname, '..', '..');
const shop = generateDataset({ items: 300, users: 150, endTime: Date.now() - 3_600_000, days: 30 });
let db: { url: string; drop: () => Promise<void> };
let base: string;
const NAMESPACE = 'cycle-ns';

function cycle(args: string[]): { status: number | null; summary: CycleSummary; stderr: string } {
  const { DATABASE_URL: _suite, ...env } = process.env;
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'cycle.ts'), '--artifacts', join(base, 'artifacts'), '--epochs', '1', '--dim', '16', ...args],
    { encoding: 'utf8', env: { ...env, DATABASE_URL: db.url, CF_ACCOUNT_ID: '', CF_API_TOKEN: '' } });
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`cycle printed no summary (exit ${result.status}): ${result.stderr.slice(-3000)}`);
  return { status: result.status, summary: JSON.parse(line) as CycleSummary, stderr: result.stderr };
}
const nightlyLocal = (): string[] => [`--nightly=--kv local --persist-to ${join(base, 'kv')} --namespace-id ${NAMESPACE} --max-users 40 --shards 2`];
const pointer = (): string => (JSON.parse(readFileSync(join(base, 'artifacts', 'current.json'), 'utf8')) as { version: string }).version;
async function slatePointer(): Promise<{ version: string; modelVersion: string } | null> {
  const kv = await openLocalKv({ persistTo: join(base, 'kv'), namespaceId: NAMESPACE });
  try {
    const [value] = await kv.getMany([SLATE_POINTER_KEY]);
    return value ? (JSON.parse(value) as { version: string; modelVersion: string }) : null;
  } finally {
    await kv.close();
  }
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'reco-cycle-test-'));
  db = await createTestDatabase();
  await seedDatabase(db.url, shop);
}, 60_000);

afterAll(async () => {
  await db?.drop();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('npm run cycle', () => {
  let first = '';

  it('without a live model: trains, writes slates with the candidate, then flips the model pointer', async () => {
    const { status, summary, stderr } = cycle(nightlyLocal());
    expect(status, stderr.slice(-2000)).toBe(0);
    expect(summary.decision).toBe('published');
    expect(summary.steps.map((s) => s.step)).toEqual(['train', 'gate', 'nightly', 'publish']);
    expect(summary.gate?.reason).toBe('no live model to compare with');
    expect(summary.candidate.metrics?.['served.ndcg@10']).toBeGreaterThanOrEqual(0);
    first = summary.candidate.version;
    expect(pointer()).toBe(first);
    expect((await slatePointer())?.modelVersion).toBe(first);
  }, 300_000);

  it('a failing nightly leaves the live model and the slates untouched and removes the candidate', async () => {
    const slatesBefore = await slatePointer();
    const { status, summary } = cycle(['--nightly=--kv cloudflare --max-users 5', '--tolerance', '0.99']);
    expect(status).toBe(1);
    expect(summary.decision).toBe('failed');
    expect(summary.failedStep).toBe('nightly');
    expect(summary.live.version).toBe(first);
    expect(pointer()).toBe(first);
    expect(await slatePointer()).toEqual(slatesBefore);
    expect(readdirSync(join(base, 'artifacts')).filter((f) => f.startsWith('m'))).toEqual([first]);
  }, 300_000);

  it('a second cycle compares both versions on the same holdout and reports the decision', async () => {
    const { status, summary } = cycle([...nightlyLocal(), '--tolerance', '0.5']);
    expect(status).toBe(0);
    expect(summary.live.version).toBe(first);
    const metric = summary.gate!.metric;
    expect(summary.live.metrics?.[metric]).toBeGreaterThanOrEqual(0);
    expect(summary.gate!.liveValue).toBe(summary.live.metrics?.[metric]);
    expect(summary.gate!.candidateValue).toBe(summary.candidate.metrics?.[metric]);
    expect(summary.gate!.publish).toBe(summary.gate!.candidateValue! >= summary.gate!.liveValue! * 0.5);
    expect(summary.decision).toBe(summary.gate!.publish ? 'published' : 'kept-live');
    expect(pointer()).toBe(summary.serving);
    // The live version's own manifest was not rewritten by the comparison (a copy was evaluated).
    expect(readdirSync(join(base, 'artifacts', first))).toContain('manifest.json');
  }, 300_000);

  it('an empty window fails at training and changes nothing', async () => {
    const before = pointer();
    const { status, summary } = cycle([...nightlyLocal(), '--since', '1m']);
    expect(status).toBe(1);
    expect(summary.failedStep).toBe('train');
    expect(summary.error).toMatch(/too few events/);
    expect(pointer()).toBe(before);
  }, 120_000);
});

describe('the gate', () => {
  const row = (v: number) => ({ 'served.ndcg@10': v });
  it('publishes when not worse than live × (1 − tolerance), keeps the live model otherwise', () => {
    expect(decide({ metric: 'served.ndcg@10', tolerance: 0.02, candidate: row(0.099), live: row(0.1) }).publish).toBe(true);
    expect(decide({ metric: 'served.ndcg@10', tolerance: 0.02, candidate: row(0.097), live: row(0.1) })).toMatchObject({ publish: false, threshold: 0.098 });
    expect(decide({ metric: 'served.ndcg@10', tolerance: 0, candidate: row(0.1), live: null }).publish).toBe(true);
    expect(decide({ metric: 'x', tolerance: 0, candidate: row(0.1), live: row(0) }).publish).toBe(false); // candidate lacks the metric
  });
});

describe('npm run cycle --every', () => {
  it('keeps running on its schedule after a failed cycle, printing each summary', async () => {
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'reco-cycle-every-'));
    const { DATABASE_URL: _suite, ...env } = process.env;
    // An empty embedded database: the first cycle fails at training, and the schedule must survive it.
    const child = spawn(process.execPath, [join(root, 'scripts', 'cycle.ts'), '--artifacts', join(dir, 'artifacts'), '--every', '24h'], { cwd: root, env: { ...env, PGLITE_DIR: join(dir, 'pglite') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const deadline = Date.now() + 90_000;
      while (!stdout.includes('\n') && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 200));
      const summary = JSON.parse(stdout.trim().split('\n')[0] ?? '{}') as CycleSummary;
      expect(summary.failedStep, stderr.slice(-2000)).toBe('train');
      expect(stderr).toMatch(/scheduled \(every 24h\); next run/);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(child.exitCode).toBeNull(); // still scheduled
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('runCycle with a live version that cannot be evaluated', () => {
  it('publishes the candidate and says why, instead of blocking every retrain', async () => {
    const { cp, readFile, writeFile } = await import('node:fs/promises');
    const { runCycle } = await import('../../batch/cycle/run.ts');
    const dir = mkdtempSync(join(tmpdir(), 'reco-cycle-lib-'));
    const artifactsRoot = join(dir, 'artifacts');
    const demo = join(root, 'models', 'artifacts', (JSON.parse(readFileSync(join(root, 'models', 'artifacts', 'current.json'), 'utf8')) as { version: string }).version);
    // A real version folder under a new name, with the metrics its evaluation would have written.
    const copyVersion = async (version: string, metrics: Record<string, number>): Promise<void> => {
      await cp(demo, join(artifactsRoot, version), { recursive: true });
      const manifest = JSON.parse(await readFile(join(artifactsRoot, version, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(artifactsRoot, version, 'manifest.json'), JSON.stringify({ ...manifest, version, metrics }));
    };
    try {
      await copyVersion('mlive', { 'served.ndcg@10': 0.5 });
      await writeFile(join(artifactsRoot, 'current.json'), JSON.stringify({ version: 'mlive' }));
      let nightlySaw = '';
      const summary = await runCycle(
        {
          train: async (a) => copyVersion(a.version, { 'served.ndcg@10': 0.1 }),
          evaluate: async () => {
            throw new Error('model mlive uses feature spec 1, this code speaks 2');
          },
          nightly: async (a) => {
            nightlySaw = (JSON.parse(await readFile(join(a.stagingRoot, 'current.json'), 'utf8')) as { version: string }).version;
          },
        },
        { artifactsRoot, workDir: join(dir, 'work'), metric: 'served.ndcg@10', tolerance: 0.02, now: () => Date.UTC(2026, 10, 27, 8) },
      );
      expect(summary.decision).toBe('published');
      expect(summary.steps.find((s) => s.step === 'evaluate-live')).toMatchObject({ ok: false, error: expect.stringMatching(/feature spec 1/) });
      expect(summary.gate?.reason).toMatch(/live model mlive could not be evaluated/);
      expect(nightlySaw).toBe(summary.candidate.version);
      expect(JSON.parse(readFileSync(join(artifactsRoot, 'current.json'), 'utf8'))).toEqual({ version: summary.candidate.version });
      // The live folder itself was never touched.
      expect((JSON.parse(readFileSync(join(artifactsRoot, 'mlive', 'manifest.json'), 'utf8')) as { metrics: Record<string, number> }).metrics).toEqual({ 'served.ndcg@10': 0.5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
