"""PyTorch reference values for the pooling family.

F.max_pool1d/2d, F.avg_pool1d/2d (padding, stride, ceil_mode,
count_include_pad variants) and adaptive average pooling to size 1, with
input gradients for a random output cotangent u.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_pool.py

Every case <family>.<i> holds:
  config  1d: [k, s, pad_left, pad_right, ceil_mode, count_include_pad]
          2d: [kh, kw, sh, sw, pad_top, pad_left, pad_bottom, pad_right,
               ceil_mode, count_include_pad]
          (stride 0 means "equal to the kernel", torch's stride=None)
  x, y, u, dx (= u^T dy/dx), and for max pooling idx: flat index into the
  whole of x of each output's argmax (when torch reports it).
Asymmetric padding, which torch's pooling functions lack, is emulated with
F.pad (-inf for max pooling, zeros for average pooling with
count_include_pad).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


def distinct(shape, shift=0.0):
    """Values 0.1 apart in random order: no ties, and finite-difference
    steps of the gradient checker cannot swap a window's maximum."""
    n = int(np.prod(shape))
    perm = torch.randperm(n).to(torch.float32)
    return ((perm - n / 2) * 0.1 + shift).reshape(shape)


def flat_indices(idx, x_shape):
    """torch's per-plane indices -> flat indices into the whole tensor."""
    plane = int(np.prod(x_shape[2:]))
    planes = torch.arange(x_shape[0] * x_shape[1]).reshape(x_shape[0], x_shape[1], *([1] * (len(x_shape) - 2)))
    return idx + planes * plane


def run(fn, x):
    x = x.clone().requires_grad_(True)
    out = fn(x)
    y = out[0] if isinstance(out, tuple) else out
    u = torch.randn_like(y)
    y.backward(u)
    idx = out[1] if isinstance(out, tuple) else None
    return y.detach(), u, x.grad, idx


def case(store, prefix, config, x, fn, with_idx=False):
    y, u, dx, idx = run(fn, x)
    store[prefix + ".config"] = torch.tensor(config, dtype=torch.float32)
    store[prefix + ".x"] = x
    store[prefix + ".y"] = y
    store[prefix + ".u"] = u
    store[prefix + ".dx"] = dx
    if with_idx:
        store[prefix + ".idx"] = flat_indices(idx, x.shape).to(torch.float32)


def pool2d(kind, x, k, s, p, ceil, cip, store, prefix):
    """p: symmetric (ph, pw)."""
    stride = None if s == (0, 0) else s
    cfg = [k[0], k[1], s[0], s[1], p[0], p[1], p[0], p[1], int(ceil), int(cip)]
    if kind == "max":
        case(store, prefix, cfg, x, lambda t: F.max_pool2d(t, k, stride, p, ceil_mode=ceil, return_indices=True),
             with_idx=True)
    else:
        case(store, prefix, cfg, x, lambda t: F.avg_pool2d(t, k, stride, p, ceil_mode=ceil, count_include_pad=cip))


def pool1d(kind, x, k, s, p, ceil, cip, store, prefix):
    stride = None if s == 0 else s
    cfg = [k, s, p, p, int(ceil), int(cip)]
    if kind == "max":
        case(store, prefix, cfg, x, lambda t: F.max_pool1d(t, k, stride, p, ceil_mode=ceil, return_indices=True),
             with_idx=True)
    else:
        case(store, prefix, cfg, x, lambda t: F.avg_pool1d(t, k, stride, p, ceil_mode=ceil, count_include_pad=cip))


def asym2d(kind, x, k, s, pads, store, prefix):
    """pads {top, left, bottom, right}; no ceil mode; average with count_include_pad."""
    top, left, bottom, right = pads
    value = float("-inf") if kind == "max" else 0.0
    cfg = [k[0], k[1], s[0], s[1], top, left, bottom, right, 0, 1]
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    case(store, prefix, cfg, x, lambda t: pool(F.pad(t, (left, right, top, bottom), value=value), k, s))


