/**
 * Training data preparation. Loads a dataset through the one data interface (built-in generator or
 * MovieLens-1M), splits it without leakage, builds the feature space from the training window and encodes
 * every example with shared/features — the same functions the origin, nightly and edge call at serving time.
 * Output: raw arrays + index.json for the Python trainer, and feature_space.json for the artifacts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset, Interaction } from '../../shared/catalog/types.ts';
import { buildFeatureSpace, FeatureSpace } from '../../shared/features/feature-space.ts';
import { encodeUserTower, rightAlign } from '../../shared/features/encode.ts';
import { HISTORY_LENGTH, SESSION_LENGTH } from '../../shared/features/spec.ts';
import { shouldAppend } from '../../shared/features/history.ts';
import { writeArrays } from './arrays.ts';
import { holdoutPerUser, leaveOneOut, splitByTime, type TimeSplit } from './split.ts';

/** Fewer session-reranker examples from real sessions than this: add pseudo-sessions (below). */
const MIN_SESSION_EXAMPLES = 2000;
/** Items before an event that act as its session where the data has no multi-item sessions (also the evaluation's). */
export const PSEUDO_SESSION_ITEMS = 3;
/** Pseudo-session examples per user at most (their newest events in the stacking window). */
const PSEUDO_EXAMPLES_PER_USER = 32;

export interface PrepareOptions {
  /** 'time': last testFraction of time evaluates; 'leave-one-out': each user's last positive evaluates. */
  protocol: 'time' | 'leave-one-out' | 'holdout';
  testFraction: number;
  /** Unused since the ranker trains on retrieval's candidate lists (kept so older callers still type-check). */
  dlrmPositives?: number;
  dlrmNegatives?: number;
  seed?: number;
}

/** Positive item ids per user in time order, with immediate repeats collapsed. */
function positivesByUser(events: readonly Interaction[]): Map<string, Interaction[]> {
  const out = new Map<string, Interaction[]>();
  for (const e of events) {
    const list = out.get(e.userId) ?? [];
    if (shouldAppend(e.type, e.itemId, list.at(-1)?.itemId)) list.push(e);
    out.set(e.userId, list);
  }
  return out;
}

/** One evaluation user: what the system knows before the test window and what the user took up in it. */
export interface EvalUser {
  segment: string | undefined;
  history: string[];
  session: string[];
  truth: number[];
  seen: Set<number>;
  /** Next-item tasks inside the user's test-window sessions: the items so far → the next one. */
  sessionTasks: { prefix: string[]; next: number }[];
}

export interface Prepared {
  space: FeatureSpace;
  split: TimeSplit;
  evalUsers: EvalUser[];
  /** Per-user training sequences in the order the trainer's seq_* arrays use (user ids and their positive events). */
  sequences: { userId: string; events: Interaction[] }[];
  segmentOf: Map<string, string | undefined>;
}

function sessionTasksOf(space: FeatureSpace, events: readonly Interaction[]): EvalUser['sessionTasks'] {
  const bySession = new Map<string, string[]>();
  for (const e of events) bySession.set(e.sessionId, [...(bySession.get(e.sessionId) ?? []), e.itemId]);
  const tasks: EvalUser['sessionTasks'] = [];
  for (const items of bySession.values()) {
    for (let t = 1; t < Math.min(items.length, 4); t++) {
      const next = space.itemIndex(items[t] ?? '');
      if (next > 0) tasks.push({ prefix: items.slice(0, t), next });
    }
  }
  return tasks;
}

