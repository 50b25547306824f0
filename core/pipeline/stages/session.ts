/**
 * Stage: session rerank at the origin — the same ONNX session reranker, inputs and slate-position prior the edge
 * applies (shared/features/encode.ts), so a visitor with session items gets consistent answers from both. Runs
 * when the request carries known session items, the model ships the reranker and its gate is not 'off' (the
 * trainer's evaluation turns it off where it did not help). It re-orders the head SLATE of the ranked candidates
 * and gives them the head's scores in the new order (score scale unchanged for MMR), moved the version's validated
 * strength of the way from the ranked order (blendSessionScores). A failure keeps the order.
 */
import { blendSessionScores, encodeSlateForSession, itemFeaturesOf } from '../../../shared/features/encode.ts';
import { rerankGateOf } from '../../../shared/contracts/rerank-gate.ts';
import type { LoadedModel } from '../../ports/model.ts';
import type { StageClock } from '../stage-clock.ts';

export const SESSION_SLATE = 50;

export interface SessionInput {
  readonly sessionItems: readonly string[];
  readonly candidates: readonly { index: number }[];
  readonly scores: Float32Array;
  /** The request's strength override (settings.sessionRerankStrength); undefined: the version's. */
  readonly strength?: number | undefined;
}

/** New scores per input (the same array when nothing applies); `failed` when the reranker threw. */
export async function sessionRerank(model: LoadedModel | null, inputs: readonly SessionInput[], clock: StageClock): Promise<{ scores: Float32Array[]; failed: boolean }> {
  const scorer = model?.scoreSession;
  if (!model || !scorer || model.manifest.sessionRerank === 'off') return { scores: inputs.map((x) => x.scores), failed: false };
  const space = model.space;
  let failed = false;
  const out: Float32Array[] = [];
  for (const x of inputs) {
    const session = x.sessionItems.map((id) => space.itemIndex(id)).filter((i) => i > 0);
    if (session.length === 0 || x.candidates.length < 2) {
      out.push(x.scores);
      continue;
    }
    const order = Array.from(x.candidates.keys()).sort((a, b) => x.scores[b]! - x.scores[a]! || a - b).slice(0, SESSION_SLATE);
    try {
      const features = (index: number) => itemFeaturesOf(space, index, model.sessionVectors);
      const input = encodeSlateForSession(order.map((c) => features(x.candidates[c]!.index)), session.map(features));
      const strength = x.strength ?? rerankGateOf(model.manifest).strength;
      const s = blendSessionScores(await clock.time('session_rerank', () => scorer.call(model, input)), input.candScore, strength);
      const reordered = order.map((c, r) => ({ c, s: s[r] ?? 0 })).sort((a, b) => b.s - a.s);
      const scores = Float32Array.from(x.scores);
      reordered.forEach(({ c }, r) => (scores[c] = x.scores[order[r]!]!));
      out.push(scores);
    } catch {
      failed = true;
      out.push(x.scores);
    }
  }
  return { scores: out, failed };
}
