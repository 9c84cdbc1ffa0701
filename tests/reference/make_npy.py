"""NumPy-written .npy fixtures for tests/io/test_npy.cpp.

Run with Debian's NumPy:  /usr/bin/python3 tests/reference/make_npy.py

Every numeric array holds a formula the test recomputes (no values are
copied from trim): for dtype d and shape s,
    a = (np.arange(prod(s)) * 3 - 5).reshape(s)   (signed integers)
    a = (np.arange(prod(s)) * 3 + 1).reshape(s)   (unsigned integers)
    a = (np.arange(prod(s)) * 0.25 - 1.5).reshape(s)  (floats)
    a = np.arange(prod(s)) % 3 == 1                 (bool)
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "data", "npy")
os.makedirs(out, exist_ok=True)


def pattern(dtype, shape):
    n = int(np.prod(shape))
    k = np.arange(n)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        a = k % 3 == 1
    elif dt.kind == "i":
        a = k * 3 - 5
    elif dt.kind == "u":
        a = k * 3 + 1
    else:
        a = k * 0.25 - 1.5
    return a.astype(dtype).reshape(shape)


def save(name, arr, version=None):
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=arr.dtype.hasobject)


# One file per supported dtype (format 1.0, C order, little endian).
for dt in ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f4", "<f8"]:
    save("dtype_%s.npy" % dt[1:], pattern(dt, (2, 3)))

# Format versions 2.0 and 3.0 (same array as dtype_f4).
save("v2_f4.npy", pattern("<f4", (2, 3)), version=(2, 0))
save("v3_f4.npy", pattern("<f4", (2, 3)), version=(3, 0))
# Fortran order: same logical values as the C-order pattern of shape (3, 4, 2).
save("fortran_f8.npy", np.asfortranarray(pattern("<f8", (3, 4, 2))))
# Big endian.
save("big_endian_f4.npy", pattern(">f4", (2, 3)))
# A 0-d array and an empty one.
save("scalar_f8.npy", np.array(2.5))
save("empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
# int64 beyond 2^53: not exactly representable as double, must be rejected.
save("huge_i8.npy", np.array([1, 2**53, -(2**53), 2**53 + 1], dtype="<i8"))
# Unsupported: object arrays, structured dtypes, float16, complex.
save("object.npy", np.array([1, "a", None], dtype=object))
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
save("float16.npy", pattern("<f2", (2, 3)))
save("complex64.npy", np.zeros(2, dtype="<c8"))
