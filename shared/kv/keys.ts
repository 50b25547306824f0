/**
 * KV key scheme. Every slate and item card lives under a slate version prefix; the nightly job writes a
 * whole version, then flips SLATE_POINTER_KEY, so readers never see a mix of versions.
 */
export const SLATE_POINTER_KEY = 'slates:current';

export type SlateSubject = { kind: 'user'; id: string } | { kind: 'segment'; name: string } | { kind: 'popular' };

export function slateKey(version: string, subject: SlateSubject): string {
  switch (subject.kind) {
    case 'user':
      return `${slateListPrefix(version, 'user')}${subject.id}`;
    case 'segment':
      return `${slateListPrefix(version, 'segment')}${subject.name}`;
    case 'popular':
      return `slate:${version}:popular`;
  }
}

/** Prefix of every user (or segment) slate key of a version; what follows it is the user id (segment name). */
export function slateListPrefix(version: string, kind: 'user' | 'segment'): string {
  return `slate:${version}:${kind === 'user' ? 'user' : 'seg'}:`;
}

/** Display card and edge features of one item, versioned with the slates that reference it. */
export function itemCardKey(version: string, itemId: string): string {
  return `item:${version}:${itemId}`;
}

/**
 * Price/stock changes since the live version was computed (shared/contracts/item-changes.ts). Not versioned:
 * a change must apply to whichever version is live; the nightly prunes what its new version includes.
 */
export const ITEM_CHANGES_KEY = 'catalog:changes';

/** Summary of a finished version, written just before the pointer flips. */
export function versionMetaKey(version: string): string {
  return `slates:meta:${version}`;
}

/** Prefix that lists every key of a version (for clean-up of old versions). */
export function versionPrefixes(version: string): string[] {
  return [`slate:${version}:`, `item:${version}:`, versionMetaKey(version)];
}

/** A new slate version id from the time it was computed: sortable, KV-safe. */
export function newSlateVersion(at: Date): string {
  return `v${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

/** Marker written before the first slate of a version, so clean-up also finds versions whose run never finished. */
export const VERSION_RUN_PREFIX = 'slates:run:';
export function versionRunKey(version: string): string {
  return `${VERSION_RUN_PREFIX}${version}`;
}
export const VERSION_META_PREFIX = 'slates:meta:';

/** A model file published for the edge (the session reranker), keyed by model version, not slate version. */
export function modelFileKey(modelVersion: string, file: string): string {
  return `model:${modelVersion}:${file}`;
}

/** The model files the nightly publishes for the edge: the reranker and its gate (shared/contracts/rerank-gate.ts: the manifest's sessionRerank and strength). */
export const EDGE_RERANKER_FILE = 'session_reranker.onnx';
export const EDGE_RERANK_GATE_FILE = 'session_rerank.json';
