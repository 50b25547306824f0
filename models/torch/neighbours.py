"""Item-to-item models over the training interaction matrix: item-kNN (co-occurrence cosine with shrinkage,
top-k neighbours per item) and EASE (Steck 2019, closed form B = I - P / diag(P), P = (G + lambda I)^-1).
They are the baselines of the evaluation and, truncated to the top-M neighbours per item, the served
item-to-item candidate source (item_neighbours.bin, read by adapters/onnx and core/pipeline/stages/retrieve).
Scoring a history = summing the neighbour rows of its items (the newest HISTORY_CAP distinct ones), exactly as
serving does. EASE needs a dense n x n inverse, so it is used only up to EASE_MAX_ITEMS items."""
import numpy as np
import torch

EASE_MAX_ITEMS = 6000
# = USER_HISTORY_CAP (shared/features/history.ts): the newest items the feature store keeps and serving scores.
HISTORY_CAP = 1000


def history_matrix(histories, n_items, cap=HISTORY_CAP):
    """Dense (len(histories) x n_items) 0/1 float32 matrix of each history's newest `cap` distinct items (1-based ids)."""
    x = np.zeros((len(histories), n_items), dtype=np.float32)
    for r, h in enumerate(histories):
        recent = list(dict.fromkeys(reversed([i for i in h if i > 0])))[:cap]
        if recent:
            x[r, np.asarray(recent) - 1] = 1.0
    return x


def sparse_rows(histories, n_items, cap=HISTORY_CAP):
    """The same matrix as history_matrix, as a torch sparse COO tensor (n_items x users), for large catalogues."""
    rows, cols = [], []
    for r, h in enumerate(histories):
        recent = list(dict.fromkeys(reversed([i for i in h if i > 0])))[:cap]
        rows.extend(np.asarray(recent, dtype=np.int64) - 1)
        cols.extend([r] * len(recent))
    idx = torch.tensor(np.array([rows, cols], dtype=np.int64).reshape(2, -1))
    return torch.sparse_coo_tensor(idx, torch.ones(idx.shape[1]), (n_items, len(histories))).coalesce()


def gram_chunks(histories, n_items, chunk=2048):
    """Yields (start, G[:, start:start+chunk]) of the co-occurrence matrix G = X^T X without a dense X."""
    xt = sparse_rows(histories, n_items, cap=10**9)
    xt_csr = xt
    for s in range(0, n_items, chunk):
        e = min(n_items, s + chunk)
        # columns s..e of X (users x c), dense: users that touched those items
        sub = torch.zeros((len(histories), e - s))
        idx = xt.indices()
        mask = (idx[0] >= s) & (idx[0] < e)
        sub[idx[1][mask], idx[0][mask] - s] = 1.0
        yield s, torch.sparse.mm(xt_csr, sub)  # n_items x c


def knn(histories, n_items, k, shrink):
    """Cosine item-kNN with shrinkage: sim(i,j) = G_ij / (sqrt(G_ii G_jj) + shrink), top-k per item, no self.
    Returns (neighbours int64 n x k 1-based (0 = none), weights float32 n x k)."""
    k = max(1, min(k, n_items - 1)) if n_items > 1 else 1
    diag = np.zeros(n_items, dtype=np.float32)
    for h in histories:
        items = np.unique(np.asarray([i for i in h if i > 0], dtype=np.int64))
        diag[items - 1] += 1.0
    norm = np.sqrt(diag)
    nb = np.zeros((n_items, k), dtype=np.int64)
    wt = np.zeros((n_items, k), dtype=np.float32)
    for s, g in gram_chunks(histories, n_items):
        g = g.numpy()                                                    # n x c: column c = item s + c
        c = g.shape[1]
        sim = g / (np.outer(norm, norm[s:s + c]) + shrink + 1e-9)
        sim[np.arange(s, s + c), np.arange(c)] = 0.0
        top = np.argpartition(-sim, k - 1, axis=0)[:k] if k < n_items else np.tile(np.arange(n_items)[:, None], (1, c))[:k]
        w = np.take_along_axis(sim, top, axis=0)                          # k x c
        order = np.argsort(-w, axis=0)
        top = np.take_along_axis(top, order, axis=0)
        w = np.take_along_axis(w, order, axis=0)
        # Row i of the result: the items i points to (sim is symmetric, so column i = row i).
        nb[s:s + c] = np.where(w > 0, top + 1, 0).T
        wt[s:s + c] = np.where(w > 0, w, 0).T
    return nb, wt


def ease(histories, n_items, lam):
    """Dense EASE weight matrix B (n x n, zero diagonal); B[i, j] = weight of history item i for item j."""
    x = torch.from_numpy(history_matrix(histories, n_items, cap=10**9)).double()
    g = x.T @ x
    g += lam * torch.eye(n_items, dtype=torch.float64)
    p = torch.linalg.inv(g)
    b = -p / torch.diag(p).unsqueeze(0)
    b.fill_diagonal_(0.0)
    return b.float().numpy()


def truncate(b, m):
    """Top-m neighbours per row of a dense weight matrix by |weight|, strongest first: EASE's negative weights
    matter (on ML-100K validation, keeping them recovers most of the full model's NDCG; positives only lose ~7 %)."""
    n = b.shape[0]
    m = max(1, min(m, n - 1)) if n > 1 else 1
    mag = np.abs(b)
    top = np.argpartition(-mag, m - 1, axis=1)[:, :m] if m < n else np.tile(np.arange(n), (n, 1))
    order = np.argsort(-np.take_along_axis(mag, top, axis=1), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    w = np.take_along_axis(b, top, axis=1)
    nb = np.where(w != 0, top + 1, 0).astype(np.int64)
    return nb, np.where(w != 0, w, 0).astype(np.float32)


def neighbour_scores(histories, n_items, nb, wt, cap=HISTORY_CAP):
    """scores (len(histories) x n_items): sum of the neighbour rows of each history's newest `cap` distinct items."""
    n, k = nb.shape
    rows = np.repeat(np.arange(n), k)
    cols = nb.reshape(-1) - 1
    keep = cols >= 0
    s = torch.sparse_coo_tensor(torch.tensor(np.array([cols[keep], rows[keep]])), torch.from_numpy(wt.reshape(-1)[keep]), (n_items, n_items)).coalesce()
    out = np.zeros((len(histories), n_items), dtype=np.float32)
    for start in range(0, len(histories), 2048):
        xt = sparse_rows(histories[start:start + 2048], n_items, cap).to_dense()   # n x batch
        out[start:start + 2048] = torch.sparse.mm(s, xt).T.numpy()                  # s[j, i] = w(i -> j)
    return out


def dense_scores(histories, n_items, b):
    return history_matrix(histories, n_items, cap=10**9) @ b


def popularity_scores(histories, n_items, counts):
    return np.tile(np.log1p(counts[1:n_items + 1]).astype(np.float32), (len(histories), 1))


def top_lists(scores, seen, k):
    """Top-k 1-based item ids per row, skipping each row's seen items."""
    s = scores.copy()
    for r, items in enumerate(seen):
        if len(items):
            s[r, np.asarray(list(items)) - 1] = -np.inf
    k = min(k, s.shape[1])  # a catalogue smaller than the list length: every item, ranked
    top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1) + 1


def hr_ndcg(lists, targets):
    hits = 0.0
    ndcg = 0.0
    for lst, t in zip(lists, targets):
        pos = np.nonzero(lst == t)[0]
        if len(pos):
            hits += 1
            ndcg += 1.0 / np.log2(pos[0] + 2)
    n = max(1, len(targets))
    return hits / n, ndcg / n
