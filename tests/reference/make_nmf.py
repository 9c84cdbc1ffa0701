#!/usr/bin/python3
"""Reference values for NMF and PCA from scikit-learn (Debian's python3-sklearn 1.2.1).

Run with Debian's interpreter from the repository root:
    /usr/bin/python3 tests/reference/make_nmf.py

Writes (tests/reference/data/):
  nmf_cd.txt, nmf_mu.txt  iterates after 1 and 50 iterations from a shared custom
                          start (W0, H0), converged fits (n_iter, error), transform
  nmf_init.txt            nndsvd / nndsvda starts of an exactly low-rank X
  nmf_digits.txt          reconstruction error and n_iter of a full fit on digits
  pca.txt                 PCA (svd_solver='full'), plain and whitened, tall and wide
  digits.txt              the digits data itself (see write_digits)

NMF/PCA values are float64 written with 17 significant digits (the test reads
them as double): the same `tensor <name> <rank> <dims...>` format as
fixture.py, which rounds to float32 and would not do for 1e-8 comparisons.
"""
import itertools
import os
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.decomposition import NMF, PCA, non_negative_factorization
from sklearn.decomposition._nmf import _initialize_nmf
from sklearn.exceptions import ConvergenceWarning

warnings.simplefilter("ignore", ConvergenceWarning)
warnings.simplefilter("ignore", UserWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def write_double_fixture(path, tensors, comment=""):
    with open(path, "w") as f:
        for line in comment.strip().splitlines():
            f.write("# " + line + "\n")
        for name, value in tensors.items():
            a = np.ascontiguousarray(np.asarray(value, dtype=np.float64))
            if a.ndim == 0:
                a = a.reshape(1)
            f.write("tensor %s %d %s\n" % (name, a.ndim, " ".join(str(d) for d in a.shape)))
            flat = a.reshape(-1)
            for i in range(0, flat.size, 6):
                f.write(" ".join("%.17g" % v for v in flat[i:i + 6]) + "\n")


def nmf_data(rng, n=12, m=8, k=3, zeros=True):
    X = rng.random((n, m))
    if zeros:
        X[X < 0.15] = 0.0  # exact zeros exercise the projected gradient and eps paths
    W0 = rng.random((n, k)) + 0.1
    H0 = rng.random((k, m)) + 0.1
    return X, W0, H0


def run(X, W0, H0, iters, tol=0.0, **kw):
    W, H, n_iter = non_negative_factorization(X, W0.copy(), H0.copy(), n_components=H0.shape[0], init="custom",
                                              max_iter=iters, tol=tol, **kw)
    return W, H, n_iter


CD_CASES = {
    "plain": dict(),
    "l2": dict(alpha_W=0.02, alpha_H="same", l1_ratio=0.0),
    "l1l2": dict(alpha_W=0.01, alpha_H=0.03, l1_ratio=0.4),
}

MU_CASES = {
    "fro": dict(beta_loss="frobenius"),
    "fro_reg": dict(beta_loss="frobenius", alpha_W=0.01, alpha_H=0.02, l1_ratio=0.3),
    "kl": dict(beta_loss="kullback-leibler"),
    "kl_reg": dict(beta_loss="kullback-leibler", alpha_W=0.01, l1_ratio=0.5),
    "is": dict(beta_loss="itakura-saito"),
    "b15": dict(beta_loss=1.5),
    "b3": dict(beta_loss=3.0),
}

BETA = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}


