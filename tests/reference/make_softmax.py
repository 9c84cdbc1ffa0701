"""PyTorch reference values for softmax / log-softmax (torch.softmax, torch.log_softmax).

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_softmax.py

Evaluated in float64 at float32 inputs. `x` [3,4,5] holds normal samples
scaled by 3 plus rows shifted by ±1000 (stability: a naive exp overflows);
`e` [4,6] holds extreme rows (±100, ties, one dominant entry).
"""
import os

import torch

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

x32 = 3.0 * torch.randn(3, 4, 5)
x32[1, 2, :] += 1000.0
x32[2, :, 3] -= 1000.0
x32 = x32.float()
u32 = torch.randn(3, 4, 5)
e32 = torch.tensor([[100.0, 100.0, -100.0, 0.0, 50.0, -50.0],
                    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                    [1000.0, -1000.0, 999.0, 0.0, -1e-3, 1e-3],
                    [-100.0, -100.0, -100.0, -100.0, -99.0, -100.0]]).float()
ue32 = torch.randn(4, 6)



def flush(t):
    # Below float's normal range the reader (std::stof) rejects the value;
    # the tests compare with an absolute floor far above 1e-30 anyway.
    return torch.where(t.abs() < 1e-30, torch.zeros_like(t), t)


out = {"x": x32, "u": u32, "e": e32, "ue": ue32}
for fname, fn in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
    for axis in (0, 1, 2):
        x = x32.double().requires_grad_(True)
        y = fn(x, axis)
        y.backward(u32.double())
        out["%s%d_y" % (fname, axis)] = flush(y.detach())
        out["%s%d_dx" % (fname, axis)] = flush(x.grad)
    x = e32.double().requires_grad_(True)
    y = fn(x, 1)
    y.backward(ue32.double())
    out[fname + "_e_y"] = flush(y.detach())
    out[fname + "_e_dx"] = flush(x.grad)
write_fixture(os.path.join(here, "data", "softmax.txt"), out,
              comment="torch.softmax / torch.log_softmax in float64 at float32 inputs.\n"
                      "<f><axis>_y = f(x, axis), <f><axis>_dx = VJP with u (x, u: [3,4,5]);\n"
                      "<f>_e_y, <f>_e_dx: the same along axis 1 of the extreme rows e [4,6] with ue.")
