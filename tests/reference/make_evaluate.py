"""NumPy / PyTorch reference values for the evaluation metrics (deletion and
insertion curves, ROAD without noise, µ-fidelity with fixed subsets).

Run with Debian's python3:  /usr/bin/python3 tests/reference/make_evaluate.py

The model is the small CNN of make_attribution.py with the weights and the
two inputs stored in data/attribution_fft2.txt, evaluated in float64.

evaluate_fft2.txt  per-coefficient scores in fft2 space ([1, 8, 8, 2]: 128
                   features, the re and im parts separately), 16 curve steps.
evaluate_dwt2.txt  per-sub-band scores in dwt2:db2:2:symmetric space (7
                   groups), one step per group.

Definitions, written independently of trim's code:
- order: features by decreasing score (stable: ties by index); after step p
  the first round(p K / S) features are removed (integer (p K + S // 2) // S);
- deletion: removed features at the baseline 0, the rest from s; insertion:
  removed features from s, the rest 0; AUC: trapezoid over the removed
  fraction;
- ROAD (noise 0): removed coefficients solve deg(u) v_u - sum of unknown
  neighbours = sum of known neighbours (a dense solve); connected parts of
  the removed set with no known neighbour take 0. MoRF removes the highest
  scores first, LeRF the lowest. Neighbours: fft2: the 8x8 frequency grid,
  periodic, re and im separately; dwt2: positions inside each sub-band and
  each detail coefficient with its parent (same orientation, one level
  coarser, position (min(r // 2, h - 1), min(q // 2, w - 1)));
- µ-fidelity: Pearson correlation over the fixed subsets (masks, 1 =
  removed) of the summed scores and F(s) - F(s with the subset at 0).
"""
import os

import numpy as np
import pywt
import torch
from scipy.sparse.csgraph import connected_components

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "data")


def read_fixture(path):
    out, lines = {}, [l for l in open(path) if not l.startswith("#")]
    words = " ".join(lines).split()
    i = 0
    while i < len(words):
        assert words[i] == "tensor"
        name, rank = words[i + 1], int(words[i + 2])
        dims = [int(d) for d in words[i + 3:i + 3 + rank]]
        n = int(np.prod(dims)) if dims else 1
        vals = np.array([float(v) for v in words[i + 3 + rank:i + 3 + rank + n]])
        out[name] = vals.reshape(dims)
        i += 3 + rank + n
    return out


f = read_fixture(os.path.join(data, "attribution_fft2.txt"))
W = {k: torch.tensor(f[k], dtype=torch.float64) for k in ["conv1.weight", "conv1.bias", "fc.weight", "fc.bias"]}
x = f["x"]  # [2, 1, 8, 8]


def cnn(img):
    h = torch.tanh(torch.nn.functional.conv2d(img, W["conv1.weight"], W["conv1.bias"], padding=1))
    h = torch.nn.functional.max_pool2d(h, 2)
    return h.flatten(1) @ W["fc.weight"].T + W["fc.bias"]


