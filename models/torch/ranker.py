"""The ranker (ONNX name `dlrm`, inputs sparse + dense as in shared/features/spec.ts): scores the served
retrieval's candidates. Trained listwise (softmax over each validation history's candidate list, against the
uniform distribution over its held-out items) on the retriever's own candidates, so its negatives are the hard ones retrieval hands it.
Inputs: the dense features (two-tower and item-to-item scores, recency, log popularity, affinities, age),
standardised inside the model, plus small category / last-category / price / segment embeddings. No item-id
embedding: with one list per user it would memorise popular ids and collapse coverage."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HOLDOUT = 0.1


class Ranker(nn.Module):
    def __init__(self, vocab, n_dense, mean=None, std=None):
        super().__init__()
        self.category = nn.Embedding(vocab["categories"] + 1, 8)
        self.last_category = nn.Embedding(vocab["categories"] + 1, 8)
        self.price = nn.Embedding(vocab["priceBuckets"], 4)
        self.segment = nn.Embedding(vocab["segments"] + 1, 4)
        self.register_buffer("mean", torch.zeros(n_dense) if mean is None else torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.ones(n_dense) if std is None else torch.as_tensor(std, dtype=torch.float32))
        self.linear = nn.Linear(n_dense, 1)
        self.mlp = nn.Sequential(nn.Linear(n_dense + 8 + 4 + 4 + 1, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))

    def logits(self, sparse, dense):
        d = (dense - self.mean) / self.std
        c = self.category(sparse[:, 2])
        match = (c * self.last_category(sparse[:, 5])).sum(1, keepdim=True)
        x = torch.cat([d, c, self.price(sparse[:, 4]), self.segment(sparse[:, 0]), match], dim=1)
        return (self.mlp(x) + self.linear(d)).squeeze(1)

    def forward(self, sparse, dense):
        return torch.sigmoid(self.logits(sparse, dense))


def lists_of(offsets, label):
    """(start, end, positions of the positives) per list (several when a history has several held-out items)."""
    out = []
    for i in range(len(offsets) - 1):
        s, e = int(offsets[i]), int(offsets[i + 1])
        pos = np.nonzero(label[s:e] > 0.5)[0]
        if e > s and len(pos):
            out.append((s, e, pos))
    return out


def _batch(lists, idx):
    """Rows, mask and the target distribution (uniform over each list's positives) of a batch of lists."""
    width = max(lists[i][1] - lists[i][0] for i in idx)
    rows = np.zeros((len(idx), width), dtype=np.int64)
    mask = np.zeros((len(idx), width), dtype=bool)
    target = np.zeros((len(idx), width), dtype=np.float32)
    for r, i in enumerate(idx):
        s, e, p = lists[i]
        rows[r, :e - s] = np.arange(s, e)
        mask[r, :e - s] = True
        target[r, p] = 1.0 / len(p)
    return torch.from_numpy(rows), torch.from_numpy(mask), torch.from_numpy(target)


def _ndcg_at_10(scores_of, lists, idx):
    """NDCG@10 of each list's positives under the given scores (ties broken by list position), averaged over lists."""
    total = 0.0
    discount = 1.0 / np.log2(np.arange(10) + 2)
    for i in idx:
        s, e, p = lists[i]
        order = np.argsort(-scores_of(s, e), kind="stable")[:10]
        dcg = discount[:len(order)][np.isin(order, p)].sum()
        total += dcg / discount[:min(10, len(p))].sum()
    return total / max(1, len(idx))


def train_ranker(sparse, dense, label, offsets, vocab, epochs, batch_lists=64, seed=11, log=print):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    lists = lists_of(offsets, label)
    if not lists:
        # Too little history to hold out validation targets: a fixed ranker that keeps retrieval's evidence
        # (two-tower score + item-to-item share), so training never stops on small or session-less data.
        model = Ranker(vocab, dense.shape[1])
        with torch.no_grad():
            model.mlp[-1].weight.zero_()
            model.mlp[-1].bias.zero_()
            model.linear.weight.zero_()
            model.linear.weight[0, 5] = 1.0
            model.linear.weight[0, 8] = 1.0
        model.eval()
        log("  ranker: no validation lists; exported a fixed ranker (retrieval score + neighbour share)")
        return model, [], {"lists": 0}
    order = rng.permutation(len(lists))
    n_hold = int(len(lists) * HOLDOUT) if len(lists) >= 50 else 0
    hold, fit = order[:n_hold], order[n_hold:]
    mean = dense.mean(0)
    std = dense.std(0) + 1e-6
    model = Ranker(vocab, dense.shape[1], mean, std)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    s_all = torch.from_numpy(sparse.astype(np.int64))
    d_all = torch.from_numpy(dense.astype(np.float32))
    losses = []
    for epoch in range(epochs):
        perm = rng.permutation(fit)
        total = 0.0
        for b in range(0, len(perm), batch_lists):
            rows, mask, target = _batch(lists, perm[b:b + batch_lists])
            flat = rows.reshape(-1)
            logit = model.logits(s_all[flat], d_all[flat]).reshape(rows.shape).masked_fill(~mask, -1e9)
            # Listwise softmax cross-entropy against the uniform distribution over the list's positives.
            loss = -(target * F.log_softmax(logit, dim=1)).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(target)
        losses.append(total / max(1, len(fit)))
        log(f"  ranker epoch {epoch + 1}/{epochs}: listwise loss {losses[-1]:.4f}")
    model.eval()
    # The held-out lists' first rows: models/evaluate/choose-serving.ts scores the serving choices on them.
    report = {"lists": len(lists), "holdout_lists": int(n_hold), "holdout_starts": sorted(int(lists[i][0]) for i in hold)}
    if n_hold:
        with torch.no_grad():
            ranked = model.logits(s_all, d_all).numpy()
        col = {"tower": dense[:, -5], "neighbour": dense[:, -3]}
        report["holdout_ndcg@10"] = {
            "ranker": _ndcg_at_10(lambda s, e: ranked[s:e], lists, hold),
            **{f"{k} order": _ndcg_at_10(lambda s, e, v=v: v[s:e], lists, hold) for k, v in col.items()},
        }
        log(f"  ranker on held-out lists (NDCG@10 within the candidates): {report['holdout_ndcg@10']}")
    return model, losses, report
