"""NumPy reference values for the attribution metrics (captum's infidelity).

A small tanh MLP, fixed attributions and fixed perturbations I; infidelity is
computed here in float64 from captum 0.8's definitions:
    a_s = sum(I_s * attr)            (I_s / (x - b) with multiply_by_inputs,
                                      divisor 1 where x == b)
    d_s = F(x) - F(x - I_s)
    plain      = mean_s (a_s - d_s)^2
    normalized = (beta^2 sum a^2 - 2 beta sum a d + sum d^2) / S,
                 beta = sum(a d) / sum(a^2)

Run with Debian's interpreter:  /usr/bin/python3 tests/reference/make_metrics.py
"""
import os

import numpy as np

from fixture import write_fixture

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240501)
f32 = lambda a: np.asarray(a, dtype=np.float32)

N, P, H, O, S = 2, 5, 4, 2, 3
W1 = f32(rng.normal(0, 0.6, (H, P)))
b1 = f32(rng.normal(0, 0.2, H))
W2 = f32(rng.normal(0, 0.6, (O, H)))
b2 = f32(rng.normal(0, 0.2, O))
x = f32(rng.normal(0, 1, (N, P)))
attr = f32(rng.normal(0, 0.5, (O, N, P)))  # targets 0 and 1
pert = f32(rng.normal(0, 0.1, (N, S, P)))
baseline = 0.25


def F(v):
    v = np.asarray(v, dtype=np.float64)
    h = np.tanh(v @ W1.T.astype(np.float64) + b1.astype(np.float64))
    return h @ W2.T.astype(np.float64) + b2.astype(np.float64)


def infidelity(normalize, multiply_by_inputs):
    out = np.zeros((O, N))
    for t in range(O):
        for e in range(N):
            xe = x[e].astype(np.float64)
            I = pert[e].astype(np.float64)
            p = I
            if multiply_by_inputs:
                den = xe - baseline
                p = I / np.where(den != 0, den, 1.0)
            a = p @ attr[t, e].astype(np.float64)
            d = F(xe)[t] - F(xe - I)[:, t]
            if normalize:
                beta = (a * d).sum() / (a * a).sum()
                out[t, e] = (beta ** 2 * (a * a).sum() - 2 * beta * (a * d).sum() + (d * d).sum()) / S
            else:
                out[t, e] = ((a - d) ** 2).mean()
    return out


write_fixture(os.path.join(here, "data", "metrics.txt"), {
    "fc1_weight": W1, "fc1_bias": b1, "fc2_weight": W2, "fc2_bias": b2,
    "x": x, "attr": attr, "perturbations": pert,
    "infidelity": infidelity(False, False),
    "infidelity_normalized": infidelity(True, False),
    "infidelity_mbi": infidelity(False, True),
}, comment="x [2,5] -> linear(4) -> tanh -> linear(2); attributions [2 targets,2,5];\n"
           "perturbations I [N=2, S=3, 5]; multiply_by_inputs with constant baseline 0.25")
