"""Export round-trip reference: rebuilds the trained PyTorch models from weights.pt, runs them on seeded
random inputs and prints inputs + outputs as JSON, for the test that runs the ONNX files on the same inputs.
Usage: /usr/bin/python3 models/torch/roundtrip.py <work_dir>"""
import json
import os
import sys

import numpy as np
import torch

from ranker import Ranker
from reranker import VECTOR_DIM, SessionReranker
from seq_tower import SeqUserTower
from two_tower import UserTower


def main():
    work_dir = sys.argv[1]
    state = torch.load(os.path.join(work_dir, "weights.pt"))
    vocab, dim = state["vocab"], state["dim"]
    user = (SeqUserTower if state.get("userTower") == "self-attention" else UserTower)(vocab["items"] + 1, vocab["segments"] + 1, dim)
    user.load_state_dict(state["user"])
    n_dense = state["dlrm"]["mean"].shape[0]
    dlrm = Ranker(vocab, n_dense)
    dlrm.load_state_dict(state["dlrm"])
    reranker = SessionReranker(vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"])
    reranker.load_state_dict(state["reranker"])
    for m in (user, dlrm, reranker):
        m.eval()
    rng = np.random.default_rng(123)
    b, c, s = 7, 11, 5
    segment = rng.integers(0, vocab["segments"] + 1, size=(b,))
    history = rng.integers(0, vocab["items"] + 1, size=(b, 20))
    history[0, :15] = 0  # a short, left-padded history
    sizes = [vocab["segments"] + 1, vocab["items"] + 1, vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"], vocab["categories"] + 1]
    sparse = np.stack([rng.integers(0, n, size=(b,)) for n in sizes], axis=1)
    dense = rng.random((b, n_dense)).astype(np.float32)
    cand = [rng.integers(0, n, size=(b, c)) for n in (vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"])]
    cand_score = rng.random((b, c)).astype(np.float32)
    sess = [rng.integers(0, n, size=(b, s)) for n in (vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"])]
    sess[0][0, :] = 0  # an empty session
    cand_vec = rng.integers(-127, 128, size=(b, c, VECTOR_DIM)).astype(np.float32) / 127.0
    sess_vec = rng.integers(-127, 128, size=(b, s, VECTOR_DIM)).astype(np.float32) / 127.0
    sess_mask = np.ones((b, s), dtype=np.float32)
    sess_mask[0, :] = 0
    sess_mask[1, :2] = 0  # a session of 3, right-aligned
    sess_vec *= sess_mask[:, :, None]
    t = lambda x: torch.from_numpy(np.asarray(x, dtype=np.int64))
    with torch.no_grad():
        out = {
            "user_tower": {"inputs": {"segment": segment.tolist(), "history": history.tolist()},
                           "output": user(t(segment), t(history)).numpy().tolist()},
            "dlrm": {"inputs": {"sparse": sparse.tolist(), "dense": dense.tolist()},
                     "output": dlrm(t(sparse), torch.from_numpy(dense)).numpy().tolist()},
            "session_reranker": {"inputs": {"cand_category": cand[0].tolist(), "cand_brand": cand[1].tolist(), "cand_price": cand[2].tolist(),
                                            "cand_score": cand_score.tolist(), "sess_category": sess[0].tolist(), "sess_brand": sess[1].tolist(),
                                            "sess_price": sess[2].tolist(), "cand_vec": cand_vec.tolist(), "sess_vec": sess_vec.tolist(),
                                            "sess_mask": sess_mask.tolist()},
                                 "output": reranker(t(cand[0]), t(cand[1]), t(cand[2]), torch.from_numpy(cand_score), torch.from_numpy(cand_vec),
                                                     t(sess[0]), t(sess[1]), t(sess[2]), torch.from_numpy(sess_vec), torch.from_numpy(sess_mask)).numpy().tolist()},
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
