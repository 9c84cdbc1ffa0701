// Contextual decomposition band sweeps in fft2 space, one example:
//   LeNet-sized CNN at 28×28, 120 radial bands (centres 0.11–0.89, width 0.2)
//   ResNet-18-shaped network (1 channel, 3 outputs) at 256², 100 bands.
// The GFLOP/s counter counts one forward of the network per band (what one
// propagation of the relevant part costs). bench/compare_cd.py times acd's
// algorithm in PyTorch on the same networks in the same run.
#include <benchmark/benchmark.h>

#include "networks.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/rng.hpp"

namespace {

using namespace trim;

std::vector<double> centres(int n) {
  std::vector<double> c(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) c[static_cast<size_t>(i)] = 0.11 + (0.89 - 0.11) * i / (n - 1);
  return c;
}

void sweep(benchmark::State& state, const Graph& model, int64_t size, int bands) {
  const TrimModel tm(model, make_transform("fft2", {1, size, size}));
  Tensor x({1, 1, size, size});
  Rng(3).fill_normal(x, 0, 1);
  const Tensor s = tm.coefficients(x);
  const std::vector<double> c = centres(bands);
  for (auto _ : state) {
    const CdResult r = cd_band_sweep(tm.graph(), s, tm.transform(), c, 0.2);
    benchmark::DoNotOptimize(r.rel.data());
  }
  state.counters["peak_RSS_GiB"] = bench::peak_rss_gib();
  state.counters["GFLOP/s"] = benchmark::Counter(bench::flops_per_example(model) * bands,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void BM_cd_lenet_120_bands(benchmark::State& state) { sweep(state, bench::lenet(), 28, 120); }
void BM_cd_resnet18_256_100_bands(benchmark::State& state) { sweep(state, bench::resnet18(256), 256, 100); }

}  // namespace

BENCHMARK(BM_cd_lenet_120_bands)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_cd_resnet18_256_100_bands)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_MAIN();
