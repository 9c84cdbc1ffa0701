#!/usr/bin/python3
"""Times trim's attribution methods against the same work in PyTorch, in one run.

Usage (after `meson compile -C build`):
    /usr/bin/python3 bench/compare_attribution.py [--build build] [--repetitions 5]

The model is the LeNet-sized CNN at 28x28 explained in fft2 space (TRIM:
F(s) = lenet(Re(ifft2(s)))), target 1, a batch of 4 examples. The PyTorch side
does what captum does, with batched autograd and no Python loop over samples:
  saliency          |dF/ds| in one backward
  integrated grads  50 Gauss-Legendre steps as one batch of 200 rows
  DeepLIFT          one forward of [s; baseline] with the rescale rule for ReLU
                    and captum's max-pool rule as custom autograd functions
  gradient SHAP     20 samples (noise stdev 0.1, 10 random baselines) as one batch
Both use 2 threads. Prints medians and the ratio trim / PyTorch (< 1: trim faster);
the zoo cases time trim and PyTorch in adjacent pairs (paired_times) and print
the median of the pairs' ratios.

--zoo resnet18,resnet50,densenet121,mobilenet_v2,efficientnet_b0 adds torchvision's networks at
SIZExSIZEx3 (--size, default 64; e.g. --size 64,128) in fft2 space (batches --batches,
default 2 and 16): integrated gradients (50 steps), gradient SHAP (20 samples),
SmoothGrad (20 noisy gradients, stdev 0.1) and DeepLIFT (rescale rule, zero
baseline), each twin one batched forward/backward over all steps as captum does;
trim runs bench_attribution's BM_onnx_* on the same model exported to ONNX.
--torch-rows R runs the twins' gradients in chunks of at most R rows (captum's
internal_batch_size): IG-50 at 128², batch 16 is 800 rows, whose activations
do not fit in 24 GB at once for ResNet-50, DenseNet-121 or EfficientNet-B0
(trim runs its default 64 rows per pass).
The zoo's DeepLIFT twin swaps the networks' activation modules (ReLU, ReLU6,
SiLU, Hardswish, Sigmoid) for a rescale rule (f(x) - f(b)) / (x - b) and
nn.MaxPool2d for a rule after captum's max-pool rule, both as custom autograd
functions over the batch [x; b]. It is a timing twin: captum's max-pool rule
itself is not complete (its attributions need not sum to F(x) - F(b)), and the
twin's scatter of overlapping windows (ResNet's 3x3 / 2 pool) keeps one
contribution per input where captum's would sum them; the work per pass is the same.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

from compare_pytorch import CPU_CLOCK, LeNet, THREADS, WARMUP, export_zoo, median_time

N = 4
EPS = 1e-10


class RescaleMaxPool(torch.autograd.Function):
    """2x2 max-pool with captum's DeepLIFT rule on a batch [x; b]."""

    @staticmethod
    def forward(ctx, inp):
        out, idx = F.max_pool2d(inp, 2, return_indices=True)
        ctx.save_for_backward(inp, out, idx)
        return out

    @staticmethod
    def backward(ctx, g):
        inp, out, idx = ctx.saved_tensors
        n = inp.shape[0] // 2
        size = inp.shape[-2:]
        y, y0, gx = out[:n], out[n:], g[:n]
        m = torch.max(y, y0)
        moved = (F.max_unpool2d(gx * (m - y0), idx[:n], 2, output_size=size) +
                 F.max_unpool2d(gx * (y - m), idx[n:], 2, output_size=size))
        grad = F.max_unpool2d(gx, idx[:n], 2, output_size=size)
        dx = inp[:n] - inp[n:]
        r = torch.where(dx.abs() < EPS, grad, moved / dx)
        return torch.cat([r, torch.zeros_like(r)])


def _silu_grad(x):
    s = torch.sigmoid(x)
    return s * (1 + x * (1 - s))


def _sigmoid_grad(x):
    s = torch.sigmoid(x)
    return s * (1 - s)


# f' of the swapped activations, what captum's backward hook receives as the
# module's plain gradient (autograd for any other f).
DERIVATIVES = {
    F.relu: lambda x: (x > 0).to(x.dtype),
    F.relu6: lambda x: ((x > 0) & (x < 6)).to(x.dtype),
    F.silu: _silu_grad,
    F.hardswish: lambda x: torch.where(x < -3, torch.zeros_like(x), torch.where(x > 3, torch.ones_like(x), x / 3 + 0.5)),
    torch.sigmoid: _sigmoid_grad,
}


