"""Trains the models on the arrays prepared by models/prepare and exports them to ONNX, in two stages that
models/train.ts runs with a TypeScript step between them (it encodes the ranker's candidate lists with
shared/features, the functions serving calls, so training and serving features cannot disagree):
  retrieval <work> <out> <dim> <epochs> [choose|mean|attention]: two-tower (mean-pooling and/or self-attention user tower) (served user tower + item embeddings), validation split,
      item-kNN / EASE chosen on validation (baselines + the served item_neighbours.bin), the ranker's candidate
      lists (cand_*.bin), the session reranker.
  rank <work> <out> <epochs>: the listwise ranker (dlrm.onnx) on the encoded lists (rank/ arrays).
Usage: /usr/bin/python3 models/torch/train.py retrieval|rank ..."""
import json
import os
import sys
import time

import numpy as np
import torch

import candidates
import validation
from data import load_arrays
from ranker import train_ranker
from reranker import SESSION_LENGTH, export_spec, session_projection, session_vectors, train_reranker
from neighbours import hr_ndcg, knn, top_lists
from seq_tower import SeqUserTower
from two_tower import UserTower, embed_users, train_two_tower
from validation import baseline_lists, sequences, served_neighbours, split, tune

OPSET = 14
EVAL_USERS = 2000

# Subnormal floats are flushed to zero: as the small models converge, gradients and Adam's moments drift into the
# subnormal range, where x86 arithmetic is many times slower (the session reranker's 600 steps took 31 s on a
# 300-item shop, 10 s flushed). Values below 1.2e-38 cannot change what these models learn.
torch.set_flush_denormal(True)


class TrainingDataError(Exception):
    """The data cannot train a model (printed as one line, exit code 2)."""


def log(line):
    print(line, flush=True)


def export(model, args, names, outputs, dynamic, path):
    torch.onnx.export(model, args, path, input_names=names, output_names=outputs, dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True)


def vocab_of(a, meta):
    return {"items": meta["items"], "categories": meta["categories"], "brands": meta["brands"], "segments": meta["segments"],
            "priceBuckets": max(int(a["item_price"].max()) + 1 if len(a["item_price"]) else 1, 18)}


def write_neighbours(path, nb, wt):
    """item_neighbours.bin: int32 neighbour indices (n x m, 1-based, 0 = none) then float32 weights (n x m)."""
    with open(path, "wb") as f:
        f.write(nb.astype("<i4").tobytes())
        f.write(wt.astype("<f4").tobytes())


def session_starts(a):
    """Per user, for each position of the training sequence: the position where its session began."""
    off, sess = a["seq_offsets"], a["seq_session"]
    out = []
    for u in range(len(off) - 1):
        s = sess[off[u]:off[u + 1]]
        start = np.zeros(len(s), dtype=np.int64)
        for i in range(1, len(s)):
            start[i] = start[i - 1] if s[i] == s[i - 1] else i
        out.append(start)
    return out


def tower_validation(user, item_emb, a, seqs, examples, tt_rows, dim, chunk=2048):
    """HR@10 / NDCG@10 of a user tower's full-catalogue ranking on the validation targets (history items excluded)."""
    hits, ndcg, n = 0.0, 0.0, 0
    for s in range(0, len(examples), chunk):
        rows = tt_rows[s:s + chunk]
        ue = embed_users(user, a["tt_segment"][rows], a["tt_history"][rows], dim=dim)
        ex = examples[s:s + chunk]
        seen = [set(seqs[u][:h].tolist()) for u, _, h in ex]
        targets = np.array([seqs[u][p] for u, p, _ in ex])
        keep = np.array([t not in sn for t, sn in zip(targets, seen)], dtype=bool)
        if not keep.any():
            continue
        lists = top_lists(ue[keep] @ item_emb.T, [sn for sn, k in zip(seen, keep) if k], 10)
        hr, nd = hr_ndcg(lists, targets[keep])
        hits += hr * keep.sum()
        ndcg += nd * keep.sum()
        n += keep.sum()
    return (hits / n, ndcg / n) if n else (0.0, 0.0)


