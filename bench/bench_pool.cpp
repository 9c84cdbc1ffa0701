// Max pooling on the shapes the zoo uses, forward and backward, per plane
// kind: ResNet's 3×3 stride-2 pad-1 pool after the 64² stem ([N, 64, 32, 32]),
// the same at 224² ([N, 64, 112, 112]) and LeNet-style 2×2. Compare with
// PyTorch's F.max_pool2d on the same shape at one thread.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "trim/core/parallel.hpp"
#include "trim/core/rng.hpp"
#include "trim/kernels/pool.hpp"

namespace {

using namespace trim;

struct Case {
  kernels::PoolWindow w;
  Tensor x, y, dy, dx;
};

/// range(0) = batch, range(1) = input size, range(2) = kernel (3: 3×3/2 pad 1, 2: 2×2/2).
Case make_case(const benchmark::State& state) {
  Case c;
  const int64_t k = state.range(2);
  c.w.kernel = {k, k};
  c.w.stride = {2, 2};
  if (k == 3) c.w.pads = {1, 1, 1, 1};
  c.x = Tensor({state.range(0), 64, state.range(1), state.range(1)});
  Rng(1).fill_normal(c.x, 0, 1);
  // After a ReLU: half the inputs are 0, so windows tie often.
  for (float& v : c.x) v = v > 0 ? v : 0.0f;
  c.y = Tensor(kernels::pool_output_shape(c.x.shape(), 2, c.w, "bench"));
  c.dy = c.y;
  Rng(2).fill_normal(c.dy, 0, 1);
  c.dx = Tensor(c.x.shape());
  return c;
}

void BM_max_pool_forward(benchmark::State& state) {
  Case c = make_case(state);
  for (auto _ : state) {
    kernels::max_pool_forward(c.x, c.w, c.y);
    benchmark::DoNotOptimize(c.y.data());
  }
  state.SetBytesProcessed(state.iterations() * c.x.numel() * 4);
}

void BM_max_pool_backward(benchmark::State& state) {
  Case c = make_case(state);
  for (auto _ : state) {
    kernels::max_pool_backward(c.x, c.w, c.dy, c.dx);
    benchmark::DoNotOptimize(c.dx.data());
  }
  state.SetBytesProcessed(state.iterations() * c.x.numel() * 4);
}

}  // namespace

BENCHMARK(BM_max_pool_forward)->Args({16, 32, 3})->Args({100, 32, 3})->Args({1, 112, 3})->Args({16, 32, 2})->Args({64, 24, 2})->Args({64, 8, 2});
BENCHMARK(BM_max_pool_backward)->Args({16, 32, 3})->Args({100, 32, 3})->Args({1, 112, 3})->Args({16, 32, 2})->Args({64, 24, 2})->Args({64, 8, 2});

BENCHMARK_MAIN();
