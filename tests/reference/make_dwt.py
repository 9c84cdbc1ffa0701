#!/usr/bin/python3
"""Reference values for the wavelet kernels and transforms (PyWavelets 1.1.1).

Usage: /usr/bin/python3 tests/reference/make_dwt.py
Writes tests/reference/data/dwt_*.txt (small text fixtures, see fixture.py).

All inputs are float32 (as trim's), transformed in float64 by PyWavelets.
Tensor names encode the case, e.g. `modes_db4_smooth_13_a` is
pywt.dwt(x_13, 'db4', 'smooth')[0] for the batch x_13 of shape [2, 13].
"""
import os

import numpy as np
import pywt

from fixture import write_fixture

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
MODES = ["zero", "constant", "symmetric", "reflect", "periodic", "smooth", "antisymmetric", "antireflect",
         "periodization"]


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def f64(x):
    return np.asarray(x, dtype=np.float64)


def ident(name):
    return name.replace(".", "_")


def modes(rng):
    """dwt in every mode: even, odd, shorter-than-filter and length-1 signals."""
    t = {}
    for n in (1, 3, 13, 16):
        x = rand(rng, 2, n)
        t["x_%d" % n] = x
        for w in ("db4", "bior3.5", "haar"):
            for m in MODES:
                if n == 1 and m in ("reflect", "antireflect"):
                    continue  # PyWavelets 1.1.1 never returns for these
                a, d = pywt.dwt(f64(x), w, m)
                t["modes_%s_%s_%d_a" % (ident(w), m, n)] = a
                t["modes_%s_%s_%d_d" % (ident(w), m, n)] = d
    # idwt of arbitrary coefficients (mode matters only for periodization)
    for w in ("db4", "bior3.5"):
        for m in ("symmetric", "periodization"):
            for n in (7, 8):
                a, d = rand(rng, 2, n), rand(rng, 2, n)
                key = "idwt_%s_%s_%d" % (ident(w), m, n)
                t[key + "_a"], t[key + "_d"] = a, d
                t[key + "_y"] = pywt.idwt(f64(a), f64(d), w, m)
    return t


def families(rng):
    """Every wavelet PyWavelets has, one short signal, symmetric mode."""
    x = rand(rng, 10)
    t = {"x": x}
    for w in pywt.wavelist(kind="discrete"):
        a, d = pywt.dwt(f64(x), w, "symmetric")
        t["fam_%s_a" % ident(w)] = a
        t["fam_%s_d" % ident(w)] = d
    return t


def multilevel(rng):
    t = {}
    cases = [  # (wavelet, mode, n, level)
        ("db4", "symmetric", 37, None), ("db4", "periodization", 37, None), ("sym3", "smooth", 64, 3),
        ("bior2.4", "zero", 37, 2), ("haar", "reflect", 37, 5), ("coif1", "antireflect", 29, 2),
        ("db2", "periodic", 30, 3), ("rbio3.3", "antisymmetric", 23, 2), ("db4", "constant", 20, 3),
        ("db8", "symmetric", 5, 2),
    ]
    for i, (w, m, n, level) in enumerate(cases):
        x = rand(rng, 2, n)
        c = pywt.wavedec(f64(x), w, m, level=level)
        key = "wavedec%d" % i
        t[key + "_x"] = x
        for j, arr in enumerate(c):
            t["%s_c%d" % (key, j)] = arr
        # waverec of arbitrary coefficients with these lengths: exercises
        # PyWavelets' trimming of the approximation at odd lengths.
        r = [rand(rng, *arr.shape) for arr in c]
        for j, arr in enumerate(r):
            t["%s_r%d" % (key, j)] = arr
        t[key + "_rec"] = pywt.waverec([f64(a) for a in r], w, m)
    return t


