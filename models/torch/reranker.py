"""Session reranker for the edge: rescored slate candidates given the session's latest items. Inputs per item
are its static features (category, brand, price bucket) and its session vector: a 16-number int8 summary of
the served item embedding (session_vectors below), small enough to travel in slates and item cards, so the
model knows which items are alike at 1M items without an item table (< 300 KB). Built from operators both
onnxruntime-web and the plain-TypeScript runtime support (Gather, MatMul, Transpose, Add, Mul, ReduceSum,
Relu, Concat)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import run_epochs

CANDIDATES = 50
VECTOR_DIM = 16       # shared/features/spec.ts SESSION_VECTOR_DIM
SESSION_LENGTH = 5    # shared/features/spec.ts SESSION_LENGTH
PRIOR_WEIGHT = 4.0    # shared/features/encode.ts SESSION_PRIOR_WEIGHT (the served strength blend relies on it)
MIN_EXAMPLES = 200


def session_projection(item_emb):
    """The map from a served item embedding to its session vector: centre, project on the top VECTOR_DIM
    principal components, scale into [-1, 1] by the largest magnitude over the catalogue, round to int8
    (value = q / 127). Shipped as session_projection.json so the origin maps new (cold-start) items the same way."""
    x = item_emb.astype(np.float64)
    mean = x.mean(axis=0)
    x = x - mean
    dims = min(VECTOR_DIM, x.shape[1], max(1, x.shape[0]))
    _, _, vt = np.linalg.svd(x[: min(len(x), 200_000)], full_matrices=False)
    components = np.zeros((VECTOR_DIM, x.shape[1]))
    components[:dims] = vt[:dims]
    peak = float(np.abs(x @ components.T).max()) or 1.0
    return {"mean": mean.tolist(), "components": components.tolist(), "scale": 127.0 / peak}


def session_vectors(item_emb, projection):
    """Per item index (row 0 = unknown/padding, zeros): int8 session vectors, exactly as
    shared/features/session-vectors.ts computes them from the projection."""
    x = item_emb.astype(np.float64) - np.asarray(projection["mean"])
    projected = x @ np.asarray(projection["components"]).T * projection["scale"]
    q = np.clip(np.rint(projected), -127, 127).astype(np.int8)
    return np.vstack([np.zeros((1, VECTOR_DIM), dtype=np.int8), q])


class SessionReranker(nn.Module):
    def __init__(self, n_categories, n_brands, n_prices, session_length=SESSION_LENGTH, dim=16):
        super().__init__()
        self.category = nn.Embedding(n_categories, dim)
        self.brand = nn.Embedding(n_brands, dim)
        self.price = nn.Embedding(n_prices, 8)
        self.project = nn.Linear(dim * 2 + 8 + VECTOR_DIM, dim)
        # Per candidate: matches with the session mean and newest item, the raw vector similarity to each session
        # slot (right-aligned, so the newest item has its own weight), the slot mask and the slate-order prior.
        self.head = nn.Sequential(nn.Linear(dim * 2 + session_length * 2 + 1, 32), nn.ReLU(), nn.Linear(32, 1))

    def encode(self, category, brand, price, vec):
        return torch.relu(self.project(torch.cat([self.category(category), self.brand(brand), self.price(price), vec], dim=-1)))

    def forward(self, cand_category, cand_brand, cand_price, cand_score, cand_vec, sess_category, sess_brand, sess_price, sess_vec, sess_mask):
        cand = self.encode(cand_category, cand_brand, cand_price, cand_vec)            # B×C×d
        sess = self.encode(sess_category, sess_brand, sess_price, sess_vec)            # B×S×d
        mask = sess_mask.unsqueeze(-1)                                                 # B×S×1: 1 for a session item, 0 for padding
        mean = (sess * mask).sum(1) / mask.sum(1).clamp(min=1.0)                       # B×d
        last = sess[:, -1, :] * mask[:, -1, :]                                         # newest item, right-aligned
        sims = torch.matmul(cand_vec, (sess_vec * mask).transpose(1, 2))              # B×C×S
        slots = sims * 0.0 + mask.transpose(1, 2)                                      # B×C×S (Expand-free broadcast)
        x = torch.cat([cand * mean.unsqueeze(1), cand * last.unsqueeze(1), sims, slots, cand_score.unsqueeze(-1)], dim=-1)
        return self.head(x).squeeze(-1) + cand_score * PRIOR_WEIGHT                    # prior keeps the slate order without session


INPUTS = ["cand_category", "cand_brand", "cand_price", "cand_score", "cand_vec", "sess_category", "sess_brand", "sess_price", "sess_vec", "sess_mask"]


def export_spec(session_length):
    """(example inputs, input names, dynamic axes) for torch.onnx.export; the names are MODEL_IO.sessionReranker's."""
    c = torch.ones((1, 3), dtype=torch.int64)
    s = torch.ones((1, session_length), dtype=torch.int64)
    args = (c, c, c, torch.ones((1, 3)), torch.zeros((1, 3, VECTOR_DIM)), s, s, s, torch.zeros((1, session_length, VECTOR_DIM)), torch.ones((1, session_length)))
    dynamic = {**{n: {0: "batch", 1: "candidates"} for n in ["cand_category", "cand_brand", "cand_price", "cand_score", "cand_vec", "scores"]},
               **{n: {0: "batch"} for n in ["sess_category", "sess_brand", "sess_price", "sess_vec", "sess_mask"]}}
    return args, INPUTS, dynamic


