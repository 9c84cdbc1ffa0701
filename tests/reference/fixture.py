"""Writes tensors in the text fixture format read by tests/support/fixture.hpp.

    tensor <name> <rank> <dims...>
    <values, row-major>
"""
import numpy as np


def write_fixture(path, tensors, comment=""):
    with open(path, "w") as f:
        for line in comment.strip().splitlines():
            f.write("# " + line + "\n")
        for name, value in tensors.items():
            a = np.ascontiguousarray(np.asarray(value, dtype=np.float32))
            f.write("tensor %s %d %s\n" % (name, a.ndim, " ".join(str(d) for d in a.shape)))
            flat = a.reshape(-1)
            for i in range(0, flat.size, 8):
                f.write(" ".join("%.9g" % v for v in flat[i:i + 8]) + "\n")


def randomise_norms(model, seed):
    """Random batch-norm statistics and affine parameters (and LayerNorm's), so
    that eval-mode normalisation layers are not near-identities in fixtures."""
    import torch
    import torch.nn as nn
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.2)
        if isinstance(m, nn.LayerNorm):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)
