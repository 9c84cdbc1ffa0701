// Convolution kernels: conv1d / conv2d forward and VJPs against PyTorch
// fixtures and against a naive direct convolution written here.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/kernels/conv.hpp"

using namespace trim;
using trim::test::randn;

namespace {

const char* const conv2d_cases[] = {"basic",     "stride2",      "asympad",    "dilation2", "groups2",  "depthwise",
                                    "pointwise", "pointwise_s2", "odd_nobias", "wide_same", "dilated_same"};
const char* const conv1d_cases[] = {"basic", "mixed", "pointwise", "groups2_pad"};

int64_t cfg(const Tensor& c, int i) { return static_cast<int64_t>(std::lround(c[i])); }

kernels::Conv2dConfig config2d(const test::Fixture& f) {
  const Tensor& c = f["config"];
  return {{cfg(c, 0), cfg(c, 1)}, {cfg(c, 2), cfg(c, 3), cfg(c, 4), cfg(c, 5)}, {cfg(c, 6), cfg(c, 7)}, cfg(c, 8)};
}

kernels::Conv1dConfig config1d(const test::Fixture& f) {
  const Tensor& c = f["config"];
  return {cfg(c, 0), cfg(c, 1), cfg(c, 2), cfg(c, 3), cfg(c, 4)};
}

/// Compares with an error floor of a tenth of the reference's largest value,
/// so near-zero entries (sums that cancel) do not count as relative errors.
/// a within rtol of ref, relative to |ref| but at least to `floor_fraction`
/// of ref's largest |value|.
void close(const Tensor& a, const Tensor& ref, double rtol, const std::string& what, double floor_fraction = 0.1) {
  double m = 0.0;
  for (float v : ref) m = std::max(m, double(std::fabs(v)));
  test::require_close(a, ref, rtol, std::max(1e-3, floor_fraction * m), what);
}

Tensor plus(const Tensor& a, const Tensor& b) {
  Tensor r = a;
  for (int64_t i = 0; i < r.numel(); ++i) r[i] += b[i];
  return r;
}

/// Naive direct convolution in double (2-D; independent of the im2col code).
struct Naive {
  Shape xs, ws;
  kernels::Conv2dConfig c;
  int64_t ho, wo;

  Naive(const Shape& x, const Shape& w, const kernels::Conv2dConfig& cc) : xs(x), ws(w), c(cc) {
    ho = (x[2] + c.pads[0] + c.pads[2] - c.dilation[0] * (w[2] - 1) - 1) / c.stride[0] + 1;
    wo = (x[3] + c.pads[1] + c.pads[3] - c.dilation[1] * (w[3] - 1) - 1) / c.stride[1] + 1;
  }
  Shape out() const { return {xs[0], ws[0], ho, wo}; }

