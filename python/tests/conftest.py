"""Shared by the tests of the Python module: fixture files, the CLI to compare with."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import trim

FIXTURES = Path(os.environ.get("TRIM_FIXTURES", Path(__file__).resolve().parents[2] / "tests" / "reference" / "data"))
ONNX = FIXTURES / "onnx"
TRIM_EXE = os.environ.get("TRIM_EXE", "")


def model_path(name):
    return str(ONNX / f"{name}.onnx")


def read_txt_tensors(path):
    """The tensors of a tests/reference/data/onnx/NAME.txt file (written by make_onnx.py with PyTorch)."""
    tensors, name, shape, values = {}, None, None, []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("tensor "):
            if name is not None:
                tensors[name] = np.array(values, dtype=np.float32).reshape(shape)
            parts = line.split()
            name, rank = parts[1], int(parts[2])
            shape, values = [int(d) for d in parts[3:3 + rank]], []
        else:
            values.extend(float(v) for v in line.split())
    if name is not None:
        tensors[name] = np.array(values, dtype=np.float32).reshape(shape)
    return tensors


@pytest.fixture(scope="session")
def cli():
    """Runs `trim ARGS...`; returns the CompletedProcess (check=True unless told)."""
    if not TRIM_EXE or not Path(TRIM_EXE).exists():
        pytest.fail("TRIM_EXE must name the built trim tool (meson test sets it)")

    def run(*args, check=True):
        p = subprocess.run([TRIM_EXE, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"trim {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr}")
        return p

    return run


@pytest.fixture(scope="session")
def lenet():
    return trim.Model.from_onnx(model_path("lenet"))


@pytest.fixture(scope="session")
def mlp():
    return trim.Model.from_onnx(model_path("mlp"))


@pytest.fixture(scope="session")
def convopts():
    return trim.Model.from_onnx(model_path("convopts"))


def rng_array(shape, seed, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_bit_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype == np.float32
    assert a.shape == b.shape
    assert np.array_equal(a.view(np.uint32), b.view(np.uint32)), f"max |diff| {np.max(np.abs(a - b))}"
