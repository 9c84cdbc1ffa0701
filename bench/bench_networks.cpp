// Forward and input-gradient timings of the reference networks, with the
// achieved GFLOP/s shown next to this machine's single-precision GEMM rate
// (measured first, in this same binary).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>

#include "networks.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/rng.hpp"
#include "trim/graph/executor.hpp"
#include "trim/io/onnx.hpp"
#include "trim/kernels/conv.hpp"

namespace {

using namespace trim;

double g_gemm_gflops = 0;  // measured at start-up, for the efficiency counter
double g_peak_gflops = 0;  // one core's multiply-add peak, measured at start-up

MatrixRM random_matrix(int64_t n, uint64_t seed) {
  Tensor t({n, n});
  Rng(seed).fill_uniform(t, -1, 1);
  return t.as_matrix();
}

/// Best-of-5 rate of a 1024³ Eigen SGEMM with trim's thread count.
double measure_gemm_gflops() {
  const int64_t n = 1024;
  const MatrixRM a = random_matrix(n, 1), b = random_matrix(n, 2);
  MatrixRM c(n, n);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    c.noalias() = a * b;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * n * n * n / s / 1e9);
  }
  benchmark::DoNotOptimize(c.data());
  return best;
}

/// CPU seconds of the calling thread: what one core spent, however loaded
/// the machine is.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

/// One core's single-precision peak: twelve independent multiply-add chains
/// (enough to hide the latency) on the widest vectors this build uses, in
/// thread CPU time.
double measure_peak_gflops() {
#if defined(__AVX512F__) || defined(__AVX2__)
#if defined(__AVX512F__)
  using V = __m512;
  const auto fma = [](V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); };
  const V a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
  constexpr int lanes = 16;
#else
  using V = __m256;
  const auto fma = [](V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); };
  const V a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-4f);
  constexpr int lanes = 8;
#endif
  V c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b, c8 = b, c9 = b, c10 = b, c11 = b;
  const long iters = 20'000'000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const double t0 = thread_seconds();
    for (long k = 0; k < iters; ++k) {
      c0 = fma(a, c0, b), c1 = fma(a, c1, b), c2 = fma(a, c2, b), c3 = fma(a, c3, b);
      c4 = fma(a, c4, b), c5 = fma(a, c5, b), c6 = fma(a, c6, b), c7 = fma(a, c7, b);
      c8 = fma(a, c8, b), c9 = fma(a, c9, b), c10 = fma(a, c10, b), c11 = fma(a, c11, b);
      // Keeps the chains in registers and the loop from being folded.
      asm volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6), "+x"(c7), "+x"(c8),
                   "+x"(c9), "+x"(c10), "+x"(c11));
    }
    best = std::max(best, iters * 12.0 * lanes * 2 / (thread_seconds() - t0) / 1e9);
  }
  return best;
#else
  return 0;  // no vector multiply-add in this build
#endif
}

void BM_sgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  const MatrixRM a = random_matrix(n, 1), b = random_matrix(n, 2);
  MatrixRM c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void report(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["gemm_GFLOP/s"] = g_gemm_gflops * 1e9;
  state.counters["gemm_GFLOP/s"].oneK = benchmark::Counter::kIs1000;
  state.counters["core_peak_GFLOP/s"] = g_peak_gflops * 1e9;
  state.counters["core_peak_GFLOP/s"].oneK = benchmark::Counter::kIs1000;
}

template <class Build>
void run_network(benchmark::State& state, Build build, const Shape& per_example, bool backward_too) {
  const Graph g = build();
  const int64_t batch = state.range(0);
  Shape s{batch};
  for (int64_t d : per_example) s.push_back(d);
  Tensor x(s);
  Rng(3).fill_normal(x, 0, 1);
  Workspace ws;
  forward(g, ws, {x});
  const Tensor u(ws.value(g.outputs()[0]).shape(), 1.0f);
  for (auto _ : state) {
    forward(g, ws, {x});
    if (backward_too) benchmark::DoNotOptimize(backward(g, ws, {u}).inputs[0].data());
    benchmark::DoNotOptimize(ws.value(g.outputs()[0]).data());
  }
  // The input-gradient backward costs about as much as the forward again
  // (no weight gradients), so count its flops once more.
  report(state, bench::flops_per_example(g) * static_cast<double>(batch) * (backward_too ? 2 : 1));
}

void BM_lenet_forward(benchmark::State& state) {
  run_network(state, [] { return bench::lenet(); }, {1, 28, 28}, false);
}
void BM_lenet_forward_backward(benchmark::State& state) {
  run_network(state, [] { return bench::lenet(); }, {1, 28, 28}, true);
}
void BM_resnet18_256_forward(benchmark::State& state) {
  run_network(state, [] { return bench::resnet18(256); }, {1, 256, 256}, false);
}

