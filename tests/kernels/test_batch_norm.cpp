// Batch-norm kernels against PyTorch eval mode (tests/reference/make_batch_norm.py).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/kernels/batch_norm.hpp"
#include "trim/kernels/structural.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;

TEST_CASE("batch norm kernels match torch BatchNorm1d/2d/3d in eval mode", "[kernels][batch_norm]") {
  const test::Fixture f("batch_norm.txt");
  int cases = 0;
  for (; f.has("bn." + std::to_string(cases) + ".x"); ++cases) {
    const std::string p = "bn." + std::to_string(cases) + ".";
    const Tensor &x = f[p + "x"], &w = f[p + "weight"], &b = f[p + "bias"];
    const Tensor &m = f[p + "running_mean"], &v = f[p + "running_var"];
    const float eps = f[p + "eps"][0];
    Tensor y(x.shape());
    kernels::batch_norm_forward(x, w, b, m, v, eps, y);
    require_close(y, f[p + "y"], 1e-5, 1e-3, p + "y");

    // Unbiased part plus shift is the forward.
    Tensor a(x.shape());
    kernels::batch_norm_forward(x, w, b, m, v, eps, a, false);
    kernels::batch_norm_add_shift(w, b, m, v, eps, a);
    require_close(a, y, 1e-6, 1e-3, p + "unbiased + shift");

    Tensor dx(x.shape(), 2.0f), dw(w.shape(), 1.0f), db(b.shape(), -1.0f);
    kernels::batch_norm_backward_input(f[p + "u"], w, v, eps, dx);
    kernels::batch_norm_backward_params(x, f[p + "u"], m, v, eps, &dw, &db);
    for (float& e : dx) e -= 2.0f;
    for (float& e : dw) e -= 1.0f;
    for (float& e : db) e += 1.0f;
    require_close(dx, f[p + "dx"], 1e-4, 1e-3, p + "dx");
    require_close(dw, f[p + "dweight"], 1e-4, 1e-3, p + "dweight");
    require_close(db, f[p + "dbias"], 1e-4, 1e-3, p + "dbias");
    kernels::batch_norm_backward_params(x, f[p + "u"], m, v, eps, nullptr, nullptr);  // no-op
  }
  REQUIRE(cases == 4);
}

TEST_CASE("batch norm coefficients and threading", "[kernels][batch_norm]") {
  const Tensor w({2}, std::vector<float>{2, -1}), b({2}, std::vector<float>{1, 0.5f});
  const Tensor m({2}, std::vector<float>{3, -2}), v({2}, std::vector<float>{3, 0.25f});
  float scale[2], shift[2];
  kernels::batch_norm_coefficients(w, b, m, v, 1.0f, scale, shift);
  REQUIRE(scale[0] == Approx(1.0f));   // 2 / sqrt(4)
  REQUIRE(shift[0] == Approx(-2.0f));  // 1 - 3
  REQUIRE(scale[1] == Approx(-1.0f / std::sqrt(1.25f)));
  REQUIRE(shift[1] == Approx(0.5f - 2.0f / std::sqrt(1.25f)));

  const Tensor x = randn({8, 2, 40, 40}, 3);
  const int saved = num_threads();
  const Tensor u = randn(x.shape(), 4);
  Tensor y1(x.shape()), y2(x.shape()), d1(x.shape()), d2(x.shape());
  Tensor w1({2}), w2({2}), b1({2}), b2({2});
  set_num_threads(1);
  kernels::batch_norm_forward(x, w, b, m, v, 1e-5f, y1);
  kernels::batch_norm_backward_input(u, w, v, 1e-5f, d1);
  kernels::batch_norm_backward_params(x, u, m, v, 1e-5f, &w1, &b1);
  set_num_threads(2);
  kernels::batch_norm_forward(x, w, b, m, v, 1e-5f, y2);
  kernels::batch_norm_backward_input(u, w, v, 1e-5f, d2);
  kernels::batch_norm_backward_params(x, u, m, v, 1e-5f, &w2, &b2);
  set_num_threads(saved);
  REQUIRE(max_abs_diff(y1, y2) == 0.0f);
  REQUIRE(max_abs_diff(d1, d2) == 0.0f);
  REQUIRE(max_abs_diff(w1, w2) == 0.0f);
  REQUIRE(max_abs_diff(b1, b2) == 0.0f);
  // dweight against a double-precision sum.
  double ref = 0.0;
  for (int64_t n = 0; n < 8; ++n)
    for (int64_t i = 0; i < 1600; ++i) ref += double(u[(n * 2 + 1) * 1600 + i]) * (x[(n * 2 + 1) * 1600 + i] + 2.0);
  REQUIRE(w1[1] == Approx(ref / std::sqrt(0.25 + 1e-5)).epsilon(1e-4));

  Tensor bad({3, 3});
  REQUIRE_THROWS_AS(kernels::batch_norm_forward(bad, w, b, m, v, 1e-5f, bad), ShapeError);
  REQUIRE_THROWS_AS(kernels::batch_norm_coefficients(w, Tensor({3}), m, v, 1e-5f, scale, shift), ShapeError);
}