def stage_retrieval(work_dir, out_dir, dim, epochs, tower_choice="choose"):
    a, meta = load_arrays(work_dir)
    n_items = meta["items"]
    if n_items < 2:
        raise TrainingDataError(f"{n_items} item(s) in the catalogue: at least 2 are needed")
    if len(a["tt_item"]) < 2:
        raise TrainingDataError(f"{len(a['tt_item'])} positive interaction(s) in the training window: at least 2 are needed")
    vocab = vocab_of(a, meta)
    timings = {}
    seqs = sequences(a)
    if sum(len(s) for s in seqs) != len(a["tt_item"]):
        raise RuntimeError("prepared sequences and two-tower rows disagree")

    # One two-tower, trained without the validation targets: it is served, and its scores on the validation
    # targets are the ranker's retrieval features without leakage (the held-out 2 items per user cost little).
    starts = session_starts(a) if meta.get("protocol") == "time" else None
    fraction = float(meta.get("testFraction", 0.1)) if meta.get("protocol") == "holdout" else None
    fit, examples = split(seqs, starts, fraction)
    held = np.zeros(len(a["tt_item"]), dtype=bool)
    for u, p in {(u, p) for u, p, _ in examples} | {(u, p) for u, s in enumerate(seqs) for p in range(len(fit[u]), len(s))}:
        held[a["seq_offsets"][u] + p] = True
    # Two user towers, the mean-pooling MLP and the SASRec-style sequence tower; the validation targets choose.
    # The tower input of an example: the row of its history-end event (history = the items before it).
    tt_rows = np.asarray([a["seq_offsets"][u] + h for u, _, h in examples], dtype=np.int64)
    towers = {}
    candidates_towers = [("mean-pooling", UserTower), ("self-attention", SeqUserTower)]
    wanted = {"choose": {"mean-pooling", "self-attention"}, "mean": {"mean-pooling"}, "attention": {"self-attention"}}[tower_choice]
    for name, cls in [c for c in candidates_towers if c[0] in wanted]:
        t = time.time()
        u_model, i_emb, losses = train_two_tower(a, vocab, dim, epochs, rows=np.nonzero(~held)[0], label=f"two-tower ({name})", tower=cls)
        seconds = time.time() - t
        hr, nd = tower_validation(u_model, i_emb, a, seqs, examples, tt_rows, dim)
        log(f"  validation two-tower {name}: HR@10 {hr:.4f} NDCG@10 {nd:.4f} ({seconds:.1f}s)")
        towers[name] = {"model": u_model, "items": i_emb, "losses": losses, "hr": hr, "ndcg": nd, "seconds": seconds}
    chosen = max(towers, key=lambda k: towers[k]["ndcg"])
    user, item_emb, tt_losses = towers[chosen]["model"], towers[chosen]["items"], towers[chosen]["losses"]
    timings["two_tower_s"] = sum(t["seconds"] for t in towers.values())
    tower_report = {"chosen": chosen, **{k: {"hr": v["hr"], "ndcg": v["ndcg"], "seconds": v["seconds"]} for k, v in towers.items()}}
    log(f"[train] user tower chosen on validation: {chosen}")
    item_emb.astype("<f4").tofile(os.path.join(out_dir, "item_embeddings.f32"))
    h = a["tt_history"][:2].astype(np.int64)
    export(user, (torch.from_numpy(a["tt_segment"][:2].astype(np.int64)), torch.from_numpy(h)), ["segment", "history"], ["user_embedding"],
           {"segment": {0: "batch"}, "history": {0: "batch"}, "user_embedding": {0: "batch"}}, os.path.join(out_dir, "user_tower.onnx"))

    # Item-to-item models chosen on validation; baselines on the test users; the served neighbours.
    t = time.time()
    choice = tune(seqs, n_items, log, starts, fraction)
    timings["tuning_s"] = time.time() - t
    log(f"[train] chosen on validation: item-kNN (k, shrink, window)={choice['knn']} EASE (lambda, window)={choice['ease']} served item-to-item: {choice['served']} over the newest {choice['served_window']} items")
    t = time.time()
    ev_users = a["ev_user"][:EVAL_USERS].astype(np.int64)
    so, sv = a["ev_seen_offsets"], a["ev_seen"]
    ev_seen = [set(sv[so[i]:so[i + 1]].tolist()) for i in range(len(ev_users))]
    lists = baseline_lists(seqs, ev_users, ev_seen, n_items, choice) if len(ev_users) else {}
    with open(os.path.join(work_dir, "baselines.json"), "w") as f:
        json.dump({"lists": lists, "choice": {k: v for k, v in choice.items()}}, f)
    timings["baselines_s"] = time.time() - t
    t = time.time()
    nb, wt = served_neighbours(seqs, n_items, choice)
    write_neighbours(os.path.join(out_dir, "item_neighbours.bin"), nb, wt)
    timings["neighbours_s"] = time.time() - t

    # Validation models (fitted without the held-out targets) produce the ranker's candidate lists.
    t = time.time()
    val_user, val_item_emb = user, item_emb
    vnb, vwt = served_neighbours(fit, n_items, choice)
    ue = embed_users(val_user, a["tt_segment"][tt_rows], a["tt_history"][tt_rows], dim=dim)
    kk, kshrink, kwindow = choice["knn"]
    knn_ref = (*knn(fit, n_items, kk, kshrink), kwindow)
    cands = candidates.build(seqs, examples, n_items, ue, val_item_emb, vnb, vwt, choice["served_window"], knn_ref=knn_ref)
    candidates.write(work_dir, cands)
    timings["candidates_s"] = time.time() - t
    log(f"[train] ranker lists: {len(cands['user'])} histories, {len(cands['target_pos'])} of {len(examples)} validation targets retrieved")

    t = time.time()
    ru = embed_users(val_user, a["rr_segment"], a["rr_history"], dim=dim)
    projection = session_projection(item_emb)
    with open(os.path.join(out_dir, "session_projection.json"), "w") as f:
        json.dump(projection, f)
    vectors = session_vectors(item_emb, projection)
    vectors.tofile(os.path.join(work_dir, "session_vectors.i8"))  # reference for the TypeScript projection's parity test
    reranker, rr_losses, rr_examples = train_reranker(a, vocab, ru, val_item_emb, vectors, epochs)
    timings["reranker_s"] = time.time() - t
    args, names, dynamic = export_spec(SESSION_LENGTH)
    export(reranker, args, names, ["scores"], dynamic, os.path.join(out_dir, "session_reranker.onnx"))
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump({"vocab": vocab, "dim": dim, "epochs": epochs, "torch": torch.__version__, "opset": OPSET, "timings": timings,
                   "userTower": tower_report,
                   "neighbours": {"model": choice["served"], "perItem": int(nb.shape[1]), "window": choice["served_window"], "knn": choice["knn"], "ease": choice["ease"]},
                   "validation": {k: choice.get(k) for k in ["examples", "popularity", "knn_grid", "ease_grid"]},
                   "losses": {"two_tower": tt_losses, "reranker": rr_losses},
                   "examples": {"two_tower": int(len(a["tt_item"])), "ranker_lists": int(len(cands["user"])), "reranker": int(len(a["rr_target"])), "reranker_kept": rr_examples}}, f, indent=1)
    torch.save({"user": user.state_dict(), "userTower": chosen, "reranker": reranker.state_dict(), "vocab": vocab, "dim": dim}, os.path.join(work_dir, "weights.pt"))


