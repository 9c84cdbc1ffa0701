"""No copies of float32 arrays, the GIL released during long calls, Ctrl-C stops them, the C++ API's bits."""
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import trim
from conftest import assert_bit_equal, model_path, rng_array


def test_zero_copy_by_data_pointer(mlp):
    x = trim.empty((3, 4, 5))
    assert x.dtype == np.float32 and x.flags.c_contiguous and x.ctypes.data % 64 == 0
    x[...] = rng_array((3, 4, 5), 1)
    # The conversion every function uses hands x's own memory to C++.
    assert trim.asarray(x) is x
    # Results live in trim's aligned memory: passing them back is free too.
    t = trim.Transform("fft2", (4, 5))
    s = t.forward(x)
    assert s.ctypes.data % 64 == 0 and s.base is not None
    same = trim.asarray(s)
    assert same is s and same.ctypes.data == s.ctypes.data
    # Anything else is converted once, to the same values, into aligned memory.
    y = np.asfortranarray(x.astype(np.float64))
    c = trim.asarray(y)
    assert c is not y and c.ctypes.data % 64 == 0 and c.ctypes.data != y.ctypes.data
    assert_bit_equal(c, x)
    unaligned = np.frombuffer(bytearray(x.nbytes + 4), np.float32, count=x.size, offset=4).reshape(x.shape)
    unaligned[...] = x
    assert trim.asarray(unaligned).ctypes.data != unaligned.ctypes.data
    assert_bit_equal(mlp.predict(unaligned), mlp.predict(x))


def long_sweep_args(convopts, n):
    return dict(model=convopts, x=rng_array((n, 4, 11, 9), 3), transform="fft2",
                centers=np.linspace(0.05, 1.35, 60), width=0.1, target=0)


def timed_sweep(convopts, n):
    t0 = time.perf_counter()
    trim.sweep(**long_sweep_args(convopts, n))
    return time.perf_counter() - t0


def test_gil_released(convopts):
    per_example = timed_sweep(convopts, 4) / 4
    n = int(np.clip(2.0 / per_example, 4, 4000))  # about two seconds
    # A busy machine can make the calibration slow and the call fast: a call
    # too short to tell is repeated with more examples, not failed.
    for _ in range(4):
        ticks = []
        stop = threading.Event()

        def ticker():  # needs the GIL after every sleep
            while not stop.is_set():
                ticks.append(time.perf_counter())
                time.sleep(0.01)

        th = threading.Thread(target=ticker)
        th.start()
        time.sleep(0.05)
        t0 = time.perf_counter()
        trim.sweep(**long_sweep_args(convopts, n))
        t1 = time.perf_counter()
        stop.set()
        th.join()
        if t1 - t0 > 0.3:
            break
        n = min(n * 4, 16000)
    inside = [t for t in ticks if t0 + 0.05 < t < t1 - 0.05]
    # Holding the GIL, the call would let the ticker run at most once.
    assert t1 - t0 > 0.3
    assert len(inside) >= 5, f"{len(inside)} ticks during a {t1 - t0:.2f} s call"


def test_ctrl_c_stops_a_long_sweep(convopts):
    per_example = timed_sweep(convopts, 4) / 4
    n = int(np.clip(30.0 / per_example, 8, 100000))  # about 30 s uninterrupted
    args = long_sweep_args(convopts, n)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            trim.sweep(**args)
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"stopped after {elapsed:.2f} s"
    # And the module works afterwards.
    assert trim.sweep(**long_sweep_args(convopts, 1)).shape == (1, 1, 60)


def test_ctrl_c_stops_an_attribution(convopts):
    x = rng_array((2000, 4, 11, 9), 4)  # minutes of integrated gradients
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    t0 = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            trim.attribute(convopts, x, transform="fft2", method="integrated_gradients", steps=200)
    finally:
        timer.cancel()
    assert time.perf_counter() - t0 < 5.0


def test_equals_the_cpp_api(tmp_path, mlp):
    """One library call each in C++ (python/tests/api_reference.cpp) and the same through the module."""
    exe = os.environ.get("TRIM_API_REFERENCE")
    if not exe:
        pytest.fail("TRIM_API_REFERENCE must name the built api_reference program (meson test sets it)")
    x = rng_array((5, 4, 5), 11)  # at most 8 examples: the module makes one library call too
    np.save(tmp_path / "x.npy", x)
    subprocess.run([exe, model_path("mlp"), tmp_path / "x.npy", tmp_path], check=True)
    r = trim.attribute(mlp, x, transform="fft2", method="integrated_gradients", steps=8)
    assert_bit_equal(r.attributions, np.load(tmp_path / "ig.npy"))
    assert_bit_equal(r.delta, np.load(tmp_path / "ig_delta.npy"))
    # Gradient SHAP of example 0 against the other examples, with and without its delta.
    kwargs = dict(transform="fft2", method="gradient_shap", baseline=x[1:], samples=6, stdev=0.1, seed=3)
    g = trim.attribute(mlp, x[:1], **kwargs)
    assert_bit_equal(g.attributions, np.load(tmp_path / "gs.npy"))
    assert_bit_equal(g.delta, np.load(tmp_path / "gs_delta.npy"))
    plain = trim.attribute(mlp, x[:1], convergence_delta=False, **kwargs)
    assert plain.delta is None
    assert_bit_equal(plain.attributions, np.load(tmp_path / "gs_no_delta.npy"))
    e = trim.evaluate(mlp, x, r, transform="fft2")
    for name, got in (("deletion", e.deletion), ("random_insertion", e.random_insertion_mean),
                      ("road_morf", e.road_morf), ("mu_fidelity", e.mu_fidelity), ("infidelity", e.infidelity)):
        assert_bit_equal(got, np.load(tmp_path / f"eval_{name}.npy"))
    # The module sweeps 4 examples per library call (as the CLI): compare on 4.
    np.save(tmp_path / "x.npy", x[:4])
    subprocess.run([exe, model_path("mlp"), tmp_path / "x.npy", tmp_path], check=True)
    curve = trim.sweep(mlp, x[:4], transform="fft2", centers=[0.1, 0.4, 0.7, 1.0], width=0.3)
    assert_bit_equal(curve, np.load(tmp_path / "sweep.npy"))
