// Pooling kernels against PyTorch (tests/reference/make_pool.py) and by hand.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/kernels/pool.hpp"

using namespace trim;
using trim::kernels::PoolWindow;
using trim::test::randn;
using trim::test::require_close;

namespace {

/// Window from a fixture config (see make_pool.py); stride 0 means kernel.
PoolWindow window_from(const Tensor& c) {
  const auto v = [&](int64_t i) { return static_cast<int64_t>(std::lround(c[i])); };
  if (c.numel() == 6) {
    const int64_t k = v(0);
    return PoolWindow::one_d(k, v(1) == 0 ? k : v(1), v(2), v(3), v(4) != 0, v(5) != 0);
  }
  PoolWindow w;
  w.kernel = {v(0), v(1)};
  w.stride = {v(2) == 0 ? v(0) : v(2), v(3) == 0 ? v(1) : v(3)};
  w.pads = {v(4), v(5), v(6), v(7)};
  w.ceil_mode = v(8) != 0;
  w.count_include_pad = v(9) != 0;
  return w;
}

/// Calls fn(prefix) for "<family>.0", "<family>.1", ... present in f.
template <class Fn>
int for_cases(const test::Fixture& f, const std::string& family, Fn fn) {
  int n = 0;
  for (; f.has(family + "." + std::to_string(n) + ".config"); ++n) fn(family + "." + std::to_string(n));
  return n;
}

Tensor output_for(const Tensor& x, const PoolWindow& w) {
  return Tensor(kernels::pool_output_shape(x.shape(), x.rank() - 2, w, "test"));
}

}  // namespace

TEST_CASE("pool output size follows PyTorch, ceil mode included", "[kernels][pool]") {
  // Values from torch.nn.functional.max_pool1d(torch.zeros(1, 1, L), k, s, p, ceil_mode=c).
  CHECK(kernels::pool_output_size(5, 2, 2, 1, 1, true) == 3);  // last window would start in padding
  CHECK(kernels::pool_output_size(9, 2, 2, 1, 1, true) == 5);
  CHECK(kernels::pool_output_size(7, 2, 2, 0, 0, false) == 3);
  CHECK(kernels::pool_output_size(7, 2, 2, 0, 0, true) == 4);
  CHECK(kernels::pool_output_size(11, 4, 4, 0, 0, true) == 3);
  CHECK(kernels::pool_output_size(6, 3, 2, 1, 1, true) == 4);
  CHECK(kernels::pool_output_size(4, 3, 3, 1, 1, true) == 2);
  const Shape y = kernels::pool_output_shape({Shape::free, 3, 7, 6}, 2, PoolWindow{{2, 2}, {2, 2}}, "p");
  CHECK(y == Shape{Shape::free, 3, 3, 3});
}

TEST_CASE("max pooling matches torch forward, argmax and gradient", "[kernels][pool]") {
  const test::Fixture f("pool_max.txt");
  int cases = 0;
  for (const char* family : {"max2d", "max1d"})
    cases += for_cases(f, family, [&](const std::string& p) {
      const Tensor& x = f[p + ".x"];
      const PoolWindow w = window_from(f[p + ".config"]);
      Tensor y = output_for(x, w);
      std::vector<int64_t> idx(static_cast<size_t>(y.numel()), -1);
      kernels::max_pool_forward(x, w, y, idx.data());
      require_close(y, f[p + ".y"], 1e-6, 1e-3, p + " forward");
      if (f.has(p + ".idx")) {
        const Tensor& ref = f[p + ".idx"];
        for (int64_t j = 0; j < y.numel(); ++j) {
          INFO(p << " output " << j);
          REQUIRE(idx[static_cast<size_t>(j)] == static_cast<int64_t>(ref[j]));
        }
      }
      // Without indices the values are the same.
      Tensor y2 = output_for(x, w);
      kernels::max_pool_forward(x, w, y2);
      REQUIRE(max_abs_diff(y, y2) == 0.0f);
      Tensor dx(x.shape(), 0.5f);  // backward adds
      kernels::max_pool_backward(x, w, f[p + ".u"], dx);
      for (float& v : dx) v -= 0.5f;
      require_close(dx, f[p + ".dx"], 1e-5, 1e-3, p + " dx");
    });
  REQUIRE(cases == 9);
}