# ---- max pooling ----------------------------------------------------------------
mx = {}
pool2d("max", distinct((2, 2, 7, 6)), (2, 2), (0, 0), (0, 0), False, True, mx, "max2d.0")
pool2d("max", distinct((2, 2, 7, 6)), (3, 2), (2, 1), (1, 1), True, True, mx, "max2d.1")
# all inputs negative: a padding zero would win if padding were not -inf
pool2d("max", distinct((2, 2, 7, 6), shift=-40.0), (3, 3), (2, 2), (1, 1), False, True, mx, "max2d.2")
# ceil mode where the last window would start in the right padding
pool2d("max", distinct((1, 2, 5, 5), shift=-5.0), (2, 2), (2, 2), (1, 1), True, True, mx, "max2d.3")
asym2d("max", distinct((2, 2, 6, 7), shift=-20.0), (2, 3), (1, 2), (0, 1, 1, 0), mx, "max2d.4")
pool1d("max", distinct((2, 2, 11)), 3, 2, 1, True, True, mx, "max1d.0")
pool1d("max", distinct((2, 2, 11)), 4, 0, 0, True, True, mx, "max1d.1")
pool1d("max", distinct((2, 3, 9), shift=-5.0), 2, 2, 1, True, True, mx, "max1d.2")
pool1d("max", distinct((2, 2, 11), shift=-10.0), 5, 1, 2, False, True, mx, "max1d.3")
write_fixture(os.path.join(here, "data", "pool_max.txt"), mx,
              comment=__doc__ + "\nMax pooling: F.max_pool1d / F.max_pool2d.")

# ---- average pooling ------------------------------------------------------------------
av = {}
x2 = torch.randn(2, 2, 7, 6)
x5 = torch.randn(1, 2, 5, 5)
x1 = torch.randn(2, 2, 11)
x9 = torch.randn(2, 3, 9)
pool2d("avg", x2, (3, 3), (2, 2), (1, 1), True, True, av, "avg2d.0")
pool2d("avg", x2, (3, 3), (2, 2), (1, 1), True, False, av, "avg2d.1")
pool2d("avg", x2, (2, 3), (1, 2), (1, 0), False, False, av, "avg2d.2")
pool2d("avg", x5, (2, 2), (2, 2), (1, 1), True, True, av, "avg2d.3")
pool2d("avg", x5, (2, 2), (2, 2), (1, 1), True, False, av, "avg2d.4")
pool2d("avg", x2, (2, 2), (0, 0), (0, 0), False, True, av, "avg2d.5")
asym2d("avg", torch.randn(2, 2, 6, 7), (3, 2), (2, 1), (1, 0, 0, 1), av, "avg2d.6")
pool1d("avg", x1, 3, 2, 1, True, True, av, "avg1d.0")
pool1d("avg", x1, 3, 2, 1, True, False, av, "avg1d.1")
pool1d("avg", x9, 2, 2, 1, True, True, av, "avg1d.2")
pool1d("avg", x1, 4, 0, 0, False, True, av, "avg1d.3")
pool1d("avg", x1, 5, 3, 2, True, False, av, "avg1d.4")
write_fixture(os.path.join(here, "data", "pool_avg.txt"), av,
              comment=__doc__ + "\nAverage pooling: F.avg_pool1d / F.avg_pool2d.")

# ---- global average pooling -------------------------------------------------------------
gl = {}
for i, (shape, fn) in enumerate([((2, 3, 5, 6), lambda t: F.adaptive_avg_pool2d(t, 1)),
                                 ((2, 3, 7), lambda t: F.adaptive_avg_pool1d(t, 1)),
                                 ((2, 2, 3, 4, 2), lambda t: F.adaptive_avg_pool3d(t, 1))]):
    x = torch.randn(*shape)
    y, u, dx, _ = run(fn, x)
    gl["global.%d.x" % i] = x
    gl["global.%d.y" % i] = y
    gl["global.%d.u" % i] = u
    gl["global.%d.dx" % i] = dx
write_fixture(os.path.join(here, "data", "pool_global.txt"), gl,
              comment="Global average pooling: F.adaptive_avg_pool1d/2d/3d(x, 1); u is the output cotangent.\n"
                      "Run with /usr/bin/python3 tests/reference/make_pool.py")
