"""Session reranker for the edge: rescored slate candidates given the session's latest items, from static
item features only (category, brand, price bucket) and the slate position prior. Tiny on purpose (< 300 KB)
and built from operators onnxruntime-web supports (Gather, MatMul, Add, Mul, ReduceSum, Relu, Concat)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import run_epochs

CANDIDATES = 50


class SessionReranker(nn.Module):
    def __init__(self, n_categories, n_brands, n_prices, dim=16):
        super().__init__()
        self.category = nn.Embedding(n_categories, dim)
        self.brand = nn.Embedding(n_brands, dim)
        self.price = nn.Embedding(n_prices, 8)
        self.project = nn.Linear(dim * 2 + 8, dim)
        self.head = nn.Sequential(nn.Linear(dim * 2 + 1, 16), nn.ReLU(), nn.Linear(16, 1))

    def encode(self, category, brand, price):
        return torch.relu(self.project(torch.cat([self.category(category), self.brand(brand), self.price(price)], dim=-1)))

    def forward(self, cand_category, cand_brand, cand_price, cand_score, sess_category, sess_brand, sess_price):
        cand = self.encode(cand_category, cand_brand, cand_price)                     # B×C×d
        sess = self.encode(sess_category, sess_brand, sess_price)                     # B×S×d
        mask = (sess_category > 0).float().unsqueeze(-1)                              # B×S×1
        mean = (sess * mask).sum(1) / mask.sum(1).clamp(min=1.0)                       # B×d
        last = sess[:, -1, :] * mask[:, -1, :]                                         # newest item, right-aligned
        match_mean = cand * mean.unsqueeze(1)                                          # B×C×d
        match_last = cand * last.unsqueeze(1)
        x = torch.cat([match_mean, match_last, cand_score.unsqueeze(-1)], dim=-1)
        return self.head(x).squeeze(-1) + cand_score * 4.0                             # prior keeps the slate order without session


def build_examples(a, user_emb, item_emb, seed=3):
    """Candidates = the two-tower top-C for the user's pre-session history (what the slate would hold), target forced in."""
    rng = np.random.default_rng(seed)
    targets = a["rr_target"]
    scores = user_emb @ item_emb.T                                                     # rows: examples, cols: item index - 1
    c = min(CANDIDATES, scores.shape[1])
    top = np.argpartition(-scores, c - 1, axis=1)[:, :c]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    cands = np.take_along_axis(top, order, axis=1) + 1                                 # item indices, best first
    labels = np.empty(len(targets), dtype=np.int64)
    for r, t in enumerate(targets):
        hit = np.nonzero(cands[r] == t)[0]
        if len(hit):
            labels[r] = hit[0]
        else:
            pos = rng.integers(0, c)
            cands[r, pos] = t
            labels[r] = pos
    prior = (1.0 - np.arange(c) / c).astype(np.float32)
    return cands, labels, np.tile(prior, (len(targets), 1))


def features(a, items):
    return (a["item_category"][items].astype(np.int64), a["item_brand"][items].astype(np.int64), a["item_price"][items].astype(np.int64))


def train_reranker(a, vocab, user_emb, item_emb, epochs, batch_size=512, seed=5):
    torch.manual_seed(seed)
    model = SessionReranker(vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    if len(a["rr_target"]) == 0:
        # No multi-item sessions: nothing to learn, so the exported reranker keeps the slate order (zero head).
        with torch.no_grad():
            model.head[-1].weight.zero_()
            model.head[-1].bias.zero_()
        model.eval()
        return model, []
    cands, labels, prior = build_examples(a, user_emb, item_emb)
    cc, cb, cp = [torch.from_numpy(x) for x in features(a, cands)]
    sc, sb, sp = [torch.from_numpy(x) for x in features(a, a["rr_session"])]
    score = torch.from_numpy(prior)
    y = torch.from_numpy(labels)
    losses = run_epochs(len(y), epochs, batch_size, "reranker", opt, lambda i: F.cross_entropy(model(cc[i], cb[i], cp[i], score[i], sc[i], sb[i], sp[i]), y[i]))
    model.eval()
    return model, losses
