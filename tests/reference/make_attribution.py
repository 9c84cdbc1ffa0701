"""PyTorch autograd reference values for TRIM attributions.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_attribution.py

attribution_fft2.txt  A small CNN (conv 3x3 -> tanh -> max-pool 2 -> linear 3)
                      with seeded weights, explained in fft2 space:
                      F(s) = cnn(Re(ifft2(s))), s = numpy.fft.fft2(x) stored as
                      (re, im). Gradients of every output w.r.t. s, and
                      integrated gradients (Gauss-Legendre, 50 steps, zero
                      baseline), computed with batched autograd in float64.
attribution_dwt2.txt  The same CNN in dwt2:db2:2:symmetric space: F(c) =
                      cnn(M c) with M the synthesis matrix of pywt.waverec2
                      (built from basis vectors in trim's flattened layout:
                      cA_2, cH_2, cV_2, cD_2, cH_1, cV_1, cD_1 raveled);
                      gradients and IG as above.
attribution_nmf.txt   The same CNN in the space of a 6-component
                      scikit-learn NMF of 64-pixel images: F(s) =
                      cnn(s D + r) with the residual r = x - s D held fixed;
                      s from NMF.transform; gradients and IG as above.
"""
import os

import numpy as np
import pywt
import torch
from sklearn.decomposition import NMF

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "data")
torch.manual_seed(0)


def f32(t):
    """Rounds to float32 (what the fixture stores) and computes in float64."""
    return t.float().double()


conv_w = f32(torch.randn(4, 1, 3, 3) * 0.4)
conv_b = f32(torch.randn(4) * 0.1)
fc_w = f32(torch.randn(3, 64) * 0.2)
fc_b = f32(torch.randn(3) * 0.1)


def cnn(x):
    h = torch.tanh(torch.nn.functional.conv2d(x, conv_w, conv_b, padding=1))
    h = torch.nn.functional.max_pool2d(h, 2)
    return h.flatten(1) @ fc_w.T + fc_b


def trim_fft2(s):
    """s: [N, 1, 8, 8, 2] real (re, im) -> model of the real part of ifft2."""
    x = torch.fft.ifft2(torch.view_as_complex(s.contiguous())).real
    return cnn(x)


def target_grads(f, s):
    """d f(s)[:, t] / d s for every target t: [T, N, ...]."""
    s = s.clone().requires_grad_()
    y = f(s)
    out = []
    for t in range(y.shape[1]):
        (g,) = torch.autograd.grad(y[:, t].sum(), s, retain_graph=True)
        out.append(g)
    return torch.stack(out)


x = f32(torch.randn(2, 1, 8, 8))
s = torch.view_as_real(torch.fft.fft2(x)).contiguous()
s = f32(s)

grad = target_grads(trim_fft2, s)

nodes, weights = np.polynomial.legendre.leggauss(50)
alphas = torch.tensor((nodes + 1) / 2)
wts = torch.tensor(weights / 2)
steps = torch.cat([a * s for a in alphas])  # [50 * N, ...], step-major
g = target_grads(trim_fft2, steps).reshape(3, 50, *s.shape)
ig = (g * wts.reshape(1, 50, 1, 1, 1, 1, 1)).sum(1) * s

write_fixture(os.path.join(data, "attribution_fft2.txt"), {
    "conv1.weight": conv_w, "conv1.bias": conv_b, "fc.weight": fc_w, "fc.bias": fc_b,
    "x": x, "s": s, "output": cnn(x), "gradient": grad, "ig": ig,
}, __doc__)


# ---- dwt2 --------------------------------------------------------------------
def wavedec2_flat(img):
    c = pywt.wavedec2(img, "db2", mode="symmetric", level=2)
    return np.concatenate([c[0].ravel()] + [a.ravel() for d in c[1:] for a in d])


def synthesis_matrix():
    template = pywt.wavedec2(np.zeros((8, 8)), "db2", mode="symmetric", level=2)
    shapes = [template[0].shape] + [a.shape for d in template[1:] for a in d]
    sizes = [int(np.prod(sh)) for sh in shapes]
    cols = []
    for j in range(sum(sizes)):
        flat = np.zeros(sum(sizes))
        flat[j] = 1
        parts, at = [], 0
        for sh, n in zip(shapes, sizes):
            parts.append(flat[at:at + n].reshape(sh))
            at += n
        coeffs = [parts[0]] + [tuple(parts[1 + 3 * k:4 + 3 * k]) for k in range(2)]
        cols.append(pywt.waverec2(coeffs, "db2", mode="symmetric").ravel())
    return torch.tensor(np.stack(cols, axis=1))  # [64, n_coeffs]


M = synthesis_matrix()


def trim_dwt2(c):
    return cnn((c.reshape(c.shape[0], -1) @ M.T).reshape(-1, 1, 8, 8))


c = f32(torch.tensor(np.stack([wavedec2_flat(xi[0].numpy()) for xi in x])).unsqueeze(1))  # [N, 1, n]
steps = torch.cat([a * c for a in alphas])
g = target_grads(trim_dwt2, steps).reshape(3, 50, *c.shape)
write_fixture(os.path.join(data, "attribution_dwt2.txt"), {
    "coefficients": c, "gradient": target_grads(trim_dwt2, c),
    "ig": (g * wts.reshape(1, 50, 1, 1, 1)).sum(1) * c,
}, "dwt2:db2:2:symmetric; see make_attribution.py")

# ---- NMF ---------------------------------------------------------------------
rng = np.random.RandomState(0)
train = np.abs(rng.randn(200, 64))
nmf = NMF(n_components=6, init="nndsvda", max_iter=400, tol=1e-6, random_state=0).fit(train)
D = f32(torch.tensor(nmf.components_))
xp = f32(torch.abs(torch.randn(2, 1, 8, 8)))
codes = f32(torch.tensor(nmf.transform(xp.reshape(2, 64).numpy())))  # [N, 6]
codes = codes.reshape(2, 1, 6)
res = xp - (codes.reshape(2, 6) @ D).reshape(2, 1, 8, 8)


def trim_nmf(s):
    reps = s.shape[0] // 2
    r = res.repeat(reps, 1, 1, 1)
    return cnn((s.reshape(-1, 6) @ D).reshape(-1, 1, 8, 8) + r)


steps = torch.cat([a * codes for a in alphas])
g = target_grads(trim_nmf, steps).reshape(3, 50, *codes.shape)
write_fixture(os.path.join(data, "attribution_nmf.txt"), {
    "components": D, "x": xp, "codes": codes, "residual": res,
    "output": cnn(xp), "gradient": target_grads(trim_nmf, codes),
    "ig": (g * wts.reshape(1, 50, 1, 1, 1)).sum(1) * codes,
}, "NMF, 6 components; see make_attribution.py")
