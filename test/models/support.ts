/** Trains a tiny model version once per test file (real prepare → PyTorch → ONNX), in a temp folder. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');
export const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
export const TINY = { items: 300, users: 150 };

/** The caller removes `base` (the temp folder holding work/ and artifacts/) when done. */
export function trainTiny(): { base: string; workDir: string; modelDir: string } {
  const base = mkdtempSync(join(tmpdir(), 'reco-train-'));
  const workDir = join(base, 'work');
  const result = spawnSync(process.execPath, [join(root, 'models', 'train.ts'), '--dataset', 'generated', '--items', String(TINY.items), '--users', String(TINY.users),
    '--epochs', '1', '--dim', '16', '--no-publish', '--skip-eval', '--keep-work', '--work', workDir, '--out', join(base, 'artifacts')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`training failed: ${result.stderr}\n${result.stdout}`);
  const version = readdirSync(join(base, 'artifacts'))[0];
  if (!version) throw new Error('no model version written');
  return { base, workDir, modelDir: join(base, 'artifacts', version) };
}

export function python(script: string, args: string[]): string {
  const result = spawnSync(PYTHON, [join(root, 'models', 'torch', script), ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${script} failed: ${result.stderr}`);
  return result.stdout;
}
