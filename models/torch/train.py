"""Trains the three models on the arrays prepared by models/prepare and exports them to ONNX.
Usage: /usr/bin/python3 models/torch/train.py <work_dir> <out_dir> <dim> <epochs>"""
import json
import os
import sys
import time

import numpy as np
import torch

from data import load_arrays
from dlrm import train_dlrm
from reranker import train_reranker
from two_tower import embed_users, train_two_tower

OPSET = 14


def export(model, args, names, outputs, dynamic, path):
    torch.onnx.export(model, args, path, input_names=names, output_names=outputs, dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True)


def main():
    work_dir, out_dir, dim, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(2)
    os.makedirs(out_dir, exist_ok=True)
    a, meta = load_arrays(work_dir)
    vocab = {"items": meta["items"], "categories": meta["categories"], "brands": meta["brands"], "segments": meta["segments"], "priceBuckets": int(a["item_price"].max()) + 1}
    vocab["priceBuckets"] = max(vocab["priceBuckets"], 18)
    timings = {}

    t = time.time()
    user, item_emb, tt_losses = train_two_tower(a, vocab, dim, epochs)
    timings["two_tower_s"] = time.time() - t
    item_emb.astype("<f4").tofile(os.path.join(out_dir, "item_embeddings.f32"))
    h = a["tt_history"][:2].astype(np.int64)
    export(user, (torch.from_numpy(a["tt_segment"][:2].astype(np.int64)), torch.from_numpy(h)), ["segment", "history"], ["user_embedding"],
           {"segment": {0: "batch"}, "history": {0: "batch"}, "user_embedding": {0: "batch"}}, os.path.join(out_dir, "user_tower.onnx"))

    # Stacking: a two-tower trained only before the stacking window provides the ranker's retrieval_score
    # (and the reranker's candidates), so both learn from scores on interactions the retriever never saw.
    t = time.time()
    early_user, early_item_emb, _ = train_two_tower(a, vocab, dim, epochs, rows=np.nonzero(a["tt_late"] == 0)[0], label="two-tower (stacking)")
    timings["two_tower_stacking_s"] = time.time() - t
    t = time.time()
    dense = a["dl_dense"].copy()
    u = embed_users(early_user, a["dl_segment"], a["dl_history"])
    dense[:, -1] = np.einsum("ij,ij->i", u, early_item_emb[a["dl_sparse"][:, 1] - 1])
    dlrm, dl_losses = train_dlrm(a["dl_sparse"], dense, a["dl_label"], vocab, epochs)
    timings["dlrm_s"] = time.time() - t
    export(dlrm, (torch.from_numpy(a["dl_sparse"][:2].astype(np.int64)), torch.from_numpy(dense[:2])), ["sparse", "dense"], ["score"],
           {"sparse": {0: "batch"}, "dense": {0: "batch"}, "score": {0: "batch"}}, os.path.join(out_dir, "dlrm.onnx"))

    t = time.time()
    ru = embed_users(early_user, a["rr_segment"], a["rr_history"])
    reranker, rr_losses = train_reranker(a, vocab, ru, early_item_emb, epochs)
    timings["reranker_s"] = time.time() - t
    c = torch.ones((1, 3), dtype=torch.int64)
    s = torch.ones((1, 5), dtype=torch.int64)
    export(reranker, (c, c, c, torch.ones((1, 3)), s, s, s),
           ["cand_category", "cand_brand", "cand_price", "cand_score", "sess_category", "sess_brand", "sess_price"], ["scores"],
           {**{n: {0: "batch", 1: "candidates"} for n in ["cand_category", "cand_brand", "cand_price", "cand_score", "scores"]},
            **{n: {0: "batch"} for n in ["sess_category", "sess_brand", "sess_price"]}},
           os.path.join(out_dir, "session_reranker.onnx"))

    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump({"vocab": vocab, "dim": dim, "epochs": epochs, "torch": torch.__version__, "opset": OPSET, "timings": timings,
                   "losses": {"two_tower": tt_losses, "dlrm": dl_losses, "reranker": rr_losses},
                   "examples": {"two_tower": int(len(a["tt_item"])), "dlrm": int(len(a["dl_label"])), "reranker": int(len(a["rr_target"]))}}, f, indent=1)
    # Keep the torch weights next to the work dir for the export round-trip test.
    torch.save({"user": user.state_dict(), "dlrm": dlrm.state_dict(), "reranker": reranker.state_dict(), "vocab": vocab, "dim": dim},
               os.path.join(work_dir, "weights.pt"))


if __name__ == "__main__":
    main()