def build_examples(a, user_emb, item_emb, seed=3):
    """Candidates = the two-tower top-C for the user's pre-session history (what the nightly slate would hold),
    the session's own items left out as the serving rules leave them out. Only examples whose next item is
    among them are kept: forcing it in at a random place would teach the model that slate order means nothing."""
    targets = a["rr_target"]
    sessions = a["rr_session"]
    scores = user_emb @ item_emb.T                                                     # rows: examples, cols: item index - 1
    rows = np.arange(len(targets))[:, None]
    seen = np.maximum(sessions - 1, 0)
    scores[rows, seen] = np.where(sessions > 0, -np.inf, scores[rows, seen])
    c = min(CANDIDATES, scores.shape[1])
    top = np.argpartition(-scores, c - 1, axis=1)[:, :c]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    cands = np.take_along_axis(top, order, axis=1) + 1                                 # item indices, best first
    hit = cands == targets[:, None]
    keep = np.nonzero(hit.any(axis=1))[0]
    labels = hit[keep].argmax(axis=1).astype(np.int64)
    prior = (1.0 - np.arange(c) / c).astype(np.float32)
    return cands[keep], labels, np.tile(prior, (len(keep), 1)), keep


def features(a, items):
    return (a["item_category"][items].astype(np.int64), a["item_brand"][items].astype(np.int64), a["item_price"][items].astype(np.int64))


def zero_head(model):
    """Nothing to learn from: the exported reranker keeps the slate order (zero head)."""
    with torch.no_grad():
        model.head[-1].weight.zero_()
        model.head[-1].bias.zero_()


def train_reranker(a, vocab, user_emb, item_emb, vectors, epochs, batch_size=256, seed=5, min_steps=600):
    """vectors: session_vectors(item_emb of the served model), int8 per item index."""
    torch.manual_seed(seed)
    model = SessionReranker(vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    vec = torch.from_numpy(vectors.astype(np.float32) / 127.0)
    if len(a["rr_target"]) == 0:
        zero_head(model)
        model.eval()
        return model, [], 0
    cands, labels, prior, keep = build_examples(a, user_emb, item_emb)
    if len(keep) < MIN_EXAMPLES:
        zero_head(model)
        model.eval()
        return model, [], int(len(keep))
    sess_items = a["rr_session"][keep]
    sm = torch.from_numpy((sess_items > 0).astype(np.float32))
    cc, cb, cp = [torch.from_numpy(x) for x in features(a, cands)]
    sc, sb, sp = [torch.from_numpy(x) for x in features(a, sess_items)]
    cv, sv = vec[torch.from_numpy(cands.astype(np.int64))], vec[torch.from_numpy(sess_items.astype(np.int64))]
    score = torch.from_numpy(prior)
    y = torch.from_numpy(labels)
    # The model is tiny and the examples few (a pseudo-session per recent event): train for enough steps.
    epochs = max(epochs, -(-min_steps // -(-len(y) // batch_size)))
    losses = run_epochs(len(y), epochs, batch_size, "reranker", opt,
                        lambda i: F.cross_entropy(model(cc[i], cb[i], cp[i], score[i], cv[i], sc[i], sb[i], sp[i], sv[i], sm[i]), y[i]))
    model.eval()
    return model, losses, int(len(keep))
