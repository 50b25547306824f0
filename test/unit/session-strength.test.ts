/**
 * The session reranker's strength blend (shared/features/encode.ts blendSessionScores), which the origin and the
 * edge apply alike, and the gate the nightly publishes for the edge from the committed version's manifest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { edgeModelFiles, loadModelArtifacts } from '../../batch/nightly/inputs.ts';
import { readManifest } from '../../core/registry/artifacts.ts';
import { RerankGateSchema } from '../../shared/contracts/rerank-gate.ts';
import { blendSessionScores, SESSION_PRIOR_WEIGHT, slatePositionPrior } from '../../shared/features/encode.ts';
import { EDGE_RERANK_GATE_FILE, EDGE_RERANKER_FILE } from '../../shared/kv/keys.ts';
import { root } from '../nightly/helpers.ts';
import { mcnemarGainP, SIGNIFICANCE } from '../../models/evaluate/session.ts';

const order = (scores: Float32Array): number[] => Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);

describe('session rerank strength', () => {
  // Five candidates in slate order; the model (head) prefers the last ones.
  const priors = Float32Array.from({ length: 5 }, (_, r) => slatePositionPrior(r, 5));
  const head = Float32Array.from([0, 0.2, 0.4, 1.9, 3.6]);
  const model = Float32Array.from(priors, (p, i) => SESSION_PRIOR_WEIGHT * p + head[i]!);

  it('keeps the slate order at 0 and the model order at 1', () => {
    expect(order(blendSessionScores(model, priors, 0))).toEqual([0, 1, 2, 3, 4]);
    expect(blendSessionScores(model, priors, 1)).toBe(model);
    expect(order(model)).toEqual([4, 0, 3, 1, 2]);
  });

  it('moves the given share of the way: prior weight · prior + strength · head', () => {
    const half = blendSessionScores(model, priors, 0.5);
    half.forEach((s, i) => expect(s).toBeCloseTo(SESSION_PRIOR_WEIGHT * priors[i]! + 0.5 * head[i]!, 5));
    // A small strength lets only large head differences through.
    const small = order(blendSessionScores(model, priors, 0.1));
    expect(small.slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('the nightly publishes the version\'s gate and strength beside its reranker, as the edge parses them', async () => {
    const artifacts = await loadModelArtifacts(join(root, 'models', 'artifacts'));
    const manifest = await readManifest(artifacts.dir);
    const files = await edgeModelFiles(artifacts);
    expect(files.map((f) => f.file)).toEqual([EDGE_RERANKER_FILE, EDGE_RERANK_GATE_FILE]);
    expect(Buffer.from(files[0]!.bytes).equals(await readFile(artifacts.sessionRerankerPath))).toBe(true);
    const gate = RerankGateSchema.parse(JSON.parse(new TextDecoder().decode(files[1]!.bytes)));
    expect(gate).toEqual({ gate: manifest.sessionRerank ?? 'on', strength: manifest.sessionRerankStrength ?? 1 });
    // The committed demo version was trained with the protocol that chooses a strength.
    expect(manifest.sessionRerankStrength).toBeGreaterThan(0);
  });
});

describe('the gate\'s significance test (models/evaluate/session.ts)', () => {
  it('is McNemar\'s continuity-corrected test, one-sided', () => {
    // χ² = (|w − l| − 1)² / (w + l) with one degree of freedom; halved for one side.
    expect(mcnemarGainP(15, 9)).toBeCloseTo(0.1537, 3); // χ² 1.042
    expect(mcnemarGainP(7, 2)).toBeCloseTo(0.0912, 3); // χ² 1.778
    expect(mcnemarGainP(60, 27)).toBeLessThan(0.001);
  });
  it('never passes a strength that does not win more tasks than it loses, nor a gain of a few tasks', () => {
    expect(mcnemarGainP(9, 15)).toBe(1);
    expect(mcnemarGainP(4, 4)).toBe(1);
    expect(mcnemarGainP(0, 0)).toBe(1);
    expect(mcnemarGainP(3, 0)).toBeGreaterThan(SIGNIFICANCE); // the ML-100K "+3 %" was of this size
    expect(mcnemarGainP(12, 2)).toBeLessThan(SIGNIFICANCE);
  });
});
