/**
 * The edge's /v1/stats counters are documented: every counter name the worker's source can produce (literal
 * count('…') calls in any file under edge/src, `path.<serve path>` for each path in the shared contract,
 * `degraded.<reason>` for each reason the edge itself raises) appears in docs/dashboards.md.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVE_PATHS } from '../../shared/contracts/recommend.ts';

const root = join(import.meta.dirname, '..', '..');

describe('edge counters documentation', () => {
  it('names every counter the worker can produce', async () => {
    const dir = join(root, 'edge', 'src');
    const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.startsWith('generated'));
    const sources = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
    const code = sources.join('\n');
    const doc = await readFile(join(root, 'docs', 'dashboards.md'), 'utf8');
    const names = new Set<string>();
    for (const [, args] of code.matchAll(/\bcount\(([^;]*?)\)\)?;/g)) for (const [, literal] of args!.matchAll(/'([\w.-]+)'/g)) names.add(literal!);
    expect(code).toMatch(/count\(`path\.\$\{/);
    for (const path of SERVE_PATHS) names.add(`path.${path}`);
    expect(code).toMatch(/count\(`degraded\.\$\{/);
    // Reasons the edge raises itself: pushed onto `degraded`, in a degraded list literal, or the origin client's failure reasons.
    const reasons = new Set<string>();
    // Where the edge raises one: degraded.push('…') or a degraded list literal, an anonymous visitor's
    // `because: '…'`, the origin client's `reason: '…'` (and the other members of its union type).
    for (const [, r] of code.matchAll(/(?:degraded\.push\(|degraded: \[|\? \[|because: |reason: )'([a-z]+(?:-[a-z]+)+)'/g)) reasons.add(r!);
    for (const line of code.split('\n').filter((l) => /reason: '[a-z-]+' \|/.test(l))) for (const [, r] of line.matchAll(/\| '([a-z]+(?:-[a-z]+)+)'/g)) reasons.add(r!);
    for (const r of reasons) if (!(SERVE_PATHS as readonly string[]).includes(r) || r === 'stale-slate') names.add(`degraded.${r}`);
    for (const expected of ['events.enqueued', 'events.dead-lettered', 'kv.reads', 'degraded.origin-timeout', 'degraded.user-token-missing', 'degraded.stale-slate', 'degraded.edge-error', 'unhandled']) expect(names).toContain(expected);
    expect(names).not.toContain('degraded.popular-fallback');
    const missing = [...names].filter((n) => !doc.includes(`\`${n}\``));
    expect(missing, `add these to the edge counters table in docs/dashboards.md`).toEqual([]);
  });
});
