/**
 * `npm run train`: prepare data (TypeScript, shared/features) → train and export the three models
 * (PyTorch, models/torch/*.py) → evaluate the exported ONNX models (models/evaluate) → write the manifest →
 * publish by atomically replacing models/artifacts/current.json (origin and edge hot-reload from it).
 *
 * Stages: prepare (TS) → `train.py retrieval` (two-tower, item-kNN/EASE chosen on validation, baselines, the served
 * item neighbours, the ranker's candidate lists) → encode those lists with shared/features (TS) → `train.py rank`
 * (the listwise ranker) → evaluation through the served pipeline.
 *
 * Data (models/data/sources.ts): --dataset events (default: the event store in DATABASE_URL / PGLITE_DIR / var/pglite,
 * window --since 90d) | generated (demo shop: --items N --users N) | ml-100k | ml-1m-pairs (through the import
 * converters) | movielens (--path DIR) | json (--data FILE).
 * Flags:  --dim D  --epochs E  --user-tower choose|mean|attention  --neighbours N  --item-embeddings float32|float16|int8
 *        --protocol time|leave-one-out|holdout  --out DIR (artifacts root)  --reports DIR  --no-publish  --skip-eval
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DATASET_KINDS, defaultDatasetPath, loadDataset, parseTime, parseWindow, type DatasetSource } from './data/sources.ts';
import { loadJsonDataset } from './data/json-dataset.ts';
import { remapEvalUsers } from './evaluate/remap.ts';
import { readFeatureSpace } from '../core/registry/artifacts.ts';
import { jobDatabaseOptions } from '../adapters/postgres/env.ts';
import { encodeRankLists } from './prepare/rank-lists.ts';
import { ModelManifestSchema, type ModelManifest } from '../shared/contracts/manifest.ts';
import { FEATURE_SPEC_VERSION, PRICE_BUCKETS } from '../shared/features/spec.ts';
import { prepare } from './prepare/prepare.ts';
import { shuffleWithinUsers } from './prepare/split.ts';
import { evaluate } from './evaluate/evaluate.ts';
import { chooseServing } from './evaluate/choose-serving.ts';
import { decodeEmbeddings, EMBEDDING_FILE, encodeEmbeddings } from './export/embeddings.ts';
import { z } from 'zod';

const root = join(import.meta.dirname, '..');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'events' },
    /** Event-store window: only events newer than this (90d, 12h, all). */
    since: { type: 'string', default: '90d' },
    /** Event-store upper bound (epoch ms or ISO time, exclusive): the cycle pins it so both evaluations see the same events. */
    until: { type: 'string' },
    /** Data-set folder for ml-100k / ml-1m-pairs / movielens (default under ../shared/data). */
    path: { type: 'string' },
    'movielens-path': { type: 'string' },
    /** The JSON data set file for --dataset json ({ items, interactions, users? }). */
    data: { type: 'string' },
    items: { type: 'string', default: '10000' },
    users: { type: 'string', default: '5000' },
    dim: { type: 'string', default: '64' },
    /** Item-embedding file encoding: float32 (default, the contract's), float16 or int8 (with a scale). */
    'item-embeddings': { type: 'string', default: 'float32' },
    epochs: { type: 'string', default: '4' },
    /** User tower: 'choose' trains the mean-pooling and the self-attention tower and keeps the better on validation. */
    'user-tower': { type: 'string', default: 'choose' },
    /** Cap on the item neighbours kept per item (0 = the trainer's default, up to 500 within 2M pairs in all). */
    neighbours: { type: 'string', default: '0' },
    protocol: { type: 'string' },
    out: { type: 'string', default: join(root, 'models', 'artifacts') },
    /** Where the evaluation writes <dataset>.{json,md,html}; tests point it at a temp folder. */
    reports: { type: 'string', default: join(root, 'models', 'reports') },
    version: { type: 'string' },
    work: { type: 'string' },
    'no-publish': { type: 'boolean', default: false },
    'skip-eval': { type: 'boolean', default: false },
    /** Keep the prepared arrays and torch weights (models/.work/<version>) for the round-trip and parity tests. */
    'keep-work': { type: 'boolean', default: false },
    /** Re-evaluate an existing version (folder) instead of training; updates its manifest's metrics. */
    evaluate: { type: 'string' },
  },
});

function requireTorch(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, sys; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`PyTorch is required for training (${PYTHON} could not import torch).\n` +
      `On Debian: apt-get install -y python3-torch libopenblas0  (the demo models are committed, so npm start does not need it)`);
  }
}

