// Multilevel 2-D wavelet round trip, db4, level 3, symmetric mode (PyWavelets'
// default) on n×n float32 images:
//   BM_Wavedec2Waverec2: the PyWavelets-shaped kernels (one tensor per
//     sub-band, as pywt.wavedec2 + pywt.waverec2 return them);
//   BM_FlatRoundTrip: the flattened layout the wavelet Transform and its
//     inverse graph node use (wavedec_flat + waverec_flat);
//   BM_FlatAdjoint: the inverse node's backward (waverec_flat_adjoint).
// The second argument is the thread count (0: trim's default).
// bench/compare_pywt.py runs this and PyWavelets on the same inputs: the
// image is uniform in [-1, 1) from splitmix64 of the pixel index, which
// NumPy reproduces exactly.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "trim/core/parallel.hpp"
#include "trim/kernels/dwt.hpp"

namespace {

using namespace trim;
using namespace trim::kernels;

constexpr int kLevel = 3;

/// x[i] = 2·u(i) − 1 in float32, u(i) = splitmix64(i + golden) / 2^64 in
/// [0, 1) (53 bits): compare_pywt.py's image().
Tensor image(int64_t n) {
  Tensor x({n, n});
  for (int64_t i = 0; i < x.numel(); ++i) {
    uint64_t z = uint64_t(i) + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    x[i] = static_cast<float>(double(z >> 11) * 0x1.0p-52 - 1.0);
  }
  return x;
}

/// Sets the thread count for one benchmark and restores the default after.
struct Threads {
  explicit Threads(int64_t n) { set_num_threads(static_cast<int>(n)); }
  ~Threads() { set_num_threads(0); }
};

void BM_Wavedec2Waverec2(benchmark::State& state) {
  const Threads threads(state.range(1));
  const Tensor x = image(state.range(0));
  const Wavelet& w = wavelet("db4");
  for (auto _ : state) {
    const Wavedec2Coeffs c = wavedec2(x, w, DwtMode::Symmetric, kLevel);
    Tensor y = waverec2(c, w, DwtMode::Symmetric);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

void BM_FlatRoundTrip(benchmark::State& state) {
  const Threads threads(state.range(1));
  const int64_t n = state.range(0);
  const Tensor x = image(n);
  const Wavelet& w = wavelet("db4");
  const WaveletLayout L = wavelet_layout({n, n}, w, DwtMode::Symmetric, kLevel, false);
  std::vector<float> c(static_cast<size_t>(L.size));
  Tensor y(x.shape());
  for (auto _ : state) {
    wavedec_flat(x.data(), 1, L, w, c.data());
    waverec_flat(c.data(), 1, L, w, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

void BM_FlatAdjoint(benchmark::State& state) {
  const Threads threads(state.range(1));
  const int64_t n = state.range(0);
  const Tensor g = image(n);
  const Wavelet& w = wavelet("db4");
  const WaveletLayout L = wavelet_layout({n, n}, w, DwtMode::Symmetric, kLevel, false);
  std::vector<float> c(static_cast<size_t>(L.size));
  for (auto _ : state) {
    waverec_flat_adjoint(g.data(), 1, L, w, c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {256, 1024})
    for (int64_t t : {1, 0}) b->Args({n, t});
  b->ArgNames({"n", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_Wavedec2Waverec2)->Apply(sizes);
BENCHMARK(BM_FlatRoundTrip)->Apply(sizes);
BENCHMARK(BM_FlatAdjoint)->Apply(sizes);

BENCHMARK_MAIN();
