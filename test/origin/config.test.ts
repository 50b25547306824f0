/** Config from env: defaults, coercion, and one error naming every invalid variable. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../origin/config.ts';

describe('origin config', () => {
  it('has working defaults: PGlite, in-process feature store, cpu provider', () => {
    const config = loadConfig({});
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config).toMatchObject({ PORT: 3000, MODELS_DIR: 'models/artifacts', ONNX_EXECUTION_PROVIDERS: 'cpu', API_KEYS: [] });
  });

  it('coerces numbers, splits keys and treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '8080', API_KEYS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb', RATE_LIMIT_RPS: '2.5', DATABASE_URL: '', TRUST_PROXY: '1' });
    expect(config).toMatchObject({ PORT: 8080, API_KEYS: ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb'], RATE_LIMIT_RPS: 2.5, TRUST_PROXY: true });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('ORIGIN_WORKERS: 1 by default, auto or N; more than one needs the shared REDIS_URL and DATABASE_URL', () => {
    expect(loadConfig({}).ORIGIN_WORKERS).toBe('1');
    expect(loadConfig({ ORIGIN_WORKERS: 'auto', REDIS_URL: 'redis://r', DATABASE_URL: 'postgres://p/db' }).ORIGIN_WORKERS).toBe('auto');
    expect(() => loadConfig({ ORIGIN_WORKERS: '0' })).toThrow(/ORIGIN_WORKERS: auto or a positive whole number/);
    expect(() => loadConfig({ ORIGIN_WORKERS: '2', REDIS_URL: 'redis://r' })).toThrow(/DATABASE_URL: required when ORIGIN_WORKERS is not 1/);
    expect(() => loadConfig({ ORIGIN_WORKERS: 'auto' })).toThrow(/REDIS_URL: required[^]*DATABASE_URL: required/);
  });

  it('ITEM_STATS_CACHE_MS / _ITEMS: 10 s and 200k by default, 0 turns the cache off, negative or fractional values are refused', () => {
    expect(loadConfig({})).toMatchObject({ ITEM_STATS_CACHE_MS: 10_000, ITEM_STATS_CACHE_ITEMS: 200_000 });
    expect(loadConfig({ ITEM_STATS_CACHE_MS: '0' }).ITEM_STATS_CACHE_MS).toBe(0);
    expect(() => loadConfig({ ITEM_STATS_CACHE_MS: '-1' })).toThrow(/ITEM_STATS_CACHE_MS/);
    expect(() => loadConfig({ ITEM_STATS_CACHE_ITEMS: '1.5' })).toThrow(/ITEM_STATS_CACHE_ITEMS/);
  });

  it('lists every invalid variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REDIS_URL: 'http://x', API_KEYS: 'short', ONNX_EXECUTION_PROVIDERS: 'CUDA;cpu', TRUST_PROXY: 'yes' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const names = (error as ConfigError).issues.map((i) => i.split(':')[0]!.split('.')[0]);
    expect(names.sort()).toEqual(['API_KEYS', 'DATABASE_URL', 'ONNX_EXECUTION_PROVIDERS', 'PORT', 'REDIS_URL', 'TRUST_PROXY']);
    expect((error as ConfigError).message).toContain('must start with postgres://');
  });

  it('makes the server process exit with code 2 and the list of problems', () => {
    const root = join(import.meta.dirname, '..', '..');
    const run = spawnSync(join(root, 'node_modules', '.bin', 'node'), [join(root, 'origin', 'server.ts')], { env: { ...process.env, PORT: 'abc', REDIS_URL: 'nope' }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('PORT:');
    expect(run.stderr).toContain('REDIS_URL: must start with redis://');
  });
});
