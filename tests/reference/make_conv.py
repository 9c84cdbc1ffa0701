"""PyTorch reference values for the convolution family
(torch.nn.functional.conv1d / conv2d).

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_conv.py

One fixture per configuration, tests/reference/data/conv{1,2}d_<name>.txt,
holding the configuration itself (tensor `config`), the inputs (x, weight,
bias), the output y, a random output cotangent u and the gradients of <u, y>
with respect to x, weight and bias. Asymmetric padding is applied with F.pad
before an unpadded convolution, so it does not rely on any padding argument of
conv itself. Values are computed in float64 from the float32 inputs.
"""
import os

import torch
import torch.nn.functional as F

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))

# name: (batch, c_in, spatial, c_out, kernel, stride, pads, dilation, groups, bias)
# pads are {top, left, bottom, right} for 2-D and {left, right} for 1-D.
CONV2D = {
    "basic": (2, 3, (6, 7), 4, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
    "stride2": (2, 2, (7, 8), 3, (3, 2), (2, 2), (0, 0, 0, 0), (1, 1), 1, True),
    "asympad": (2, 2, (5, 6), 3, (3, 3), (1, 1), (1, 0, 2, 1), (1, 1), 1, True),
    "dilation2": (2, 2, (7, 7), 3, (3, 3), (2, 1), (1, 2, 1, 2), (2, 2), 1, True),
    "groups2": (2, 4, (5, 5), 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2, True),
    "depthwise": (3, 3, (6, 5), 6, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 3, True),
    "pointwise": (3, 5, (4, 5), 3, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1, True),
    "pointwise_s2": (2, 4, (5, 6), 3, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1, True),
    "odd_nobias": (3, 3, (5, 9), 2, (2, 4), (1, 3), (0, 2, 1, 1), (1, 2), 1, False),
    # enough input channels for the input gradient to run as a forward conv
    "wide_same": (2, 8, (4, 5), 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
    "dilated_same": (2, 2, (6, 9), 3, (3, 3), (1, 1), (2, 1, 2, 2), (2, 2), 1, True),
}
CONV1D = {
    "basic": (2, 3, (10,), 4, (3,), (1,), (1, 1), (1,), 1, True),
    "mixed": (3, 3, (11,), 6, (3,), (2,), (2, 1), (2,), 3, False),
    "pointwise": (2, 4, (7,), 2, (1,), (1,), (0, 0), (1,), 1, True),
    "groups2_pad": (2, 4, (6,), 4, (4,), (1,), (0, 3), (1,), 2, True),
}


def make(dim, name, spec, seed):
    n, cin, spatial, cout, kernel, stride, pads, dilation, groups, bias = spec
    torch.manual_seed(seed)
    layer = (torch.nn.Conv1d if dim == 1 else torch.nn.Conv2d)(
        cin, cout, kernel, stride=stride, dilation=dilation, groups=groups, bias=bias)
    x32 = torch.randn(n, cin, *spatial)
    x = x32.double().requires_grad_(True)
    w = layer.weight.detach().double().requires_grad_(True)
    b = layer.bias.detach().double().requires_grad_(True) if bias else None
    if dim == 2:
        top, left, bottom, right = pads
        xp = F.pad(x, (left, right, top, bottom))
        y = F.conv2d(xp, w, b, stride=stride, dilation=dilation, groups=groups)
    else:
        xp = F.pad(x, pads)
        y = F.conv1d(xp, w, b, stride=stride, dilation=dilation, groups=groups)
    u = torch.randn(y.shape, dtype=torch.float32).double()
    y.backward(u)
    config = list(stride) + list(pads) + list(dilation) + [groups, int(bias)]
    tensors = {"config": torch.tensor(config, dtype=torch.float32), "x": x.detach(),
               "weight": w.detach(), "y": y.detach(), "u": u, "dx": x.grad, "dweight": w.grad}
    if bias:
        tensors["bias"] = b.detach()
        tensors["dbias"] = b.grad
    layout = "stride(%d), pads(%d), dilation(%d), groups, bias" % (dim, 2 * dim, dim)
    write_fixture(os.path.join(here, "data", "conv%dd_%s.txt" % (dim, name)), tensors, comment=(
        "F.conv%dd '%s': x %s, weight %s, stride %s, pads %s, dilation %s, groups %d, bias %s\n"
        "config = [%s]; u is the output cotangent; float64 reference"
        % (dim, name, list(x.shape), list(w.shape), stride, pads, dilation, groups, bias, layout)))


for i, (name, spec) in enumerate(CONV2D.items()):
    make(2, name, spec, 100 + i)
for i, (name, spec) in enumerate(CONV1D.items()):
    make(1, name, spec, 200 + i)
