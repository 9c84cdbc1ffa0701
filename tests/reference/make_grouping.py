"""NumPy reference labels for the frequency groupings (trim/transforms/grouping.hpp).

Run with Debian's python3:  /usr/bin/python3 tests/reference/make_grouping.py

Labels are given per frequency bin ([n1, n2] or [n] for the full spectrum,
[n1, n2//2+1] or [n//2+1] for the half spectrum); the C++ test expands them
over the (re, im) axis and any leading channel axes.

radial_bands: per axis f = fftfreq(n) / max|fftfreq(n)| (rfftfreq for the last
axis of a half spectrum, divided by the same maximum), r = sqrt(f1^2 + f2^2)
(or |f|), edges = linspace(0, sqrt(2) or 1, n_bands + 1), band = the last edge
<= r, the top edge belonging to the last band.
radial_band: label 0 where center - width <= r < center + width, else -1.
physical_bands: f = fftfreq(n, spacing) (cycles per unit); r as above without
normalisation; for 'multipole l' r -> 2 pi * r * (180 * 60 / pi) (spacing in
arcmin); edges explicit, values outside [edges[0], edges[-1]] get -1.
"""
import os

import numpy as np

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))


def axis_freqs(n, half, spacing=1.0, normalise=True):
    f = np.fft.rfftfreq(n, spacing) if half else np.fft.fftfreq(n, spacing)
    if normalise:
        f = f / np.abs(np.fft.fftfreq(n, spacing)).max()
    return f


def radius(dims, half, spacing=1.0, normalise=True):
    fs = [axis_freqs(n, half and i == len(dims) - 1, spacing, normalise) for i, n in enumerate(dims)]
    if len(fs) == 1:
        return np.abs(fs[0])
    return np.sqrt(fs[0][:, None] ** 2 + fs[1][None, :] ** 2)


def band_labels(r, edges):
    lab = np.searchsorted(edges, r, side="right") - 1
    nb = len(edges) - 1
    lab[r == edges[-1]] = nb - 1
    lab[(r < edges[0]) | (r > edges[-1])] = -1
    return lab


t = {}
for dims in [(8, 8), (7, 9), (8,), (9,)]:
    rmax = np.sqrt(2.0) if len(dims) == 2 else 1.0
    for nb in (1, 3, 4, 5):
        edges = np.linspace(0, rmax, nb + 1)
        tag = "x".join(str(d) for d in dims)
        for half in (False, True):
            lab = band_labels(radius(dims, half), edges)
            # every coefficient is in exactly one band
            assert lab.min() >= 0 and lab.max() <= nb - 1
            t["radial_%s_%s_b%d" % ("rfft" if half else "fft", tag, nb)] = lab
    r = radius(dims, False)
    t["band_%s" % "x".join(str(d) for d in dims)] = np.where((r >= 0.25) & (r < 0.75), 0, -1)

# physical bands: 2-D map, 0.5 arcmin pixels, multipole edges
edges_ell = np.array([1000.0, 5000.0, 10000.0, 20000.0])
r = radius((7, 9), False, spacing=0.5, normalise=False)
t["ell_fft_7x9"] = band_labels(2 * np.pi * (r * (180 * 60 / np.pi)), edges_ell)
t["ell_rfft_7x9"] = band_labels(2 * np.pi * (radius((7, 9), True, 0.5, False) * (180 * 60 / np.pi)), edges_ell)
t["ell_edges"] = edges_ell
# 1-D time series sampled at 100 Hz, edges in Hz
edges_hz = np.array([0.0, 10.0, 20.0, 50.0])
t["hz_rfft_16"] = band_labels(radius((16,), True, 0.01, False), edges_hz)
t["hz_fft_16"] = band_labels(radius((16,), False, 0.01, False), edges_hz)
t["hz_edges"] = edges_hz

write_fixture(os.path.join(here, "data", "grouping.txt"), t,
              comment="radial / physical band labels from numpy.fft.fftfreq (see make_grouping.py)")
