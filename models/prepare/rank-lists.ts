/**
 * Between the trainer's two stages: the ranker's candidate lists (written by models/torch/candidates.py: per
 * validation history and its held-out targets (label 1), the candidates served retrieval would give with their retrieval and item-to-item scores)
 * are encoded here with shared/features/encode.ts — the function the origin's rank stage calls — so the ranker
 * trains on exactly the features it is served. Output: <work>/rank/{dl_*} arrays for `train.py rank`.
 */
import { join } from 'node:path';
import type { Dataset } from '../../shared/catalog/types.ts';
import { encodeDlrm } from '../../shared/features/encode.ts';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import { DLRM_DENSE_FEATURES, DLRM_SPARSE_FEATURES } from '../../shared/features/spec.ts';
import { readArrays, writeArrays } from './arrays.ts';
import type { Prepared } from './prepare.ts';

export async function encodeRankLists(dataset: Dataset, prepared: Prepared, workDir: string): Promise<number> {
  const a = await readArrays(workDir, 'cand_index.json');
  const column = (name: string): Int32Array | Float32Array => {
    const values = a[name];
    if (!values) throw new Error(`candidate lists: ${name} missing in ${workDir}`);
    return values;
  };
  const [offsets, item, retrieval, neighbour, recent, user, pos, historyEnd, targetOffsets, targetPos] =
    ['offsets', 'item', 'retrieval', 'neighbour', 'recent', 'user', 'pos', 'end', 'target_offsets', 'target_pos'].map(column);
  const space: FeatureSpace = prepared.space;
  const eventPosition = new Map(dataset.interactions.map((e, i) => [e.eventId, i]));
  const lists = user!.length;
  const rows = offsets![lists] ?? 0;
  const sparse = new Int32Array(rows * DLRM_SPARSE_FEATURES.length);
  const dense = new Float32Array(rows * DLRM_DENSE_FEATURES.length);
  const label = new Float32Array(rows);
  const event = new Int32Array(rows);
  const historyEvent = new Int32Array(rows);
  for (let l = 0; l < lists; l++) {
    const sequence = prepared.sequences[user![l]!];
    if (!sequence) throw new Error(`candidate list ${l} names user ${user![l]} that the prepared sequences do not have`);
    const p = pos![l]!;
    const target = sequence.events[p]!;
    const start = offsets![l]!;
    const end = offsets![l + 1]!;
    const candidates = [];
    for (let r = start; r < end; r++) candidates.push({ index: item![r]!, retrievalScore: retrieval![r]!, neighbourScore: neighbour![r]!, neighbourRecent: recent![r]! });
    // The history ends where the trainer's validation example says (before the target, or before its session).
    const history = sequence.events.slice(0, historyEnd![l]!);
    const encoded = encodeDlrm(space, { segment: prepared.segmentOf.get(sequence.userId), history: history.map((e) => e.itemId) }, candidates, sequence.events[historyEnd![l]!]?.ts ?? target.ts);
    sparse.set(encoded.sparse, start * DLRM_SPARSE_FEATURES.length);
    dense.set(encoded.dense, start * DLRM_DENSE_FEATURES.length);
    // Every held-out item of this history is a positive (a random hold-out has several per user).
    const targets = new Map<number, number>(); // item index → position of its event in the data set
    for (let t = targetOffsets![l]!; t < targetOffsets![l + 1]!; t++) {
      const e = sequence.events[targetPos![t]!]!;
      targets.set(space.itemIndex(e.itemId), eventPosition.get(e.eventId) ?? -1);
    }
    const position = eventPosition.get(target.eventId) ?? -1;
    const historyPosition = eventPosition.get(sequence.events[historyEnd![l]!]?.eventId ?? '') ?? -1;
    for (let r = start; r < end; r++) {
      label[r] = targets.has(item![r]!) ? 1 : 0;
      event[r] = targets.get(item![r]!) ?? position;
      historyEvent[r] = historyPosition;
    }
  }
  await writeArrays(join(workDir, 'rank'), {
    dl_sparse: { data: sparse, shape: [rows, DLRM_SPARSE_FEATURES.length] },
    dl_dense: { data: dense, shape: [rows, DLRM_DENSE_FEATURES.length] },
    dl_label: { data: label, shape: [rows] },
    dl_event: { data: event, shape: [rows] },
    /** The event the row's history ends before (its time is the row's `now`): the target, or its session's first event. */
    dl_history_event: { data: historyEvent, shape: [rows] },
    dl_offsets: { data: Int32Array.from(offsets!), shape: [offsets!.length] },
  }, { lists });
  return lists;
}
