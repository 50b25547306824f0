"""Synthetic model artifacts for the nightly benchmark at catalogue scales we cannot train here (1M items):
the real architectures from models/torch with random weights, exported to ONNX exactly like train.py, and
item embeddings clustered by category (so the ANN graph has realistic structure). Timing, not quality.
Usage: /usr/bin/python3 scripts/bench/synthetic_models.py <out_dir> <vocab.json> <item_category.npy-ish .i32> <dim>"""
import inspect
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "models", "torch"))
from ranker import Ranker  # noqa: E402
from reranker import SESSION_LENGTH, SessionReranker, export_spec  # noqa: E402
from two_tower import UserTower  # noqa: E402


def export(model, args, names, outputs, dynamic, path):
    # PyTorch >= 2.5 has a `dynamo` switch (default on from 2.9); the TorchScript exporter gives the same graphs as train.py's.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, args, path, input_names=names, output_names=outputs, dynamic_axes=dynamic, opset_version=14, do_constant_folding=True, **legacy)


def main():
    out_dir, vocab_path, category_path, dim = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    torch.manual_seed(1)
    torch.set_num_threads(1)
    vocab = json.load(open(vocab_path))
    user = UserTower(vocab["items"] + 1, vocab["segments"] + 1, dim).eval()
    seg = torch.ones((2,), dtype=torch.int64)
    hist = torch.ones((2, 20), dtype=torch.int64)
    export(user, (seg, hist), ["segment", "history"], ["user_embedding"],
           {"segment": {0: "batch"}, "history": {0: "batch"}, "user_embedding": {0: "batch"}}, os.path.join(out_dir, "user_tower.onnx"))
    n_dense = 10  # len(DLRM_DENSE_FEATURES) in shared/features/spec.ts
    dlrm = Ranker(vocab, n_dense).eval()
    export(dlrm, (torch.ones((2, 6), dtype=torch.int64), torch.ones((2, n_dense))), ["sparse", "dense"], ["score"],
           {"sparse": {0: "batch"}, "dense": {0: "batch"}, "score": {0: "batch"}}, os.path.join(out_dir, "dlrm.onnx"))
    reranker = SessionReranker(vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"]).eval()
    args, names, dynamic = export_spec(SESSION_LENGTH)
    export(reranker, args, names, ["scores"], dynamic, os.path.join(out_dir, "session_reranker.onnx"))
    category = np.fromfile(category_path, dtype="<i4")
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((int(category.max()) + 1, dim)).astype(np.float32)
    emb = centers[category] + 0.6 * rng.standard_normal((len(category), dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    emb.astype("<f4").tofile(os.path.join(out_dir, "item_embeddings.f32"))


if __name__ == "__main__":
    main()
