"""Reads the arrays written by models/prepare (raw little-endian + index.json)."""
import json
import os

import numpy as np


def load_arrays(work_dir):
    with open(os.path.join(work_dir, "index.json")) as f:
        index = json.load(f)
    arrays = {}
    for name, spec in index["arrays"].items():
        dtype = np.int32 if spec["dtype"] == "int32" else np.float32
        data = np.fromfile(os.path.join(work_dir, spec["file"]), dtype=dtype)
        arrays[name] = data.reshape(spec["shape"]) if len(spec["shape"]) > 1 else data
    return arrays, index["meta"]


def progress(iterable, total, label):
    """A dependency-free progress bar on stderr (tqdm may be absent)."""
    import sys
    import time

    start = time.time()
    for n, item in enumerate(iterable, 1):
        if n == 1 or n == total or n % max(1, total // 40) == 0:
            filled = int(30 * n / total)
            sys.stderr.write(f"\r  {label:<22} [{'#' * filled}{'.' * (30 - filled)}] {n}/{total} {time.time() - start:5.1f}s")
            sys.stderr.flush()
        yield item
    sys.stderr.write("\n")


def run_epochs(n, epochs, batch_size, label, optimizer, batch_loss, max_rows=None):
    """Shuffled mini-batch SGD shared by the trainers: batch_loss(indices) returns the batch's mean loss.
    max_rows: each epoch visits a fresh random sample of at most that many rows (bounds time on large data).
    Returns the mean loss per epoch."""
    import torch

    losses = []
    for epoch in range(epochs):
        perm = torch.randperm(n)[:max_rows] if max_rows else torch.randperm(n)
        total = 0.0
        batches = range(0, len(perm), batch_size)
        for start in progress(batches, len(batches), f"{label} epoch {epoch + 1}/{epochs}"):
            idx = perm[start:start + batch_size]
            loss = batch_loss(idx)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / max(1, len(perm)))
    return losses
