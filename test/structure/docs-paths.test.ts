/**
 * Every repository path the README and docs/*.md name — in backticks (`core/pipeline/compose.ts`, root-relative)
 * or as a relative link ([x](docs/y.md), relative to the document) — exists in the repository (tracked files
 * and not-ignored new files, and the folders holding them), so a move cannot leave the docs pointing at nothing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** Top-level names a backticked token must start with to count as a repository path. */
const ROOTS = ['shared', 'core', 'adapters', 'batch', 'origin', 'edge', 'models', 'scripts', 'test', 'docs', '.ci'];
const ROOT_FILES = ['README.md', 'package.json', 'package-lock.json', 'tsconfig.json', 'vitest.config.ts', 'drizzle.config.ts'];

/** Paths named as examples or made at run time (gitignored), so absent from a clean clone. */
const IGNORED = [/^models\/\.work(\/|$)/, /^models\/artifacts\/\.ann-cache(\/|$)/, /^edge\/src\/generated(\/|$)/];

export interface NamedPath {
  path: string;
  line: number;
}

/** The repository paths a Markdown document names (root-relative), with their line numbers. */
export function pathsInMarkdown(text: string, documentPath: string): NamedPath[] {
  const out: NamedPath[] = [];
  text.split('\n').forEach((lineText, i) => {
    const line = i + 1;
    for (const [, span] of lineText.matchAll(/`([^`]+)`/g)) {
      // `{json,md}` alternatives count as a wildcard
      for (const raw of span!.replace(/\{[^}]*\}/g, '*').split(/[\s,;()'"=]+/)) {
        const token = raw.replace(/^\.\//, '').replace(/[.:]+$/, '').replace(/:\d+$/, '');
        const first = token.split('/')[0]!;
        if ((ROOTS.includes(first) && token.includes('/')) || ROOT_FILES.includes(token)) out.push({ path: token, line });
      }
    }
    for (const [, target] of lineText.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!) || target!.startsWith('#')) continue; // URLs, anchors
      const file = target!.split('#')[0]!;
      out.push({ path: posix.normalize(posix.join(posix.dirname(documentPath), file)), line });
    }
  });
  return out;
}

/** Whether `path` (may end in '/', may hold `*` or `<placeholder>` segments) names a file or folder among `files`. */
export function existsIn(path: string, files: ReadonlySet<string>, folders: ReadonlySet<string>): boolean {
  const clean = path.replace(/\/$/, '');
  if (!/[*<]/.test(clean)) return files.has(clean) || folders.has(clean);
  const pattern = new RegExp(`^${clean.split('/').map((seg) => seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/<[^>]*>/g, '[^/]+').replace(/\*/g, '[^/]*')).join('/')}$`);
  return [...files, ...folders].some((p) => pattern.test(p));
}

function repository(): { files: Set<string>; folders: Set<string> } {
  const files = new Set(execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean));
  const folders = new Set<string>();
  for (const file of files) for (let i = file.indexOf('/'); i > 0; i = file.indexOf('/', i + 1)) folders.add(file.slice(0, i));
  return { files, folders };
}

describe('paths named in the docs', () => {
  const { files, folders } = repository();
  const documents = ['README.md', ...[...files].filter((f) => /^docs\/[^/]+\.md$/.test(f))];

  it('exist in the repository', () => {
    expect(documents.length).toBeGreaterThan(5);
    const missing: string[] = [];
    let checked = 0;
    for (const document of documents) {
      for (const { path, line } of pathsInMarkdown(readFileSync(join(root, document), 'utf8'), document)) {
        if (IGNORED.some((re) => re.test(path))) continue;
        checked++;
        if (!existsIn(path, files, folders)) missing.push(`${document}:${line}: ${path}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  it('finds backticked and linked paths, and reports one that does not exist', () => {
    const doc = [
      'The stage is in `core/pipeline/compose.ts`; run `node scripts/nightly.ts --resume`.',
      'See [the nightly](nightly.md) and [Hono](https://hono.dev) and [above](#top).',
      'Gone: `origin/pipeline/factory.ts`. Not a path: `npm test`, `a/b`.',
    ].join('\n');
    expect(pathsInMarkdown(doc, 'docs/x.md')).toEqual([
      { path: 'core/pipeline/compose.ts', line: 1 },
      { path: 'scripts/nightly.ts', line: 1 },
      { path: 'docs/nightly.md', line: 2 },
      { path: 'origin/pipeline/factory.ts', line: 3 },
    ]);
    const fakeFiles = new Set(['core/pipeline/compose.ts', 'models/torch/train.py', 'models/artifacts/m1/manifest.json']);
    const fakeFolders = new Set(['core', 'core/pipeline', 'models', 'models/torch', 'models/artifacts', 'models/artifacts/m1']);
    expect(existsIn('core/pipeline/compose.ts', fakeFiles, fakeFolders)).toBe(true);
    expect(existsIn('core/pipeline/', fakeFiles, fakeFolders)).toBe(true);
    expect(existsIn('models/torch/*.py', fakeFiles, fakeFolders)).toBe(true);
    expect(existsIn('models/artifacts/<version>/manifest.json', fakeFiles, fakeFolders)).toBe(true);
    expect(existsIn('origin/pipeline/factory.ts', fakeFiles, fakeFolders)).toBe(false);
    expect(existsIn('models/train/*.py', fakeFiles, fakeFolders)).toBe(false);
  });
});