def stage_rank(work_dir, out_dir, epochs):
    a, meta = load_arrays(os.path.join(work_dir, "rank"))
    with open(os.path.join(out_dir, "training.json")) as f:
        training = json.load(f)
    vocab = training["vocab"]
    t = time.time()
    model, losses, report = train_ranker(a["dl_sparse"], a["dl_dense"], a["dl_label"], a["dl_offsets"], vocab, epochs, log=log)
    training["timings"]["ranker_s"] = time.time() - t
    export(model, (torch.from_numpy(a["dl_sparse"][:2].astype(np.int64)), torch.from_numpy(a["dl_dense"][:2])), ["sparse", "dense"], ["score"],
           {"sparse": {0: "batch"}, "dense": {0: "batch"}, "score": {0: "batch"}}, os.path.join(out_dir, "dlrm.onnx"))
    training["losses"]["ranker"] = losses
    training["ranker"] = report
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump(training, f, indent=1)
    weights = torch.load(os.path.join(work_dir, "weights.pt"))
    weights["dlrm"] = model.state_dict()
    torch.save(weights, os.path.join(work_dir, "weights.pt"))


def main():
    # One thread: on a shared 2-core machine two threads per process oversubscribe (measured 15x slower).
    torch.set_num_threads(1)
    stage, work_dir, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    try:
        if stage == "retrieval":
            if len(sys.argv) > 7 and int(sys.argv[7]) > 0:
                validation.SERVED_NEIGHBOURS = int(sys.argv[7])
            stage_retrieval(work_dir, out_dir, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else "choose")
        elif stage == "rank":
            stage_rank(work_dir, out_dir, int(sys.argv[4]))
        else:
            raise SystemExit(f"unknown stage {stage}")
    except (TrainingDataError, ValueError) as error:
        with open(os.path.join(work_dir, "train-error.txt"), "w") as f:
            f.write(f"cannot train: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
