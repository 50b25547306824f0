/**
 * `npm run bench`: runs every benchmark as its own process, prints their JSON lines, and rewrites
 * docs/benchmarks.md with one table per benchmark (every field of every line), the exact commands, the date
 * and the machine. The hand-kept sections of the file (how each benchmark is measured, the per-session records
 * under "## Session …", the resilience suites, the model-quality summary) are carried over verbatim; a file
 * without them gets this script's own versions (the model quality from models/reports). Never invents a number:
 * a benchmark that fails is listed as failed with its exit code.
 * Flags: --quick (smaller sizes: ANN 100k vectors, no 1M pipeline/nightly runs, shorter loads)  --only a,b
 * (re-runs only those; the other sections of the existing file are kept as they were, each with its own date).
 * A benchmark script that does not exist (yet) gets a "not available" section, never numbers.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const quick = values.quick;

const BENCHES: { name: string; title: string; script: string; args: string[] }[] = [
  { name: 'edge', title: "Edge: the worker's CPU per request inside workerd (with/without session rerank, both builds), cold starts, KV reads and their cost, bundle and widget sizes", script: 'scripts/bench/edge.ts', args: quick ? ['--requests', '150', '--cold', '5'] : [] },
  { name: 'pipeline', title: 'Origin pipeline: p50/p99 per stage (demo catalogue and 1M items)', script: 'scripts/bench/origin-pipeline.ts', args: quick ? ['--skip-big', '--requests', '200'] : [] },
  { name: 'load', title: 'HTTP load on 127.0.0.1 (autocannon): origin recommend and events', script: 'scripts/bench/load.ts', args: quick ? ['--duration', '5', '--items', '100000'] : [] },
  { name: 'nightly', title: 'Nightly job: users/hour with per-stage breakdown', script: 'scripts/bench/nightly.ts', args: quick ? ['--skip-big', '--users', '1000'] : [] },
  { name: 'ann', title: 'ANN: project index beside FAISS (same vectors, same thread count)', script: 'scripts/bench/ann.ts', args: quick ? ['--n', '100000'] : [] },
  { name: 'scan', title: "The origin's int8 scan: ms per query by batch size, alone and beside a second process", script: 'scripts/bench/scan-batch.ts', args: quick ? ['--items', '100000', '--seconds', '1'] : [] },
  { name: 'import', title: 'Bulk import: 1M synthetic events into Postgres (COPY) and the Redis rebuild (goal < 60 s)', script: 'scripts/bench/import.ts', args: quick ? ['--events', '100000'] : [] },
];

interface Outcome {
  name: string;
  at: string;
  title: string;
  command: string;
  lines: Record<string, unknown>[];
  code: number | null;
  seconds: number;
}

function run(script: string, args: string[]): Promise<{ lines: Record<string, unknown>[]; code: number | null; seconds: number }> {
  const started = Date.now();
  if (!existsSync(join(root, script))) return Promise.resolve({ lines: [], code: null, seconds: 0 });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed.component !== undefined) continue; // service logs, not results
          lines.push(parsed);
          console.log(line);
        } catch {
          // not a result line
        }
      }
    });
    child.on('exit', (code) => resolve({ lines, code, seconds: Math.round((Date.now() - started) / 1000) }));
  });
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value).replace(/\|/g, '\\|');
  return String(value).replace(/\|/g, '\\|');
}

function table(lines: Record<string, unknown>[]): string {
  const keys = [...new Set(lines.flatMap((l) => Object.keys(l)))].filter((k) => k !== 'bench' && k !== 'command');
  if (keys.length === 0) return '_no result lines_';
  return [`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${keys.map((k) => cell(l[k])).join(' | ')} |`)].join('\n');
}

/** The sections of the current docs/benchmarks.md by title, so a partial (--only) run keeps the others. */
function previousSections(): Map<string, string> {
  const file = join(root, 'docs', 'benchmarks.md');
  const sections = new Map<string, string>();
  if (!existsSync(file)) return sections;
  for (const part of readFileSync(file, 'utf8').split(/^## /m).slice(1)) {
    const title = part.slice(0, part.indexOf('\n'));
    sections.set(title, `## ${part.trimEnd()}\n`);
  }
  return sections;
}

function section(o: Outcome): string[] {
  const status = o.code === 0 ? `finished in ${o.seconds} s` : o.code === null && o.lines.length === 0 ? '**not available** (script missing or did not start)' : `**failed (exit ${o.code})** after ${o.seconds} s; lines printed before the failure are shown`;
  return [`## ${o.title}`, '', `Command: \`${o.command}\` on ${o.at} — ${status}.`, '', table(o.lines), ''];
}

async function main(): Promise<void> {
  const only = values.only?.split(',');
  const outcomes: Outcome[] = [];
  const previous = previousSections();
  const kept = only ? previous : new Map<string, string>();
  /** A hand-kept section as the file has it, else this script's version. */
  const handKept = (title: string, fallback: string[]): string[] => {
    const existing = previous.get(title);
    return existing ? [existing] : fallback;
  };
  const sessions = [...previous].filter(([title]) => title.startsWith('Session ')).map(([, text]) => text);
  for (const bench of BENCHES) {
    if (only && !only.includes(bench.name)) continue;
    console.error(`[bench] ${bench.name}: node ${bench.script} ${bench.args.join(' ')}`);
    const result = await run(bench.script, bench.args);
    outcomes.push({ ...bench, at: new Date().toISOString(), command: `node ${bench.script}${bench.args.length ? ` ${bench.args.join(' ')}` : ''}`, ...result });
  }
  const quality = existsSync(join(root, 'models', 'reports'))
    ? readdirSync(join(root, 'models', 'reports')).filter((f) => f.endsWith('.md')).map((f) => readFileSync(join(root, 'models', 'reports', f), 'utf8')).join('\n')
    : '_no model report: run `npm run train`_';
  const doc = [
    '# Benchmarks',
    '',
    `Last generated by \`npm run bench${quick || only ? ' --' : ''}${quick ? ' --quick' : ''}${only ? ` --only ${only.join(',')}` : ''}\` (each section names its own command and date) on ${new Date().toISOString()}: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    'Every number below is a measurement printed by the command shown (JSON lines); nothing is asserted on time in tests.',
    'Other processes on a shared machine add noise: compare ratios measured in the same run rather than absolute numbers across runs.',
    '',
    ...BENCHES.flatMap((b) => {
      const fresh = outcomes.find((o) => o.name === b.name);
      if (fresh) return section(fresh);
      const previous = kept.get(b.title);
      return previous ? [previous] : [];
    }),
    ...handKept('Origin on every core, ANN tuning, Redis Cluster: how each is measured', [
    '## Origin on every core, ANN tuning, Redis Cluster: how each is measured',
    '',
    '- **1 process vs every core** — `npm run bench:load` (defaults `--items 1000000 --workers 1,auto --duration 10 --connections 16`):',
    '  a synthetic 1M-item catalogue (cached under `var/bench/`) served by `node origin/server.ts` on real Postgres and Redis',
    '  (`DATABASE_URL`, `REDIS_URL`; a private database and key prefix, removed after), first as one process, then with',
    '  `ORIGIN_WORKERS=auto`, in the same run. Each `origin POST /v1/recommend` line gives rps, p50, p99 and',
    '  `throughput_vs_first` (goal: ≥ 1.8 with 2 workers), with `cpu_ms_per_request` and `cores_used` of the origin alone',
    '  (schedstat of all its processes), `mean_pipeline_batch` (requests per micro-batch, from `origin_pipeline_batch_size`)',
    '  and `item_stats_cache_hit_ratio`. autocannon runs on the same cores as the origin, so on a',
    '  2-core machine it takes CPU from the workers: run it on an otherwise idle machine.',
    '- **Per-request cost vs quality** — `npm run bench:origin` (`--quantization f32,f16 --ef 1024,2048 --candidates',
    '  1000,500,300,200 --recall-requests 200`): for each graph storage (`ANN_QUANTIZATION`) × search expansion',
    '  (`ANN_EXPANSION_SEARCH`) × candidate count, sequential',
    '  p50/p99 and `final_slate_recall_vs_exact`, the share of the final slate (exploration off) that the same pipeline',
    '  gives with exact retrieval and the default 1000 candidates. A speed-up is read together with its recall.',
    '- **ONNX on a GPU** — `npm run bench:onnx-providers -- --providers cpu,cuda,webgpu` (`scripts/bench/onnx-providers.ts`):',
    "  the origin's user tower and DLRM through the origin's own loader, once per execution provider, at the origin's",
    '  shapes (`--dlrm-rows 100,1600,16000`; larger batches show where a GPU pays), p50/p99, calls/s and rows/s, and',
    "  each provider's largest output difference from CPU. Each line says which providers ONNX Runtime actually used, so",
    '  a CPU fallback is never read as a GPU figure. The whole pipeline: `ONNX_EXECUTION_PROVIDERS=webgpu,cpu npm run',
    '  bench:origin -- --skip-big --ann auto --candidates=` beside the same command with `cpu` (its lines name the providers).',
    '- **Redis Cluster** — correctness, not timing: `npx vitest run test/origin/feature-store.test.ts test/origin/redis-cluster.test.ts`',
    '  against a 3-master cluster the tests start (docs/origin-api.md, "Redis Cluster").',
    '',
    ]),
    ...sessions,
    ...handKept('Resilience, bad-input and soak suites (tests, not timings)', [
    '## Resilience, bad-input and soak suites (tests, not timings)',
    '',
    'Part of `npm test`; run alone with `npx vitest run test/resilience test/fuzz`. Real processes throughout (private redis-server / initdb cluster on random ports, workerd, Postgres):',
    '',
    '| scenario | test | what must hold |',
    '|---|---|---|',
    '| origin killed while the edge serves | test/resilience/origin-killed.test.ts | zero 5xx from the edge; answers flagged as fallback |',
    '| Redis stopped mid-load, then restarted | test/resilience/redis-recovery.test.ts | no 5xx; flagged `redis-unavailable` while down; full answers after |',
    '| Postgres stopped mid-load, then restarted | test/resilience/postgres-outage.test.ts | only 200 or 503 + Retry-After; retried batches stored: N posted = N rows |',
    '| origin database down for a minute behind the edge | test/resilience/edge-events-outage.test.ts | every beacon 202 (queued); after recovery N posted = N stored, each once |',
    '| nightly run killed (kill -9) mid-write | test/resilience/nightly-killed.test.ts | previous slate version still served by the edge in workerd |',
    '| nightly run failing mid-write | test/nightly/serve-and-fail.test.ts | previous slate version still served; flips when the resumed run finishes |',
    '| events soak (sustained rate, bounded time) | test/resilience/events-soak.test.ts | every event stored exactly once; RSS growth bounded |',
    '| bad input on every public endpoint | test/origin/api.test.ts, test/edge/edge.test.ts, test/fuzz/operator-endpoints.test.ts | fast-check: 4xx with a reason, never 5xx, no bad row |',
    '',
    ]),
    ...handKept('Model quality (offline)', ['## Model quality (offline)', '', 'From `npm run train` (protocol: docs/models.md). The latest report per dataset:', '', quality, '']),
  ].join('\n');
  writeFileSync(join(root, 'docs', 'benchmarks.md'), doc);
  console.error(`[bench] wrote docs/benchmarks.md (${outcomes.filter((o) => o.code === 0).length}/${outcomes.length} benchmarks succeeded)`);
  if (outcomes.some((o) => o.code !== 0)) process.exitCode = 1;
}

void main();