void BM_resnet18_64_forward(benchmark::State& state) {
  run_network(state, [] { return bench::resnet18(64, 10, 0, 3); }, {3, 64, 64}, false);
}
void BM_resnet18_64_forward_backward(benchmark::State& state) {
  run_network(state, [] { return bench::resnet18(64, 10, 0, 3); }, {3, 64, 64}, true);
}

/// The ONNX model named by the environment variable TRIM_BENCH_ONNX (how
/// compare_pytorch.py times torchvision's networks exported by PyTorch).
template <bool Backward>
void BM_onnx(benchmark::State& state) {
  const char* path = std::getenv("TRIM_BENCH_ONNX");
  if (!path) {
    state.SkipWithError("set TRIM_BENCH_ONNX to an ONNX model file");
    return;
  }
  const Graph probe = io::load_onnx(path);
  const Shape in = probe.shape(probe.inputs()[0]);
  const Shape per_example(std::vector<int64_t>(in.begin() + 1, in.end()));
  run_network(state, [&] { return io::load_onnx(path); }, per_example, Backward);
}
void BM_onnx_forward(benchmark::State& state) { BM_onnx<false>(state); }
void BM_onnx_forward_backward(benchmark::State& state) { BM_onnx<true>(state); }

/// The 3×3 convolutions of ResNet-18 at 64×64 (input channels, output
/// channels, input size, stride, how many), batch 100: state.range(0) = 0
/// forward, 1 input gradient, 2 weight gradient; state.range(1) = the layer
/// shape (0–6) or 7 for all of them. GFLOP/s against the SGEMM rate of the
/// same run is the kernel's efficiency.
void BM_resnet18_64_conv3x3(benchmark::State& state) {
  struct Layer {
    int64_t cin, cout, size, stride, count;
  };
  const Layer layers[] = {{64, 64, 16, 1, 4},  {64, 128, 16, 2, 1},  {128, 128, 8, 1, 3}, {128, 256, 8, 2, 1},
                          {256, 256, 4, 1, 3}, {256, 512, 4, 2, 1}, {512, 512, 2, 1, 3}};
  const int64_t batch = 100;
  const int which = static_cast<int>(state.range(0));
  const int only = static_cast<int>(state.range(1));
  struct Op {
    Tensor x, w, y;
    kernels::Conv2dConfig c;
    int64_t count;
  };
  std::vector<Op> ops;
  double flops = 0;
  for (int li = 0; li < 7; ++li) {
    if (only != 7 && only != li) continue;
    const Layer& l = layers[li];
    Op op;
    op.c.stride = {l.stride, l.stride};
    op.c.pads = {1, 1, 1, 1};
    op.x = Tensor({batch, l.cin, l.size, l.size});
    op.w = Tensor({l.cout, l.cin, 3, 3});
    Rng(1).fill_normal(op.x, 0, 1);
    Rng(2).fill_normal(op.w, 0, 0.1f);
    const int64_t o = l.size / l.stride;
    op.y = Tensor({batch, l.cout, o, o});
    Rng(3).fill_normal(op.y, 0, 1);
    op.count = l.count;
    flops += 2.0 * static_cast<double>(op.w.numel() * o * o * batch * l.count);
    ops.push_back(std::move(op));
  }
  for (auto _ : state)
    for (Op& op : ops)
      for (int64_t r = 0; r < op.count; ++r) {
        if (which == 0) kernels::conv2d_forward(op.x, op.w, nullptr, op.c, op.y);
        if (which == 1) kernels::conv2d_backward_input(op.y, op.w, op.c, op.x);
        if (which == 2) kernels::conv2d_backward_params(op.x, op.y, op.c, &op.w, nullptr);
      }
  report(state, flops);
}

}  // namespace

BENCHMARK(BM_resnet18_64_forward)->Arg(1)->Arg(16)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_resnet18_64_forward_backward)->Arg(1)->Arg(16)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_onnx_forward)->Arg(1)->Arg(16)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_onnx_forward_backward)->Arg(1)->Arg(16)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_resnet18_64_conv3x3)
    ->ArgsProduct({{0, 1, 2}, {7, 0, 1, 2, 3, 4, 5, 6}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sgemm)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lenet_forward)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lenet_forward_backward)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_resnet18_256_forward)->Arg(1)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_gemm_gflops = measure_gemm_gflops();
  g_peak_gflops = measure_peak_gflops();
  std::fprintf(stderr, "trim: %d threads, measured SGEMM 1024^3: %.1f GFLOP/s\n", trim::num_threads(),
               g_gemm_gflops);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
