/**
 * What the nightly job reads before computing anything: the model version's feature space (from
 * models/artifacts/current.json → manifest → feature_space.json), the catalogue and the active users with
 * their histories. Users come from the built-in generator (the same data the origin seeds), in the shape
 * the feature store would hand the pipeline: the shared history rule (shared/features/history.ts) applied
 * oldest → newest, capped like the store's list, and purchases to exclude.
 */
import { join } from 'node:path';
import { generateDataset, type GeneratorOptions } from '../../shared/catalog/generator.ts';
import type { Dataset, Item } from '../../shared/catalog/types.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { readFeatureSpace, readManifest, readPointer } from '../../core/registry/artifacts.ts';
import { entersHistory, shouldAppend, USER_HISTORY_CAP } from '../../shared/features/history.ts';

export interface NightlyUser {
  id: string;
  segment: string;
  history: string[];
  purchased: string[];
}

export interface ModelArtifacts {
  version: string;
  dir: string;
  space: FeatureSpace;
  /** Path of the session reranker ONNX, published to KV for the edge. */
  sessionRerankerPath: string;
}

export async function loadModelArtifacts(artifactsRoot: string): Promise<ModelArtifacts> {
  const dir = join(artifactsRoot, await readPointer(artifactsRoot));
  const manifest = await readManifest(dir);
  const space = await readFeatureSpace(dir, manifest);
  return { version: manifest.version, dir, space, sessionRerankerPath: join(dir, manifest.files.sessionReranker) };
}

/** Users with at least one positive interaction, each with history and purchases in time order. */
export function activeUsersOf(dataset: Dataset): NightlyUser[] {
  const byId = new Map<string, NightlyUser>();
  const segmentOf = new Map(dataset.users.map((user) => [user.id, user.segment]));
  for (const event of dataset.interactions) {
    if (!entersHistory(event.type)) continue;
    let user = byId.get(event.userId);
    if (!user) {
      user = { id: event.userId, segment: segmentOf.get(event.userId) ?? '', history: [], purchased: [] };
      byId.set(event.userId, user);
    }
    if (shouldAppend(event.type, event.itemId, user.history.at(-1))) user.history.push(event.itemId);
    if (event.type === 'purchase' && !user.purchased.includes(event.itemId)) user.purchased.push(event.itemId);
  }
  for (const user of byId.values()) if (user.history.length > USER_HISTORY_CAP) user.history = user.history.slice(-USER_HISTORY_CAP);
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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