  /// Calls fn(x index, w index, y index) for every product term.
  template <class Fn>
  void each(Fn fn) const {
    const int64_t cin_g = ws[1], cout_g = ws[0] / c.groups;
    for (int64_t n = 0; n < xs[0]; ++n)
      for (int64_t o = 0; o < ws[0]; ++o)
        for (int64_t i = 0; i < ho; ++i)
          for (int64_t j = 0; j < wo; ++j)
            for (int64_t ci = 0; ci < cin_g; ++ci)
              for (int64_t a = 0; a < ws[2]; ++a)
                for (int64_t b = 0; b < ws[3]; ++b) {
                  const int64_t ih = i * c.stride[0] - c.pads[0] + a * c.dilation[0];
                  const int64_t iw = j * c.stride[1] - c.pads[1] + b * c.dilation[1];
                  if (ih < 0 || ih >= xs[2] || iw < 0 || iw >= xs[3]) continue;
                  const int64_t cx = (o / cout_g) * cin_g + ci;
                  fn(((n * xs[1] + cx) * xs[2] + ih) * xs[3] + iw, ((o * cin_g + ci) * ws[2] + a) * ws[3] + b,
                     ((n * ws[0] + o) * ho + i) * wo + j);
                }
  }
};

/// What the kernels must give, from the naive loops in double: y = x ⊛ w + b,
/// dx = dx0 + Jₓᵀ u, dw = dw0 + J_wᵀ u, db = Σ u per channel (dx0, dw0:
/// what the backward products add to, zero when null).
struct Expected {
  Tensor y, dx, dw, db;
};

Expected expected(const Naive& nv, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& u,
                  const Tensor* dx0 = nullptr, const Tensor* dw0 = nullptr) {
  std::vector<double> yd(static_cast<size_t>(u.numel())), dxd(static_cast<size_t>(x.numel())),
      dwd(static_cast<size_t>(w.numel()));
  nv.each([&](int64_t xi, int64_t wi, int64_t yi) {
    yd[static_cast<size_t>(yi)] += double(x[xi]) * w[wi];
    dxd[static_cast<size_t>(xi)] += double(u[yi]) * w[wi];
    dwd[static_cast<size_t>(wi)] += double(u[yi]) * x[xi];
  });
  const int64_t cout = w.dim(0), plane = nv.ho * nv.wo;
  Expected e{Tensor(nv.out()), Tensor(x.shape()), Tensor(w.shape()), Tensor({cout})};
  for (int64_t i = 0; i < e.y.numel(); ++i) e.y[i] = static_cast<float>(yd[static_cast<size_t>(i)] + b[(i / plane) % cout]);
  for (int64_t i = 0; i < e.dx.numel(); ++i)
    e.dx[i] = static_cast<float>(dxd[static_cast<size_t>(i)] + (dx0 ? (*dx0)[i] : 0.0f));
  for (int64_t i = 0; i < e.dw.numel(); ++i)
    e.dw[i] = static_cast<float>(dwd[static_cast<size_t>(i)] + (dw0 ? (*dw0)[i] : 0.0f));
  for (int64_t i = 0; i < u.numel(); ++i) e.db[(i / plane) % cout] += u[i];
  return e;
}

using trim::test::RestoreThreads;

/// The forward's epilogue gives, element for element, what a separate add
/// and ReLU give on the plain forward's output y (bias included): with a
/// residual and ReLU, and with ReLU alone and no bias.
void check_epilogue(const Tensor& x, const Tensor& w, const Tensor& b, const kernels::Conv2dConfig& c, const Tensor& y,
                    uint64_t seed) {
  const Tensor residual = randn(y.shape(), seed);
  Tensor fused = randn(y.shape(), seed + 1);  // overwritten
  kernels::conv2d_forward(x, w, &b, c, fused, {&residual, true});
  for (int64_t i = 0; i < y.numel(); ++i) REQUIRE(fused[i] == std::max(0.0f, y[i] + residual[i]));
  Tensor plain(y.shape()), relu = randn(y.shape(), seed + 2);
  kernels::conv2d_forward(x, w, nullptr, c, plain);
  kernels::conv2d_forward(x, w, nullptr, c, relu, {nullptr, true});
  for (int64_t i = 0; i < y.numel(); ++i) REQUIRE(relu[i] == std::max(0.0f, plain[i]));
}

/// A convolution's shapes and configuration.
struct ConvCase {
  Shape x, w;
  kernels::Conv2dConfig c;
};

/// Forward (overwriting y) and input gradient (adding to dx) of every case
/// against the direct convolution in double, with 1, 2 and 3 threads giving
/// the same bits (seeds from `seed`); errors within rtol relative to each
/// value but at least to `floor_fraction` of the largest (see close()); the
/// input gradient's overwrite mode gives the bits of adding into zeros.
void check_forward_and_input_gradient(const std::vector<ConvCase>& cases, uint64_t seed, double rtol = 1e-5,
                                      double floor_fraction = 0.1) {
  RestoreThreads restore;
  for (size_t k = 0; k < cases.size(); ++k) {
    const ConvCase& cs = cases[k];
    const Naive nv(cs.x, cs.w, cs.c);
    const Tensor x = randn(cs.x, seed + k), w = randn(cs.w, seed + 10 + k), b = randn({cs.w[0]}, seed + 20 + k);
    const Tensor u = randn(nv.out(), seed + 30 + k), dx0 = randn(cs.x, seed + 40 + k);
    const Expected ex = expected(nv, x, w, b, u, &dx0);
    Tensor y1, dx1;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      INFO("case " << k << ", " << threads << " threads");
      Tensor y = randn(nv.out(), 1), dx = dx0;  // y is overwritten, dx added to
      kernels::conv2d_forward(x, w, &b, cs.c, y);
      kernels::conv2d_backward_input(u, w, cs.c, dx);
      close(y, ex.y, rtol, "y", floor_fraction);
      check_epilogue(x, w, b, cs.c, y, seed + 60 + k);
      close(dx, ex.dx, rtol, "dx", floor_fraction);
      // Overwriting whatever dx holds gives the bits of adding into zeros.
      Tensor dx_zero(cs.x), dx_over = randn(cs.x, seed + 50 + k);
      kernels::conv2d_backward_input(u, w, cs.c, dx_zero);
      kernels::conv2d_backward_input(u, w, cs.c, dx_over, true);
      REQUIRE(std::equal(dx_over.begin(), dx_over.end(), dx_zero.begin(),
                         [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }));
      if (threads == 1) {
        y1 = y, dx1 = dx;
        continue;
      }
      REQUIRE(std::equal(y.begin(), y.end(), y1.begin()));
      REQUIRE(std::equal(dx.begin(), dx.end(), dx1.begin()));
    }
  }
}

}  // namespace

TEST_CASE("conv_output_size follows the PyTorch formula", "[kernels][conv]") {
  CHECK(kernels::conv_output_size(28, 5, 1, 0, 0, 1) == 24);
  CHECK(kernels::conv_output_size(256, 7, 2, 3, 3, 1) == 128);
  CHECK(kernels::conv_output_size(7, 3, 2, 1, 0, 2) == 2);
  CHECK(kernels::conv_output_size(3, 5, 1, 0, 0, 1) < 1);
  CHECK(kernels::conv_output_size(3, 5, 1, 1, 1, 1) == 1);
}

TEST_CASE("conv2d kernels match torch.nn.functional.conv2d", "[kernels][conv]") {
  for (const char* name : conv2d_cases) {
    SECTION(name) {
      const test::Fixture f(std::string("conv2d_") + name + ".txt");
      const kernels::Conv2dConfig c = config2d(f);
      const bool bias = f.has("bias");
      Tensor y(f["y"].shape());
      kernels::conv2d_forward(f["x"], f["weight"], bias ? &f["bias"] : nullptr, c, y);
      close(y, f["y"], 1e-5, "y");

      // VJPs add into what is there.
      const Tensor dx0 = randn(f["x"].shape(), 1), dw0 = randn(f["weight"].shape(), 2);
      Tensor dx = dx0, dw = dw0;
      kernels::conv2d_backward_input(f["u"], f["weight"], c, dx);
      close(dx, plus(dx0, f["dx"]), 1e-4, "dx");
      Tensor dx_over = randn(f["x"].shape(), 4);  // overwritten, not added to
      kernels::conv2d_backward_input(f["u"], f["weight"], c, dx_over, true);
      close(dx_over, f["dx"], 1e-4, "dx overwritten");
      if (bias) {
        const Tensor db0 = randn(f["bias"].shape(), 3);
        Tensor db = db0;
        kernels::conv2d_backward_params(f["x"], f["u"], c, &dw, &db);
        close(db, plus(db0, f["dbias"]), 1e-4, "dbias");
        Tensor db_only = db0;  // bias gradient alone
        kernels::conv2d_backward_params(f["x"], f["u"], c, nullptr, &db_only);
        close(db_only, plus(db0, f["dbias"]), 1e-4, "dbias alone");
      } else {
        kernels::conv2d_backward_params(f["x"], f["u"], c, &dw, nullptr);
      }
      close(dw, plus(dw0, f["dweight"]), 1e-4, "dweight");
    }
  }
}

