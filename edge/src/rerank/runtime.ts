/**
 * The session reranker behind one small interface, so the worker can be built with either runtime:
 * onnxruntime-web (WASM, the default) or the plain-TypeScript forward pass (the Workers Free plan build,
 * see docs/edge.md "Bundle options"). Scorers are created once per model version per isolate; the cost of
 * creating one (the cold start) is measured and reported.
 */
import { blendSessionScores, encodeSlateForSession, type ItemFeatures, type SessionRerankInput } from '../../../shared/features/encode.ts';

export interface SessionScorer {
  /** One score per candidate, in input order. */
  score(input: SessionRerankInput): Promise<Float32Array>;
}

export interface RerankerRuntime {
  /** Named in /v1/stats and the bench output. */
  readonly name: 'onnxruntime-web' | 'typescript';
  create(model: Uint8Array): Promise<SessionScorer>;
}

export interface ScorerHandle {
  /** null: the version's evaluation turned session reranking off (its gate), so slates keep their order. */
  scorer: SessionScorer | null;
  /** How far the rerank moves the slate (the version's validated strength, blendSessionScores). */
  strength: number;
  /** Milliseconds spent creating it (model bytes → ready scorer), excluding the model read. */
  createMs: number;
}

const scorers = new Map<string, Promise<ScorerHandle>>();

/** The scorer for a model version, created once (concurrent callers share the same promise). */
/** What the KV (or the bundle) holds for a version: the reranker's bytes and its strength; null when its gate is off. */
export interface PublishedReranker {
  model: Uint8Array;
  strength: number;
}

export function scorerFor(runtime: RerankerRuntime, version: string, loadModel: () => Promise<PublishedReranker | null>): { handle: Promise<ScorerHandle>; created: boolean } {
  const cached = scorers.get(version);
  if (cached) return { handle: cached, created: false };
  const handle = loadModel().then(async (published) => {
    const started = performance.now();
    if (published === null) return { scorer: null, strength: 0, createMs: 0 };
    const scorer = await runtime.create(published.model);
    return { scorer, strength: published.strength, createMs: performance.now() - started };
  });
  handle.catch(() => scorers.delete(version)); // a failed load is retried on the next request
  scorers.set(version, handle);
  return { handle, created: true };
}

export type RerankCandidate = ItemFeatures & { id: string };

/**
 * Scores a slate's candidates against the session's recent items; the slate order enters as the position
 * prior (1 − rank / C), exactly as in training, and the scores move `strength` of the way from it (as the origin's).
 */
export async function scoreCandidates(scorer: SessionScorer, candidates: readonly RerankCandidate[], recent: readonly ItemFeatures[], strength: number): Promise<Float32Array> {
  const input = encodeSlateForSession(candidates, recent);
  return blendSessionScores(await scorer.score(input), input.candScore, strength);
}
