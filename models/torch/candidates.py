"""The ranker's training lists: for every validation history (and its held-out targets), the candidates the served retrieval would give
(top RETRIEVE_TOWER by the two-tower, top RETRIEVE_NEIGHBOURS by the item-to-item source, seen items removed),
with the per-candidate retrieval features serving computes: two-tower score, item-to-item score of the history
and of its newest RECENT items. Models used here are fitted without the validation targets (no leakage).
Written as raw arrays (cand_*.bin + cand_index.json); models/train.ts encodes them with shared/features."""
import json
import os

import numpy as np

from neighbours import neighbour_scores, top_lists

RETRIEVE_TOWER = 100
RETRIEVE_NEIGHBOURS = 100
RECENT = 3


def top_unseen(scores, seen, k, positive_only=False):
    s = scores.copy()
    if seen:
        s[np.asarray(list(seen)) - 1] = -np.inf
    if positive_only:
        s[s <= 0] = -np.inf
    k = min(k, len(s))
    top = np.argpartition(-s, k - 1)[:k]
    top = top[np.isfinite(s[top])]
    return top[np.argsort(-s[top])] + 1


REFERENCE_K = 10


def build(seqs, examples, n_items, user_emb, item_emb, nb, wt, window, chunk=1024, knn_ref=None):
    """One list per validation history (examples sharing user and history end: a random hold-out scores all of a
    user's held-out items from one history) whose targets the retrieval found. Returns dict of arrays: offsets,
    item, retrieval, neighbour, recent, user, pos (the first target = seqs[user][pos]), end (history end), and
    the list's target positions (target_offsets, target_pos). user_emb: one row per example.
    knn_ref = (neighbours, weights, window) of the tuned item-kNN baseline fitted on the same histories: then
    knn_top holds its full-catalogue top REFERENCE_K for each list (0-padded), the reference of the serving
    choice's coverage floor (models/evaluate/choose-serving.ts)."""
    groups = {}
    for i, (u, p, h) in enumerate(examples):
        groups.setdefault((u, h), []).append(i)
    keys = list(groups)
    out = {k: [] for k in ["item", "retrieval", "neighbour", "recent"]}
    offsets, users, positions, ends, t_offsets, t_pos, knn_top = [0], [], [], [], [0], [], []
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        hist = [seqs[u][:h] for u, h in part]
        tower = user_emb[[groups[k][0] for k in part]] @ item_emb.T
        neigh = neighbour_scores(hist, n_items, nb, wt, cap=window)
        recent = neighbour_scores([h[-RECENT:] for h in hist], n_items, nb, wt)
        if knn_ref is not None:
            knb, kwt, kw = knn_ref
            ref = top_lists(neighbour_scores([h if kw is None else h[-kw:] for h in hist], n_items, knb, kwt, cap=10**9),
                            [set(h.tolist()) for h in hist], REFERENCE_K)
        for r, (u, h) in enumerate(part):
            seen = set(hist[r].tolist())
            cands = list(dict.fromkeys([*top_unseen(tower[r], seen, RETRIEVE_TOWER).tolist(), *top_unseen(neigh[r], seen, RETRIEVE_NEIGHBOURS, True).tolist()]))
            in_list = set(cands)
            targets = [examples[i][1] for i in groups[(u, h)] if seqs[u][examples[i][1]] not in seen and seqs[u][examples[i][1]] in in_list]
            if not targets:
                continue
            c = np.asarray(cands) - 1
            out["item"].append(c + 1)
            out["retrieval"].append(tower[r, c])
            out["neighbour"].append(neigh[r, c])
            out["recent"].append(recent[r, c])
            offsets.append(offsets[-1] + len(c))
            users.append(u)
            positions.append(targets[0])
            ends.append(h)
            t_pos.extend(targets)
            t_offsets.append(len(t_pos))
            if knn_ref is not None:
                knn_top.append(np.pad(ref[r], (0, REFERENCE_K - len(ref[r]))))
    cat = lambda xs, t: np.concatenate(xs).astype(t) if xs else np.zeros(0, dtype=t)
    return {"offsets": np.asarray(offsets, dtype=np.int32), "item": cat(out["item"], np.int32), "retrieval": cat(out["retrieval"], np.float32),
            "neighbour": cat(out["neighbour"], np.float32), "recent": cat(out["recent"], np.float32),
            "user": np.asarray(users, dtype=np.int32), "pos": np.asarray(positions, dtype=np.int32),
            "end": np.asarray(ends, dtype=np.int32), "target_offsets": np.asarray(t_offsets, dtype=np.int32),
            "target_pos": np.asarray(t_pos, dtype=np.int32),
            **({"knn_top": cat(knn_top, np.int32)} if knn_ref is not None else {})}


def write(work_dir, arrays):
    index = {}
    for name, data in arrays.items():
        data.tofile(os.path.join(work_dir, f"cand_{name}.bin"))
        index[name] = {"dtype": "int32" if data.dtype == np.int32 else "float32", "shape": [int(len(data))], "file": f"cand_{name}.bin"}
    with open(os.path.join(work_dir, "cand_index.json"), "w") as f:
        json.dump({"arrays": index}, f)