TEST_CASE("average pooling matches torch forward and gradient", "[kernels][pool]") {
  const test::Fixture f("pool_avg.txt");
  int cases = 0;
  for (const char* family : {"avg2d", "avg1d"})
    cases += for_cases(f, family, [&](const std::string& p) {
      const Tensor& x = f[p + ".x"];
      const PoolWindow w = window_from(f[p + ".config"]);
      Tensor y = output_for(x, w);
      kernels::avg_pool_forward(x, w, y);
      require_close(y, f[p + ".y"], 1e-5, 1e-3, p + " forward");
      Tensor dx(x.shape(), -0.25f);
      kernels::avg_pool_backward(w, f[p + ".u"], dx);
      for (float& v : dx) v += 0.25f;
      require_close(dx, f[p + ".dx"], 1e-4, 1e-3, p + " dx");
    });
  REQUIRE(cases == 12);
}

TEST_CASE("global average pooling matches torch adaptive pooling to 1", "[kernels][pool]") {
  const test::Fixture f("pool_global.txt");
  for (int i = 0; i < 3; ++i) {
    const std::string p = "global." + std::to_string(i);
    const Tensor& x = f[p + ".x"];
    Tensor y(f[p + ".y"].shape());
    kernels::global_avg_pool_forward(x, y);
    require_close(y, f[p + ".y"], 1e-5, 1e-3, p + " forward");
    Tensor dx(x.shape(), 1.0f);
    kernels::global_avg_pool_backward(f[p + ".u"], dx);
    for (float& v : dx) v -= 1.0f;
    require_close(dx, f[p + ".dx"], 1e-4, 1e-3, p + " dx");
  }
}

TEST_CASE("max pooling: padding never wins, ties go to the first maximum", "[kernels][pool]") {
  // All inputs far below zero and -inf: a zero from padding must never appear.
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x({1, 1, 2, 2}, std::vector<float>{-1e30f, -inf, -inf, -inf});
  PoolWindow w;
  w.kernel = {2, 2};
  w.stride = {1, 1};
  w.pads = {1, 1, 1, 1};
  Tensor y = output_for(x, w);
  REQUIRE(y.shape() == Shape{1, 1, 3, 3});
  std::vector<int64_t> idx(9);
  kernels::max_pool_forward(x, w, y, idx.data());
  for (int64_t j = 0; j < 9; ++j) {
    REQUIRE(y[j] == x[idx[static_cast<size_t>(j)]]);
    REQUIRE(y[j] < 0.0f);
  }
  // Windows touching only the -inf elements still pick a real element.
  REQUIRE(y[8] == -inf);
  REQUIRE(idx[8] == 3);
  REQUIRE(y[0] == -1e30f);

  // Ties: the first maximum in scan order gets the whole gradient (as torch).
  Tensor t({1, 1, 2, 4}, std::vector<float>{1, 1, 2, 0, 1, 1, 0, 2});
  Tensor ty({1, 1, 1, 2});
  const PoolWindow w2{{2, 2}, {2, 2}};
  std::vector<int64_t> ti(2);
  kernels::max_pool_forward(t, w2, ty, ti.data());
  REQUIRE(ti == std::vector<int64_t>{0, 2});
  Tensor dt(t.shape());
  kernels::max_pool_backward(t, w2, Tensor({1, 1, 1, 2}, std::vector<float>{3, 5}), dt);
  REQUIRE(dt.to_vector() == std::vector<float>{3, 0, 5, 0, 0, 0, 0, 0});
}

