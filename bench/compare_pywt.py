#!/usr/bin/python3
"""Times trim's multilevel 2-D wavelet round trip against PyWavelets.

Usage (after `meson compile -C build`):
    /usr/bin/python3 bench/compare_pywt.py [--build build] [--repetitions 5]

Case: wavedec2 + waverec2, db4, level 3, mode symmetric, on a float32 n×n
image, n = 256 and 1024: the same image on both sides (uniform in [-1, 1)
from splitmix64 of the pixel index, bench_dwt.cpp's image()).

trim: bench_dwt (Google Benchmark), medians of the repetitions:
  BM_Wavedec2Waverec2 = kernels::wavedec2 + kernels::waverec2 (one tensor
  per sub-band, like PyWavelets' lists), BM_FlatRoundTrip = the flattened
  layout the wavelet Transform and its inverse graph node use; each with 1
  thread and with trim's default thread count.
PyWavelets: pywt.wavedec2 + pywt.waverec2 on a float32 image (PyWavelets
keeps float32 and is single-threaded), median of as many timed batches.
Ratios < 1: trim faster. The machine may be shared: compare ratios from one
run, not absolute times across runs.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np
import pywt

SIZES = [256, 1024]


def run_trim(build, repetitions):
    exe = os.path.join(build, "bench", "bench_dwt")
    out = subprocess.run([exe, "--benchmark_format=json", "--benchmark_repetitions=%d" % repetitions,
                          "--benchmark_report_aggregates_only=true", "--benchmark_filter=RoundTrip|Waverec2"],
                         check=True, capture_output=True, text=True).stdout
    times = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        parts = b["run_name"].split("/")  # BM_x/n:256/threads:1/real_time
        name = parts[0]
        args = dict(p.split(":") for p in parts[1:] if ":" in p)
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        times[(name, int(args["n"]), int(args["threads"]))] = b["real_time"] * scale  # microseconds
    return times


def image(n):
    """bench_dwt.cpp's image(): 2·u − 1 with u = splitmix64(index) / 2^64 (53 bits), as float32."""
    with np.errstate(over="ignore"):
        z = np.arange(n * n, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return ((z >> np.uint64(11)).astype(np.float64) * 2.0 ** -52 - 1.0).astype(np.float32).reshape(n, n)


def time_pywt(n, repetitions):
    x = image(n)

    def once():
        return pywt.waverec2(pywt.wavedec2(x, "db4", mode="symmetric", level=3), "db4", mode="symmetric")

    assert once().dtype == np.float32
    t0 = time.perf_counter()
    once()
    per = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(0.2 / per))
    samples = []
    for _ in range(repetitions):
        t0 = time.perf_counter()
        for _ in range(inner):
            once()
        samples.append((time.perf_counter() - t0) / inner * 1e6)
    return statistics.median(samples)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default=os.path.join(here, "..", "build"))
    p.add_argument("--repetitions", type=int, default=5)
    a = p.parse_args()
    trim = run_trim(a.build, a.repetitions)
    print("wavedec2 + waverec2, db4, level 3, symmetric: median microseconds "
          "(PyWavelets %s, numpy %s)" % (pywt.__version__, np.__version__))
    print("%6s %10s %10s %10s %10s %10s %12s %12s" % ("size", "pywt", "trim 1t", "flat 1t", "trim", "flat",
                                                     "trim1t/pywt", "flat1t/pywt"))
    for n in SIZES:
        ref = time_pywt(n, a.repetitions)
        t1 = trim[("BM_Wavedec2Waverec2", n, 1)]
        f1 = trim[("BM_FlatRoundTrip", n, 1)]
        t0 = trim[("BM_Wavedec2Waverec2", n, 0)]
        f0 = trim[("BM_FlatRoundTrip", n, 0)]
        print("%6d %10.1f %10.1f %10.1f %10.1f %10.1f %12.3f %12.3f" % (n, ref, t1, f1, t0, f0, t1 / ref, f1 / ref))


if __name__ == "__main__":
    main()
