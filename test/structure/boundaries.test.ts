/**
 * The import boundaries of the layout hold for every .ts file in the repository (import-rules.ts says which),
 * and each rule can fail: a synthetic violating import per rule must be reported.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImports, importsOf, type ImportEdge, type RuleId } from './import-rules.ts';

const root = join(import.meta.dirname, '..', '..');

/** Tracked and not-ignored files (generated files such as edge/src/generated/ are checked too when present). */
function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.ts'], { cwd: root, encoding: 'utf8' });
  return listed.split('\n').filter((f) => f !== '' && !f.endsWith('.d.ts') && existsSync(join(root, f)));
}

describe('import boundaries', () => {
  it('hold for every TypeScript file in the repository', () => {
    const files = sourceFiles();
    const edges: ImportEdge[] = files.flatMap((from) => importsOf(readFileSync(join(root, from), 'utf8')).map((specifier) => ({ from, specifier })));
    // The scan really saw the layout (a broken file list would pass vacuously).
    for (const folder of ['shared/', 'core/', 'adapters/', 'batch/', 'origin/', 'edge/src/', 'scripts/', 'models/', 'test/']) {
      expect(files.some((f) => f.startsWith(folder)), folder).toBe(true);
    }
    expect(edges.length).toBeGreaterThan(500);
    const violations = checkImports(edges);
    expect(violations.map((v) => `${v.rule}: ${v.from} imports '${v.specifier}': ${v.message}`)).toEqual([]);
  });

  it('reads static, re-export and dynamic imports, not comments or strings', () => {
    const source = [
      "import a from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "const e = await import('node:fs');",
      "// import f from './commented.ts';",
      "const g = \"import h from './in-a-string.ts'\";",
    ].join('\n');
    expect(importsOf(source)).toEqual(['./a.ts', '../b.ts', './c.ts', './d.ts', 'node:fs']);
  });

  // One violating import per rule; each must be reported under that rule (and a clean set must pass).
  const cases: { rule: RuleId; edges: ImportEdge[] }[] = [
    { rule: 'edge-imports-only-shared', edges: [{ from: 'edge/src/index.ts', specifier: '../../core/pipeline/types.ts' }] },
    { rule: 'edge-imports-only-shared', edges: [{ from: 'edge/src/index.ts', specifier: 'ioredis' }] },
    { rule: 'edge-imports-only-shared', edges: [{ from: 'edge/src/index.ts', specifier: 'node:fs' }] },
    { rule: 'shared-is-pure', edges: [{ from: 'shared/catalog/x.ts', specifier: 'node:fs/promises' }] },
    { rule: 'shared-is-pure', edges: [{ from: 'shared/kv/x.ts', specifier: '../../core/ports/ann.ts' }] },
    { rule: 'shared-is-pure', edges: [{ from: 'shared/kv/x.ts', specifier: 'hono' }] },
    { rule: 'core-imports-no-adapter', edges: [{ from: 'core/pipeline/x.ts', specifier: '../../adapters/redis/feature-store.ts' }] },
    { rule: 'core-imports-no-adapter', edges: [{ from: 'core/pipeline/x.ts', specifier: '../../origin/deps.ts' }] },
    { rule: 'core-imports-no-adapter', edges: [{ from: 'core/registry/x.ts', specifier: 'onnxruntime-node' }] },
    { rule: 'core-imports-no-adapter', edges: [{ from: 'core/registry/x.ts', specifier: '@hono/node-server' }] },
    { rule: 'core-imports-no-adapter', edges: [{ from: 'core/request/x.ts', specifier: '../../models/prepare/prepare.ts' }] },
    { rule: 'adapters-import-no-entry-point', edges: [{ from: 'adapters/postgres/x.ts', specifier: '../../origin/experiments/definitions.ts' }] },
    { rule: 'adapters-import-no-entry-point', edges: [{ from: 'adapters/serving.ts', specifier: '../batch/nightly/job.ts' }] },
    { rule: 'nothing-imports-scripts', edges: [{ from: 'test/nightly/x.test.ts', specifier: '../../scripts/nightly.ts' }] },
    { rule: 'nothing-imports-scripts', edges: [{ from: 'origin/wiring.ts', specifier: '../scripts/export.ts' }] },
    { rule: 'scripts-and-origin-apart', edges: [{ from: 'scripts/bench/x.ts', specifier: '../../origin/wiring.ts' }] },
    {
      rule: 'no-folder-cycle',
      edges: [
        { from: 'batch/nightly/x.ts', specifier: '../../models/data/y.ts' },
        { from: 'models/evaluate/y.ts', specifier: '../../batch/nightly/x.ts' },
      ],
    },
  ];
  it.each(cases.map((c, i) => [i, c] as const))('rule %i fails on a synthetic violation', (_i, { rule, edges }) => {
    expect(checkImports(edges).map((v) => v.rule)).toContain(rule);
  });

  it('passes imports the layout allows', () => {
    const allowed: ImportEdge[] = [
      { from: 'edge/src/index.ts', specifier: '../../shared/contracts/recommend.ts' },
      { from: 'edge/src/reranker.ts', specifier: 'onnxruntime-web/wasm' },
      { from: 'edge/scripts/build.ts', specifier: 'esbuild' },
      { from: 'shared/kv/keys.ts', specifier: 'zod' },
      { from: 'core/registry/artifacts.ts', specifier: 'node:fs/promises' },
      { from: 'core/pipeline/compose.ts', specifier: '../../shared/rerank/mmr.ts' },
      { from: 'adapters/serving.ts', specifier: '../core/registry/model-registry.ts' },
      { from: 'batch/nightly/job.ts', specifier: '../../adapters/kv/pool.ts' },
      { from: 'origin/wiring.ts', specifier: '../batch/seed/seed.ts' },
      { from: 'scripts/nightly.ts', specifier: '../batch/nightly/job.ts' },
      { from: 'test/origin/support.ts', specifier: '../../origin/wiring.ts' },
    ];
    expect(checkImports(allowed)).toEqual([]);
  });
});