TEST_CASE("conv1d kernels match torch.nn.functional.conv1d", "[kernels][conv]") {
  for (const char* name : conv1d_cases) {
    SECTION(name) {
      const test::Fixture f(std::string("conv1d_") + name + ".txt");
      const kernels::Conv1dConfig c = config1d(f);
      const bool bias = f.has("bias");
      Tensor y(f["y"].shape());
      kernels::conv1d_forward(f["x"], f["weight"], bias ? &f["bias"] : nullptr, c, y);
      close(y, f["y"], 1e-5, "y");
      Tensor dx(f["x"].shape()), dw(f["weight"].shape());
      kernels::conv1d_backward_input(f["u"], f["weight"], c, dx);
      close(dx, f["dx"], 1e-4, "dx");
      Tensor db(Shape{f["weight"].dim(0)});
      kernels::conv1d_backward_params(f["x"], f["u"], c, &dw, bias ? &db : nullptr);
      close(dw, f["dweight"], 1e-4, "dweight");
      if (bias) close(db, f["dbias"], 1e-4, "dbias");
    }
  }
}

TEST_CASE("conv2d agrees with a direct convolution for any thread count", "[kernels][conv]") {
  struct Case {
    Shape x, w;
    kernels::Conv2dConfig c;
  };
  const std::vector<Case> cases = {
      {{7, 4, 9, 8}, {6, 2, 3, 2}, {{2, 1}, {1, 0, 2, 1}, {1, 2}, 2}},
      {{5, 3, 6, 6}, {4, 3, 1, 1}, {}},                         // 1×1 fast path, batch 5
      {{1, 6, 10, 11}, {6, 1, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 6}},  // depthwise, batch 1
      // Depthwise: stride 2 with uneven pads and two outputs per channel, a
      // dilated 5×5 with per-axis strides, EfficientNet's small planes.
      {{3, 4, 9, 8}, {8, 1, 3, 3}, {{2, 2}, {1, 0, 1, 2}, {1, 1}, 4}},
      {{2, 5, 7, 10}, {5, 1, 5, 5}, {{2, 1}, {2, 2, 2, 2}, {2, 1}, 5}},
      {{2, 6, 4, 4}, {6, 1, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 6}},
      {{2, 6, 2, 2}, {6, 1, 5, 5}, {{1, 1}, {2, 2, 2, 2}, {1, 1}, 6}},
      {{1, 3, 12, 12}, {5, 3, 5, 5}, {{2, 2}, {2, 2, 2, 2}, {1, 1}, 1}},  // batch 1
      // Beyond one GEMM block: depth > 256 and rows > 144 (forward and
      // weight gradient), more than 2048 output positions, and input-gradient
      // depth (C_out) > 256 with a GEMM split over the threads.
      {{2, 30, 6, 7}, {150, 30, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 2, 50, 45}, {3, 2, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 20, 9, 10}, {300, 20, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 40, 30, 30}, {32, 40, 1, 1}, {}},  // 1×1, batch 1, split GEMM
      // Batched 1×1 (input rows copied as they lie): depth > 256 with
      // 15-position planes, so panels straddle examples; groups.
      {{3, 300, 5, 3}, {40, 300, 1, 1}, {}},
      {{2, 64, 4, 5}, {64, 32, 1, 1}, {{1, 1}, {0, 0, 0, 0}, {1, 1}, 2}},
      // Stride-1 input gradients computed as a forward convolution of dy:
      // groups, asymmetric padding with dilation, padding wider than the
      // kernel (negative padding in the transposed convolution), depth > 256.
      {{2, 16, 7, 9}, {20, 8, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 2}},
      {{1, 10, 8, 9}, {12, 10, 3, 2}, {{1, 1}, {2, 1, 2, 0}, {2, 1}, 1}},
      {{1, 8, 5, 6}, {8, 8, 1, 1}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 16, 16, 16}, {40, 16, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      // Small stride-1 images with few output channels, dilation and uneven pads.
      {{2, 3, 9, 10}, {4, 3, 3, 3}, {{1, 1}, {1, 2, 1, 2}, {2, 2}, 1}},
      {{1, 12, 7, 6}, {10, 12, 2, 3}, {{1, 1}, {0, 3, 2, 1}, {3, 2}, 1}},
      {{1, 7, 30, 30}, {30, 7, 3, 3}, {}},  // ... with the GEMMs split over threads
      // Whole batches as one GEMM (columns or depth over all examples, tiles
      // straddling examples): stride 2 with col2im, "same" input gradients as
      // a forward convolution, groups, 1×1 stride 2, a 7×7 stem, dilation,
      // weight-gradient depth > 256 across examples.
      {{3, 8, 7, 5}, {40, 8, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{3, 64, 5, 4}, {64, 64, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 64, 6, 5}, {128, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 2}},
      {{3, 16, 7, 7}, {40, 16, 1, 1}, {{2, 2}, {0, 0, 0, 0}, {1, 1}, 1}},
      {{2, 3, 11, 13}, {40, 3, 7, 7}, {{2, 2}, {3, 3, 3, 3}, {1, 1}, 1}},
      {{3, 5, 9, 8}, {36, 5, 3, 3}, {{1, 1}, {2, 2, 2, 2}, {2, 2}, 1}},
      {{5, 12, 10, 9}, {40, 12, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      // Phased input (padded, split by stride phase): 16-column panels that
      // cross output rows and examples (wo = 7), strides 3 × 2 with uneven
      // pads and dilation.
      {{3, 8, 5, 7}, {50, 8, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 6, 11, 10}, {33, 6, 3, 4}, {{3, 2}, {2, 0, 1, 3}, {1, 2}, 1}},
      // GEMMs with at most 64 columns read A in place: more than 144 rows
      // with a ragged last panel and depth > 256 (forward), and a weight
      // gradient with 18 columns.
      {{1, 40, 4, 4}, {152, 40, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 2, 9, 9}, {152, 2, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      // More than 144 rows over a shallow depth, A packed once for every
      // column block (ragged last panel): a 1×1 forward (200 rows, depth
      // 48), a 1×1 input gradient (Wᵀ packed from its columns), a 3×3.
      {{3, 48, 9, 12}, {200, 48, 1, 1}, {}},
      {{3, 200, 9, 12}, {48, 200, 1, 1}, {}},
      {{2, 5, 12, 11}, {160, 5, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      // Depthwise (direct kernel): stride 2 with odd sizes, a channel
      // multiplier, dilation with uneven pads, 1-row images, batch > 1.
      {{3, 6, 9, 7}, {6, 1, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 6}},
      {{2, 4, 8, 9}, {12, 1, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 4}},
      {{2, 5, 10, 11}, {5, 1, 3, 5}, {{1, 2}, {2, 0, 1, 3}, {2, 1}, 5}},
      {{4, 3, 1, 12}, {3, 1, 1, 5}, {{1, 1}, {0, 2, 0, 2}, {1, 1}, 3}},
      {{2, 32, 6, 6}, {32, 1, 5, 5}, {{2, 2}, {2, 2, 2, 2}, {1, 1}, 32}},
  };
  RestoreThreads restore;
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& cs = cases[k];
    const Naive nv(cs.x, cs.w, cs.c);
    const Tensor x = randn(cs.x, 10 + k), w = randn(cs.w, 20 + k), b = randn({cs.w[0]}, 30 + k);
    const Tensor u = randn(nv.out(), 40 + k);
    const Expected ex = expected(nv, x, w, b, u);
    const Tensor &yr = ex.y, &dxr = ex.dx, &dwr = ex.dw, &dbr = ex.db;

    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      INFO("case " << k << ", " << threads << " threads");
      Tensor y(nv.out()), dx(cs.x), dw(cs.w), db({cs.w[0]});
      kernels::conv2d_forward(x, w, &b, cs.c, y);
      kernels::conv2d_backward_input(u, w, cs.c, dx);
      kernels::conv2d_backward_params(x, u, cs.c, &dw, &db);
      close(y, yr, 1e-5, "y");
      check_epilogue(x, w, b, cs.c, y, 50 + k);
      close(dx, dxr, 1e-4, "dx");
      close(dw, dwr, 1e-4, "dweight");
      close(db, dbr, 1e-4, "dbias");
      REQUIRE(std::isfinite(dw[0]));
    }
  }
}

TEST_CASE("depthwise conv2d on channel blocks agrees with a direct convolution", "[kernels][conv][depthwise]") {
  // Channel counts that fill a block of 16 and leave a partial one, stride 1,
  // 2 and 3 (input columns no output reads), uneven pads, dilation, a channel
  // multiplier (output channels gathered per input channel), 1-row and 1-column
  // images, EfficientNet's 2×2 planes under a 5×5 kernel, 3×3 and 5×5 at
  // stride 1 and 2 and 7×7 at stride 1 (the compile-time kernel widths), and
  // a plane too large for the blocked buffers (the row-wise kernels).
  struct Case {
    Shape x, w;
    kernels::Conv2dConfig c;
  };
  const std::vector<Case> cases = {
      {{2, 20, 9, 7}, {20, 1, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 20}},
      {{3, 35, 8, 9}, {35, 1, 3, 3}, {{2, 2}, {1, 0, 1, 2}, {1, 1}, 35}},
      {{1, 17, 9, 10}, {17, 1, 5, 3}, {{2, 1}, {2, 1, 0, 3}, {2, 2}, 17}},
      {{2, 18, 1, 13}, {18, 1, 1, 5}, {{1, 1}, {0, 2, 0, 2}, {1, 1}, 18}},
      {{2, 16, 7, 1}, {16, 1, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 16}},
      {{2, 16, 2, 2}, {16, 1, 5, 5}, {{1, 1}, {2, 2, 2, 2}, {1, 1}, 16}},
      {{2, 24, 11, 9}, {24, 1, 5, 5}, {{2, 2}, {2, 2, 2, 2}, {1, 1}, 24}},
      {{2, 20, 9, 8}, {20, 1, 7, 7}, {{1, 1}, {3, 3, 3, 3}, {1, 1}, 20}},
      {{1, 16, 10, 11}, {16, 1, 2, 2}, {{3, 3}, {0, 0, 0, 0}, {1, 1}, 16}},
      {{2, 10, 6, 7}, {20, 1, 3, 3}, {{1, 2}, {1, 1, 1, 1}, {1, 1}, 10}},
      {{2, 18, 5, 6}, {36, 1, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 18}},
      {{1, 2, 257, 256}, {2, 1, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 2}},
  };
  RestoreThreads restore;
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& cs = cases[k];
    const Naive nv(cs.x, cs.w, cs.c);
    const Tensor x = randn(cs.x, 50 + k), w = randn(cs.w, 60 + k), b = randn({cs.w[0]}, 70 + k);
    const Tensor u = randn(nv.out(), 80 + k), dx0 = randn(cs.x, 90 + k), dw0 = randn(cs.w, 100 + k);
    const Expected ex = expected(nv, x, w, b, u, &dx0, &dw0);
    const Tensor &yr = ex.y, &dxr = ex.dx, &dwr = ex.dw;

    Tensor y1, dx1, dw1;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      INFO("case " << k << ", " << threads << " threads");
      Tensor y = randn(nv.out(), 1), dx = dx0, dw = dw0;  // y is overwritten, dx and dw added to
      kernels::conv2d_forward(x, w, &b, cs.c, y);
      kernels::conv2d_backward_input(u, w, cs.c, dx);
      kernels::conv2d_backward_params(x, u, cs.c, &dw, nullptr);
      close(y, yr, 1e-5, "y");
      close(dx, dxr, 1e-4, "dx");
      close(dw, dwr, 1e-4, "dweight");
      // Overwriting dx never reads it (NaN there would spread) and gives the
      // bits of adding into zeros.
      Tensor dx_zero(cs.x), dx_over(cs.x);
      dx_over.fill(std::numeric_limits<float>::quiet_NaN());
      kernels::conv2d_backward_input(u, w, cs.c, dx_zero);
      kernels::conv2d_backward_input(u, w, cs.c, dx_over, true);
      REQUIRE(std::equal(dx_over.begin(), dx_over.end(), dx_zero.begin(),
                         [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }));
      if (threads == 1) {
        y1 = y, dx1 = dx, dw1 = dw;
        continue;
      }
      REQUIRE(std::equal(y.begin(), y.end(), y1.begin()));
      REQUIRE(std::equal(dx.begin(), dx.end(), dx1.begin()));
      REQUIRE(std::equal(dw.begin(), dw.end(), dw1.begin()));
    }
  }
}

TEST_CASE("3x3 stride-1 conv2d by Winograd F(2x2, 3x3) agrees with a direct convolution", "[kernels][conv][winograd]") {
  // Shapes the Winograd path takes (at least 32 channels each way and 64
  // tiles of 2×2 outputs) with output sizes it runs as 2×2 tiles, forward
  // and input gradient both (conv_winograd.cpp's tile_size: 5, 6, 9 and 10,
  // not near a multiple of 4, or one 2-row tile): odd sizes (ragged tiles),
  // uneven pads, no padding with the gradient's 2, tile rows of 16 + 1
  // tiles (transformed a row at a time), small planes over a batch (blocks
  // spanning examples). (The GEMMs over a depth > 256 are the F(4×4) test's.)
  const std::vector<ConvCase> cases = {
      {{8, 32, 5, 5}, {40, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{8, 36, 6, 5}, {34, 36, 3, 3}, {{1, 1}, {2, 1, 0, 2}, {1, 1}, 1}},
      {{3, 32, 9, 9}, {32, 32, 3, 3}, {{1, 1}, {0, 2, 2, 0}, {1, 1}, 1}},
      {{4, 32, 2, 35}, {32, 32, 3, 3}, {{1, 1}, {1, 0, 1, 2}, {1, 1}, 1}},
      {{8, 32, 6, 6}, {32, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
  };
  check_forward_and_input_gradient(cases, 110);
}

TEST_CASE("3x3 stride-1 conv2d by Winograd F(4x4, 3x3) agrees with a direct convolution", "[kernels][conv][winograd]") {
  // Output sizes the Winograd path runs as 4×4 tiles: odd sizes (ragged
  // tiles), no padding (the gradient pads 2), uneven pads, tile rows of 9, 16
  // and 16 + 1 tiles (transformed a row at a time), 4×4
  // and 7×7 planes over a batch (gathered; blocks spanning examples), tile
  // rows of 4 and 8 tiles (a panel of whole tile rows at a time), batch 1,
  // depth > 256, one block on 2 and 3 threads (split by output channels);
  // forward (bias, overwriting) and input gradient (adding).
  // F(4×4)'s transformed values are several times larger than the output
  // they sum to, so the rounding of the GEMMs' sums over the channels
  // grows: about 5× F(2×2)'s (here 1.2–3.3·10⁻⁶ of the largest output, F(2×2)
  // 2–7·10⁻⁷; F(2×2)'s bound, 10⁻⁵ of each value or of a tenth of the
  // largest, fails at 1–4·10⁻⁵). So the bound is 10⁻⁵ of the largest value.
  const std::vector<ConvCase> cases = {
      {{2, 32, 17, 15}, {40, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 32, 22, 22}, {32, 32, 3, 3}, {{1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},
      {{2, 36, 10, 13}, {34, 36, 3, 3}, {{1, 1}, {2, 1, 0, 2}, {1, 1}, 1}},
      {{2, 32, 9, 17}, {32, 32, 3, 3}, {{1, 1}, {0, 2, 2, 0}, {1, 1}, 1}},
      {{2, 32, 9, 33}, {32, 32, 3, 3}, {{1, 1}, {0, 2, 2, 0}, {1, 1}, 1}},
      {{2, 32, 9, 30}, {32, 32, 3, 3}, {{1, 1}, {0, 2, 2, 0}, {1, 1}, 1}},
      {{1, 32, 4, 64}, {32, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 32, 8, 32}, {32, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{1, 32, 6, 66}, {32, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{8, 32, 4, 4}, {32, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 32, 8, 8}, {64, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},  // 8 tiles: the fewest taken
      {{6, 40, 7, 7}, {36, 40, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 260, 8, 8}, {33, 260, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      // Planes of 4 × 4 tiles (13–16 outputs across), transformed four tile
      // rows at a time: odd sizes and uneven pads, no padding (the gradient
      // pads 2) over two examples, a plane of two panels (32 × 16); tile rows
      // of 2 with uneven pads. (Tile rows of 4 and 8 over planes of 5 and 3
      // rows, and of 2 over planes of 2 (the 7 × 7 and 8 × 8 cases), panels
      // spanning examples and last partial ones, are the cases above.)
      {{3, 32, 15, 13}, {32, 32, 3, 3}, {{1, 1}, {2, 1, 0, 2}, {1, 1}, 1}},
      {{2, 32, 16, 16}, {36, 32, 3, 3}, {{1, 1}, {0, 0, 0, 0}, {1, 1}, 1}},
      {{1, 32, 32, 16}, {32, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{4, 32, 8, 7}, {32, 32, 3, 3}, {{1, 1}, {2, 1, 0, 2}, {1, 1}, 1}},  // 8 × 8 and 8 × 7, uneven pads
  };
  check_forward_and_input_gradient(cases, 130, 1e-5, 1.0);
}

TEST_CASE("conv2d over small outputs, tap by tap, agrees with a direct convolution", "[kernels][conv][taps]") {
  // Outputs where most of a direct convolution's products would be with
  // padding: 3×3 over 2×2 (ResNet's last stage at 64²), stride 2 onto 2×2,
  // 1×1 outputs, dilation with uneven pads, a 5×5 kernel, a batch whose
  // inputs by tap outgrow L2; forward and (at stride 1) input gradient.
  const std::vector<ConvCase> cases = {
      {{12, 64, 2, 2}, {70, 64, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{10, 64, 3, 3}, {40, 64, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{40, 64, 1, 1}, {64, 64, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{9, 64, 3, 4}, {66, 64, 3, 3}, {{1, 1}, {2, 2, 2, 2}, {2, 2}, 1}},
      {{8, 64, 2, 2}, {64, 64, 5, 5}, {{1, 1}, {2, 2, 2, 2}, {1, 1}, 1}},
      {{80, 128, 2, 2}, {40, 128, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},  // B beyond L2: the weight sorted by tap
      // ... the input gradient's (the transposed weight sorted by tap), with a
      // ragged last panel (32 rows) and a last chunk of 6 channels (70).
      {{130, 32, 2, 2}, {70, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
  };
  check_forward_and_input_gradient(cases, 200);
}

TEST_CASE("conv2d input gradient of a small batch reads the weight in place", "[kernels][conv]") {
  // Stride-1 "same" convolutions whose input gradient would be a forward
  // convolution with a flipped copy of the weight; with this few columns it
  // goes through col2im with Wᵀ read where it lies instead: one example and
  // two (one GEMM per example, one over the batch), 3×3 and 5×5 kernels,
  // few and many channels, uneven pads.
  const std::vector<ConvCase> cases = {
      {{1, 64, 4, 4}, {64, 64, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 256, 4, 4}, {256, 256, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 16, 3, 5}, {24, 16, 3, 3}, {{1, 1}, {1, 0, 2, 1}, {1, 1}, 1}},
      {{1, 32, 5, 5}, {20, 32, 5, 5}, {{1, 1}, {2, 2, 2, 2}, {1, 1}, 1}},
  };
  check_forward_and_input_gradient(cases, 300);
}

TEST_CASE("pointwise conv2d over 2x2 planes stores tiles where the examples lie", "[kernels][conv]") {
  // A tile's 16 columns are four examples' 2×2 planes: full tiles are stored
  // in four runs per row (micro_kernel_split4, or two tiles at once with
  // micro_kernel_two_b_split4 from batch 8), the ragged last rows and
  // columns through the tile buffer; forward and input gradient, one and
  // several depth blocks, batches that leave a partial panel.
  const std::vector<ConvCase> cases = {
      {{8, 20, 2, 2}, {13, 20, 1, 1}, {}},
      {{9, 300, 2, 2}, {14, 300, 1, 1}, {}},
      {{4, 7, 2, 2}, {300, 7, 1, 1}, {}},
  };
  check_forward_and_input_gradient(cases, 400);
}

TEST_CASE("strided conv2d (subsampled 1x1, phased col2im) agrees with a direct convolution", "[kernels][conv][strided]") {
  // 1×1 strided without padding (a GEMM over the subsampled input): even and
  // odd sizes, strides 3 × 2, groups, batch 1. Strided input gradients with
  // output rows of at least 16 go through a phased copy of dx: 3×3 stride 2
  // on even and odd sizes with uneven pads, dilation, a stem, strides 3 × 2
  // with a 4×3 kernel, channels in chunks (split over the threads), depth >
  // 256, one-row images (conv1d), groups, batch 1 (channels split to make
  // items); narrower rows scatter into dx directly.
  const std::vector<ConvCase> cases = {
      {{3, 16, 8, 8}, {24, 16, 1, 1}, {{2, 2}, {0, 0, 0, 0}, {1, 1}, 1}},
      {{2, 8, 7, 9}, {10, 8, 1, 1}, {{2, 3}, {0, 0, 0, 0}, {1, 1}, 1}},
      {{2, 8, 7, 7}, {12, 4, 1, 1}, {{2, 2}, {0, 0, 0, 0}, {1, 1}, 2}},
      {{1, 40, 9, 9}, {70, 40, 1, 1}, {{2, 2}, {0, 0, 0, 0}, {1, 1}, 1}},
      {{2, 6, 5, 33}, {8, 6, 1, 1}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{3, 10, 6, 32}, {12, 10, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 7, 5, 37}, {9, 7, 3, 3}, {{2, 2}, {1, 0, 0, 1}, {1, 1}, 1}},
      {{2, 5, 9, 38}, {6, 5, 3, 3}, {{2, 2}, {2, 2, 2, 2}, {2, 2}, 1}},
      {{3, 3, 9, 35}, {16, 3, 7, 7}, {{2, 2}, {3, 3, 3, 3}, {1, 1}, 1}},
      {{2, 5, 10, 34}, {7, 5, 4, 3}, {{3, 2}, {1, 2, 0, 1}, {1, 1}, 1}},
      {{4, 24, 5, 32}, {40, 24, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},  // (and threads)
      {{1, 4, 3, 33}, {300, 4, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 6, 1, 40}, {5, 6, 1, 3}, {{1, 2}, {0, 1, 0, 1}, {1, 1}, 1}},
      {{2, 8, 4, 33}, {8, 4, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 2}},
      {{1, 6, 6, 34}, {8, 6, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{3, 12, 9, 11}, {14, 12, 3, 3}, {{2, 2}, {1, 0, 0, 1}, {1, 1}, 1}},
      // Narrow rows large enough to split over threads (ResNet's 3×3 stride 2
      // onto 8×8), by examples and by channels: the same bits at 1, 2, 3 threads.
      {{4, 64, 16, 16}, {128, 64, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 96, 8, 8}, {64, 96, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{3, 7, 12, 12}, {300, 7, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{5, 20, 10, 10}, {80, 20, 3, 3}, {{2, 2}, {1, 0, 1, 0}, {1, 1}, 1}},
      {{1, 7, 24, 12}, {300, 7, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},  // one example: split by channel
  };
  check_forward_and_input_gradient(cases, 320);
}

TEST_CASE("GEMMs cut in more parts than threads agree with a direct convolution", "[kernels][conv]") {
  // Products large enough to be cut in two to four parts per thread, claimed
  // by whichever thread is free: 1024 columns (forward and input gradient
  // cut along the columns, ragged when 3 threads share 6 parts) and 640
  // output channels (the forward cut along its rows, MR-aligned with a short
  // last part); every element summed in the same order at 1, 2 and 3 threads.
  const std::vector<ConvCase> cases = {
      {{4, 64, 16, 16}, {32, 64, 1, 1}, {}},
      {{2, 64, 4, 4}, {640, 64, 1, 1}, {}},
      {{3, 48, 13, 15}, {40, 48, 1, 1}, {}},  // 585 columns: parts of ragged panels
  };
  check_forward_and_input_gradient(cases, 340);
}

TEST_CASE("conv shape checks name the problem", "[kernels][conv]") {
  using kernels::conv2d_output_shape;
  const kernels::Conv2dConfig c{};
  CHECK(conv2d_output_shape({Shape::free, 3, 8, 8}, {4, 3, 3, 3}, c, "conv2d") == Shape{Shape::free, 4, 6, 6});
  REQUIRE_THROWS_WITH(conv2d_output_shape({Shape::free, 2, 8, 8}, {4, 3, 3, 3}, c, "conv2d 'c1'"),
                      Catch::StartsWith("conv2d 'c1': input [*,2,8,8], expected [*,3,H,W]"));
  REQUIRE_THROWS_AS(conv2d_output_shape({Shape::free, 3, 2, 8}, {4, 3, 3, 3}, c, "conv2d"), ShapeError);
  REQUIRE_THROWS_WITH(conv2d_output_shape({Shape::free, 3, 8}, {4, 3, 3, 3}, c, "conv2d"),
                      Catch::Contains("expected rank 4"));
  kernels::Conv2dConfig bad;
  bad.stride = {0, 1};
  REQUIRE_THROWS_AS(conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, bad, "conv2d"), ValueError);
  bad = {};
  bad.pads = {0, -1, 0, 0};
  REQUIRE_THROWS_AS(conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, bad, "conv2d"), ValueError);
  bad = {};
  bad.groups = 2;  // 4 output channels split in 2, but 3 input channels != 2·3
  REQUIRE_THROWS_AS(conv2d_output_shape({1, 3, 8, 8}, {4, 3, 3, 3}, bad, "conv2d"), ShapeError);
  kernels::Conv1dConfig c1;
  c1.dilation = 3;
  REQUIRE_THROWS_WITH(kernels::conv1d_output_shape({Shape::free, 2, 6}, {1, 2, 3}, c1, "conv1d 'k'"),
                      Catch::StartsWith("conv1d 'k': kernel 3 (dilated 7) is larger than the padded input 6"));
  Tensor x({2, 3, 8, 8}), w({4, 3, 3, 3}), y({2, 4, 5, 6});
  REQUIRE_THROWS_WITH(kernels::conv2d_forward(x, w, nullptr, c, y),
                      Catch::Contains("output [2,4,5,6], expected [2,4,6,6]"));
  Tensor y_ok({2, 4, 6, 6}), residual({2, 4, 6, 5});
  REQUIRE_THROWS_WITH(kernels::conv2d_forward(x, w, nullptr, c, y_ok, {&residual, false}),
                      Catch::Contains("residual [2,4,6,5], expected [2,4,6,6]"));
  REQUIRE_THROWS_WITH(kernels::conv2d_forward(x, w, nullptr, c, y_ok, {&y_ok, true}),
                      Catch::Contains("may not be the output itself"));
}

TEST_CASE("conv2d input gradients split over threads agree with a direct convolution", "[kernels][conv]") {
  // Batches large enough for the input gradient's GEMM to be split over the
  // threads: a stem (3 input channels, 7×7, stride 2: col2im split over the
  // examples at 2 threads, over the channels at 3), and "same" stride-1
  // gradients computed as a forward convolution with the flipped weight packed
  // straight from the weight (more than 64 columns): 13 input channels (a
  // ragged 6-row panel), depth 40·9 > 256 (depth blocks that start inside an
  // output channel's taps), dilation with uneven pads.
  const std::vector<ConvCase> cases = {
      {{4, 3, 20, 20}, {32, 3, 7, 7}, {{2, 2}, {3, 3, 3, 3}, {1, 1}, 1}},
      {{4, 3, 12, 40}, {32, 3, 7, 7}, {{2, 2}, {3, 3, 3, 3}, {1, 1}, 1}},  // ... through a phased dx
      {{3, 13, 9, 9}, {40, 13, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{2, 10, 12, 11}, {24, 10, 3, 2}, {{1, 1}, {2, 1, 2, 0}, {2, 1}, 1}},
  };
  RestoreThreads restore;
  for (size_t k = 0; k < cases.size(); ++k) {
    const ConvCase& cs = cases[k];
    const Naive nv(cs.x, cs.w, cs.c);
    const Tensor w = randn(cs.w, 110 + k), u = randn(nv.out(), 120 + k), dx0 = randn(cs.x, 130 + k);
    const Tensor dxr = expected(nv, Tensor(cs.x), w, Tensor({cs.w[0]}), u, &dx0).dx;
    Tensor dx1;
    for (int threads : {1, 2, 3}) {
      set_num_threads(threads);
      INFO("case " << k << ", " << threads << " threads");
      Tensor dx = dx0;  // the input gradient is added to
      kernels::conv2d_backward_input(u, w, cs.c, dx);
      close(dx, dxr, 1e-4, "dx");
      if (threads == 1) {
        dx1 = dx;
        continue;
      }
      // The forward-convolution form splits only whole output rows or
      // columns of its GEMM, the strided col2im through a phased copy of dx
      // (output rows of at least 16) fixed items of channels and examples:
      // every sum in the same order, whatever the threads.
      if (cs.c.stride[0] == 1 || nv.wo >= 16) REQUIRE(std::equal(dx.begin(), dx.end(), dx1.begin()));
    }
  }
}

TEST_CASE("an input gradient's ReLU and batch-norm finish gives the bits of their own passes", "[kernels][conv]") {
  // One case per input-gradient path: the batched pointwise GEMM (groups
  // too) and Winograd finish in their stores, the others (batch-1 GEMM,
  // strided col2im, subsampled 1×1, depthwise, tap by tap) in a pass after.
  const std::vector<ConvCase> cases = {
      {{3, 40, 5, 4}, {24, 40, 1, 1}, {}},
      {{2, 64, 4, 5}, {64, 32, 1, 1}, {{1, 1}, {0, 0, 0, 0}, {1, 1}, 2}},
      {{3, 300, 5, 3}, {40, 300, 1, 1}, {}},  // more than 144 rows: several finished blocks
      {{1, 40, 30, 30}, {32, 40, 1, 1}, {}},
      {{2, 32, 10, 9}, {40, 32, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},  // Winograd: 32 channels or more
      {{3, 40, 16, 16}, {32, 40, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{3, 8, 7, 5}, {40, 8, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 1}},
      {{3, 16, 7, 7}, {40, 16, 1, 1}, {{2, 2}, {0, 0, 0, 0}, {1, 1}, 1}},
      {{2, 6, 4, 4}, {6, 1, 3, 3}, {{2, 2}, {1, 1, 1, 1}, {1, 1}, 6}},
      {{1, 40, 4, 4}, {152, 40, 3, 3}, {{1, 1}, {1, 1, 1, 1}, {1, 1}, 1}},
  };
  const auto bits = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * size_t(a.numel())) == 0;
  };
  RestoreThreads restore;
  for (size_t k = 0; k < cases.size(); ++k) {
    const ConvCase& cs = cases[k];
    const Naive nv(cs.x, cs.w, cs.c);
    const Tensor w = randn(cs.w, 210 + k), dy = randn(nv.out(), 220 + k), scale = randn({cs.x[1]}, 230 + k);
    Tensor gate = randn(cs.x, 240 + k);
    for (int64_t i = 0; i < gate.numel(); i += 5) gate[i] = i % 2 ? 0.0f : -0.0f;  // zeros pass nothing
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      Tensor plain(cs.x);
      kernels::conv2d_backward_input(dy, w, cs.c, plain, true);
      const int64_t plane = cs.x[2] * cs.x[3];
      for (int variant = 0; variant < 3; ++variant) {
        INFO("case " << k << ", " << threads << " threads, variant " << variant);
        const bool gated = variant != 1, scaled = variant != 0;
        Tensor want = plain;  // the ReLU's backward, then the batch norm's
        for (int64_t i = 0; i < want.numel(); ++i) {
          if (gated) want[i] = 0.0f + want[i] * (gate[i] > 0.0f ? 1.0f : 0.0f);
          if (scaled) want[i] = want[i] * scale[i / plane % cs.x[1]] + 0.0f;
        }
        Tensor dx = randn(cs.x, 250);  // overwritten
        kernels::conv2d_backward_input(dy, w, cs.c, dx, {gated ? &gate : nullptr, scaled ? &scale : nullptr});
        REQUIRE(bits(dx, want));
      }
    }
  }
  const ConvCase& cs = cases[0];
  Tensor dx(cs.x), w(cs.w), dy({3, 24, 5, 4}), short_gate({3, 40, 5, 3}), short_scale({39});
  REQUIRE_THROWS_WITH(kernels::conv2d_backward_input(dy, w, cs.c, dx, {&short_gate, nullptr}),
                      Catch::Contains("gate [3,40,5,3], expected [3,40,5,4]"));
  REQUIRE_THROWS_WITH(kernels::conv2d_backward_input(dy, w, cs.c, dx, {nullptr, &short_scale}),
                      Catch::Contains("scale [39], expected [40]"));
  REQUIRE_THROWS_WITH(kernels::conv2d_backward_input(dy, w, cs.c, dx, {&dx, nullptr}),
                      Catch::Contains("gate may not be the input gradient itself"));
}
