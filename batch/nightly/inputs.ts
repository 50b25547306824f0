/**
 * What the nightly job reads before computing anything: the model version's feature space (from
 * models/artifacts/current.json → manifest → feature_space.json), the catalogue and the active users with
 * their histories, through the UserSource port (core/ports/user-source.ts). This file holds the demo's
 * source, the built-in generator (the same data the origin seeds), folded with the shared history rule and
 * cap (core/users/fold-history.ts) exactly like the store-backed source (adapters/postgres/user-source.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EDGE_RERANK_GATE_FILE, EDGE_RERANKER_FILE } from '../../shared/kv/keys.ts';
import { rerankGateOf, type RerankGate } from '../../shared/contracts/rerank-gate.ts';
import { generateDataset, type GeneratorOptions } from '../../shared/catalog/generator.ts';
import type { Dataset, Interaction, Item } from '../../shared/catalog/types.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { entersHistory } from '../../shared/features/history.ts';
import { readFeatureSpace, readManifest, readPointer, readSessionVectors } from '../../core/registry/artifacts.ts';
import type { NightlyUser, UserSource } from '../../core/ports/user-source.ts';
import { foldHistory } from '../../core/users/fold-history.ts';

export type { NightlyUser } from '../../core/ports/user-source.ts';

export interface ModelArtifacts {
  version: string;
  dir: string;
  space: FeatureSpace;
  /** Session vectors of the trained items (shared/features/session-vectors.ts); undefined for older versions. */
  sessionVectors: Int8Array | undefined;
  /** Path of the session reranker ONNX, published to KV for the edge. */
  sessionRerankerPath: string;
  /** The manifest's session-rerank gate and strength (absent in older versions: on, 1), published beside the reranker. */
  rerankGate: RerankGate;
}

/** The files the edge loads from KV for this version (modelFileKey): the session reranker and its gate. */
export async function edgeModelFiles(artifacts: ModelArtifacts): Promise<{ file: string; bytes: Uint8Array }[]> {
  return [
    { file: EDGE_RERANKER_FILE, bytes: await readFile(artifacts.sessionRerankerPath) },
    { file: EDGE_RERANK_GATE_FILE, bytes: new TextEncoder().encode(JSON.stringify(artifacts.rerankGate)) },
  ];
}

export async function loadModelArtifacts(artifactsRoot: string): Promise<ModelArtifacts> {
  const dir = join(artifactsRoot, await readPointer(artifactsRoot));
  const manifest = await readManifest(dir);
  const [space, sessionVectors] = await Promise.all([readFeatureSpace(dir, manifest), readSessionVectors(dir, manifest)]);
  return { version: manifest.version, dir, space, sessionVectors, sessionRerankerPath: join(dir, manifest.files.sessionReranker), rerankGate: rerankGateOf(manifest) };
}

/** Users with at least one positive interaction, each with history and purchases in time order, sorted by id. */
export function activeUsersOf(dataset: Dataset): NightlyUser[] {
  const byId = new Map<string, Interaction[]>();
  for (const event of dataset.interactions) {
    if (!entersHistory(event.type)) continue;
    const list = byId.get(event.userId) ?? [];
    list.push(event);
    byId.set(event.userId, list);
  }
  const segmentOf = new Map(dataset.users.map((user) => [user.id, user.segment]));
  const users = [...byId.entries()].map(([id, list]): NightlyUser => ({ id, segment: segmentOf.get(id) ?? '', ...foldHistory(list) }));
  return users.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface DemoInputs {
  dataset: Dataset;
  items: Item[];
  users: NightlyUser[];
}

export function demoInputs(options: Partial<GeneratorOptions> = {}, maxUsers?: number): DemoInputs {
  const dataset = generateDataset(options);
  const users = activeUsersOf(dataset);
  return { dataset, items: dataset.items, users: maxUsers === undefined ? users : users.slice(0, maxUsers) };
}

/**
 * The generator as a UserSource (the demo, benchmarks). It has no erasure list of its own: `erased` (e.g. the
 * origin's Postgres user_deletions when DATABASE_URL is set) answers erasedAmong; without it nobody is erased.
 */
export function generatorUserSource(users: readonly NightlyUser[], erased?: (ids: readonly string[]) => Promise<Set<string>>): UserSource {
  return {
    kind: 'generator',
    activeUsers: () => Promise.resolve([...users]),
    erasedAmong: (ids) => (erased ? erased(ids) : Promise.resolve(new Set())),
    close: () => Promise.resolve(),
  };
}
