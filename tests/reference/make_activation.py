"""PyTorch reference values for the activations (torch.nn.functional).

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_activation.py

x is float32 data (extremes ±100, ±50, ±20, 0, values near 0 and near the
GELU/softplus switch points, then normal samples) evaluated in float64 so the
fixture holds the true values of φ(x) and u·φ'(x) at those float32 points.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

extremes = [-100.0, -50.0, -20.0, -10.0, -6.0, -4.5, -3.0, -2.01, -1.99, -1.0, -0.3, -1e-3,
            0.0, 1e-3, 0.3, 1.0, 2.4, 3.0, 6.0, 10.0, 19.0, 21.0, 50.0, 100.0]
x32 = torch.cat([torch.tensor(extremes), 3.0 * torch.randn(36)]).float().reshape(5, 12)
u32 = torch.randn(5, 12)

cases = {
    "relu": lambda t: F.relu(t),
    "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
    "leaky_relu_0_2": lambda t: F.leaky_relu(t, 0.2),
    "elu": lambda t: F.elu(t, 1.0),
    "elu_0_5": lambda t: F.elu(t, 0.5),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": lambda t: F.softplus(t, beta=1.0, threshold=20.0),
    "softplus_2_5": lambda t: F.softplus(t, beta=2.0, threshold=5.0),
    "gelu": lambda t: F.gelu(t),
}



def flush(t):
    # Below float's normal range the reader (std::stof) rejects the value;
    # the tests compare with an absolute floor far above 1e-30 anyway.
    return torch.where(t.abs() < 1e-30, torch.zeros_like(t), t)


out = {"x": x32, "u": u32}
for name, fn in cases.items():
    x = x32.double().requires_grad_(True)
    y = fn(x)
    y.backward(u32.double())
    out[name + "_y"] = flush(y.detach())
    out[name + "_dx"] = flush(x.grad)
write_fixture(os.path.join(here, "data", "activation.txt"), out,
              comment="torch.nn.functional activations on x [5,12] (float32 values, evaluated in float64);\n"
                      "<name>_y = f(x), <name>_dx = u * f'(x). leaky_relu_0_2: slope 0.2; elu_0_5: alpha 0.5;\n"
                      "softplus_2_5: beta 2, threshold 5.")
