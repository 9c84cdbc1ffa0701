// Forward and input-gradient timings of the reference networks, with the
// achieved GFLOP/s shown next to this machine's single-precision GEMM rate
// (measured first, in this same binary).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "networks.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/rng.hpp"
#include "trim/graph/executor.hpp"

namespace {

using namespace trim;

double g_gemm_gflops = 0;  // measured at start-up, for the efficiency counter

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

}  // namespace

BENCHMARK(BM_sgemm)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lenet_forward)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_lenet_forward_backward)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_resnet18_256_forward)->Arg(1)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_gemm_gflops = measure_gemm_gflops();
  std::fprintf(stderr, "trim: %d threads, measured SGEMM 1024^3: %.1f GFLOP/s\n", trim::num_threads(),
               g_gemm_gflops);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
