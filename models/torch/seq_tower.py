"""Sequence-aware user tower (SASRec-style, one causal self-attention block read at the newest position): the
newest HISTORY_LENGTH items (right-aligned, 0 = padding) with learned position embeddings, plus a final "now"
token carrying the segment. In SASRec the output at the last position of a causal block attends to every
earlier position, so only that query is computed (keys/values for all positions, padding masked; the now token
itself is always visible, so a row is never fully masked) → residual + feed-forward → MLP → L2-normalise.
Same ONNX contract as the mean-pooling tower (segment [B], history [B,20] → user_embedding [B,D]);
models/torch/train.py keeps whichever tower wins on the validation targets."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SeqUserTower(nn.Module):
    def __init__(self, n_items, n_segments, dim, length=20, heads=2, dropout=0.1):
        super().__init__()
        self.heads = heads
        self.item = nn.Embedding(n_items, dim, padding_idx=0)
        self.position = nn.Embedding(length + 1, dim)
        self.segment = nn.Embedding(n_segments, dim)
        self.norm_in = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, dim * 2)
        self.out = nn.Linear(dim, dim)
        self.norm_ff = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, dim * 2), nn.ReLU(), nn.Linear(dim * 2, dim))
        self.drop = nn.Dropout(dropout)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.ReLU(), nn.Linear(dim * 2, dim))
        self.register_buffer("positions", torch.arange(length + 1))

    def forward(self, segment, history):
        b, t = history.shape
        d = self.item.embedding_dim
        h = self.heads
        tokens = torch.cat([self.item(history), self.segment(segment).unsqueeze(1)], dim=1)        # B x T+1 x D
        x = self.norm_in(tokens + self.position(self.positions).unsqueeze(0))
        k, v = self.kv(x).reshape(b, t + 1, 2, h, d // h).permute(2, 0, 3, 1, 4)                   # 2 x B x H x T+1 x d/h
        q = self.q(x[:, -1, :]).reshape(b, h, 1, d // h)                                           # the newest position
        pad = torch.cat([history == 0, torch.zeros_like(segment, dtype=torch.bool).unsqueeze(1)], dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h) + pad.float().mul(-1e9).reshape(b, 1, 1, t + 1), dim=-1)
        y = (att @ v).reshape(b, d)
        now = tokens[:, -1, :] + self.drop(self.out(y))
        now = now + self.drop(self.ff(self.norm_ff(now)))
        return F.normalize(self.mlp(now), dim=1)
