#!/usr/bin/python3
"""Reference values for the 3-D transforms (fft3, rfft3, dct3, dwt3) and the
radial shells of |k| (NumPy, SciPy, PyWavelets).

Usage: /usr/bin/python3 tests/reference/make_transform3d.py
Writes tests/reference/data/transform3d.txt (see fixture.py).

- x_even [1, 6, 8, 10], x_odd [1, 5, 6, 7]: float32 volumes (a batch of 1).
- fft3_ortho: numpy.fft.fftn over the last three axes, norm='ortho', as
  (re, im) pairs; rfft3, rfft3_odd: numpy.fft.rfftn (norm 'backward'); dct3_ortho:
  dct3_forward: scipy.fft.dctn type 2 of x_odd.
- dwt3_<wavelet>_<level>_<mode>: pywt.wavedecn(x, wavelet, mode, level,
  axes=(-3, -2, -1)) flattened per example as trim's layout: cA_n raveled,
  then per level from the coarsest the details in key order aad, ada, add,
  daa, dad, dda, ddd, each raveled.
- shells_fft / shells_rfft: the band (0..3, -1 for none) of each bin of the
  6x8x10 grid for 4 radial bands of the normalised radius
  sqrt(f0^2 + f1^2 + f2^2) over [0, sqrt(3)] (fftfreq / max |fftfreq| per
  axis; lo <= r < hi, the top edge in the last band).
"""
import os

import numpy as np
import pywt
import scipy.fft

from fixture import write_fixture

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ["aad", "ada", "add", "daa", "dad", "dda", "ddd"]
AXES = (-3, -2, -1)


def pairs(z):
    return np.stack([z.real, z.imag], axis=-1)


def flat_wavedecn(x, wavelet, level, mode):
    c = pywt.wavedecn(x.astype(np.float64), wavelet, mode=mode, level=level, axes=AXES)
    rows = []
    for b in range(x.shape[0]):
        parts = [c[0][b].ravel()]
        for d in c[1:]:
            parts += [d[k][b].ravel() for k in KEYS]
        rows.append(np.concatenate(parts))
    return np.stack(rows)


def shells(shape, half, n_bands):
    fs = []
    for i, n in enumerate(shape):
        f = np.fft.rfftfreq(n) if (half and i == len(shape) - 1) else np.fft.fftfreq(n)
        fs.append(f / np.abs(np.fft.fftfreq(n)).max())
    f0, f1, f2 = np.meshgrid(*fs, indexing="ij")
    r = np.sqrt(f0 ** 2 + f1 ** 2 + f2 ** 2)
    edges = np.linspace(0, np.sqrt(3.0), n_bands + 1)
    lab = np.searchsorted(edges, r, side="right") - 1
    lab[r == edges[-1]] = n_bands - 1
    lab[(r < edges[0]) | (r > edges[-1])] = -1
    return lab


def main():
    import warnings
    warnings.simplefilter("ignore", UserWarning)  # levels above dwt_max_level on purpose (boundary effects)
    rng = np.random.default_rng(3)
    x_even = rng.standard_normal((1, 6, 8, 10)).astype(np.float32)
    x_odd = rng.standard_normal((1, 5, 6, 7)).astype(np.float32)
    t = {"x_even": x_even, "x_odd": x_odd}
    xe = x_even.astype(np.float64)
    xo = x_odd.astype(np.float64)
    t["fft3_ortho"] = pairs(np.fft.fftn(xe, axes=AXES, norm="ortho"))
    t["rfft3"] = pairs(np.fft.rfftn(xe, axes=AXES))
    t["rfft3_odd"] = pairs(np.fft.rfftn(xo, axes=AXES))
    t["dct3_ortho"] = scipy.fft.dctn(xo, type=2, axes=AXES, norm="ortho")
    for x, name, wavelet, level, mode in ((x_even, "even", "haar", 2, "symmetric"),
                                          (x_even, "even", "db2", 2, "zero"),
                                          (x_odd, "odd", "db2", 1, "periodization"),
                                          (x_odd, "odd", "bior2.2", 1, "reflect"),
                                          (x_odd, "odd", "haar", 2, "smooth")):
        t["dwt3_%s_%s_%d_%s" % (name, wavelet.replace(".", "_"), level, mode)] = flat_wavedecn(x, wavelet, level, mode)
    t["shells_fft"] = shells((6, 8, 10), False, 4)
    t["shells_rfft"] = shells((6, 8, 10), True, 4)
    write_fixture(os.path.join(HERE, "data", "transform3d.txt"), t,
                  "3-D transforms: make_transform3d.py (NumPy %s, SciPy %s, PyWavelets %s)" %
                  (np.__version__, scipy.__version__, pywt.__version__))


if __name__ == "__main__":
    main()