TEST_CASE("average pooling divisors with and without padding", "[kernels][pool]") {
  // 1d, L=3, k=3, s=1, pad 1: windows [-1,2), [0,3), [1,4).
  const Tensor x({1, 1, 3}, std::vector<float>{3, 6, 9});
  for (bool include : {true, false}) {
    const PoolWindow w = PoolWindow::one_d(3, 1, 1, 1, false, include);
    Tensor y = output_for(x, w);
    kernels::avg_pool_forward(x, w, y);
    if (include)
      REQUIRE(y.to_vector() == std::vector<float>{3, 6, 5});
    else
      REQUIRE(y.to_vector() == std::vector<float>{4.5f, 6, 7.5f});
    // Adjoint identity <A x, u> = <x, Aᵀ u>.
    const Tensor u({1, 1, 3}, std::vector<float>{1, -2, 0.5f});
    Tensor atu(x.shape());
    kernels::avg_pool_backward(w, u, atu);
    double lhs = 0, rhs = 0;
    for (int64_t i = 0; i < 3; ++i) {
      lhs += double(y[i]) * u[i];
      rhs += double(x[i]) * atu[i];
    }
    REQUIRE(lhs == Approx(rhs));
  }
}

TEST_CASE("pooling gives the same result on one thread and many", "[kernels][pool]") {
  const Tensor x = randn({4, 16, 20, 20}, 7);
  PoolWindow w;
  w.kernel = {3, 3};
  w.stride = {2, 2};
  w.pads = {1, 1, 1, 1};
  w.ceil_mode = true;
  const Tensor u = randn(kernels::pool_output_shape(x.shape(), 2, w, "t"), 8);
  const int saved = num_threads();
  std::vector<Tensor> results;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor ym = output_for(x, w), ya = output_for(x, w);
    Tensor dm(x.shape()), da(x.shape()), g({4, 16, 1, 1}), dg(x.shape());
    kernels::max_pool_forward(x, w, ym);
    kernels::max_pool_backward(x, w, u, dm);
    kernels::avg_pool_forward(x, w, ya);
    kernels::avg_pool_backward(w, u, da);
    kernels::global_avg_pool_forward(x, g);
    kernels::global_avg_pool_backward(g, dg);
    for (Tensor* t : {&ym, &dm, &ya, &da, &g, &dg}) results.push_back(std::move(*t));
  }
  set_num_threads(saved);
  for (size_t i = 0; i < 6; ++i) REQUIRE(max_abs_diff(results[i], results[i + 6]) == 0.0f);
}

TEST_CASE("pooling kernels reject bad windows and shapes", "[kernels][pool]") {
  const Shape x{Shape::free, 3, 8, 8};
  PoolWindow w{{3, 3}, {1, 1}};
  w.pads = {2, 1, 1, 1};
  REQUIRE_THROWS_AS(kernels::pool_output_shape(x, 2, w, "p"), ValueError);
  REQUIRE_THROWS_WITH(kernels::pool_output_shape(x, 2, w, "max_pool2d 'p'"),
                      Catch::StartsWith("max_pool2d 'p': padding {top,left,bottom,right} = {2,1,1,1}") &&
                          Catch::Contains("kernel size [3,3]"));
  REQUIRE_THROWS_WITH(kernels::pool_output_shape(x, 1, PoolWindow::one_d(3, 1, 0, 0), "q"),
                      Catch::StartsWith("q: input [*,3,8,8], expected [N,C,L]"));
  REQUIRE_THROWS_WITH(kernels::pool_output_shape({Shape::free, 2, 3}, 1, PoolWindow::one_d(5, 1, 1, 0), "q"),
                      Catch::StartsWith("q: input [*,2,3] padded to 4 is smaller than the kernel 5"));
  REQUIRE_THROWS_WITH(kernels::pool_output_shape({Shape::free, 2, 3}, 1, PoolWindow::one_d(2, -1, 0, 0), "q"),
                      Catch::StartsWith("q: stride -1, expected positive"));
  REQUIRE_THROWS_AS(kernels::pool_output_shape({Shape::free, 2, 3}, 1, PoolWindow::one_d(0, 1, 0, 0), "q"),
                    ValueError);
  REQUIRE_THROWS_AS(kernels::pool_output_shape({Shape::free, 2, 0}, 1, PoolWindow::one_d(1, 1, 0, 0), "q"),
                    ShapeError);
  // A wrongly shaped output is refused rather than overrun.
  Tensor in({1, 1, 4, 4}), out({1, 1, 3, 3});
  REQUIRE_THROWS_AS(kernels::max_pool_forward(in, PoolWindow{{2, 2}, {2, 2}}, out), ShapeError);
  REQUIRE_THROWS_AS(kernels::avg_pool_forward(in, PoolWindow{{2, 2}, {2, 2}}, out), ShapeError);
  Tensor g({1, 2});
  REQUIRE_THROWS_AS(kernels::global_avg_pool_forward(in, g), ShapeError);
}

