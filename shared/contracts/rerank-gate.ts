/**
 * The session-rerank gate the nightly publishes beside each version's reranker for the edge
 * (modelFileKey(version, EDGE_RERANK_GATE_FILE)): the manifest's sessionRerank and sessionRerankStrength, which the
 * trainer's session protocol decides (models/evaluate/session.ts) and the origin obeys from the manifest.
 */
import { z } from 'zod';

export const RerankGateSchema = z.object({
  gate: z.enum(['on', 'off']),
  /** blendSessionScores' strength: 0 = the slate order, 1 = the reranker's own. */
  strength: z.number().min(0).max(1).default(1),
});
export type RerankGate = z.infer<typeof RerankGateSchema>;

/** What a version without a gate gets (trained before gates, or an unreadable gate file): on, full strength. */
export const DEFAULT_RERANK_GATE: RerankGate = { gate: 'on', strength: 1 };

/** A version's gate from its manifest fields (the nightly publishes it; the edge build bundles it). */
export function rerankGateOf(manifest: { sessionRerank?: 'on' | 'off' | undefined; sessionRerankStrength?: number | undefined }): RerankGate {
  return { gate: manifest.sessionRerank ?? DEFAULT_RERANK_GATE.gate, strength: manifest.sessionRerankStrength ?? DEFAULT_RERANK_GATE.strength };
}
