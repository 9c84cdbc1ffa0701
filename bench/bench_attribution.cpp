// Attribution methods on the LeNet-sized CNN at 28×28 explained in fft2
// space (TrimModel), target 1, a batch of `N` examples (the argument):
// saliency, integrated gradients (50 Gauss–Legendre steps), DeepLIFT and
// gradient SHAP (20 samples, 10 baselines). bench/compare_attribution.py
// times the same work done with batched PyTorch autograd in the same run.
// Also integrated gradients on ResNet-18 at 256², for its peak memory.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "networks.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/rng.hpp"
#include "trim/io/onnx.hpp"

namespace {

using namespace trim;

struct Setup {
  Graph model = bench::lenet();
  TrimModel tm{model, make_transform("fft2", {1, 28, 28})};
  Tensor s;
  Tensor baselines;
  AttributionOptions options;

  explicit Setup(int64_t n) {
    Tensor x({n, 1, 28, 28});
    Rng(3).fill_normal(x, 0, 1);
    s = tm.coefficients(x);
    Tensor b({10, 1, 28, 28});
    Rng(4).fill_normal(b, 0, 0.1f);
    baselines = tm.coefficients(b);
    options.targets = Targets(1);
  }
};

template <class Method>
void run(benchmark::State& state, Method method) {
  Setup setup(state.range(0));
  for (auto _ : state) {
    const Attribution a = method(setup);
    benchmark::DoNotOptimize(a.attributions.data());
  }
}

void BM_saliency(benchmark::State& state) {
  run(state, [](Setup& s) { return saliency(s.tm.graph(), s.s, s.options); });
}
void BM_integrated_gradients(benchmark::State& state) {
  run(state, [](Setup& s) { return integrated_gradients(s.tm.graph(), s.s, {}, s.options); });
}
// The same with the rows sent through the graph `max_batch` (second argument)
// at a time: smaller chunks keep activations in cache.
void BM_integrated_gradients_chunked(benchmark::State& state) {
  Setup setup(state.range(0));
  setup.options.max_batch = state.range(1);
  for (auto _ : state) {
    const Attribution a = integrated_gradients(setup.tm.graph(), setup.s, {}, setup.options);
    benchmark::DoNotOptimize(a.attributions.data());
  }
}
void BM_deeplift(benchmark::State& state) {
  run(state, [](Setup& s) { return deeplift(s.tm.graph(), s.s, {}, s.options); });
}
void BM_gradient_shap(benchmark::State& state) {
  run(state, [](Setup& s) {
    GradientShapOptions gs;
    gs.n_samples = 20;
    gs.stdev = 0.1f;
    gs.convergence_delta = false;  // the PyTorch twin, like captum by default, computes none
    return gradient_shap(s.tm.graph(), s.s, s.baselines, gs, s.options);
  });
}

// Memory on a large model: ResNet-18 at 256² in fft2 space, one example, 50
// steps as one batch. Run it alone to read its peak_RSS_GiB counter.
void BM_integrated_gradients_resnet18_256(benchmark::State& state) {
  const Graph model = bench::resnet18(256);
  const TrimModel tm(model, make_transform("fft2", {1, 256, 256}));
  Tensor x({1, 1, 256, 256});
  Rng(3).fill_normal(x, 0, 1);
  const Tensor s = tm.coefficients(x);
  AttributionOptions options;
  options.targets = Targets(0);
  for (auto _ : state) {
    const Attribution a = integrated_gradients(tm.graph(), s, {}, options);
    benchmark::DoNotOptimize(a.attributions.data());
  }
  state.counters["peak_RSS_GiB"] = bench::peak_rss_gib();
}

// The ONNX model named by TRIM_BENCH_ONNX (a torchvision network exported by
// compare_attribution.py --zoo) in fft2 space, target 1, a batch of N (the
// argument): integrated gradients (50 steps), gradient SHAP (20 samples, 10
// baselines), SmoothGrad (20 samples of the gradient, noise stdev 0.1) and
// DeepLIFT (rescale rule, zero baseline). The image size is the model's;
// TRIM_BENCH_MAX_BATCH sets the rows per pass (AttributionOptions::max_batch).
struct OnnxSetup {
  Graph model;
  TrimModel tm;
  Tensor s, baselines;
  AttributionOptions options;

