"""PyTorch autograd reference values for TRIM attributions.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_attribution.py

attribution_fft2.txt  A small CNN (conv 3x3 -> tanh -> max-pool 2 -> linear 3)
                      with seeded weights, explained in fft2 space:
                      F(s) = cnn(Re(ifft2(s))), s = numpy.fft.fft2(x) stored as
                      (re, im). Gradients of every output w.r.t. s, and
                      integrated gradients (Gauss-Legendre, 50 steps, zero
                      baseline), computed with batched autograd in float64.
"""
import os

import numpy as np
import torch

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