class RescaleElementwise(torch.autograd.Function):
    """Any elementwise f whose backward is DeepLIFT's rescale multiplier
    (f(x) - f(b)) / (x - b) on a batch [x; b], f'(x) where x and b meet."""

    @staticmethod
    def forward(ctx, inp, fn):
        out = fn(inp)
        ctx.fn = fn
        ctx.save_for_backward(inp, out)
        return out

    @staticmethod
    def backward(ctx, g):
        inp, out = ctx.saved_tensors
        n = inp.shape[0] // 2
        dx = inp[:n] - inp[n:]
        if ctx.fn in DERIVATIVES:
            local = DERIVATIVES[ctx.fn](inp[:n])
        else:
            with torch.enable_grad():
                xi = inp[:n].detach().requires_grad_(True)
                local, = torch.autograd.grad(ctx.fn(xi).sum(), xi)
        m = torch.where(dx.abs() < EPS, local, (out[:n] - out[n:]) / dx)
        return g * torch.cat([m, m]), None


class RescaleModule(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return RescaleElementwise.apply(x, self.fn)


class RescaleMaxPoolAny(torch.autograd.Function):
    """nn.MaxPool2d of any window with captum's max-pool rule on a batch [x; b]."""

    @staticmethod
    def forward(ctx, inp, pool):
        out, idx = F.max_pool2d(inp, pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                                pool.ceil_mode, return_indices=True)
        ctx.pool = pool
        ctx.save_for_backward(inp, out, idx)
        return out

    @staticmethod
    def backward(ctx, g):
        inp, out, idx = ctx.saved_tensors
        p = ctx.pool
        n = inp.shape[0] // 2
        size = inp.shape[-2:]

        def unpool(v, i):
            return F.max_unpool2d(v, i, p.kernel_size, p.stride, p.padding, output_size=size)

        y, y0, gx = out[:n], out[n:], g[:n]
        m = torch.max(y, y0)
        moved = unpool(gx * (m - y0), idx[:n]) + unpool(gx * (y - m), idx[n:])
        grad = unpool(gx, idx[:n])
        dx = inp[:n] - inp[n:]
        r = torch.where(dx.abs() < EPS, grad, moved / dx)
        return torch.cat([r, torch.zeros_like(r)]), None


class RescaleMaxPoolModule(torch.nn.Module):
    def __init__(self, pool):
        super().__init__()
        self.pool = pool

    def forward(self, x):
        return RescaleMaxPoolAny.apply(x, self.pool)


def rescale_twin(model):
    """A copy of a torchvision network with its nonlinearity modules swapped
    for the DeepLIFT rules above (what captum's hooks do)."""
    import copy
    fns = {torch.nn.ReLU: F.relu, torch.nn.ReLU6: F.relu6, torch.nn.SiLU: F.silu,
           torch.nn.Hardswish: F.hardswish, torch.nn.Sigmoid: torch.sigmoid}
    twin = copy.deepcopy(model)
    for parent in list(twin.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in fns:
                setattr(parent, name, RescaleModule(fns[type(child)]))
            elif isinstance(child, torch.nn.MaxPool2d):
                setattr(parent, name, RescaleMaxPoolModule(child))
    return twin


def lenet_deeplift(net, x):
    x = RescaleMaxPool.apply(RescaleElementwise.apply(net.conv1(x), F.relu))
    x = RescaleMaxPool.apply(RescaleElementwise.apply(net.conv2(x), F.relu))
    return net.fc2(RescaleElementwise.apply(net.fc1(torch.flatten(x, 1)), F.relu))


def inverse(s):
    return torch.fft.ifft2(torch.view_as_complex(s)).real


def grad_of(f, s):
    s = s.detach().requires_grad_(True)
    f(inverse(s))[:, 1].sum().backward()
    return s.grad


def methods(net, s, baselines):
    nodes, weights = np.polynomial.legendre.leggauss(50)
    alphas = torch.tensor((nodes + 1) / 2, dtype=torch.float32)
    w = torch.tensor(weights / 2, dtype=torch.float32)
    gen = torch.Generator().manual_seed(0)

    def saliency():
        return grad_of(net, s).abs()

    def ig():
        steps = (alphas.reshape(50, 1, 1, 1, 1, 1) * s).reshape(50 * N, *s.shape[1:])
        g = grad_of(net, steps).reshape(50, *s.shape)
        return (g * w.reshape(50, 1, 1, 1, 1, 1)).sum(0) * s

    def deeplift():
        both = torch.cat([s, torch.zeros_like(s)]).requires_grad_(True)
        out = lenet_deeplift(net, inverse(both))
        out[:N, 1].sum().backward()
        return both.grad[:N] * s

    def gradient_shap():
        k = 20
        xs = s.repeat_interleave(k, 0)
        xs = xs + 0.1 * torch.randn(xs.shape, generator=gen)
        b = baselines[torch.randint(0, baselines.shape[0], (N * k,), generator=gen)]
        a = torch.rand(N * k, generator=gen).reshape(-1, 1, 1, 1, 1)
        g = grad_of(net, b + a * (xs - b))
        return (g * (xs - b)).reshape(N, k, *s.shape[1:]).mean(1)

    return {"BM_saliency/4": saliency, "BM_integrated_gradients/4": ig,
            "BM_deeplift/4": deeplift, "BM_gradient_shap/4": gradient_shap}


def chunked_grad(net, rows, chunk):
    """grad_of over `rows` in chunks of at most `chunk` rows (all at once when 0), as captum's internal_batch_size."""
    if chunk <= 0 or rows.shape[0] <= chunk:
        return grad_of(net, rows)
    return torch.cat([grad_of(net, rows[i:i + chunk]) for i in range(0, rows.shape[0], chunk)])


def zoo_methods(net, s, baselines, chunk=0):
    """IG-50, gradient SHAP-20, SmoothGrad-20 and DeepLIFT on a batch s [n, 3, H, W, 2], target 1
    (gradients in chunks of `chunk` rows when > 0)."""
    n = s.shape[0]
    twin = rescale_twin(net)
    nodes, weights = np.polynomial.legendre.leggauss(50)
    alphas = torch.tensor((nodes + 1) / 2, dtype=torch.float32)
    w = torch.tensor(weights / 2, dtype=torch.float32)
    gen = torch.Generator().manual_seed(0)
    one = (1,) * s.dim()

    def ig():
        steps = (alphas.reshape(50, *one) * s).reshape(50 * n, *s.shape[1:])
        g = chunked_grad(net, steps, chunk).reshape(50, *s.shape)
        return (g * w.reshape(50, *one)).sum(0) * s

    def gradient_shap():
        k = 20
        xs = s.repeat_interleave(k, 0)
        xs = xs + 0.1 * torch.randn(xs.shape, generator=gen)
        b = baselines[torch.randint(0, baselines.shape[0], (n * k,), generator=gen)]
        a = torch.rand(n * k, generator=gen).reshape(-1, *one[1:])
        g = chunked_grad(net, b + a * (xs - b), chunk)
        return (g * (xs - b)).reshape(n, k, *s.shape[1:]).mean(1)

    def smoothgrad():
        k = 20
        xs = s.repeat_interleave(k, 0) + 0.1 * torch.randn((n * k,) + tuple(s.shape[1:]), generator=gen)
        return chunked_grad(net, xs, chunk).reshape(n, k, *s.shape[1:]).mean(1)

    def deeplift():
        both = torch.cat([s, torch.zeros_like(s)]).requires_grad_(True)
        out = twin(inverse(both))
        out[:n, 1].sum().backward()
        return both.grad[:n] * s

    return {"BM_onnx_integrated_gradients": ig, "BM_onnx_gradient_shap": gradient_shap,
            "BM_onnx_smoothgrad": smoothgrad, "BM_onnx_deeplift": deeplift}


def trim_time(binary, name, reps, onnx=None, cpu=False):
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS))
    if onnx:
        env["TRIM_BENCH_ONNX"] = onnx
    out = subprocess.run(
        [binary, "--benchmark_filter=^" + name + "$", "--benchmark_format=json",
         "--benchmark_repetitions=%d" % reps, "--benchmark_report_aggregates_only=true", WARMUP],
        check=True, capture_output=True, text=True, env=env)
    for b in json.loads(out.stdout)["benchmarks"]:
        # One repetition reports no aggregates: its run is the median.
        if b.get("aggregate_name") == "median" or (reps == 1 and b.get("run_type") == "iteration"):
            return b["cpu_time" if cpu else "real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    raise RuntimeError("no median for " + name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--zoo", default="", help="torchvision models at SIZExSIZEx3, comma-separated")
    ap.add_argument("--batches", default="2,16", help="batch sizes of the zoo cases")
    ap.add_argument("--size", default="64", help="image sizes of the zoo cases (SIZE x SIZE x 3), comma-separated")
    ap.add_argument("--only-zoo", action="store_true", help="skip the LeNet cases")
    ap.add_argument("--methods", default="integrated_gradients,gradient_shap,smoothgrad,deeplift",
                    help="zoo methods to time, comma-separated (IG-50 at 128², batch 16 is 800 rows: PyTorch's "
                         "twin holds all their activations at once)")
    ap.add_argument("--cpu-time", action="store_true", default=CPU_CLOCK,
                    help="CPU times (Google Benchmark's cpu_time, time.process_time) instead of wall times; "
                         "with TRIM_BENCH_THREADS=1, less disturbed by a loaded machine (default: "
                         "TRIM_BENCH_CLOCK=cpu)")
    ap.add_argument("--torch-rows", type=int, default=0,
                    help="the zoo twins' gradients in chunks of at most this many rows (captum's "
                         "internal_batch_size; default 0: one batch, as captum's default)")
    args = ap.parse_args()
    binary = os.path.join(args.build, "bench", "bench_attribution")
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    net = LeNet().eval()
    for p in net.parameters():
        p.requires_grad_(False)
    x = torch.randn(N, 1, 28, 28)
    s = torch.view_as_real(torch.fft.fft2(x)).contiguous()
    baselines = torch.view_as_real(torch.fft.fft2(0.1 * torch.randn(10, 1, 28, 28))).contiguous()
    clock = time.process_time if args.cpu_time else time.perf_counter
    print("torch %s, %d threads, %s target 1; medians of %d repetitions, %s times" % (
        torch.__version__, THREADS, "" if args.only_zoo else "LeNet in fft2 space, batch %d," % N,
        args.repetitions, "CPU" if args.cpu_time else "wall"))
    print("%-28s %10s %10s %8s" % ("method", "trim ms", "torch ms", "ratio"))
    for name, fn in ({} if args.only_zoo else methods(net, s, baselines)).items():
        t_trim = trim_time(binary, name, args.repetitions, cpu=args.cpu_time)
        t_torch = median_time(fn, args.repetitions, clock=clock)
        print("%-28s %10.2f %10.2f %8.2f" % (name, t_trim * 1e3, t_torch * 1e3, t_trim / t_torch), flush=True)
    zoo = [z for z in args.zoo.split(",") if z]
    if not zoo:
        return
    for size in [int(v) for v in args.size.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            zoo_at(binary, args, zoo, size, tmp, clock)


def zoo_at(binary, args, zoo, size, tmp, clock):
    for zname, (model, path) in export_zoo(zoo, tmp, size).items():
        for p in model.parameters():
            p.requires_grad_(False)
        for n in [int(b) for b in args.batches.split(",")]:
            x = torch.randn(n, 3, size, size)
            s = torch.view_as_real(torch.fft.fft2(x)).contiguous()
            baselines = torch.view_as_real(torch.fft.fft2(0.1 * torch.randn(10, 3, size, size))).contiguous()
            for name, fn in zoo_methods(model, s, baselines, args.torch_rows).items():
                if name[len("BM_onnx_"):] not in args.methods.split(","):
                    continue
                t_trim, t_torch, ratio = paired_times(
                    lambda: trim_time(binary, "%s/%d" % (name, n), 1, onnx=path, cpu=args.cpu_time), fn,
                    args.repetitions, clock)
                label = "%s %d² %s/%d" % (zname, size, name[len("BM_onnx_"):], n)
                if args.torch_rows > 0:
                    label += " (torch %d rows)" % args.torch_rows
                print("%-34s %10.2f %10.2f %8.2f" % (label, t_trim * 1e3, t_torch * 1e3, ratio), flush=True)


def paired_times(trim_once, torch_fn, reps, clock):
    """Medians of `reps` trim and PyTorch times taken in adjacent pairs (one
    trim repetition, then one call of the twin), and the median of the pairs'
    ratios. On a shared machine a neighbour's load comes and goes over minutes
    (the same trim case measured 1.05 s and 1.6 s ten minutes apart): taking
    all of one side's repetitions before the other's let such a phase land on
    one side only, where adjacent pairs see about the same machine."""
    torch_fn()  # warm-up calls, as median_time makes them
    torch_fn()
    trims, torches = [], []
    for _ in range(reps):
        trims.append(trim_once())
        t0 = clock()
        torch_fn()
        torches.append(clock() - t0)
    ratio = statistics.median(a / b for a, b in zip(trims, torches))
    return statistics.median(trims), statistics.median(torches), ratio


if __name__ == "__main__":
    main()
