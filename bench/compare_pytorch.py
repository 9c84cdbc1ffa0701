#!/usr/bin/python3
"""Times trim and PyTorch on the same networks, side by side in one run.

Usage (after `meson compile -C build`):
    /usr/bin/python3 bench/compare_pytorch.py [--build build] [--repetitions 5]

Needs Debian's python3-torch (and python3-torchvision, python3-onnx for the
torchvision zoo: ResNet-18, ResNet-50, DenseNet-121, MobileNetV2, EfficientNet-B0 at 64×64×3,
batch 1 / 16 / 100, exported to ONNX and timed by bench_networks'
BM_onnx_* through TRIM_BENCH_ONNX). Both libraries use 2 threads. For each case the
trim benchmark (bench_networks, Google Benchmark, median of its repetitions)
and the PyTorch twin (median of as many timed runs) are measured one right
after the other, and the ratio trim / PyTorch is printed (< 1: trim faster).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Threads for both sides (trim's OMP_NUM_THREADS and torch.set_num_threads);
# TRIM_BENCH_THREADS=1 compares single-core speed, which a loaded machine disturbs less.
THREADS = int(os.environ.get("TRIM_BENCH_THREADS", "2"))
# One untimed call (at least 0.1 s) of trim before each repetition, as the PyTorch
# twins get warm-up calls: a first call pays page faults and buffer growth
# (gradient SHAP on EfficientNet-B0 at 128², batch 2: 1044 against 555 ms), which
# the median of 2 repetitions would average in.
WARMUP = "--benchmark_min_warmup_time=0.1"
# TRIM_BENCH_CLOCK=cpu times both sides in CPU time (Python's process_time,
# Google Benchmark's cpu_time) instead of wall time: with one thread on a
# machine that other processes load, CPU time is what each side costs.
CPU_CLOCK = os.environ.get("TRIM_BENCH_CLOCK", "wall") == "cpu"
clock = time.process_time if CPU_CLOCK else time.perf_counter


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(800, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision's resnet18 layout with a 1-channel input and 3 outputs."""

    def __init__(self, outputs=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for i, w in enumerate([64, 128, 256, 512]):
            layers.append(nn.Sequential(BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)))
            cin = w
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(512, outputs)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def torch_time(model, shape, backward, reps):
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.randn(*shape)

    def once():
        if backward:
            xi = x.clone().requires_grad_(True)
            out = model(xi)
            out.backward(torch.ones_like(out))
        else:
            with torch.no_grad():
                model(x)

    return median_time(once, reps, warmup=3)


def median_time(fn, reps, warmup=2, clock=None):
    """Median seconds per call of fn over `reps` samples of ~0.2 s each (enough
    iterations per sample, like Google Benchmark), after `warmup` calls;
    clock=time.process_time gives CPU time (default: TRIM_BENCH_CLOCK's)."""
    clock = clock or globals()["clock"]
    for _ in range(warmup):
        fn()
    t0 = clock()
    fn()
    iters = max(1, int(0.2 / max(clock() - t0, 1e-6)))
    samples = []
    for _ in range(reps):
        t0 = clock()
        for _ in range(iters):
            fn()
        samples.append((clock() - t0) / iters)
    return statistics.median(samples)


def trim_time(binary, name, reps, onnx=None):
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS))
    if onnx:
        env["TRIM_BENCH_ONNX"] = onnx
    out = subprocess.run(
        [binary, "--benchmark_filter=^" + name + "$", "--benchmark_format=json",
         "--benchmark_repetitions=%d" % reps, "--benchmark_report_aggregates_only=true", WARMUP],
        check=True, capture_output=True, text=True, env=env)
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
            return b["cpu_time" if CPU_CLOCK else "real_time"] * scale, b.get("GFLOP/s", 0) / 1e9, b.get("gemm_GFLOP/s", 0) / 1e9
    raise RuntimeError("no median for " + name)


ZOO = ["resnet18", "resnet50", "densenet121", "mobilenet_v2", "efficientnet_b0"]


def export_zoo(names, directory, size=64):
    """torchvision models (random weights, 10 classes) as ONNX files with a free batch,
    for size x size x 3 images."""
    import torchvision
    paths = {}
    for name in names:
        model = getattr(torchvision.models, name)(num_classes=10).eval()
        path = os.path.join(directory, name + ".onnx")
        torch.onnx.export(model, torch.randn(1, 3, size, size), path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)
        paths[name] = (model, path)
    return paths


# ResNet-18's 3x3 convolutions at 64x64 (input channels, output channels, input
# size, stride, how many), as bench_networks' BM_resnet18_64_conv3x3 has them.
CONV3X3 = [(64, 64, 16, 1, 4), (64, 128, 16, 2, 1), (128, 128, 8, 1, 3), (128, 256, 8, 2, 1),
           (256, 256, 4, 1, 3), (256, 512, 4, 2, 1), (512, 512, 2, 1, 3)]