namespace {

/// Straightforward per-window reference (no clipping tricks) for the
/// randomised comparison below: forward values, argmax and both VJPs.
struct NaivePool {
  Tensor max_y, avg_y, max_dx, avg_dx;
  std::vector<int64_t> arg;

  NaivePool(const Tensor& x, const PoolWindow& w, const Tensor& u) {
    const Shape ys = kernels::pool_output_shape(x.shape(), x.rank() - 2, w, "naive");
    max_y = avg_y = Tensor(ys);
    max_dx = avg_dx = Tensor(x.shape());
    const bool two = x.rank() == 4;
    const int64_t H = two ? x.dim(2) : 1, W = x.dim(-1), OH = two ? ys[2] : 1, OW = ys[ys.rank() - 1];
    const int64_t planes = x.dim(0) * x.dim(1);
    for (int64_t p = 0; p < planes; ++p)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t o = (p * OH + oh) * OW + ow;
          const int64_t hs = oh * w.stride[0] - w.pads[0], ws = ow * w.stride[1] - w.pads[1];
          float best = -std::numeric_limits<float>::infinity(), sum = 0.0f;
          int64_t best_i = -1, real = 0;
          for (int64_t i = 0; i < w.kernel[0]; ++i)
            for (int64_t j = 0; j < w.kernel[1]; ++j) {
              const int64_t h = hs + i, c = ws + j;
              if (h < 0 || h >= H || c < 0 || c >= W) continue;
              const int64_t k = (p * H + h) * W + c;
              if (best_i < 0 || x[k] > best || x[k] != x[k]) {  // a NaN wins, as torch
                best = x[k];
                best_i = k;
              }
              sum += x[k];
              ++real;
            }
          const int64_t ph = std::min(hs + w.kernel[0], H + w.pads[2]) - hs;
          const int64_t pw = std::min(ws + w.kernel[1], W + w.pads[3]) - ws;
          const float div = static_cast<float>(w.count_include_pad ? ph * pw : real);
          max_y[o] = best;
          arg.push_back(best_i);
          avg_y[o] = sum / div;
          max_dx[best_i] += u[o];
          for (int64_t i = 0; i < w.kernel[0]; ++i)
            for (int64_t j = 0; j < w.kernel[1]; ++j) {
              const int64_t h = hs + i, c = ws + j;
              if (h >= 0 && h < H && c >= 0 && c < W) avg_dx[(p * H + h) * W + c] += u[o] / div;
            }
        }
  }
};

}  // namespace

