/**
 * The import rules of the layout (README "Layout", docs/architecture.md), as a pure checker: given every
 * (importing file, specifier) pair it returns the violations. boundaries.test.ts feeds it the repository's
 * imports, and feeds it one synthetic violation per rule to prove each rule can fail.
 */
import { posix } from 'node:path';
import ts from 'typescript';

export type RuleId =
  | 'edge-imports-only-shared'
  | 'shared-is-pure'
  | 'core-imports-no-adapter'
  | 'adapters-import-no-entry-point'
  | 'nothing-imports-scripts'
  | 'scripts-and-origin-apart'
  | 'no-folder-cycle';

export interface ImportEdge {
  /** Repository-relative path of the importing file, e.g. `core/pipeline/compose.ts`. */
  from: string;
  /** The specifier as written: `../ports/ann.ts`, `node:fs`, `@hono/node-server`. */
  specifier: string;
}

export interface Violation {
  rule: RuleId;
  from: string;
  specifier: string;
  message: string;
}

/** Packages the Worker bundle may use (edge/src, edge/widget); protobufjs: the TypeScript reranker reads ONNX files. */
const EDGE_PACKAGES = new Set(['hono', 'onnxruntime-web', 'protobufjs', 'zod']);
/** edge/scripts/ is the Node build tooling that bundles the Worker; it never ships in it. */
const EDGE_BUILD_PACKAGES = new Set(['esbuild']);
const SHARED_PACKAGES = new Set(['zod']);
/**
 * The core takes node: builtins, zod and pure computation without I/O (@stdlib's distribution functions, for
 * the experiment statistics in core/experiments/); every other package belongs to an adapter or an entry point.
 */
const CORE_PACKAGES = new Set(['zod']);
const CORE_PURE_PACKAGE_PREFIXES = ['@stdlib/stats-base-dists-'];
const ADAPTER_PACKAGES = ['ioredis', 'pg', 'drizzle-orm', '@electric-sql/pglite', 'onnxruntime-node', 'onnxruntime-web', 'usearch', 'hnswlib-node', 'miniflare', 'hono', '@hono/*'];

/** Every module specifier in a TypeScript source: static imports, `export … from`, dynamic `import()`. */
export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

export function topFolder(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? '.' : path.slice(0, slash);
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`, `node:fs/promises` → `node:fs/promises`. */
export function packageOf(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

type Target = { kind: 'file'; path: string; folder: string } | { kind: 'node' } | { kind: 'package'; name: string };

function targetOf(edge: ImportEdge): Target {
  const { specifier } = edge;
  if (specifier.startsWith('.')) {
    const path = posix.normalize(posix.join(posix.dirname(edge.from), specifier));
    return { kind: 'file', path, folder: topFolder(path) };
  }
  if (specifier.startsWith('node:')) return { kind: 'node' };
  return { kind: 'package', name: packageOf(specifier) };
}

const isAdapterPackage = (name: string): boolean => ADAPTER_PACKAGES.some((p) => (p.endsWith('/*') ? name.startsWith(p.slice(0, -1)) : name === p));

function ruleViolations(edge: ImportEdge): Violation[] {
  const out: Violation[] = [];
  const from = topFolder(edge.from);
  const target = targetOf(edge);
  const fail = (rule: RuleId, message: string): void => void out.push({ rule, from: edge.from, specifier: edge.specifier, message });
  const describe = target.kind === 'file' ? target.path : target.kind === 'node' ? 'a node: builtin' : `package ${target.name}`;

  if (from === 'edge') {
    const buildTool = edge.from.startsWith('edge/scripts/');
    const ok =
      (target.kind === 'file' && (target.folder === 'edge' || target.folder === 'shared')) ||
      (target.kind === 'package' && (EDGE_PACKAGES.has(target.name) || (buildTool && EDGE_BUILD_PACKAGES.has(target.name)))) ||
      (target.kind === 'node' && buildTool);
    if (!ok) fail('edge-imports-only-shared', `edge/ may import only edge/, shared/ and ${[...EDGE_PACKAGES].join(', ')}; got ${describe}`);
  }
  if (from === 'shared') {
    const ok = (target.kind === 'file' && target.folder === 'shared') || (target.kind === 'package' && SHARED_PACKAGES.has(target.name));
    if (!ok) fail('shared-is-pure', `shared/ is isomorphic (the edge imports it): only shared/ and zod; got ${describe}`);
  }
  if (from === 'core') {
    const ok = (target.kind === 'file' && (target.folder === 'core' || target.folder === 'shared')) || target.kind === 'node' || (target.kind === 'package' && (CORE_PACKAGES.has(target.name) || CORE_PURE_PACKAGE_PREFIXES.some((p) => target.name.startsWith(p))));
    if (!ok) {
      const why = target.kind === 'package' && isAdapterPackage(target.name) ? ' (an adapter package: put it behind a port in core/ports/)' : '';
      fail('core-imports-no-adapter', `core/ may import only core/, shared/, node: builtins, zod and pure math (@stdlib/stats-base-dists-*); got ${describe}${why}`);
    }
  }
  if (from === 'adapters' && target.kind === 'file' && ['origin', 'batch', 'scripts', 'models', 'edge'].includes(target.folder)) {
    fail('adapters-import-no-entry-point', `adapters/ may not import ${target.folder}/ (adapters serve the core; entry points compose them); got ${describe}`);
  }
  if (from !== 'scripts' && target.kind === 'file' && target.folder === 'scripts') {
    fail('nothing-imports-scripts', `scripts/ are thin CLIs run as processes; import the library in core/, adapters/ or batch/ instead of ${describe}`);
  }
  if (from === 'scripts' && target.kind === 'file' && target.folder === 'origin') {
    fail('scripts-and-origin-apart', `scripts/ may not import origin/ (both are entry points over core/, adapters/, batch/); got ${describe}`);
  }
  return out;
}

/** Cycles in the graph of top-level folders (Tarjan's strongly connected components). */
function folderCycles(edges: readonly ImportEdge[]): Violation[] {
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const edge of edges) {
    const target = targetOf(edge);
    const from = topFolder(edge.from);
    if (target.kind !== 'file' || target.folder === from || from === '.' || target.folder === '.') continue;
    const next = graph.get(from) ?? new Map<string, ImportEdge>();
    if (!next.has(target.folder)) next.set(target.folder, edge);
    graph.set(from, next);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return components.map((component) => {
    const examples = component.flatMap((a) => component.filter((b) => b !== a && graph.get(a)?.has(b)).map((b) => graph.get(a)!.get(b)!));
    const first = examples[0]!;
    return {
      rule: 'no-folder-cycle' as const,
      from: first.from,
      specifier: first.specifier,
      message: `import cycle between ${component.join(', ')}: ${examples.map((e) => `${e.from} → ${e.specifier}`).join('; ')}`,
    };
  });
}

export function checkImports(edges: readonly ImportEdge[]): Violation[] {
  return [...edges.flatMap(ruleViolations), ...folderCycles(edges)];
}
