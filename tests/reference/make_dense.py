"""PyTorch reference values for the dense family (torch.nn.Linear).

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_dense.py
"""
import os

import numpy as np
import torch

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
lin = torch.nn.Linear(7, 5)
x = torch.randn(3, 4, 7, requires_grad=True)
y = lin(x)
u = torch.randn_like(y)
y.backward(u)
write_fixture(os.path.join(here, "data", "dense.txt"), {
    "weight": lin.weight.detach(), "bias": lin.bias.detach(), "x": x.detach(),
    "y": y.detach(), "u": u, "dx": x.grad, "dweight": lin.weight.grad, "dbias": lin.bias.grad,
}, comment="torch.nn.Linear(7, 5) on x [3,4,7]; u is the output cotangent")
