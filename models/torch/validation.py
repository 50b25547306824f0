"""Validation split inside the training data, and what is chosen on it: the last VAL_TARGETS positives of each
user with enough history are held out; the item-to-item models (item-kNN grid, EASE lambda grid) are fitted on the
rest and scored on them (HR/NDCG@10, full ranking, seen items excluded). The test split is never looked at here.
The same held-out targets, with the candidates the served retrieval would give, train the ranker (ranker.py)."""
import time

import numpy as np

from neighbours import EASE_MAX_ITEMS, HISTORY_CAP, dense_scores, ease, hr_ndcg, knn, neighbour_scores, popularity_scores, top_lists, truncate

VAL_TARGETS = 2
MIN_HISTORY = 2
TUNE_USERS = 1500
KNN_GRID = [(k, shrink) for shrink in (0.0, 20.0) for k in (20, 100, 400)]
# How many of the newest history items score a user (None = all): recency matters on sequence data.
WINDOWS = [None, 20]
EASE_GRID = [50.0, 200.0, 800.0, 3200.0]
SERVED_NEIGHBOURS = 500
# Artifact size bound: at most ~NEIGHBOUR_CELLS (index, weight) pairs in item_neighbours.bin (8 bytes each).
NEIGHBOUR_CELLS = 2_000_000


