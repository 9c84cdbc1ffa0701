"""NumPy reference values for the FFT kernels (trim/kernels/fft.hpp).

Run with Debian's python3:  /usr/bin/python3 tests/reference/make_fft.py

Every case file holds a real input `x` [batch..., n1..nd], a complex input `z`
[batch..., n1..nd, 2], a half-spectrum input `zh` [batch..., n1..n(d-1), nd//2+1, 2]
and, per norm, numpy.fft results:
  fftr_<norm>  = fftn(x)            (full spectrum of a real input)
  rfft_<norm>  = rfftn(x)
  irfft_<norm> = irfftn(zh, s=(n1..nd))
  fft_<norm>   = fftn(z),  ifft_<norm> = ifftn(z)
  dct2_/dct3_/idct2_/idct3_<norm>  (SciPy's dctn / idctn, types 2 and 3)
The DCTs are computed in float64 from the explicit cosine sums (SciPy is not
needed): type 2  y_k = 2 sum_n x_n cos(pi k (2n+1) / 2N),
         type 3  y_k = x_0 + 2 sum_{n>=1} x_n cos(pi (2k+1) n / 2N),
norm 'forward' divides by 2N, 'ortho' uses the orthonormal matrices (type 2
scaled by 1/sqrt(2N) with row 0 further by 1/sqrt(2); type 3 is its
transpose), idct of type t is the inverse of dct of type t with the same norm.
Multi-axis transforms apply the 1-D one along each axis.
`config` = [d].
"""
import os

import numpy as np

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
NORMS = ["backward", "ortho", "forward"]


def dct_matrix(n, kind, norm):
    k = np.arange(n)[:, None].astype(np.float64)
    j = np.arange(n)[None, :].astype(np.float64)
    c2 = 2.0 * np.cos(np.pi * k * (2 * j + 1) / (2 * n))   # type 2: rows k, cols n
    if norm == "ortho":
        o = c2 / np.sqrt(2.0 * n)
        o[0, :] /= np.sqrt(2.0)                          # orthonormal DCT-II
        return o if kind == 2 else o.T                   # DCT-III is its transpose
    if kind == 2:
        m = c2
    else:
        m = 2.0 * np.cos(np.pi * (2 * k + 1) * j / (2 * n))
        m[:, 0] = 1.0
    return m / (2.0 * n) if norm == "forward" else m


def apply_axes(x, d, mat_for_n):
    y = np.asarray(x, dtype=np.float64)
    for ax in range(y.ndim - d, y.ndim):
        m = mat_for_n(y.shape[ax])
        y = np.moveaxis(np.tensordot(y, m, axes=([ax], [1])), -1, ax)
    return y


def dctn(x, d, kind, norm):
    return apply_axes(x, d, lambda n: dct_matrix(n, kind, norm))


def idctn(x, d, kind, norm):
    inv = {"backward": "forward", "forward": "backward", "ortho": "ortho"}[norm]
    return apply_axes(x, d, lambda n: dct_matrix(n, 5 - kind, inv))


def cplx(a):
    return np.stack([a.real, a.imag], axis=-1)


def case(name, batch, dims, norms, seed):
    rng = np.random.default_rng(seed)
    d = len(dims)
    axes = tuple(range(len(batch), len(batch) + d))
    x = rng.standard_normal(batch + dims).astype(np.float32).astype(np.float64)
    z = rng.standard_normal(batch + dims + (2,)).astype(np.float32).astype(np.float64)
    hdims = dims[:-1] + (dims[-1] // 2 + 1,)
    zh = rng.standard_normal(batch + hdims + (2,)).astype(np.float32).astype(np.float64)
    zc = z[..., 0] + 1j * z[..., 1]
    zhc = zh[..., 0] + 1j * zh[..., 1]
    t = {"config": np.array([d]), "x": x, "z": z, "zh": zh}
    for nm in norms:
        t["fftr_" + nm] = cplx(np.fft.fftn(x, axes=axes, norm=nm))
        t["rfft_" + nm] = cplx(np.fft.rfftn(x, axes=axes, norm=nm))
        t["irfft_" + nm] = np.fft.irfftn(zhc, s=dims, axes=axes, norm=nm)
        t["fft_" + nm] = cplx(np.fft.fftn(zc, axes=axes, norm=nm))
        t["ifft_" + nm] = cplx(np.fft.ifftn(zc, axes=axes, norm=nm))
        for kind in (2, 3):
            t["dct%d_%s" % (kind, nm)] = dctn(x, d, kind, nm)
            t["idct%d_%s" % (kind, nm)] = idctn(x, d, kind, nm)
    write_fixture(os.path.join(here, "data", "fft_%s.txt" % name), t,
                  comment="numpy.fft / explicit DCT sums, batch %s, sizes %s, float64 from float32 inputs"
                  % (batch, dims))


# Sanity check of the DCT matrices: idct(dct(x)) == x for every kind and norm.
_v = np.random.default_rng(9).standard_normal((3, 7))
for _k in (2, 3):
    for _nm in NORMS:
        assert np.allclose(idctn(dctn(_v, 1, _k, _nm), 1, _k, _nm), _v)
assert np.allclose(dct_matrix(7, 2, "ortho") @ dct_matrix(7, 2, "ortho").T, np.eye(7))

case("n8", (2,), (8,), NORMS, 1)
case("n7", (2,), (7,), ["backward", "ortho"], 2)
case("n13", (2,), (13,), ["backward"], 3)
case("6x5", (1,), (6, 5), NORMS, 4)
case("4x7", (2, 1), (4, 7), ["backward"], 5)
case("3d", (2,), (2, 3, 5), ["forward"], 6)

a = np.arange(2 * 5 * 4, dtype=np.float64).reshape(2, 5, 4)
b = np.arange(3 * 5 * 2, dtype=np.float64).reshape(3, 5, 2)
write_fixture(os.path.join(here, "data", "fft_shift.txt"), {
    "a": a, "shift_a": np.fft.fftshift(a, axes=(-2, -1)), "ishift_a": np.fft.ifftshift(a, axes=(-2, -1)),
    "b": b, "shift_b": np.fft.fftshift(b, axes=(-2,)), "ishift_b": np.fft.ifftshift(b, axes=(-2,)),
}, comment="numpy.fft.fftshift / ifftshift; a over its last 2 axes, b complex [3,5,2] over axis -2")
