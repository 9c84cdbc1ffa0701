"""NumPy reference for tests/dataset/test_summary.cpp (dataset/summary.hpp).

Run with Debian's NumPy:  /usr/bin/python3 tests/reference/make_summary.py

Writes data/summary/values.npy (300 examples x [2, 3] float32 values),
data/summary/labels.npy (int64 classes 0, 1, 4) and data/summary.txt: for all
examples and per class, numpy's mean, std (ddof=1), sem, quantile (default
linear method: q1, median, q3), and the 95 % percentile bootstrap interval of
the mean with the resampling scheme of docs/scale.md re-implemented here
(SplitMix64-style hash of seed, replicate and index).
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "data")
os.makedirs(os.path.join(data, "summary"), exist_ok=True)

N, SHAPE = 300, (2, 3)
SEED, REPLICATES, LEVEL = 7, 200, 0.95
M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    z &= M64
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & M64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def bootstrap_index(seed, b, i, n):
    s = mix(seed + GOLDEN * (b + 1))
    h = mix(s + GOLDEN * (i + 1))
    return (h * n) >> 64


rng = np.random.default_rng(20)
# Offsets keep every statistic away from zero, so relative errors are meaningful;
# a skewed column (exponential) makes mean and median differ.
values = (rng.normal(size=(N,) + SHAPE) * [[1.0, 2.0, 0.5], [3.0, 1.0, 1.5]] + [[5, -3, 10], [7, 4, -6]])
values[:, 1, 2] = -6 - rng.exponential(2.0, size=N)
values = values.astype(np.float32)
labels = rng.choice([0, 1, 4], size=N, p=[0.5, 0.3, 0.2]).astype(np.int64)
np.save(os.path.join(data, "summary", "values.npy"), values)
np.save(os.path.join(data, "summary", "labels.npy"), labels)


def stats(v):
    v = v.astype(np.float64)
    n = v.shape[0]
    out = {
        "count": np.array([n]),
        "mean": v.mean(axis=0),
        "std": v.std(axis=0, ddof=1),
        "sem": v.std(axis=0, ddof=1) / np.sqrt(n),
        "q1": np.quantile(v, 0.25, axis=0),
        "median": np.quantile(v, 0.5, axis=0),
        "q3": np.quantile(v, 0.75, axis=0),
    }
    means = np.empty((REPLICATES,) + v.shape[1:])
    for b in range(REPLICATES):
        idx = [bootstrap_index(SEED, b, i, n) for i in range(n)]
        means[b] = v[idx].mean(axis=0)
    tail = (1 - LEVEL) / 2
    out["ci_low"] = np.quantile(means, tail, axis=0)
    out["ci_high"] = np.quantile(means, 1 - tail, axis=0)
    return out


with open(os.path.join(data, "summary.txt"), "w") as f:
    f.write("# made by tests/reference/make_summary.py (NumPy %s); seed %d, %d replicates\n" % (np.__version__, SEED, REPLICATES))
    sets = [("all", values)] + [("class%d" % c, values[labels == c]) for c in (0, 1, 4)]
    for name, v in sets:
        for key, a in stats(v).items():
            a = np.asarray(a, dtype=np.float64).reshape(-1)
            f.write("tensor %s_%s 1 %d\n" % (name, key, a.size))
            f.write(" ".join(repr(float(x)) for x in a) + "\n")
