/**
 * `npm run train` reads the event store by default: a private Postgres database holding a small shop's
 * catalogue and events trains a real model version (prepare → PyTorch → ONNX) whose manifest says it came
 * from the events; an empty window stops with a clear error that names the database and the counts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../shared/catalog/generator.ts';
import { ModelManifestSchema } from '../../shared/contracts/manifest.ts';
import { createTestDatabase, seedDatabase } from '../origin/support.ts';
import { root } from './support.ts';

const shop = generateDataset({ items: 300, users: 150, endTime: Date.now() - 86_400_000, days: 30 });
let db: { url: string; drop: () => Promise<void> };
let base: string;

function train(args: string[], databaseUrl: string) {
  return spawnSync(process.execPath, [join(root, 'models', 'train.ts'), ...args], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: databaseUrl } });
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'reco-train-events-'));
  db = await createTestDatabase();
  await seedDatabase(db.url, shop);
}, 60_000);

afterAll(async () => {
  await db?.drop();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('npm run train on the event store', () => {
  it('trains a version from the events in DATABASE_URL (default --dataset events)', () => {
    const out = join(base, 'artifacts');
    const result = train(['--since', '90d', '--epochs', '1', '--dim', '16', '--no-publish', '--skip-eval', '--out', out, '--work', join(base, 'work')], db.url);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`events: ${shop.items.length} items, ${shop.users.length} users, ${shop.interactions.length} events`);
    const [version] = readdirSync(out);
    const manifest = ModelManifestSchema.parse(JSON.parse(readFileSync(join(out, version ?? '', 'manifest.json'), 'utf8')));
    expect(manifest.dataset).toBe('events');
    expect(manifest.itemCount).toBe(shop.items.length);
  }, 240_000);

  it('stops with a clear error when the window holds too few events', () => {
    // The shop's events end a day ago: a one-hour window is empty.
    const result = train(['--since', '1h', '--no-publish', '--out', join(base, 'none')], db.url);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/too few events to train on Postgres .*: 0 positive events .* from 0 users/);
    expect(() => readdirSync(join(base, 'none'))).toThrow();
  }, 60_000);
});