def make_solver_fixture(path, solver, cases, seed):
    rng = np.random.default_rng(seed)
    X, W0, H0 = nmf_data(rng)
    Xpos = X + 0.05  # Itakura-Saito needs X > 0
    Y = rng.random((5, X.shape[1]))  # new data for transform
    Y[Y < 0.15] = 0.0
    out = {"X": X, "Xpos": Xpos, "W0": W0, "H0": H0, "Y": Y}
    lines = []
    for name, kw in cases.items():
        beta = BETA.get(kw.get("beta_loss", "frobenius"), kw.get("beta_loss"))
        Xc = Xpos if beta <= 0 else X
        for iters in (1, 50):
            W, H, n_iter = run(Xc, W0, H0, iters, solver=solver, **kw)
            assert n_iter == iters
            out["%s_%d_W" % (name, iters)] = W
            out["%s_%d_H" % (name, iters)] = H
        # converged fit with scikit-learn's default tol: same n_iter expected
        model = NMF(n_components=H0.shape[0], init="custom", solver=solver, max_iter=400, tol=1e-4, **kw)
        W = model.fit_transform(Xc, W=W0.copy(), H=H0.copy())
        out["%s_fit_W" % name] = W
        out["%s_fit_H" % name] = model.components_
        out["%s_fit_info" % name] = [model.n_iter_, model.reconstruction_err_]
        Yc = Y + 0.05 if beta <= 0 else Y
        out["%s_transform" % name] = model.transform(Yc)
        lines.append("%s: %s, fit n_iter %d" % (name, kw, model.n_iter_))
    comment = ("scikit-learn %s NMF solver=%s from init='custom' (W0, H0); tol=0 for the 1/50-iteration runs.\n"
               "Xpos = X + 0.05 is used for beta <= 0; transform of Y (+0.05 for beta <= 0) by the converged fit.\n"
               % (sklearn.__version__, solver)) + "\n".join(lines)
    write_double_fixture(path, out, comment)


def hashed_matrix(n, m):
    """G[i, j] = ((7919 i + 104729 j + 31 i j) mod 1009) / 1009: generic, reproducible in C++."""
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    return ((7919 * i + 104729 * j + 31 * i * j) % 1009) / 1009.0


def make_init_fixture(path):
    rng = np.random.default_rng(3)
    # Exactly rank 4: the randomised SVD (k + 10 samples >= min(n, m)) is exact.
    A = rng.random((15, 4))
    B = rng.random((4, 10))
    X = A @ B
    out = {"X": X}
    for init in ("nndsvd", "nndsvda"):
        for k in (3, 4):
            W, H = _initialize_nmf(X, k, init=init, random_state=0)
            out["%s_%d_W" % (init, k)] = W
            out["%s_%d_H" % (init, k)] = H
    # seeded starts drawn from numpy.random.RandomState(seed)
    W, H = _initialize_nmf(X, 3, init="random", random_state=7)
    out["random_W"], out["random_H"] = W, H
    W, H = _initialize_nmf(X, 3, init="nndsvdar", random_state=3)
    out["nndsvdar_W"], out["nndsvdar_H"] = W, H
    # a generic X whose randomised SVD has not converged: same probes, same result
    G = hashed_matrix(60, 40)
    W, H = _initialize_nmf(G, 3, init="nndsvda", random_state=0)
    out["generic_W"], out["generic_H"] = W, H
    Gw = np.ascontiguousarray(G[:25])
    W, H = _initialize_nmf(Gw, 4, init="nndsvd", random_state=5)
    out["generic_wide_W"], out["generic_wide_H"] = W, H
    # a large X (the products run on trim's thread pool): a few rows / columns and sums
    B = hashed_matrix(2000, 400)
    W, H = _initialize_nmf(B, 30, init="nndsvda", random_state=0)
    out["big_W_rows"], out["big_H_cols"] = W[:6], H[:, :6]
    out["big_W_colsum"], out["big_H_rowsum"] = W.sum(axis=0), H.sum(axis=1)
    write_double_fixture(path, out, "scikit-learn %s _initialize_nmf on X = A·B (rank 4, 15x10); random (seed 7),\n"
                                    "nndsvdar (seed 3) on X; nndsvda (seed 0) on G = hashed_matrix(60, 40) and nndsvd (seed 5) on its first 25 rows\n"
                                    "(randomised SVD not converged); big_*: nndsvda (seed 0, k 30) of hashed_matrix(2000, 400)" % sklearn.__version__)


