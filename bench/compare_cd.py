#!/usr/bin/python3
"""Times trim's CD band sweep against acd's algorithm in PyTorch, in one run.

Usage (after `meson compile -C build`):
    /usr/bin/python3 bench/compare_cd.py [--build build] [--repetitions 3]

Both explain one example in fft2 space: for each radial band (LeNet 28x28: 120
bands, centres 0.11-0.89, width 0.2; ResNet-18 at 256x256: 100 bands), the
relevant input is Re(ifft2(band * fft2(x))) and the irrelevant one the rest.
The PyTorch side is acd's algorithm: the relevant and irrelevant parts go
through every layer separately, and every affine layer runs a third time on
zeros to get its bias, once per band (acd's generic CNN path; the residual
blocks need the architecture-specific code acd has for ResNets, written here
the same way). trim propagates only the relevant part, all bands as one batch.
Both use 2 threads. Prints medians and trim / PyTorch (< 1: trim faster).
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import numpy as np
import torch
import torch.nn.functional as F

from compare_pytorch import LeNet, ResNet18, THREADS, WARMUP


def affine(rel, irrel, f):
    bias = f(torch.zeros_like(rel))
    r, i = f(rel) - bias, f(irrel) - bias
    pr, pi = r.abs() + 1e-20, i.abs() + 1e-20
    return r + pr / (pr + pi) * bias, i + pi / (pr + pi) * bias


def relu(rel, irrel):
    r = F.relu(rel)
    return r, F.relu(rel + irrel) - r


def maxpool(rel, irrel, *args):
    _, idx = F.max_pool2d(rel + irrel, *args, return_indices=True)
    take = lambda t: t.flatten(2).gather(2, idx.flatten(2)).view_as(idx)
    return take(rel), take(irrel)


def lenet_cd(net, rel, irrel):
    rel, irrel = maxpool(*relu(*affine(rel, irrel, net.conv1)), 2)
    rel, irrel = maxpool(*relu(*affine(rel, irrel, net.conv2)), 2)
    rel, irrel = relu(*affine(rel.flatten(1), irrel.flatten(1), net.fc1))
    return affine(rel, irrel, net.fc2)


def block_cd(b, rel, irrel):
    r, i = relu(*affine(*affine(rel, irrel, b.conv1), b.bn1))
    r, i = affine(*affine(r, i, b.conv2), b.bn2)
    if b.downsample is not None:
        rel, irrel = affine(*affine(rel, irrel, b.downsample[0]), b.downsample[1])
    return relu(r + rel, i + irrel)


def resnet_cd(net, rel, irrel):
    rel, irrel = maxpool(*relu(*affine(*affine(rel, irrel, net.conv1), net.bn1)), 3, 2, 1)
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        for b in layer:
            rel, irrel = block_cd(b, rel, irrel)
    rel, irrel = (F.adaptive_avg_pool2d(t, 1).flatten(1) for t in (rel, irrel))
    return affine(rel, irrel, net.fc)


def bands(n, count, width=0.2):
    f = np.fft.fftfreq(n)
    f = f / np.abs(f).max()
    r = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    centres = 0.11 + (0.89 - 0.11) * np.arange(count) / (count - 1)
    return [torch.tensor(((r >= c - width / 2) & (r < c + width / 2)).astype(np.float32)) for c in centres]


def sweep(net, cd, x, masks):
    spec = torch.fft.fft2(x)
    out = []
    with torch.no_grad():
        for m in masks:
            rel = torch.fft.ifft2(m * spec).real
            out.append(cd(net, rel, x - rel)[0])
    return out


def torch_time(fn, reps):
    fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def trim_time(binary, name, reps):
    out = subprocess.run(
        [binary, "--benchmark_filter=^" + name + "(/|$)", "--benchmark_format=json",
         "--benchmark_repetitions=%d" % reps, "--benchmark_report_aggregates_only=true", WARMUP],
        check=True, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(THREADS)))
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            t = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
            return t, b.get("GFLOP/s", 0) / 1e9
    raise RuntimeError("no median for " + name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repetitions", type=int, default=3)
    args = ap.parse_args()
    binary = os.path.join(args.build, "bench", "bench_cd")
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    cases = [("BM_cd_lenet_120_bands", LeNet().eval(), lenet_cd, 28, 120),
             ("BM_cd_resnet18_256_100_bands", ResNet18().eval(), resnet_cd, 256, 100)]
    print("torch %s, %d threads, one example in fft2 space; medians of %d repetitions" % (
        torch.__version__, THREADS, args.repetitions))
    print("%-30s %10s %10s %8s %10s" % ("case", "trim ms", "torch ms", "ratio", "trim GF/s"))
    for name, net, cd, n, count in cases:
        x = torch.randn(1, 1, n, n)
        masks = bands(n, count)
        t_trim, gflops = trim_time(binary, name, args.repetitions)
        t_torch = torch_time(lambda: sweep(net, cd, x, masks), args.repetitions)
        print("%-30s %10.1f %10.1f %8.3f %10.1f" % (name, t_trim * 1e3, t_torch * 1e3, t_trim / t_torch, gflops))


if __name__ == "__main__":
    main()
