#!/usr/bin/python3
"""Times trim's NMF against scikit-learn's on the same data, in the same run.

Usage (after `ninja -C build`):
    /usr/bin/python3 bench/compare_sklearn.py [--build build] [--repetitions 5]
                                              [--random-repetitions 3] [--skip-random]

Cases: scikit-learn's digits (1797 x 64, k = 16; solvers cd and mu) and a
10000 x 784 uniform random matrix (k = 30, cd), generated identically on both
sides (splitmix64 of the index, see bench_nmf.cpp). scikit-learn runs
NMF(n_components=k, solver=..., random_state=0) with its defaults (init
nndsvda, tol 1e-4, max_iter 200); trim runs the same configuration (seed 0
draws the same randomised-SVD probes, so both start from the same point).

Reported, as medians over repetitions (wall-clock seconds):
  sklearn    scikit-learn's fit, its iterations and final reconstruction error E
  trim fit   trim's full fit with the same options
  trim to E  trim's time to reach reconstruction error <= E·(1 + 1e-9) (BM_NmfToTarget)
  ratio      sklearn / (trim to E): how many times faster trim reaches E;
             "not reached" when trim stopped (at 2000 iterations) above E
"""
import argparse
import json
import os
import statistics
import subprocess
import time
import warnings

import numpy as np
import sklearn
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

warnings.simplefilter("ignore", ConvergenceWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "tests", "reference", "data", "digits.txt")


def load_digits_fixture(path):
    """The compact digits fixture (same decoding as bench_nmf.cpp)."""
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            v = []
            for c in line:
                if "A" <= c <= "Z":
                    v.extend([0] * (ord(c) - ord("A") + 1))
                elif "1" <= c <= "9":
                    v.append(ord(c) - ord("0"))
                else:
                    v.append(ord(c) - ord("a") + 10)
            rows.append(v)
    return np.array(rows, dtype=np.float64)


def hashed_uniform(n, m, salt):
    """bench_nmf.cpp's hashed_uniform: splitmix64 of salt·2^32 + index."""
    with np.errstate(over="ignore"):
        z = (np.uint64(salt) << np.uint64(32)) + np.arange(n * m, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return ((z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53).reshape(n, m)


def time_sklearn(X, k, solver, repetitions):
    times, model = [], None
    for _ in range(repetitions):
        model = NMF(n_components=k, solver=solver, random_state=0)
        t0 = time.perf_counter()
        model.fit(X)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), model.n_iter_, model.reconstruction_err_


def run_trim(build, targets, repetitions, bench_filter):
    exe = os.path.join(build, "bench", "bench_nmf")
    args = [exe, "--digits=" + os.path.abspath(DIGITS), "--benchmark_format=json",
            "--benchmark_repetitions=%d" % repetitions, "--benchmark_filter=" + bench_filter]
    args += ["--%s=%.17g" % (name, value) for name, value in targets.items()]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    runs = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates (mean, median, ...) of repetitions
        name = b["run_name"]
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        runs.setdefault(name, []).append((b["real_time"] * scale, b["nmf_iters"], b["error"]))
    return {name: (statistics.median(r[0] for r in rs), rs[0][1], rs[0][2]) for name, rs in runs.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--random-repetitions", type=int, default=3)
    p.add_argument("--skip-random", action="store_true")
    a = p.parse_args()

    cases = [("digits", "cd", load_digits_fixture(DIGITS), 16, a.repetitions),
             ("digits", "mu", load_digits_fixture(DIGITS), 16, a.repetitions)]
    if not a.skip_random:
        cases.append(("random", "cd", hashed_uniform(10000, 784, 1), 30, a.random_repetitions))

    print("NMF fit, scikit-learn %s / numpy %s vs trim (double precision), median wall seconds"
          % (sklearn.__version__, np.__version__))
    sk = {}
    for data, solver, X, k, reps in cases:
        sk[(data, solver)] = time_sklearn(X, k, solver, reps)
    rows = []
    for data, solver, X, k, reps in cases:
        t_sk, it_sk, e_sk = sk[(data, solver)]
        # E to 1e-9 relative: an identical trajectory may land a rounding error above E
        tr = run_trim(a.build, {"target_%s_%s" % (data, solver): e_sk * (1 + 1e-9)}, reps,
                      "BM_Nmf(Fit|ToTarget)/%s/%s$" % (data, solver))
        fit = tr["BM_NmfFit/%s/%s" % (data, solver)]
        tgt = tr["BM_NmfToTarget/%s/%s" % (data, solver)]
        rows.append((data, solver, k, X.shape, t_sk, it_sk, e_sk, fit, tgt))

    print("%-16s %-3s %3s | %9s %5s %12s | %9s %5s %12s | %9s %5s | %7s"
          % ("data", "sol", "k", "sklearn s", "iters", "error", "trim s", "iters", "error",
             "to E s", "iters", "ratio"))
    for data, solver, k, shape, t_sk, it_sk, e_sk, fit, tgt in rows:
        # A time to E only counts if trim got there (the same 1e-9 slack as the target).
        reached = tgt[2] <= e_sk * (1 + 1e-9)
        ratio = "%6.1fx" % (t_sk / tgt[0]) if reached else "not reached (%.6f)" % tgt[2]
        print("%-16s %-3s %3d | %9.4f %5d %12.6f | %9.4f %5d %12.6f | %9.4f %5d | %s"
              % ("%s %dx%d" % (data, shape[0], shape[1]), solver, k, t_sk, it_sk, e_sk,
                 fit[0], fit[1], fit[2], tgt[0], tgt[1], ratio))


if __name__ == "__main__":
    main()
