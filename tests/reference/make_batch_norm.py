"""PyTorch reference values for inference-form batch normalisation.

torch.nn.BatchNorm1d/2d/3d in eval mode with non-trivial running statistics,
weight and bias; forward, input gradient and weight/bias gradients for a
random output cotangent u.

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_batch_norm.py

Case bn.<i> holds x, weight, bias, running_mean, running_var, eps ([1]), y,
u, dx, dweight, dbias.
"""
import os

import torch

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

out = {}
cases = [(torch.nn.BatchNorm1d, (5, 4), 1e-5),
         (torch.nn.BatchNorm1d, (2, 3, 6), 1e-3),
         (torch.nn.BatchNorm2d, (2, 3, 4, 5), 1e-5),
         (torch.nn.BatchNorm3d, (2, 2, 3, 2, 2), 1e-5)]
for i, (cls, shape, eps) in enumerate(cases):
    c = shape[1]
    bn = cls(c, eps=eps)
    with torch.no_grad():
        bn.weight.copy_(torch.randn(c))
        bn.bias.copy_(torch.randn(c))
        bn.running_mean.copy_(torch.randn(c))
        bn.running_var.copy_(torch.rand(c) * 2 + 0.1)
    bn.eval()
    x = (torch.randn(*shape) * 2 + 0.5).requires_grad_(True)
    y = bn(x)
    u = torch.randn_like(y)
    y.backward(u)
    p = "bn.%d." % i
    out.update({p + "x": x.detach(), p + "weight": bn.weight.detach(), p + "bias": bn.bias.detach(),
                p + "running_mean": bn.running_mean, p + "running_var": bn.running_var,
                p + "eps": torch.tensor([eps]), p + "y": y.detach(), p + "u": u, p + "dx": x.grad,
                p + "dweight": bn.weight.grad, p + "dbias": bn.bias.grad})
write_fixture(os.path.join(here, "data", "batch_norm.txt"), out, comment=__doc__)