TEST_CASE("pooling kernels agree with a naive reference on random windows", "[kernels][pool]") {
  Rng rng(42);
  int tried = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const bool two = rng.below(2) == 1;
    PoolWindow w;
    for (size_t a = two ? 0 : 1; a < 2; ++a) {
      w.kernel[a] = 1 + static_cast<int64_t>(rng.below(4));
      w.stride[a] = 1 + static_cast<int64_t>(rng.below(3));
      w.pads[a] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(w.kernel[a] / 2 + 1)));
      w.pads[a + 2] = static_cast<int64_t>(rng.below(static_cast<uint64_t>(w.kernel[a] / 2 + 1)));
    }
    w.ceil_mode = rng.below(2) == 1;
    w.count_include_pad = rng.below(2) == 1;
    const int64_t len = 1 + static_cast<int64_t>(rng.below(9));
    const Shape xs = two ? Shape{2, 2, 1 + static_cast<int64_t>(rng.below(7)), len} : Shape{2, 3, len};
    Shape ys;
    try {
      ys = kernels::pool_output_shape(xs, two ? 2 : 1, w, "t");
    } catch (const ShapeError&) {
      continue;  // kernel larger than the padded input
    }
    ++tried;
    const Tensor x = randn(xs, 100 + static_cast<uint64_t>(trial));
    const Tensor u = randn(ys, 500 + static_cast<uint64_t>(trial));
    const NaivePool ref(x, w, u);
    INFO("trial " << trial << " input " << xs.str() << " kernel " << w.kernel[0] << "x" << w.kernel[1]
                  << " stride " << w.stride[0] << "," << w.stride[1] << " pads " << w.pads[0] << ","
                  << w.pads[1] << "," << w.pads[2] << "," << w.pads[3] << " ceil " << w.ceil_mode
                  << " cip " << w.count_include_pad);
    Tensor y(ys), dx(xs);
    std::vector<int64_t> idx(static_cast<size_t>(y.numel()));
    kernels::max_pool_forward(x, w, y, idx.data());
    REQUIRE(max_abs_diff(y, ref.max_y) == 0.0f);
    REQUIRE(idx == ref.arg);
    kernels::max_pool_backward(x, w, u, dx);
    require_close(dx, ref.max_dx, 1e-6, 1e-3, "max dx");
    dx.fill(std::numeric_limits<float>::quiet_NaN());
    kernels::max_pool_backward(x, w, u, dx, /*overwrite=*/true);
    require_close(dx, ref.max_dx, 1e-6, 1e-3, "max dx, overwritten");
    kernels::avg_pool_forward(x, w, y);
    require_close(y, ref.avg_y, 1e-5, 1e-3, "avg y");
    dx.set_zero();
    kernels::avg_pool_backward(w, u, dx);
    require_close(dx, ref.avg_dx, 1e-5, 1e-3, "avg dx");
  }
  REQUIRE(tried > 150);
}

TEST_CASE("max pooling: the plain 2x2 stride-2 path agrees with the naive reference, NaN included",
          "[kernels][pool]") {
  // kernels::max_pool_* take a separate single-pass path for this window.
  PoolWindow w{{2, 2}, {2, 2}};
  for (const Shape& xs : {Shape{3, 2, 24, 24}, Shape{1, 3, 7, 9}, Shape{2, 1, 2, 2}, Shape{1, 50, 8, 8}}) {
    INFO("input " << xs.str());
    const Tensor x = randn(xs, 77);
    const Shape ys = kernels::pool_output_shape(xs, 2, w, "t");
    const Tensor u = randn(ys, 78);
    const NaivePool ref(x, w, u);
    Tensor y(ys), dx(xs);
    std::vector<int64_t> idx(static_cast<size_t>(y.numel()));
    kernels::max_pool_forward(x, w, y, idx.data());
    REQUIRE(idx == ref.arg);
    for (int64_t j = 0; j < y.numel(); ++j) REQUIRE(y[j] == x[idx[static_cast<size_t>(j)]]);
    kernels::max_pool_backward(x, w, u, dx);
    require_close(dx, ref.max_dx, 1e-6, 1e-3, "max dx");
  }
  // A NaN wins its window (as torch), whatever comes after it.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor xn({1, 1, 2, 4}, std::vector<float>{1, nan, 0, 1, 3, 2, 5, 1});
  Tensor yn({1, 1, 1, 2});
  std::vector<int64_t> in(2);
  kernels::max_pool_forward(xn, w, yn, in.data());
  REQUIRE(std::isnan(yn[0]));
  REQUIRE(in[0] == 1);
  REQUIRE(yn[1] == 5.0f);
  REQUIRE(in[1] == 6);
  // Ceil mode leaves partial windows: the general path handles them.
  w.ceil_mode = true;
  const Tensor x = randn({1, 1, 5, 5}, 79);
  const Shape ys = kernels::pool_output_shape(x.shape(), 2, w, "t");
  REQUIRE(ys == Shape{1, 1, 3, 3});
  const NaivePool ref(x, w, randn(ys, 80));
  Tensor y(ys);
  std::vector<int64_t> idx(9);
  kernels::max_pool_forward(x, w, y, idx.data());
  REQUIRE(idx == ref.arg);
}