export async function prepare(dataset: Dataset, workDir: string, options: PrepareOptions): Promise<Prepared> {
  const split = options.protocol === 'time' ? splitByTime(dataset.interactions, options.testFraction)
    : options.protocol === 'holdout' ? holdoutPerUser(dataset.interactions, options.testFraction) : leaveOneOut(dataset.interactions);
  const referenceTime = split.train.at(-1)?.ts ?? 0;
  const spaceData = buildFeatureSpace(dataset.items, dataset.segments, split.train, referenceTime);
  const space = new FeatureSpace(spaceData);
  const segmentOf = new Map(dataset.users.map((u) => [u.id, u.segment]));
  // Stacking window: the session reranker learns from sessions in the last 20% of training time.
  const stackCutoff = split.train[Math.floor(split.train.length * 0.8)]?.ts ?? Infinity;
  const trainPositives = positivesByUser(split.train);

  // Two-tower: (user context before the event) → the item of the event.
  // Row → position of its event in dataset.interactions, so the parity test can rebuild each row from raw events.
  const eventPosition = new Map(dataset.interactions.map((e, i) => [e.eventId, i]));
  const tt = { segment: [] as number[], history: [] as Int32Array[], item: [] as number[], event: [] as number[], late: [] as number[] };
  // Per-user training sequences (same order as the two-tower rows): the item-to-item models, the validation
  // split and the ranker's candidate lists are built from them by the trainer.
  const seq = { offsets: [0], user: [] as string[], session: [] as number[] };
  const sessionNumber = new Map<string, number>();
  for (const [userId, events] of trainPositives) {
    seq.user.push(userId);
    seq.offsets.push(seq.offsets.at(-1)! + events.length);
    for (const e of events) {
      if (!sessionNumber.has(e.sessionId)) sessionNumber.set(e.sessionId, sessionNumber.size);
      seq.session.push(sessionNumber.get(e.sessionId)!);
    }
    const segment = segmentOf.get(userId);
    events.forEach((event, j) => {
      const input = encodeUserTower(space, { segment, history: events.slice(Math.max(0, j - HISTORY_LENGTH), j).map((e) => e.itemId) });
      tt.segment.push(input.segment);
      tt.history.push(input.history);
      tt.item.push(space.itemIndex(event.itemId));
      tt.event.push(eventPosition.get(event.eventId) ?? -1);
      tt.late.push(event.ts >= stackCutoff ? 1 : 0);
    });
  }

  // Session reranker: within a training session, the items seen so far → the next item.
  const rr = { segment: [] as number[], history: [] as Int32Array[], session: [] as Int32Array[], target: [] as number[], event: [] as number[], pseudo: [] as number[] };
  // Only sessions in the stacking window (see stackCutoff).
  for (const [userId, events] of trainPositives) {
    const sessions = new Map<string, number[]>();
    events.forEach((e, j) => sessions.set(e.sessionId, [...(sessions.get(e.sessionId) ?? []), j]));
    for (const positions of sessions.values()) {
      const first = positions[0] ?? 0;
      if ((events[first]?.ts ?? 0) < stackCutoff) continue;
      const tower = encodeUserTower(space, { segment: segmentOf.get(userId), history: events.slice(Math.max(0, first - HISTORY_LENGTH), first).map((e) => e.itemId) });
      for (let t = 1; t < Math.min(positions.length, 4); t++) {
        const seen = positions.slice(0, t).map((p) => space.itemIndex(events[p]?.itemId ?? ''));
        rr.segment.push(tower.segment);
        rr.history.push(tower.history);
        rr.session.push(rightAlign(seen, SESSION_LENGTH));
        rr.target.push(space.itemIndex(events[positions[t] ?? 0]?.itemId ?? ''));
        rr.event.push(eventPosition.get(events[positions[t] ?? 0]?.eventId ?? '') ?? -1);
        rr.pseudo.push(0);
      }
    }
  }

  // Data without multi-item sessions (one session per user, or none recorded): the evaluation's session protocol,
  // the newest PSEUDO_SESSION_ITEMS items before an event act as its session (models/evaluate/session.ts).
  if (rr.target.length < MIN_SESSION_EXAMPLES) {
    for (const [userId, events] of trainPositives) {
      const first = Math.max(PSEUDO_SESSION_ITEMS, events.length - PSEUDO_EXAMPLES_PER_USER);
      for (let j = first; j < events.length; j++) {
        if ((events[j]?.ts ?? 0) < stackCutoff) continue;
        const start = j - PSEUDO_SESSION_ITEMS;
        const tower = encodeUserTower(space, { segment: segmentOf.get(userId), history: events.slice(Math.max(0, start - HISTORY_LENGTH), start).map((e) => e.itemId) });
        rr.segment.push(tower.segment);
        rr.history.push(tower.history);
        rr.session.push(rightAlign(events.slice(start, j).map((e) => space.itemIndex(e.itemId)), SESSION_LENGTH));
        rr.target.push(space.itemIndex(events[j]?.itemId ?? ''));
        rr.event.push(eventPosition.get(events[j]?.eventId ?? '') ?? -1);
        rr.pseudo.push(1);
      }
    }
  }

  // Evaluation users: their training history, their latest session, and the items they took up afterwards.
  const testPositives = positivesByUser(split.test);
  const evalUsers: EvalUser[] = [];
  const seqIndex = new Map(seq.user.map((id, i) => [id, i]));
  const ev = { user: [] as number[], segment: [] as number[], history: [] as Int32Array[], session: [] as Int32Array[], truthOffsets: [0], truth: [] as number[], seenOffsets: [0], seen: [] as number[] };
  for (const [userId, events] of testPositives) {
    const past = trainPositives.get(userId) ?? [];
    const seen = new Set(past.map((e) => space.itemIndex(e.itemId)));
    const truth = [...new Set(events.map((e) => space.itemIndex(e.itemId)))].filter((i) => i > 0 && (options.protocol !== 'time' || !seen.has(i)));
    if (truth.length === 0 || past.length === 0) continue;
    const tower = encodeUserTower(space, { segment: segmentOf.get(userId), history: past.map((e) => e.itemId) });
    const lastSession = past.at(-1)?.sessionId;
    evalUsers.push({
      segment: segmentOf.get(userId),
      history: past.map((e) => e.itemId),
      session: past.filter((e) => e.sessionId === lastSession).map((e) => e.itemId),
      truth,
      seen,
      // Only a time split keeps the test window's order and sessions; a random hold-out's test items have neither.
      sessionTasks: options.protocol === 'time' ? sessionTasksOf(space, events) : [],
    });
    ev.user.push(seqIndex.get(userId) ?? -1);
    ev.segment.push(tower.segment);
    ev.history.push(tower.history);
    ev.session.push(rightAlign(past.filter((e) => e.sessionId === lastSession).map((e) => space.itemIndex(e.itemId)), SESSION_LENGTH));
    ev.truth.push(...truth);
    ev.truthOffsets.push(ev.truth.length);
    ev.seen.push(...seen);
    ev.seenOffsets.push(ev.seen.length);
  }

  const n = space.itemCount + 1;
  const itemColumn = (f: (index: number) => number): Int32Array => Int32Array.from({ length: n }, (_, i) => (i === 0 ? 0 : f(i)));
  const stack = (list: Int32Array[] | Float32Array[], width: number, type: 'i' | 'f'): Int32Array | Float32Array => {
    const out = type === 'i' ? new Int32Array(list.length * width) : new Float32Array(list.length * width);
    list.forEach((row, r) => out.set(row, r * width));
    return out;
  };
  await writeArrays(
    workDir,
    {
      item_category: { data: itemColumn((i) => space.category(i)), shape: [n] },
      item_brand: { data: itemColumn((i) => space.brand(i)), shape: [n] },
      item_price: { data: itemColumn((i) => space.priceBucket(i)), shape: [n] },
      item_popularity: { data: itemColumn((i) => space.popularity(i)), shape: [n] },
      tt_segment: { data: Int32Array.from(tt.segment), shape: [tt.segment.length] },
      tt_history: { data: stack(tt.history, HISTORY_LENGTH, 'i'), shape: [tt.history.length, HISTORY_LENGTH] },
      tt_item: { data: Int32Array.from(tt.item), shape: [tt.item.length] },
      tt_event: { data: Int32Array.from(tt.event), shape: [tt.event.length] },
      tt_late: { data: Int32Array.from(tt.late), shape: [tt.late.length] },
      seq_offsets: { data: Int32Array.from(seq.offsets), shape: [seq.offsets.length] },
      seq_items: { data: Int32Array.from(tt.item), shape: [tt.item.length] },
      seq_event: { data: Int32Array.from(tt.event), shape: [tt.event.length] },
      seq_session: { data: Int32Array.from(seq.session), shape: [seq.session.length] },
      rr_segment: { data: Int32Array.from(rr.segment), shape: [rr.segment.length] },
      rr_history: { data: stack(rr.history, HISTORY_LENGTH, 'i'), shape: [rr.history.length, HISTORY_LENGTH] },
      rr_session: { data: stack(rr.session, SESSION_LENGTH, 'i'), shape: [rr.session.length, SESSION_LENGTH] },
      rr_target: { data: Int32Array.from(rr.target), shape: [rr.target.length] },
      rr_event: { data: Int32Array.from(rr.event), shape: [rr.event.length] },
      /** 1: a pseudo-session row (the items before the event), 0: a real session's prefix. */
      rr_pseudo: { data: Int32Array.from(rr.pseudo), shape: [rr.pseudo.length] },
      ev_user: { data: Int32Array.from(ev.user), shape: [ev.user.length] },
      ev_segment: { data: Int32Array.from(ev.segment), shape: [ev.segment.length] },
      ev_history: { data: stack(ev.history, HISTORY_LENGTH, 'i'), shape: [ev.history.length, HISTORY_LENGTH] },
      ev_session: { data: stack(ev.session, SESSION_LENGTH, 'i'), shape: [ev.session.length, SESSION_LENGTH] },
      ev_truth_offsets: { data: Int32Array.from(ev.truthOffsets), shape: [ev.truthOffsets.length] },
      ev_truth: { data: Int32Array.from(ev.truth), shape: [ev.truth.length] },
      ev_seen_offsets: { data: Int32Array.from(ev.seenOffsets), shape: [ev.seenOffsets.length] },
      ev_seen: { data: Int32Array.from(ev.seen), shape: [ev.seen.length] },
    },
    {
      dataset: dataset.name,
      protocol: options.protocol,
      /** The test's share of each user's events (holdout protocol): the validation holds out the same share. */
      testFraction: options.testFraction,
      cutoff: split.cutoff,
      referenceTime,
      items: space.itemCount,
      categories: spaceData.categories.length,
      brands: spaceData.brands.length,
      segments: spaceData.segments.length,
      trainEvents: split.train.length,
      testEvents: split.test.length,
    },
  );
  await writeFile(join(workDir, 'feature_space.json'), JSON.stringify(spaceData));
  return { space, split, evalUsers, sequences: [...trainPositives.entries()].map(([userId, events]) => ({ userId, events })), segmentOf };
}
