// Weight layouts kept between calls (trim/kernels/weight_layouts.hpp): a
// convolution whose weight changed in place gives what it gives with nothing
// kept, and the limit and NoKeptWeightLayouts bound what is kept.

#include <catch2/catch.hpp>

#include <algorithm>

#include "testing.hpp"
#include "trim/kernels/conv.hpp"
#include "trim/kernels/weight_layouts.hpp"

using namespace trim;
using trim::test::randn;

namespace {

/// A convolution the tap-by-tap path takes with its weight sorted by tap
/// (3×3 over 2×2 planes, 256 input channels, 40 examples) and one Winograd
/// takes in builds with AVX2 or AVX-512 (3×3 over 4×4 planes, 8 tiles): both
/// keep their weight layouts at such batches.
struct Case {
  Shape x, w;
  bool keeps;  ///< a layout is kept in this build
};

const Case kTaps{{40, 256, 2, 2}, {32, 256, 3, 3}, true};
/// The same with a weight of more than 2¹⁸ floats, hashed in runs on the pool.
const Case kTapsLarge{{40, 256, 2, 2}, {128, 256, 3, 3}, true};
#if defined(__AVX2__) || defined(__AVX512F__)
const Case kWinograd{{8, 64, 4, 4}, {40, 64, 3, 3}, true};
#else
const Case kWinograd{{8, 64, 4, 4}, {40, 64, 3, 3}, false};  // the GEMM path: nothing to keep
#endif

const kernels::Conv2dConfig kSame{{1, 1}, {1, 1, 1, 1}, {1, 1}, 1};

struct Results {
  Tensor y, dx;
};

Results run(const Tensor& x, const Tensor& w, const Tensor& dy) {
  Results r{Tensor(dy.shape()), Tensor(x.shape())};
  kernels::conv2d_forward(x, w, nullptr, kSame, r.y);
  kernels::conv2d_backward_input(dy, w, kSame, r.dx, true);
  return r;
}

bool same_bits(const Tensor& a, const Tensor& b) { return std::equal(a.begin(), a.end(), b.begin()); }

/// Restores the default limit and drops what a test kept.
struct Restore {
  int64_t limit = kernels::weight_layout_limit();
  ~Restore() {
    kernels::set_weight_layout_limit(limit);
    kernels::release_weight_layouts();
  }
};

}  // namespace

TEST_CASE("a kept weight layout follows changes of the weight made in place", "[kernels][conv][weight_layouts]") {
  Restore restore;
  for (const Case& cs : {kTaps, kWinograd, kTapsLarge}) {
    INFO("input " << cs.x.str() << ", weight " << cs.w.str());
    kernels::release_weight_layouts();
    const Tensor x = randn(cs.x, 1);
    const Shape ys = kernels::conv2d_output_shape(cs.x, cs.w, kSame, "test");
    const Tensor dy = randn(ys, 2);
    Tensor w = randn(cs.w, 3);
    const Results first = run(x, w, dy);
    if (cs.keeps) REQUIRE(kernels::kept_weight_layout_bytes() > 0);
    REQUIRE(same_bits(run(x, w, dy).y, first.y));  // the kept layout, same values

    // One value moved, then one sign flipped: each time the result is the one
    // computed with nothing kept, and differs from before (a stale layout
    // would give the result from before). A value inside the weight and its
    // last one (the hash reads whole runs of 64 values, then the rest; the
    // large weight's two values lie in different runs of 2¹⁸).
    for (const int64_t k : {w.numel() / 3, w.numel() - 1})
      for (int change = 0; change < 2; ++change) {
        CAPTURE(k, w.numel());
        const Results before = run(x, w, dy);
        w.data()[k] = change == 0 ? w.data()[k] + 0.25f : -w.data()[k];
        const Results after = run(x, w, dy);
        Results fresh;
        {
          kernels::NoKeptWeightLayouts none;
          fresh = run(x, w, dy);
          REQUIRE(kernels::kept_weight_layout_bytes() == 0);
        }
        CHECK(same_bits(after.y, fresh.y));
        CHECK(same_bits(after.dx, fresh.dx));
        CHECK_FALSE(same_bits(after.y, before.y));
        CHECK_FALSE(same_bits(after.dx, before.dx));
      }
  }
}

TEST_CASE("the weight layout limit bounds what is kept, without replacing layouts in use", "[kernels][conv][weight_layouts]") {
  Restore restore;
  const Tensor x = randn(kTaps.x, 4);
  const Tensor dy = randn(kernels::conv2d_output_shape(kTaps.x, kTaps.w, kSame, "test"), 5);
  const Tensor w1 = randn(kTaps.w, 6), w2 = randn(kTaps.w, 7);

  kernels::release_weight_layouts();
  kernels::set_weight_layout_limit(0);
  const Results none = run(x, w1, dy);
  REQUIRE(kernels::kept_weight_layout_bytes() == 0);

  kernels::set_weight_layout_limit(int64_t{1} << 30);
  Tensor y(none.y.shape());
  kernels::conv2d_forward(x, w1, nullptr, kSame, y);
  const int64_t one = kernels::kept_weight_layout_bytes();
  REQUIRE(one > 0);
  REQUIRE(same_bits(y, none.y));

  // Room for one layout: w2's is not kept while w1's was used just now.
  kernels::set_weight_layout_limit(one);
  REQUIRE(kernels::kept_weight_layout_bytes() == one);
  Tensor y2(y.shape());
  kernels::conv2d_forward(x, w2, nullptr, kSame, y2);
  CHECK(kernels::kept_weight_layout_bytes() == one);
  kernels::conv2d_forward(x, w1, nullptr, kSame, y);
  CHECK(same_bits(y, none.y));

  // A lower limit drops what no longer fits.
  kernels::set_weight_layout_limit(one - 1);
  CHECK(kernels::kept_weight_layout_bytes() == 0);

  kernels::set_weight_layout_limit(int64_t{1} << 30);
  kernels::conv2d_forward(x, w1, nullptr, kSame, y);
  REQUIRE(kernels::kept_weight_layout_bytes() == one);
  kernels::release_weight_layouts();
  CHECK(kernels::kept_weight_layout_bytes() == 0);
}
