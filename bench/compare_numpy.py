#!/usr/bin/python3
"""Times trim's 2-D real FFT round trip against NumPy's on the same sizes.

Usage (after `meson compile -C build`):
    /usr/bin/python3 bench/compare_numpy.py [--build build] [--repetitions 5]

trim: bench_fft (Google Benchmark), BM_TrimRfft2RoundTrip = kernels::rfftn +
kernels::irfftn in float32 through FFTW, next to BM_FftwRfft2RoundTrip (the
bare FFTW plans); medians of the repetitions. NumPy: numpy.fft.rfft2 +
irfft2 on a float32 image (pocketfft computes in float64 in NumPy 1.x),
median of as many timed batches. Ratios < 1: trim faster.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np

SIZES = [64, 256, 1024]


def run_trim(build, repetitions):
    exe = os.path.join(build, "bench", "bench_fft")
    out = subprocess.run([exe, "--benchmark_format=json", "--benchmark_repetitions=%d" % repetitions,
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    times = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name, size = b["run_name"].split("/")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
        times[(name, int(size))] = b["real_time"] * scale  # microseconds
    return times


def time_numpy(n, repetitions):
    x = np.random.default_rng(7).standard_normal((n, n)).astype(np.float32)

    def once():
        return np.fft.irfft2(np.fft.rfft2(x), s=x.shape)

    once()
    # batch enough calls to take ~0.1 s, then take the median per call
    t0 = time.perf_counter()
    once()
    per = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(0.1 / per))
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
    print("2-D real FFT round trip (rfft2 + irfft2), median microseconds, numpy %s" % np.__version__)
    print("%6s %10s %10s %10s %11s %11s" % ("size", "trim", "fftw", "numpy", "trim/fftw", "trim/numpy"))
    for n in SIZES:
        t = trim[("BM_TrimRfft2RoundTrip", n)]
        f = trim[("BM_FftwRfft2RoundTrip", n)]
        npy = time_numpy(n, a.repetitions)
        print("%6d %10.1f %10.1f %10.1f %11.2f %11.2f" % (n, t, f, npy, t / f, t / npy))


if __name__ == "__main__":
    main()