  static Shape per_example(const Graph& g) {
    const Shape in = g.shape(g.inputs()[0]);
    return Shape(std::vector<int64_t>(in.begin() + 1, in.end()));
  }
  OnnxSetup(const char* path, int64_t n)
      : model(io::load_onnx(path)), tm(model, make_transform("fft2", per_example(model))) {
    Shape xs{n}, bs{10};
    for (int64_t d : per_example(model)) {
      xs.push_back(d);
      bs.push_back(d);
    }
    Tensor x(xs), b(bs);
    Rng(3).fill_normal(x, 0, 1);
    Rng(4).fill_normal(b, 0, 0.1f);
    s = tm.coefficients(x);
    baselines = tm.coefficients(b);
    options.targets = Targets(1);
    if (const char* rows = std::getenv("TRIM_BENCH_MAX_BATCH")) options.max_batch = std::atoll(rows);
  }
};

template <class Method>
void run_onnx(benchmark::State& state, Method method) {
  const char* path = std::getenv("TRIM_BENCH_ONNX");
  if (!path) {
    state.SkipWithError("set TRIM_BENCH_ONNX to an ONNX model file");
    return;
  }
  OnnxSetup setup(path, state.range(0));
  for (auto _ : state) {
    const Attribution a = method(setup);
    benchmark::DoNotOptimize(a.attributions.data());
  }
}

void BM_onnx_integrated_gradients(benchmark::State& state) {
  run_onnx(state, [](OnnxSetup& s) { return integrated_gradients(s.tm.graph(), s.s, {}, s.options); });
}
/// The same without sharing the model's affine prefix between the steps
/// (IntegratedGradientsOptions::share_linear_prefix), for side-by-side runs.
void BM_onnx_integrated_gradients_unshared(benchmark::State& state) {
  run_onnx(state, [](OnnxSetup& s) {
    IntegratedGradientsOptions ig;
    ig.share_linear_prefix = false;
    return integrated_gradients(s.tm.graph(), s.s, ig, s.options);
  });
}
void BM_onnx_gradient_shap(benchmark::State& state) {
  run_onnx(state, [](OnnxSetup& s) {
    GradientShapOptions gs;
    gs.n_samples = 20;
    gs.stdev = 0.1f;
    gs.convergence_delta = false;  // the PyTorch twin, like captum by default, computes none
    return gradient_shap(s.tm.graph(), s.s, s.baselines, gs, s.options);
  });
}
void BM_onnx_smoothgrad(benchmark::State& state) {
  run_onnx(state, [](OnnxSetup& s) {
    SmoothGradOptions sg;
    sg.n_samples = 20;
    sg.stdev = 0.1f;
    return smoothgrad(gradient, s.tm.graph(), s.s, sg, s.options);
  });
}
void BM_onnx_smoothgrad_unshared(benchmark::State& state) {
  run_onnx(state, [](OnnxSetup& s) {
    SmoothGradOptions sg;
    sg.n_samples = 20;
    sg.stdev = 0.1f;
    sg.share_linear_prefix = false;
    return smoothgrad(gradient, s.tm.graph(), s.s, sg, s.options);
  });
}
void BM_onnx_deeplift(benchmark::State& state) {
  run_onnx(state, [](OnnxSetup& s) { return deeplift(s.tm.graph(), s.s, {}, s.options); });
}

}  // namespace

BENCHMARK(BM_onnx_integrated_gradients)->Arg(2)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_onnx_integrated_gradients_unshared)->Arg(2)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_onnx_gradient_shap)->Arg(2)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_onnx_smoothgrad)->Arg(2)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_onnx_smoothgrad_unshared)->Arg(2)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_onnx_deeplift)->Arg(2)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_saliency)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_integrated_gradients)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_integrated_gradients_chunked)->Args({4, 16})->Args({4, 64})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_deeplift)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_gradient_shap)->Arg(4)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_integrated_gradients_resnet18_256)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_MAIN();