def served_per_item(n_items):
    """Neighbours kept per item: up to SERVED_NEIGHBOURS (EASE truncated to 128 lost 8 % NDCG on ML-1M), at most
    NEIGHBOUR_CELLS in all; the --neighbours flag of models/train.ts lowers the cap (the committed demo uses 50)."""
    return int(min(SERVED_NEIGHBOURS, max(20, NEIGHBOUR_CELLS // max(1, n_items))))


def sequences(a):
    off = a["seq_offsets"]
    items = a["seq_items"]
    return [items[off[u]:off[u + 1]].astype(np.int64) for u in range(len(off) - 1)]


def window(histories, w):
    return histories if w is None else [h[-w:] for h in histories]


def split(seqs, session_starts=None, holdout_fraction=None):
    """fit histories (per user), and examples (user, position, history end): target seqs[user][position] is held
    out and the example's history is seqs[user][:history end]. The validation asks what the test asks:
    - with session_starts (time-split data, where the test asks for what comes in later sessions), the history
      stops where the target's session began, not "the next item of the session already under way";
    - with holdout_fraction (a seeded random share of each user's items is the test), that share of each user's
      (shuffled) items is held out, all scored from the same history: a heavy user has many relevant items, as in
      the test, where NDCG@10 then rewards precision over them (with 2 targets, heavy users counted ~|R|/4.5 times
      too little and the ranker learned to neglect them: MovieLens-1M users with 400+ items lost 4 % NDCG);
    - otherwise (leave-one-out), the last VAL_TARGETS items, each with the history before it."""
    fit, examples = [], []
    for u, s in enumerate(seqs):
        n = len(s)
        v = VAL_TARGETS if holdout_fraction is None else max(VAL_TARGETS, int(round(n * holdout_fraction)))
        if n < v + MIN_HISTORY:
            v = 0
        fit.append(s[:n - v])
        for p in range(n - v, n):
            h = n - v if holdout_fraction is not None else p if session_starts is None else int(session_starts[u][p])
            if h >= 1:
                examples.append((u, p, h))
    return fit, examples


def tune(seqs, n_items, log, session_starts=None, holdout_fraction=None):
    """Chooses item-kNN (k, shrink) and EASE lambda on the validation targets; returns the choices and their scores."""
    fit, examples = split(seqs, session_starts, holdout_fraction)
    rng = np.random.default_rng(17)
    pick = rng.permutation(len(examples))[:TUNE_USERS * VAL_TARGETS]
    ex = [examples[i] for i in sorted(pick)]
    hist = [seqs[u][:h] for u, _, h in ex]
    seen = [set(h.tolist()) for h in hist]
    targets = np.array([seqs[u][p] for u, p, _ in ex])
    keep = np.array([t not in s for t, s in zip(targets, seen)])
    hist = [h for h, k in zip(hist, keep) if k]
    seen = [s for s, k in zip(seen, keep) if k]
    targets = targets[keep]
    result = {"examples": int(len(targets)), "knn_grid": [], "ease_grid": []}
    if len(targets) == 0:
        return {"knn": (100, 0.0, None), "ease": None, "served": "knn", "served_window": HISTORY_CAP, **result}
    counts = np.bincount(np.concatenate(fit) if fit else np.zeros(0, dtype=np.int64), minlength=n_items + 1).astype(np.float64)
    result["popularity"] = hr_ndcg(top_lists(popularity_scores(hist, n_items, counts), seen, 10), targets)
    best_knn, best = None, -1.0
    # One co-occurrence pass per shrinkage: neighbours come sorted by similarity, so top-k is a prefix.
    for shrink in sorted({sh for _, sh in KNN_GRID}):
        t = time.time()
        nb_all, wt_all = knn(fit, n_items, max(k for k, _ in KNN_GRID), shrink)
        for k in sorted({k for k, sh in KNN_GRID if sh == shrink}):
            nb, wt = nb_all[:, :k], wt_all[:, :k]
            for w in WINDOWS:
                hr, nd = hr_ndcg(top_lists(neighbour_scores(window(hist, w), n_items, nb, wt, cap=10**9), seen, 10), targets)
                result["knn_grid"].append({"k": k, "shrink": shrink, "window": w, "hr": hr, "ndcg": nd})
                log(f"  validation item-kNN k={k} shrink={shrink} window={w}: HR@10 {hr:.4f} NDCG@10 {nd:.4f} ({time.time() - t:.1f}s)")
                if nd > best:
                    best, best_knn = nd, (k, shrink, w)
    best_ease, best_e = None, -1.0
    if n_items <= EASE_MAX_ITEMS:
        for lam in EASE_GRID:
            t = time.time()
            b = ease(fit, n_items, lam)
            nbt, wtt = truncate(b, served_per_item(n_items))
            for w in WINDOWS:
                hr_t, nd_t = hr_ndcg(top_lists(neighbour_scores(hist, n_items, nbt, wtt, cap=w or HISTORY_CAP), seen, 10), targets)
                hr, nd = hr_ndcg(top_lists(dense_scores(window(hist, w), n_items, b), seen, 10), targets)
                result["ease_grid"].append({"lambda": lam, "window": w, "hr": hr, "ndcg": nd, "hr_served": hr_t, "ndcg_served": nd_t})
                log(f"  validation EASE lambda={lam:g} window={w}: HR@10 {hr:.4f} NDCG@10 {nd:.4f} (top-{served_per_item(n_items)} neighbours: {nd_t:.4f}) ({time.time() - t:.1f}s)")
                if nd > best_e:
                    best_e, best_ease = nd, (lam, w)
    # The served item-to-item source: the better of the two on validation (EASE truncated to its top neighbours).
    # The served source: model and history window as chosen; EASE judged by its truncated (served) form.
    best_lambda = best_ease[0] if best_ease else None
    ease_served = max(((e["ndcg_served"], e["window"]) for e in result["ease_grid"] if e["lambda"] == best_lambda), key=lambda x: x[0], default=(-1.0, None))
    served = "ease" if best_ease is not None and ease_served[0] >= best else "knn"
    served_window = (ease_served[1] if served == "ease" else best_knn[2]) or HISTORY_CAP
    return {"knn": best_knn, "ease": best_ease, "served": served, "served_window": int(served_window), **result}


def served_neighbours(histories, n_items, choice):
    """The served item-to-item model (top served_per_item(n) neighbours per item) fitted on `histories`."""
    m = served_per_item(n_items)
    if choice["served"] == "ease":
        return truncate(ease(histories, n_items, choice["ease"][0]), m)
    k, shrink, _ = choice["knn"]
    return knn(histories, n_items, min(k, m), shrink)


def baseline_lists(seqs, ev_users, ev_seen, n_items, choice, k=100):
    """Test-time top-k lists of popularity, item-kNN and EASE (fitted on all training data) for the evaluation users."""
    hist = [seqs[u] for u in ev_users]
    counts = np.bincount(np.concatenate(seqs) if seqs else np.zeros(0, dtype=np.int64), minlength=n_items + 1).astype(np.float64)
    out = {"popularity": top_lists(popularity_scores(hist, n_items, counts), ev_seen, k).tolist()}
    kk, shrink, w = choice["knn"]
    nb, wt = knn(seqs, n_items, kk, shrink)
    out["item-knn"] = top_lists(neighbour_scores(window(hist, w), n_items, nb, wt, cap=10**9), ev_seen, k).tolist()
    if choice["ease"] is not None:
        lam, w = choice["ease"]
        out["ease"] = top_lists(dense_scores(window(hist, w), n_items, ease(seqs, n_items, lam)), ev_seen, k).tolist()
    return out