TEST_CASE("batch norm + ReLU of a channel concatenation reads its parts in place", "[kernels][batch_norm]") {
  const test::RestoreThreads restore;
  // Parts of 1, 3 and 2 channels (one part twice) at ranks 3 and 4, a batch
  // of 1 and of 5, on 1 and 2 threads: the bits of concatenating first.
  for (const Shape& spatial : {Shape({7}), Shape({9, 13}), Shape({40, 40})})
    for (int64_t n : {1, 5})
      for (int threads : {1, 2}) {
        set_num_threads(threads);
        INFO("spatial " << spatial.str() << ", batch " << n << ", " << threads << " threads");
        const auto shaped = [&](int64_t c) {
          std::vector<int64_t> dims{n, c};
          for (int a = 0; a < spatial.rank(); ++a) dims.push_back(spatial[a]);
          return Shape(dims);
        };
        const Tensor p0 = randn(shaped(1), 10), p1 = randn(shaped(3), 11), p2 = randn(shaped(2), 12);
        const std::vector<const Tensor*> parts{&p1, &p0, &p2, &p1};
        const int64_t C = 9;
        const Tensor w = randn({C}, 13), b = randn({C}, 14), m = randn({C}, 15);
        Tensor v = randn({C}, 16);
        for (float& e : v) e = e * e + 0.1f;
        Tensor cat(shaped(C));
        kernels::concat_forward(parts, 1, cat);
        Tensor expected(cat.shape()), y(cat.shape());
        kernels::batch_norm_forward(cat, w, b, m, v, 1e-5f, expected, true, true);
        kernels::batch_norm_relu_forward_concat(parts, w, b, m, v, 1e-5f, y);
        REQUIRE(std::memcmp(y.data(), expected.data(), sizeof(float) * static_cast<size_t>(y.numel())) == 0);
      }
  // Parts that do not add up to the output's channels, or differ from it
  // in batch or spatial size, are refused with the shapes named.
  const Tensor a = randn({2, 3, 4, 4}, 1), small = randn({2, 3, 4, 3}, 2), other = randn({3, 3, 4, 4}, 3);
  const Tensor w = randn({6}, 4), b = randn({6}, 5), m = randn({6}, 6), v = randn({6}, 7);
  Tensor y({2, 6, 4, 4});
  for (const std::vector<const Tensor*>& bad : {std::vector<const Tensor*>{&a}, {&a, &a, &a}, {&a, &small}, {&a, &other}})
    REQUIRE_THROWS_WITH(kernels::batch_norm_relu_forward_concat(bad, w, b, m, v, 1e-5f, y),
                        Catch::Contains("batch_norm of a concatenation") && Catch::Contains("[2,6,4,4]"));
}
