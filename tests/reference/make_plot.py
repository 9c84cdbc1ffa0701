#!/usr/bin/python3
"""Reference layouts for the figure helpers of io/plot.hpp (NumPy, PyWavelets 1.1).

Usage: /usr/bin/python3 tests/reference/make_plot.py
Writes tests/reference/data/plot_layouts.txt (text fixture, see fixture.py).

- fourier_<H>x<W>: the coefficient scores arange(H*W) of an fft2 spectrum laid
  out as a heatmap with NumPy's fftshift and the rows flipped (highest vertical
  frequency on top); rfft_<H>x<W> the same for a half spectrum (rows shifted only).
- mosaic_<H>x<W>: pywt.coeffs_to_array of wavedec2(db2, level 2, symmetric) of an
  H x W image whose coefficients, in the flattened wavedec2 order
  (cA_2, cH_2, cV_2, cD_2, cH_1, cV_1, cD_1), are replaced by 1, 2, 3, ...
  (padding 0 where no band lies).
"""
import os

import numpy as np
import pywt

from fixture import write_fixture

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def fourier(h, w, half):
    v = np.arange(h * w, dtype=np.float64).reshape(h, w)
    v = np.fft.fftshift(v, axes=(0,)) if half else np.fft.fftshift(v)
    return np.flipud(v)


def mosaic(h, w):
    coeffs = pywt.wavedec2(np.zeros((h, w)), "db2", mode="symmetric", level=2)
    counter = [1.0]

    def numbered(a):
        n = a.size
        out = np.arange(counter[0], counter[0] + n, dtype=np.float64).reshape(a.shape)
        counter[0] += n
        return out

    numbered_coeffs = [numbered(coeffs[0])] + [tuple(numbered(b) for b in level) for level in coeffs[1:]]
    array, _ = pywt.coeffs_to_array(numbered_coeffs, padding=0)
    return array


tensors = {}
for h, w in [(4, 6), (5, 7)]:
    tensors["fourier_%dx%d" % (h, w)] = fourier(h, w, False)
    tensors["rfft_%dx%d" % (h, w)] = fourier(h, w, True)
for h, w in [(16, 16), (11, 9)]:
    tensors["mosaic_%dx%d" % (h, w)] = mosaic(h, w)
write_fixture(os.path.join(DATA, "plot_layouts.txt"), tensors,
              "fftshift / flipud heatmap layouts and pywt.coeffs_to_array mosaics (make_plot.py)")
