"""DLRM ranker: one embedding table per sparse feature, a bottom MLP for dense features, pairwise dot
interaction of all vectors, and a top MLP producing a click probability."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import run_epochs


class DLRM(nn.Module):
    def __init__(self, table_sizes, n_dense, emb_dim=16):
        super().__init__()
        self.tables = nn.ModuleList([nn.Embedding(size, emb_dim) for size in table_sizes])
        self.bottom = nn.Sequential(nn.Linear(n_dense, 32), nn.ReLU(), nn.Linear(32, emb_dim))
        n_vectors = len(table_sizes) + 1
        n_pairs = n_vectors * (n_vectors - 1) // 2
        # The raw dense features also reach the top MLP directly: with few dense inputs, routing them only
        # through dot products let the item-id embedding dominate and the ranker ignored affinity and retrieval.
        self.top = nn.Sequential(nn.Linear(n_pairs + emb_dim + n_dense, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
        rows, cols = torch.triu_indices(n_vectors, n_vectors, offset=1)
        self.register_buffer("rows", rows)
        self.register_buffer("cols", cols)

    def forward(self, sparse, dense):
        d = self.bottom(dense)
        vectors = torch.stack([d] + [table(sparse[:, k]) for k, table in enumerate(self.tables)], dim=1)
        dots = torch.bmm(vectors, vectors.transpose(1, 2))
        pairs = dots[:, self.rows, self.cols]
        return torch.sigmoid(self.top(torch.cat([d, pairs, dense], dim=1))).squeeze(1)


def table_sizes(vocab):
    # sparse columns: segment, item, category, brand, price_bucket, last_category
    return [vocab["segments"] + 1, vocab["items"] + 1, vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"], vocab["categories"] + 1]


def train_dlrm(sparse, dense, label, vocab, epochs, batch_size=2048, seed=11):
    torch.manual_seed(seed)
    model = DLRM(table_sizes(vocab), dense.shape[1])
    # Weight decay on the embedding tables keeps rare item ids from memorising their few positives.
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    s = torch.from_numpy(sparse.astype(np.int64))
    d = torch.from_numpy(dense.astype(np.float32))
    y = torch.from_numpy(label.astype(np.float32))
    losses = run_epochs(len(y), epochs, batch_size, "dlrm", opt, lambda idx: F.binary_cross_entropy(model(s[idx], d[idx]), y[idx]))
    model.eval()
    return model, losses
