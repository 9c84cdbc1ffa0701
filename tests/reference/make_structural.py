"""PyTorch reference values for the structural ops (permute, cat, slicing, F.pad).

Run with Debian's python3-torch:  /usr/bin/python3 tests/reference/make_structural.py

Every case stores the forward value and the input gradient for a random
output cotangent, both from autograd.
"""
import os

import torch
import torch.nn.functional as F

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
out = {}


def record(prefix, fn, *inputs):
    xs = [t.clone().requires_grad_(True) for t in inputs]
    y = fn(*xs)
    u = torch.randn_like(y)
    y.backward(u)
    out[prefix + "_y"] = y.detach()
    out[prefix + "_u"] = u
    for i, t in enumerate(xs):
        out["%s_dx%d" % (prefix, i)] = t.grad


# transpose: x [2,3,4,5]
x = torch.randn(2, 3, 4, 5)
out["t_x"] = x
record("t0231", lambda t: t.permute(0, 2, 3, 1), x)
record("t0312", lambda t: t.permute(0, 3, 1, 2), x)
record("t0132", lambda t: t.permute(0, 1, 3, 2), x)
record("t0213", lambda t: t.permute(0, 2, 1, 3), x)

# concat along axis 1 (three inputs) and along the last axis
a, b, c = torch.randn(2, 3, 4), torch.randn(2, 2, 4), torch.randn(2, 1, 4)
out.update({"c_a": a, "c_b": b, "c_c": c})
record("c1", lambda p, q, r: torch.cat([p, q, r], 1), a, b, c)
p, q = torch.randn(2, 3, 1), torch.randn(2, 3, 2)
out.update({"c_p": p, "c_q": q})
record("c2", lambda s, t: torch.cat([s, t], 2), p, q)

# slice: x [2,5,6]
s = torch.randn(2, 5, 6)
out["s_x"] = s
record("s1", lambda t: t[:, 1:5:2], s)        # axis 1, 1:5:2
record("s2", lambda t: t[:, :, -4:100:3], s)  # axis 2, negative start, end past the axis
record("s3", lambda t: t[:, :, 2:-1], s)      # axis -1, negative end
record("s4", lambda t: t[:, 4:5], s)          # a single element

# pad: x [2,3,4]; ours lists {before, after} outermost first, F.pad innermost first
x = torch.randn(2, 3, 4)
out["p_x"] = x
record("p0", lambda t: F.pad(t, (0, 3, 1, 2), value=0.0), x)   # axis1 {1,2}, axis2 {0,3}
record("p1", lambda t: F.pad(t, (2, 1, 0, 1), value=1.5), x)   # axis1 {0,1}, axis2 {2,1}

write_fixture(os.path.join(here, "data", "structural.txt"), out,
              comment="Structural ops from torch autograd: <case>_y forward, <case>_u cotangent,\n"
                      "<case>_dx<i> gradient of input i. t<perm>: permute of t_x; c1: cat([c_a,c_b,c_c],1);\n"
                      "c2: cat([c_p,c_q],2); s1 [:,1:5:2], s2 [:,:,-4:100:3], s3 [:,:,2:-1], s4 [:,4:5] of s_x;\n"
                      "p0: F.pad(p_x,(0,3,1,2)), p1: F.pad(p_x,(2,1,0,1),value=1.5).")
