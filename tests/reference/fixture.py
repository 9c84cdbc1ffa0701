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
