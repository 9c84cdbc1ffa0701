"""Contextual decomposition reference values: acd's rules written with PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_cd.py

cd.txt  A Conv/ReLU/MaxPool/Linear CNN (input [*, 1, 8, 8], 3 outputs) with
        seeded weights, and acd's algorithm (relevant and irrelevant parts
        propagated separately, every layer: conv / linear split the bias in
        proportion to |A rel| and |A irrel| with 1e-20 added; ReLU
        rel' = relu(rel), irrel' = relu(rel + irrel) - relu(rel); max-pool
        follows the argmax of rel + irrel) in float64 for
          - four pixel masks (quadrants) and one random pixel mask;
          - TRIM in fft2 space: rel = Re(ifft2(mask * fft2(x))) for radial
            bands [c - 0.05, c + 0.05) of the normalised frequency radius
            (fftfreq / max |fftfreq| per axis), c in 0.1, 0.3, 0.5, 0.7.
        rel and irrel of every output: [masks, N, 3].
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "data")
torch.manual_seed(0)


def f32(t):
    return t.float().double()


W = {
    "conv1.weight": f32(torch.randn(4, 1, 3, 3) * 0.5), "conv1.bias": f32(torch.randn(4) * 0.2),
    "conv2.weight": f32(torch.randn(6, 4, 3, 3) * 0.3), "conv2.bias": f32(torch.randn(6) * 0.2),
    "fc1.weight": f32(torch.randn(10, 24) * 0.3), "fc1.bias": f32(torch.randn(10) * 0.2),
    "fc2.weight": f32(torch.randn(3, 10) * 0.3), "fc2.bias": f32(torch.randn(3) * 0.2),
}


def affine(rel, irrel, f):
    bias = f(torch.zeros_like(rel))
    r, i = f(rel) - bias, f(irrel) - bias
    pr, pi = r.abs() + 1e-20, i.abs() + 1e-20
    return r + pr / (pr + pi) * bias, i + pi / (pr + pi) * bias


def relu(rel, irrel):
    r = F.relu(rel)
    return r, F.relu(rel + irrel) - r


def pool(rel, irrel):
    _, idx = F.max_pool2d(rel + irrel, 2, return_indices=True)
    take = lambda t: t.flatten(2).gather(2, idx.flatten(2)).view_as(idx)
    return take(rel), take(irrel)


def acd(rel, irrel):
    rel, irrel = affine(rel, irrel, lambda t: F.conv2d(t, W["conv1.weight"], W["conv1.bias"], padding=1))
    rel, irrel = pool(*relu(rel, irrel))
    rel, irrel = affine(rel, irrel, lambda t: F.conv2d(t, W["conv2.weight"], W["conv2.bias"], padding=1))
    rel, irrel = pool(*relu(rel, irrel))
    rel, irrel = rel.flatten(1), irrel.flatten(1)
    rel, irrel = relu(*affine(rel, irrel, lambda t: F.linear(t, W["fc1.weight"], W["fc1.bias"])))
    return affine(rel, irrel, lambda t: F.linear(t, W["fc2.weight"], W["fc2.bias"]))


def model(x):
    h = F.max_pool2d(F.relu(F.conv2d(x, W["conv1.weight"], W["conv1.bias"], padding=1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, W["conv2.weight"], W["conv2.bias"], padding=1)), 2)
    h = F.relu(F.linear(h.flatten(1), W["fc1.weight"], W["fc1.bias"]))
    return F.linear(h, W["fc2.weight"], W["fc2.bias"])


x = f32(torch.randn(2, 1, 8, 8))
pixel_masks = torch.zeros(5, 1, 8, 8, dtype=torch.float64)
pixel_masks[0, :, :4, :4] = 1
pixel_masks[1, :, :4, 4:] = 1
pixel_masks[2, :, 4:, :4] = 1
pixel_masks[3, :, 4:, 4:] = 1
pixel_masks[4] = (torch.rand(1, 8, 8) < 0.5).double()

rel_p, irrel_p = [], []
for m in pixel_masks:
    r, i = acd(m * x, (1 - m) * x)
    rel_p.append(r)
    irrel_p.append(i)

f = np.fft.fftfreq(8)
f = f / np.abs(f).max()
radius = torch.tensor(np.sqrt(f[:, None] ** 2 + f[None, :] ** 2))
centers = [0.1, 0.3, 0.5, 0.7]
spec = torch.fft.fft2(x)
rel_b, irrel_b = [], []
for c in centers:
    band = ((radius >= c - 0.05) & (radius < c + 0.05)).double()
    rel_x = torch.fft.ifft2(band * spec).real
    r, i = acd(rel_x, x - rel_x)
    rel_b.append(r)
    irrel_b.append(i)

write_fixture(os.path.join(data, "cd.txt"), dict(W, **{
    "x": x, "output": model(x), "pixel_masks": pixel_masks,
    "pixel_rel": torch.stack(rel_p), "pixel_irrel": torch.stack(irrel_p),
    "centers": torch.tensor(centers), "band_rel": torch.stack(rel_b), "band_irrel": torch.stack(irrel_b),
}), __doc__)