def compare_conv3x3(binary, reps, batch=100):
    """Each layer shape of CONV3X3 alone, forward and input gradient, trim
    (BM_resnet18_64_conv3x3/which/layer) against F.conv2d and its input
    gradient (torch.nn.grad.conv2d_input), in GFLOP/s of a direct convolution
    (2 · C_out · C_in · 9 · output positions per convolution): fast algorithms
    (Winograd, skipping padding) show as rates above the core's peak."""
    print("%-34s %10s %10s %10s %8s" % ("layer (batch %d)" % batch, "trim ms", "torch ms", "trim GF/s", "ratio"))
    for layer, (cin, cout, size, stride, count) in enumerate(CONV3X3):
        x = torch.randn(batch, cin, size, size)
        w = torch.randn(cout, cin, 3, 3)
        out = (size + 2 - 3) // stride + 1
        dy = torch.randn(batch, cout, out, out)
        flops = 2.0 * cout * cin * 9 * out * out * batch * count
        for which, label in ((0, "fwd"), (1, "input grad")):
            t_trim = trim_time(binary, "BM_resnet18_64_conv3x3/%d/%d" % (which, layer), reps)[0]

            def once():
                for _ in range(count):
                    if which == 0:
                        F.conv2d(x, w, stride=stride, padding=1)
                    else:
                        torch.nn.grad.conv2d_input(x.shape, w, dy, stride=stride, padding=1)

            with torch.no_grad():
                t_torch = median_time(once, reps)
            name = "%d->%d %dx%d s%d x%d %s" % (cin, cout, size, size, stride, count, label)
            print("%-34s %10.2f %10.2f %10.1f %8.2f" % (name, t_trim * 1e3, t_torch * 1e3, flops / t_trim / 1e9,
                                                        t_trim / t_torch), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--zoo", default=",".join(ZOO),
                    help="torchvision models at 64x64x3 (comma-separated; empty: none)")
    ap.add_argument("--batches", default="1,16,100", help="batch sizes of the zoo cases")
    ap.add_argument("--only-zoo", action="store_true", help="skip the LeNet / ResNet-18 256² cases")
    ap.add_argument("--conv3x3", action="store_true",
                    help="only ResNet-18's 3x3 convolutions at 64², batch 100, forward and input gradient")
    args = ap.parse_args()
    binary = os.path.join(args.build, "bench", "bench_networks")
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)

    if args.conv3x3:
        compare_conv3x3(binary, args.repetitions)
        return
    cases = [] if args.only_zoo else [
        ("BM_lenet_forward/1", LeNet(), (1, 1, 28, 28), False),
        ("BM_lenet_forward/64", LeNet(), (64, 1, 28, 28), False),
        ("BM_lenet_forward_backward/1", LeNet(), (1, 1, 28, 28), True),
        ("BM_lenet_forward_backward/64", LeNet(), (64, 1, 28, 28), True),
        ("BM_resnet18_256_forward/1", ResNet18(), (1, 1, 256, 256), False),
    ]
    print("torch %s, %d threads; medians of %d repetitions" % (torch.__version__, THREADS, args.repetitions))
    print("%-30s %12s %12s %8s %10s %10s" % ("case", "trim ms", "torch ms", "ratio", "trim GF/s", "GEMM GF/s"))
    for name, model, shape, backward in cases:
        t_trim, gflops, gemm = trim_time(binary, name, args.repetitions)
        t_torch = torch_time(model, shape, backward, args.repetitions)
        print("%-30s %12.3f %12.3f %8.2f %10.1f %10.1f" % (
            name, t_trim * 1e3, t_torch * 1e3, t_trim / t_torch, gflops, gemm), flush=True)
    zoo = [z for z in args.zoo.split(",") if z]
    if not zoo:
        return
    with tempfile.TemporaryDirectory() as tmp:
        for zname, (model, path) in export_zoo(zoo, tmp).items():
            for batch in [int(b) for b in args.batches.split(",")]:
                for backward in (False, True):
                    bench = "BM_onnx_forward%s/%d" % ("_backward" if backward else "", batch)
                    t_trim, gflops, gemm = trim_time(binary, bench, args.repetitions, onnx=path)
                    t_torch = torch_time(model, (batch, 3, 64, 64), backward, args.repetitions)
                    label = "%s %s/%d" % (zname, "fwd+grad" if backward else "fwd", batch)
                    print("%-30s %12.3f %12.3f %8.2f %10.1f %10.1f" % (
                        label, t_trim * 1e3, t_torch * 1e3, t_trim / t_torch, gflops, gemm), flush=True)


if __name__ == "__main__":
    main()