def write_digits(path):
    """digits.txt: one line per image, 64 values 0..16 run-length coded.

    '1'-'9' and 'a'-'g' are the values 1..16; 'A'-'Z' are runs of 1..26 zeros.
    """
    X = load_digits().data.astype(int)
    alphabet = "0123456789abcdefg"
    lines = []
    for row in X:
        s = ""
        for v, g in itertools.groupby(row):
            n = len(list(g))
            if v == 0:
                while n > 0:
                    c = min(n, 26)
                    s += chr(ord("A") + c - 1)
                    n -= c
            else:
                s += alphabet[v] * n
        lines.append(s)
    with open(path, "w") as f:
        f.write("# Optical recognition of handwritten digits (UCI ML repository, optdigits test set; E. Alpaydin,\n"
                "# C. Kaynak), 1797 images of 8x8 integers 0..16 as shipped with scikit-learn %s\n"
                "# (sklearn.datasets.load_digits; scikit-learn is BSD-3-Clause). One image per line, row-major;\n"
                "# '1'-'9','a'-'g' = 1..16, 'A'-'Z' = a run of 1..26 zeros. Written by tests/reference/make_nmf.py.\n"
                % sklearn.__version__)
        for s in lines:
            f.write(s + "\n")
    return X


def make_digits_fixture(path, X):
    X = X.astype(np.float64)
    out = {}
    lines = []
    for solver in ("cd", "mu"):
        model = NMF(n_components=16, solver=solver, random_state=0, max_iter=200, tol=1e-4)
        model.fit(X)
        out["%s_info" % solver] = [model.n_iter_, model.reconstruction_err_]
        lines.append("%s: n_iter %d, reconstruction_err %.10g" % (solver, model.n_iter_, model.reconstruction_err_))
    write_double_fixture(path, out, ("scikit-learn %s NMF(n_components=16, init=None (nndsvda), random_state=0) on "
                                     "digits.txt\n" % sklearn.__version__) + "\n".join(lines))


def make_pca_fixture(path):
    rng = np.random.default_rng(5)
    out = {}
    # tall: 30 x 8 with distinct column scales; wide: 6 x 10
    Xt = rng.standard_normal((30, 8)) * np.array([5, 4, 3, 2.5, 2, 1.5, 1, 0.5]) + rng.standard_normal(8)
    Xw = rng.standard_normal((6, 10)) * np.linspace(3, 0.5, 10)
    for tag, X, k in (("tall", Xt, 5), ("wide", Xw, 4), ("tallall", Xt, 8)):
        Y = rng.standard_normal((4, X.shape[1])) * 2
        out["%s_X" % tag] = X
        out["%s_Y" % tag] = Y
        for whiten in (False, True):
            p = PCA(n_components=k, svd_solver="full", whiten=whiten).fit(X)
            w = "w" if whiten else "p"
            out["%s_%s_components" % (tag, w)] = p.components_
            out["%s_%s_transform" % (tag, w)] = p.transform(Y)
            out["%s_%s_inverse" % (tag, w)] = p.inverse_transform(p.transform(Y))
            if not whiten:
                out["%s_mean" % tag] = p.mean_
                out["%s_explained_variance" % tag] = p.explained_variance_
                out["%s_explained_variance_ratio" % tag] = p.explained_variance_ratio_
                out["%s_singular_values" % tag] = p.singular_values_
                out["%s_noise_variance" % tag] = p.noise_variance_
    write_double_fixture(path, out, "scikit-learn %s PCA(svd_solver='full'): tall 30x8 k=5, wide 6x10 k=4, "
                                    "tallall 30x8 k=8; _p plain, _w whiten" % sklearn.__version__)


def main():
    make_solver_fixture(os.path.join(DATA, "nmf_cd.txt"), "cd", CD_CASES, 1)
    make_solver_fixture(os.path.join(DATA, "nmf_mu.txt"), "mu", MU_CASES, 2)
    make_init_fixture(os.path.join(DATA, "nmf_init.txt"))
    X = write_digits(os.path.join(DATA, "digits.txt"))
    make_digits_fixture(os.path.join(DATA, "nmf_digits.txt"), X)
    make_pca_fixture(os.path.join(DATA, "pca.txt"))


if __name__ == "__main__":
    main()
