import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../shared/catalog/generator.ts';
import type { Interaction } from '../../shared/catalog/types.ts';
import { encodeDlrm, encodeSessionRerank, encodeUserTower, itemFeaturesOf } from '../../shared/features/encode.ts';
import { FeatureSpace, FeatureSpaceSchema } from '../../shared/features/feature-space.ts';
import { shouldAppend } from '../../shared/features/history.ts';
import { PSEUDO_SESSION_ITEMS } from '../../models/prepare/prepare.ts';
import { python, TINY, trainTiny } from './support.ts';

interface Rows {
  tt: { event: number[]; segment: number[]; history: number[][]; item: number[] };
  dl: { event: number[]; history_event: number[]; sparse: number[][]; dense: number[][] };
  /** Session reranker: per row, [category, brand, price] of the session items (B×SESSION_LENGTH) and of the target. */
  rr: { event: number[]; pseudo: number[]; sess: [number[][], number[][], number[][]]; target: [number[], number[], number[]] };
}

/** What the online feature store holds for a user just before `event`: replayed event by event, as ingestion does. */
function servingHistory(events: readonly Interaction[], event: Interaction): string[] {
  const history: string[] = [];
  for (const e of events) {
    if (e === event) break;
    if (e.userId === event.userId && shouldAppend(e.type, e.itemId, history.at(-1))) history.push(e.itemId);
  }
  return history;
}

describe('feature parity between the trainer and serving', () => {
  const dataset = generateDataset(TINY);
  let rows: Rows;
  let space: FeatureSpace;
  let base = '';
  beforeAll(() => {
    const { workDir, modelDir, base: trainedIn } = trainTiny();
    base = trainedIn;
    rows = JSON.parse(python('dump_rows.py', [workDir, '60'])) as Rows;
    space = new FeatureSpace(FeatureSpaceSchema.parse(JSON.parse(readFileSync(join(modelDir, 'feature_space.json'), 'utf8'))));
  }, 180_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('user tower rows equal what serving computes from the raw event stream', () => {
    expect(rows.tt.event.length).toBeGreaterThan(20);
    rows.tt.event.forEach((position, r) => {
      const event = dataset.interactions[position]!;
      const segment = dataset.users.find((u) => u.id === event.userId)?.segment;
      const served = encodeUserTower(space, { segment, history: servingHistory(dataset.interactions, event) });
      expect([served.segment, ...served.history]).toEqual([rows.tt.segment[r], ...(rows.tt.history[r] ?? [])]);
      expect(rows.tt.item[r]).toBe(space.itemIndex(event.itemId));
    });
  });

  it('DLRM rows (sparse and dense features) equal what serving computes', () => {
    expect(rows.dl.event.length).toBeGreaterThan(20);
    rows.dl.event.forEach((position, r) => {
      const event = dataset.interactions[position]!;
      // The row's history ends before its history event (the target, or the first event of the target's session).
      const before = dataset.interactions[rows.dl.history_event[r]!]!;
      expect(before.userId).toBe(event.userId);
      const segment = dataset.users.find((u) => u.id === event.userId)?.segment;
      const served = encodeDlrm(space, { segment, history: servingHistory(dataset.interactions, before) }, [{ index: space.itemIndex(event.itemId), retrievalScore: 0 }], before.ts);
      expect(Array.from(served.sparse)).toEqual(rows.dl.sparse[r]);
      // The last dense column (retrieval score) is filled by the trainer from the two-tower; the rest must match bit for bit.
      expect(Array.from(served.dense.slice(0, 5))).toEqual(rows.dl.dense[r]!.slice(0, 5).map((v) => Math.fround(v)));
    });
  });

  it('session reranker inputs equal what the edge encodes from the session\'s events', () => {
    expect(rows.rr.event.length).toBeGreaterThan(10);
    rows.rr.event.forEach((position, r) => {
      const event = dataset.interactions[position]!;
      // The edge sees only this session's items, collapsed by the same history rule; a pseudo-session row (data
      // with too few multi-item sessions) has the user's PSEUDO_SESSION_ITEMS items before the event instead.
      const pseudo = rows.rr.pseudo[r] === 1;
      const sessionEvents = dataset.interactions.filter((e) => (pseudo ? e.userId === event.userId : e.sessionId === event.sessionId));
      const seen = servingHistory(sessionEvents, event);
      const session = (pseudo ? seen.slice(-PSEUDO_SESSION_ITEMS) : seen).map((id) => itemFeaturesOf(space, space.itemIndex(id)));
      expect(session.length).toBeGreaterThan(0);
      const target = itemFeaturesOf(space, space.itemIndex(event.itemId));
      const served = encodeSessionRerank([{ ...target, score: 0 }], session);
      expect([Array.from(served.sessCategory), Array.from(served.sessBrand), Array.from(served.sessPrice)])
        .toEqual([rows.rr.sess[0][r], rows.rr.sess[1][r], rows.rr.sess[2][r]]);
      expect([served.candCategory[0], served.candBrand[0], served.candPrice[0]])
        .toEqual([rows.rr.target[0][r], rows.rr.target[1][r], rows.rr.target[2][r]]);
    });
  });
});