def two_d(rng):
    t = {}
    x = rand(rng, 7, 6)
    t["dwt2_x"] = x
    for w in ("db2", "bior2.2"):
        for m in MODES:
            a, (h, v, d) = pywt.dwt2(f64(x), w, m)
            for name, arr in zip("ahvd", (a, h, v, d)):
                t["dwt2_%s_%s_%s" % (ident(w), m, name)] = arr
    cases = [  # (wavelet, mode, shape, level)
        ("db2", "symmetric", (2, 11, 14), 2), ("bior1.3", "periodization", (10, 16), None),
        ("db4", "symmetric", (2, 3, 5), 2), ("db4", "periodization", (3, 5), 1), ("sym4", "smooth", (12, 9), 2),
        ("haar", "antireflect", (13, 8), 3),
    ]
    for i, (w, m, shape, level) in enumerate(cases):
        x = rand(rng, *shape)
        c = pywt.wavedec2(f64(x), w, m, level=level)
        key = "wavedec2_%d" % i
        t[key + "_x"] = x
        t[key + "_a"] = c[0]
        for j, det in enumerate(c[1:]):
            for name, arr in zip("hvd", det):
                t["%s_%s%d" % (key, name, j)] = arr
        r0 = rand(rng, *c[0].shape)
        rd = [tuple(rand(rng, *arr.shape) for arr in det) for det in c[1:]]
        t[key + "_ra"] = r0
        for j, det in enumerate(rd):
            for name, arr in zip("hvd", det):
                t["%s_r%s%d" % (key, name, j)] = arr
        t[key + "_rec"] = pywt.waverec2([f64(r0)] + [tuple(f64(a) for a in det) for det in rd], w, m)
    return t


def stationary(rng):
    t = {}
    for i, (w, n, level) in enumerate([("db2", 16, 3), ("haar", 16, None), ("bior2.2", 12, 2), ("sym4", 8, 1),
                                       ("coif2", 16, 2)]):
        x = rand(rng, 2, n)
        c = pywt.swt(f64(x), w, level=level, trim_approx=True)
        key = "swt%d" % i
        t[key + "_x"] = x
        for j, arr in enumerate(c):
            t["%s_c%d" % (key, j)] = arr
        r = [rand(rng, 2, n) for _ in c]
        for j, arr in enumerate(r):
            t["%s_r%d" % (key, j)] = arr
        t[key + "_rec"] = np.stack([pywt.iswt([f64(a[b]) for a in r], w) for b in range(2)])
    for i, (w, shape, level) in enumerate([("db2", (8, 12), 2), ("haar", (8, 8), 3), ("bior1.3", (4, 4), 1)]):
        x = rand(rng, *shape)
        c = pywt.swt2(f64(x), w, level=level, trim_approx=True)
        key = "swt2_%d" % i
        t[key + "_x"] = x
        t[key + "_a"] = c[0]
        for j, det in enumerate(c[1:]):
            for name, arr in zip("hvd", det):
                t["%s_%s%d" % (key, name, j)] = arr
        r0 = rand(rng, *shape)
        rd = [tuple(rand(rng, *shape) for _ in range(3)) for _ in c[1:]]
        t[key + "_ra"] = r0
        for j, det in enumerate(rd):
            for name, arr in zip("hvd", det):
                t["%s_r%s%d" % (key, name, j)] = arr
        t[key + "_rec"] = pywt.iswt2([f64(r0)] + [tuple(f64(a) for a in det) for det in rd], w)
    return t


def main():
    rng = np.random.default_rng(2024)
    header = "PyWavelets %s, numpy %s; made by tests/reference/make_dwt.py" % (pywt.__version__, np.__version__)
    for name, fn in (("dwt_modes", modes), ("dwt_families", families), ("dwt_multilevel", multilevel),
                     ("dwt_2d", two_d), ("dwt_swt", stationary)):
        path = os.path.join(DATA, name + ".txt")
        write_fixture(path, fn(rng), header)
        print("%s: %d bytes" % (path, os.path.getsize(path)))


if __name__ == "__main__":
    main()