TEST_CASE("max pooling: the 3x3 and 2x2 stride-2 paths keep the naive reference's winners, ties and NaN included",
          "[kernels][pool]") {
  // kernels::max_pool_* take separate paths over dealt even / odd columns for
  // 3x3 stride-2 windows (ResNet's stem pool) and, with indices or in
  // backward, for plain 2x2 ones. Inputs from {-inf, 0, 1, 2} tie in almost
  // every window, so the first maximum in scan order is what is checked;
  // a few NaN and every padding / size / ceil combination come on top.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Rng rng(5);
  int tried = 0;
  for (int trial = 0; trial < 160; ++trial) {
    PoolWindow w;
    w.stride = {2, 2};
    if (trial % 4 == 1) {
      w.kernel = {2, 2};  // padding and ceil mode would leave the 2x2 path: none
    } else {
      w.kernel = {3, 3};
      for (size_t i = 0; i < 4; ++i) w.pads[i] = static_cast<int64_t>(rng.below(2));
      w.ceil_mode = rng.below(2) == 1;
    }
    const int64_t batch = 1 + static_cast<int64_t>(rng.below(2));
    const Shape xs{batch, 2, 1 + static_cast<int64_t>(rng.below(10)), 1 + static_cast<int64_t>(rng.below(40))};
    Shape ys;
    try {
      ys = kernels::pool_output_shape(xs, 2, w, "t");
    } catch (const ShapeError&) {
      continue;  // kernel larger than the padded input
    }
    ++tried;
    Tensor x(xs);
    const bool with_nan = trial % 8 >= 5;
    for (float& v : x) {
      const uint64_t r = rng.below(16);
      v = r < 6 ? 0.0f : r < 10 ? 1.0f : r < 13 ? 2.0f : r < 15 ? -inf : with_nan ? nan : 2.0f;
    }
    const Tensor u = randn(ys, 900 + static_cast<uint64_t>(trial));
    const NaivePool ref(x, w, u);
    INFO("trial " << trial << " input " << xs.str() << " kernel " << w.kernel[0] << " pads " << w.pads[0] << "," << w.pads[1] << ","
                  << w.pads[2] << "," << w.pads[3] << " ceil " << w.ceil_mode);
    Tensor y(ys), yv(ys), dx(xs);
    std::vector<int64_t> idx(static_cast<size_t>(y.numel()));
    kernels::max_pool_forward(x, w, y, idx.data());
    REQUIRE(idx == ref.arg);
    kernels::max_pool_forward(x, w, yv);  // values only
    for (int64_t j = 0; j < y.numel(); ++j) {
      const float want = x[idx[static_cast<size_t>(j)]];
      REQUIRE(((y[j] == want) || (std::isnan(y[j]) && std::isnan(want))));
      REQUIRE(((yv[j] == want) || (std::isnan(yv[j]) && std::isnan(want))));
    }
    kernels::max_pool_backward(x, w, u, dx);
    REQUIRE(max_abs_diff(dx, ref.max_dx) == 0.0f);  // same additions in the same order
    dx.fill(nan);
    kernels::max_pool_backward(x, w, u, dx, /*overwrite=*/true);
    REQUIRE(max_abs_diff(dx, ref.max_dx) == 0.0f);
  }
  REQUIRE(tried > 110);

  // Batch and threads: identical indices and gradients on 1 and 2 threads.
  Tensor x({4, 40, 15, 17});  // enough work for both windows to split over threads
  for (float& v : x) v = static_cast<float>(rng.below(3));
  const int saved = num_threads();
  for (const int64_t k : {3, 2}) {
    PoolWindow w;
    w.kernel = {k, k};
    w.stride = {2, 2};
    if (k == 3) w.pads = {1, 1, 1, 1};
    const Shape ys = kernels::pool_output_shape(x.shape(), 2, w, "t");
    const Tensor u = randn(ys, 77);
    const NaivePool ref(x, w, u);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      INFO("kernel " << k << ", threads " << threads);
      Tensor y(ys), dx(x.shape());
      std::vector<int64_t> idx(static_cast<size_t>(y.numel()));
      kernels::max_pool_forward(x, w, y, idx.data());
      kernels::max_pool_backward(x, w, u, dx);
      CHECK(idx == ref.arg);
      CHECK(max_abs_diff(y, ref.max_y) == 0.0f);
      CHECK(max_abs_diff(dx, ref.max_dx) == 0.0f);
    }
  }
  set_num_threads(saved);
}