function datasetSource(): DatasetSource {
  const kind = z.enum(DATASET_KINDS, { error: () => `--dataset must be one of ${DATASET_KINDS.join(', ')}, json` }).parse(args.dataset);
  if (kind === 'events') return { kind, database: jobDatabaseOptions(process.env, root), sinceMs: parseWindow(args.since), ...(args.until === undefined ? {} : { untilMs: parseTime(args.until) }) };
  if (kind === 'generated') return { kind, items: Number(args.items), users: Number(args.users) };
  return { kind, path: args.path ?? args.data ?? args['movielens-path'] ?? defaultDatasetPath(kind, root) };
}

async function main(): Promise<void> {
  if (!args.evaluate) requireTorch();
  const started = Date.now();
  if (args.dataset === 'json' && !args.data) throw new Error('--dataset json needs --data FILE');
  const loaded = args.dataset === 'json' && args.data ? await loadJsonDataset(args.data) : await loadDataset(datasetSource());
  const defaultProtocol = args.dataset === 'generated' || args.dataset === 'json' || args.dataset === 'events' ? 'time' : args.dataset === 'ml-1m-pairs' ? 'holdout' : 'leave-one-out';
  const protocol = z.enum(['time', 'leave-one-out', 'holdout']).parse(args.protocol ?? defaultProtocol);
  // A random hold-out has no order to learn: each user's events are dealt a seeded random order first, so the
  // validation targets (the last ones) are random as the test's are, and no tower learns the file's order.
  const dataset = protocol === 'holdout' ? { ...loaded, interactions: shuffleWithinUsers(loaded.interactions) } : loaded;
  const version = args.version ?? `m${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  const workDir = args.work ?? join(root, 'models', '.work', version);
  const outDir = join(args.out, version);
  console.log(`[train] ${dataset.name}: ${dataset.items.length} items, ${dataset.users.length} users, ${dataset.interactions.length} events → ${version}`);

  const prepared = await prepare(dataset, workDir, { protocol, testFraction: 0.1 });
  const { split, evalUsers, space } = prepared;
  console.log(`[train] prepared (${protocol} split: ${split.train.length} train / ${split.test.length} test events)`);

  if (args.evaluate) {
    const manifestPath = join(args.evaluate, 'manifest.json');
    const manifest = ModelManifestSchema.parse(JSON.parse(await readFile(manifestPath, 'utf8')));
    // The version may have been trained on other data: its own feature space numbers the items.
    const own = await readFeatureSpace(args.evaluate, manifest);
    manifest.metrics = await evaluate(dataset, split, remapEvalUsers(evalUsers, space, own), args.evaluate, args.reports, protocol, { workDir: undefined, trainSeconds: undefined });
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
    await rm(workDir, { recursive: true, force: true });
    return;
  }
  const trainer = (stage: string, ...rest: string[]): void => {
    const python = spawnSync(PYTHON, [join(root, 'models', 'torch', 'train.py'), stage, workDir, outDir, ...rest], {
      stdio: 'inherit',
      // One BLAS/OpenMP thread per trainer (see train.py): oversubscribed threads spin on a busy machine.
      env: { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', ...process.env },
    });
    // Exit 2: the trainer found the data unable to train a model and wrote why (one line) to train-error.txt.
    if (python.status === 2) throw new Error(readFileSync(join(workDir, 'train-error.txt'), 'utf8').trim());
    if (python.status !== 0) throw new Error(`training (${stage}) failed (exit ${python.status})`);
  };
  trainer('retrieval', args.dim, args.epochs, z.enum(['choose', 'mean', 'attention']).parse(args['user-tower']), String(z.coerce.number().int().min(0).parse(args.neighbours)));
  const lists = await encodeRankLists(dataset, prepared, workDir);
  console.log(`[train] encoded ${lists} ranker lists with shared/features`);
  trainer('rank', String(Math.max(Number(args.epochs), 8)));
  await copyFile(join(workDir, 'feature_space.json'), join(outDir, 'feature_space.json'));
  const embeddingDtype = z.enum(['float32', 'float16', 'int8']).parse(args['item-embeddings']);
  const encoded = encodeEmbeddings(decodeEmbeddings(await readFile(join(outDir, EMBEDDING_FILE.float32)), 'float32'), embeddingDtype);
  if (embeddingDtype !== 'float32') {
    await writeFile(join(outDir, EMBEDDING_FILE[embeddingDtype]), encoded.bytes);
    await rm(join(outDir, EMBEDDING_FILE.float32));
  }
  const training = JSON.parse(await readFile(join(outDir, 'training.json'), 'utf8')) as { vocab: Record<string, number>; timings: Record<string, number>; neighbours: { perItem: number; model: string; window: number } };

  const manifest: ModelManifest = ModelManifestSchema.parse({
    version,
    createdAt: new Date().toISOString(),
    featureSpecVersion: FEATURE_SPEC_VERSION,
    dataset: dataset.name,
    embeddingDim: Number(args.dim),
    itemCount: dataset.items.length,
    vocab: { items: dataset.items.length, categories: training.vocab.categories ?? 0, brands: training.vocab.brands ?? 0, segments: training.vocab.segments ?? 0, priceBuckets: PRICE_BUCKETS },
    files: { userTower: 'user_tower.onnx', dlrm: 'dlrm.onnx', sessionReranker: 'session_reranker.onnx', itemEmbeddings: EMBEDDING_FILE[embeddingDtype], featureSpace: 'feature_space.json', itemNeighbours: 'item_neighbours.bin', sessionProjection: 'session_projection.json' },
    itemNeighboursPerItem: training.neighbours.perItem,
    itemNeighboursWindow: training.neighbours.window,
    itemEmbeddingsDtype: embeddingDtype,
    ...(encoded.scale === undefined ? {} : { itemEmbeddingsScale: encoded.scale }),
    metrics: {},
    training: { protocol, epochs: Number(args.epochs), neighbours: training.neighbours.model, seconds: Math.round((Date.now() - started) / 1000), ...Object.fromEntries(Object.entries(training.timings).map(([k, v]) => [k, Math.round(v * 10) / 10])) },
  });
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  // Serving choices (popularity correction, MMR λ) on the ranker's validation lists, through the exported models.
  const serving = await chooseServing(workDir, outDir, dataset.items);
  manifest.serving = { popularityCorrection: serving.popularityCorrection, mmrLambda: serving.mmrLambda, categoryCapShare: serving.categoryCapShare };
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  await writeFile(join(outDir, 'training.json'), JSON.stringify({ ...JSON.parse(await readFile(join(outDir, 'training.json'), 'utf8')), serving }, null, 1));
  console.log(`[train] serving chosen on ${serving.heldOutLists} held-out ranker lists: popularity correction β ${serving.popularityCorrection}, MMR λ ${serving.mmrLambda}, category cap ${serving.categoryCapShare} ` +
    `(coverage@10 over ${serving.coverageLists} lists ${serving.grid.find((p) => p.beta === serving.popularityCorrection && p.lambda === serving.mmrLambda && p.cap === serving.categoryCapShare)?.coverage ?? '–'} items; ${serving.reference.itemKnn === undefined ? `item-to-item order ${serving.reference.itemToItem}` : `item-kNN ${serving.reference.itemKnn}`}, floor ${serving.floorMet ? 'met' : 'not reachable'}` +
    `${serving.anchor && serving.departure ? `; best against the least intervention (β ${serving.anchor.beta}, λ ${serving.anchor.lambda}, cap ${serving.anchor.cap}): NDCG@10 ${serving.departure.ndcgGain >= 0 ? '+' : ''}${serving.departure.ndcgGain.toFixed(4)}, one-sided p ${serving.departure.pValue.toPrecision(2)} against a corrected level of ${serving.departure.alpha.toPrecision(2)}` : ''})`);

  if (!args['skip-eval']) {
    const metrics = await evaluate(dataset, split, evalUsers, outDir, args.reports, protocol, { workDir, trainSeconds: (Date.now() - started) / 1000 });
    manifest.metrics = metrics;
    manifest.sessionRerank = metrics['session.gate'] === 1 ? 'on' : 'off';
    if (manifest.sessionRerank === 'on') manifest.sessionRerankStrength = metrics['session.strength'];
    await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
  if (!args['keep-work']) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  if (!args['no-publish']) {
    // Atomic publish: readers see either the old pointer or the new one, never a partial file.
    await mkdir(args.out, { recursive: true });
    const tmp = join(args.out, `.current.${process.pid}.json`);
    await writeFile(tmp, JSON.stringify({ version }));
    await rename(tmp, join(args.out, 'current.json'));
  }
  console.log(`[train] ${version} ready in ${Math.round((Date.now() - started) / 1000)} s (${outDir})`);
}

main().catch((error: unknown) => {
  const message = error instanceof z.ZodError ? error.issues.map((i) => i.message).join('; ') : error instanceof Error ? error.message : String(error);
  console.error(`[train] ${message}`);
  process.exit(1);
});