def counts_for(K, steps):
    S = min(steps, K) if steps > 0 else min(K, 100)
    return [(p * K + S // 2) // S for p in range(S + 1)]


def solve_road(adj, values, unknown):
    n = len(values)
    out = values.copy()
    U = np.flatnonzero(unknown)
    if len(U) == 0:
        return out
    A = np.zeros((n, n))
    for i, nbrs in enumerate(adj):
        for j in nbrs:
            A[i, j] = 1
    sub = A[np.ix_(U, U)]
    ncomp, comp = connected_components(sub, directed=False)
    known_nbr = (A[U][:, ~unknown].sum(1) > 0)
    anchored_comp = {c for c in range(ncomp) if known_nbr[comp == c].any()}
    keep = np.array([comp[k] in anchored_comp for k in range(len(U))])
    Ua = U[keep]
    out[U[~keep]] = 0.0
    if len(Ua):
        deg = A[Ua].sum(1)
        L = np.diag(deg) - A[np.ix_(Ua, Ua)]
        rhs = A[Ua][:, ~unknown] @ values[~unknown]
        out[Ua] = np.linalg.solve(L, rhs)
    return out


def evaluate(F, s, scores, labels, K, steps, adj, masks):
    """s: [N, P] flat coefficients; scores [T, N, K]; labels [P] (feature per element)."""
    T, N = scores.shape[:2]
    counts = counts_for(K, steps)
    frac = np.array(counts) / K
    out = {k: np.zeros((T, N, len(counts))) for k in ["deletion", "insertion", "road_morf", "road_lerf"]}
    mu = np.zeros((T, N))
    for t in range(T):
        for e in range(N):
            order = np.argsort(-scores[t, e], kind="stable")
            rank = np.empty(K, dtype=int)
            rank[order] = np.arange(K)
            er = rank[labels]
            for p, c in enumerate(counts):
                removed = er < c
                out["deletion"][t, e, p] = F(np.where(removed, 0.0, s[e]))[t]
                out["insertion"][t, e, p] = F(np.where(removed, s[e], 0.0))[t]
                out["road_morf"][t, e, p] = F(solve_road(adj, s[e].copy(), removed))[t]
                out["road_lerf"][t, e, p] = F(solve_road(adj, s[e].copy(), (K - 1 - er) < c))[t]
            f0 = F(s[e])[t]
            a = np.array([scores[t, e][m > 0].sum() for m in masks])
            d = np.array([f0 - F(np.where(m[labels] > 0, 0.0, s[e]))[t] for m in masks])
            mu[t, e] = np.corrcoef(a, d)[0, 1]
    for k in ["deletion", "insertion", "road_morf", "road_lerf"]:
        out[k + "_auc"] = np.trapz(out[k], frac, axis=-1)
    out["mu_fidelity"] = mu
    return out


rng = np.random.RandomState(5)

# ---- fft2, per coefficient ---------------------------------------------------
s = np.stack([np.stack([np.fft.fft2(xi[0]).real, np.fft.fft2(xi[0]).imag], -1) for xi in x])[:, None]  # [2,1,8,8,2]
s = s.astype(np.float32).astype(np.float64)
P = s[0].size


def F_fft(flat):
    c = flat.reshape(1, 8, 8, 2)
    img = np.fft.ifft2(c[..., 0] + 1j * c[..., 1]).real
    return cnn(torch.tensor(img[None])).detach().numpy()[0]


adj = [[] for _ in range(P)]
idx = np.arange(P).reshape(8, 8, 2)
for r in range(8):
    for q in range(8):
        for k in range(2):
            for (rr, qq) in [((r + 1) % 8, q), ((r - 1) % 8, q), (r, (q + 1) % 8), (r, (q - 1) % 8)]:
                adj[idx[r, q, k]].append(idx[rr, qq, k])
scores = rng.randn(3, 2, P).astype(np.float32)
masks = (rng.rand(10, P) < 0.3).astype(np.float32)
res = evaluate(F_fft, s.reshape(2, P), scores.astype(np.float64), np.arange(P), P, 16, adj, masks)
write_fixture(os.path.join(data, "evaluate_fft2.txt"), dict(
    s=s, scores=scores.reshape(3, 2, 1, 8, 8, 2), masks=masks, **res), __doc__)

# ---- dwt2, per sub-band --------------------------------------------------------
coeffs = [pywt.wavedec2(xi[0], "db2", mode="symmetric", level=2) for xi in x]
shapes = [coeffs[0][0].shape] + [a.shape for d in coeffs[0][1:] for a in d]
sizes = [int(np.prod(sh)) for sh in shapes]
offsets = np.cumsum([0] + sizes[:-1])
levels = [2, 2, 2, 2, 1, 1, 1]
orient = ["a", "h", "v", "d", "h", "v", "d"]
c = np.stack([np.concatenate([cf[0].ravel()] + [a.ravel() for d in cf[1:] for a in d]) for cf in coeffs])
c = c.astype(np.float32).astype(np.float64)  # [2, n]
n = c.shape[1]
labels = np.concatenate([np.full(sz, b) for b, sz in enumerate(sizes)])


def synthesis(flat):
    parts = [flat[o:o + sz].reshape(sh) for o, sz, sh in zip(offsets, sizes, shapes)]
    return pywt.waverec2([parts[0], tuple(parts[1:4]), tuple(parts[4:7])], "db2", mode="symmetric")


def F_dwt(flat):
    return cnn(torch.tensor(synthesis(flat)[None, None])).detach().numpy()[0]


adj = [set() for _ in range(n)]


def link(a, b):
    adj[a].add(b)
    adj[b].add(a)


for b, (o, sh) in enumerate(zip(offsets, shapes)):
    h, w = sh
    for r in range(h):
        for q in range(w):
            if r + 1 < h:
                link(o + r * w + q, o + (r + 1) * w + q)
            if q + 1 < w:
                link(o + r * w + q, o + r * w + q + 1)
            if orient[b] != "a" and levels[b] == 1:
                pb = [k for k in range(7) if levels[k] == 2 and orient[k] == orient[b]][0]
                ph, pw = shapes[pb]
                link(o + r * w + q, offsets[pb] + min(r // 2, ph - 1) * pw + min(q // 2, pw - 1))
adj = [sorted(a) for a in adj]
scores = rng.randn(3, 2, 7).astype(np.float32)
masks = (rng.rand(8, 7) < 0.4).astype(np.float32)
masks[masks.sum(1) == 0, 0] = 1
res = evaluate(F_dwt, c, scores.astype(np.float64), labels, 7, 0, adj, masks)
write_fixture(os.path.join(data, "evaluate_dwt2.txt"), dict(
    coefficients=c[:, None], scores=scores, masks=masks, **res), "dwt2:db2:2:symmetric by sub-band; see make_evaluate.py")
