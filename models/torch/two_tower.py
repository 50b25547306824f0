"""Two-tower retriever: user tower (segment + recent history) and item tower (id, category, brand, price
bucket), L2-normalised, trained with in-batch sampled softmax and logQ popularity correction."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import run_epochs

MAX_ROWS_PER_EPOCH = 200_000


class UserTower(nn.Module):
    def __init__(self, n_items, n_segments, dim):
        super().__init__()
        self.item = nn.Embedding(n_items, dim, padding_idx=0)
        self.segment = nn.Embedding(n_segments, 16)
        self.mlp = nn.Sequential(nn.Linear(dim * 2 + 16, dim * 2), nn.ReLU(), nn.Linear(dim * 2, dim))

    def forward(self, segment, history):
        mask = (history > 0).float().unsqueeze(-1)
        emb = self.item(history) * mask
        count = mask.sum(1).clamp(min=1.0)
        mean = emb.sum(1) / count
        # The newest item (right-aligned) matters most for "what next".
        last = emb[:, -1, :]
        x = torch.cat([mean, last, self.segment(segment)], dim=1)
        return F.normalize(self.mlp(x), dim=1)


class ItemTower(nn.Module):
    def __init__(self, n_items, n_categories, n_brands, n_prices, dim):
        super().__init__()
        self.item = nn.Embedding(n_items, dim, padding_idx=0)
        self.category = nn.Embedding(n_categories, 16)
        self.brand = nn.Embedding(n_brands, 16)
        self.price = nn.Embedding(n_prices, 8)
        self.mlp = nn.Sequential(nn.Linear(dim + 40, dim * 2), nn.ReLU(), nn.Linear(dim * 2, dim))

    def forward(self, item, category, brand, price):
        x = torch.cat([self.item(item), self.category(category), self.brand(brand), self.price(price)], dim=1)
        return F.normalize(self.mlp(x), dim=1)


def train_two_tower(a, vocab, dim, epochs, batch_size=1024, temperature=0.05, seed=7, rows=None, label="two-tower", tower=None):
    torch.manual_seed(seed)
    n_items = vocab["items"] + 1
    user = (tower or UserTower)(n_items, vocab["segments"] + 1, dim)
    item = ItemTower(n_items, vocab["categories"] + 1, vocab["brands"] + 1, vocab["priceBuckets"], dim)
    opt = torch.optim.Adam(list(user.parameters()) + list(item.parameters()), lr=2e-3)
    cat = torch.from_numpy(a["item_category"].astype(np.int64))
    brand = torch.from_numpy(a["item_brand"].astype(np.int64))
    price = torch.from_numpy(a["item_price"].astype(np.int64))
    # logQ correction: in-batch negatives are sampled proportionally to popularity in the training targets.
    counts = np.bincount(a["tt_item"], minlength=n_items).astype(np.float64) + 1.0
    log_q = torch.from_numpy(np.log(counts / counts.sum()).astype(np.float32))
    rows = np.arange(len(a["tt_item"])) if rows is None else rows
    seg = torch.from_numpy(a["tt_segment"][rows].astype(np.int64))
    hist = torch.from_numpy(a["tt_history"][rows].astype(np.int64))
    target = torch.from_numpy(a["tt_item"][rows].astype(np.int64))

    def batch_loss(idx):
        ids = target[idx]
        u = user(seg[idx], hist[idx])
        v = item(ids, cat[ids], brand[ids], price[ids])
        logits = u @ v.T / temperature - log_q[ids].unsqueeze(0)
        # The same item twice in a batch is not a negative for itself.
        same = ids.unsqueeze(0) == ids.unsqueeze(1)
        logits = logits.masked_fill(same & ~torch.eye(len(ids), dtype=torch.bool), -1e9)
        return F.cross_entropy(logits, torch.arange(len(ids)))

    # Large data: each epoch samples at most MAX_ROWS_PER_EPOCH rows (ML-1M: ~1M rows would take far too long on 2 cores).
    losses = run_epochs(len(target), epochs, batch_size, label, opt, batch_loss, max_rows=MAX_ROWS_PER_EPOCH)
    user.eval()
    item.eval()
    with torch.no_grad():
        all_ids = torch.arange(1, n_items)
        item_emb = item(all_ids, cat[all_ids], brand[all_ids], price[all_ids]).numpy().astype(np.float32)
    return user, item_emb, losses


def embed_users(user, segment, history, batch=4096, dim=None):
    out = []
    with torch.no_grad():
        for s in range(0, len(segment), batch):
            out.append(user(torch.from_numpy(segment[s:s + batch].astype(np.int64)), torch.from_numpy(history[s:s + batch].astype(np.int64))).numpy())
    return np.concatenate(out) if out else np.zeros((0, dim or user.mlp[-1].out_features), dtype=np.float32)
