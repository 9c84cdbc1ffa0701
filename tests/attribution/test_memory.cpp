// A memory budget for the batches (AttributionOptions::max_memory): the
// batches the methods send through the model (seen through their progress
// reports) are the largest whose planned buffers fit, they grow with the
// budget, the results are those of an unbudgeted run, and a budget too small
// for one row is refused.
#include <algorithm>
#include <vector>

#include "models.hpp"
#include "testing.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/text.hpp"
#include "trim/graph/executor.hpp"
#include "trim/kernels/conv.hpp"

using namespace trim;
using trim::test::randn;

namespace {

/// Sizes of the batches a run reported, from its progress callback.
struct Batches {
  std::vector<int64_t> sizes;
  ProgressCallback callback() {
    return [this](int64_t done, int64_t) {
      sizes.push_back(done - total());
      return true;
    };
  }
  int64_t total() const {
    int64_t t = 0;
    for (int64_t s : sizes) t += s;
    return t;
  }
  int64_t largest() const { return sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end()); }
};

/// Bytes an integrated-gradients run over N examples with batches of `rows`
/// rows holds as max_memory counts them. Fixed: the weights, x, the
/// attributions, the path sums (doubles), the baseline and [x; b]. Per
/// batch: the ops' scratch, the planned forward and backward buffers, the
/// rows twice and the input gradient returned, the outputs twice and one
/// cotangent, and the gradients of every target.
int64_t ig_batch_bytes(const Graph& g, int64_t rows, int64_t N, int64_t P, int64_t K, int64_t T) {
  const int64_t fixed = parameter_floats(g) + N * P + T * N * P + 2 * T * N * P + 3 * N * P;
  return 4 * (fixed + planned_scratch_floats(g, rows) + planned_floats(g, rows, Keep::input_gradients, true) +
              3 * rows * P + 3 * rows * K + T * rows * P);
}

}  // namespace

TEST_CASE("max_memory: batches are the largest that fit the budget", "[attribution][memory]") {
  const Graph g = test::relu_cnn();
  const Tensor x = randn({3, 1, 8, 8}, 5);
  const int64_t P = 64, K = 3, T = 3, steps = 40;  // 120 rows of work
  IntegratedGradientsOptions ig;
  ig.n_steps = static_cast<int>(steps);
  ig.share_linear_prefix = false;  // the plain path's accounting (the shared one: test_prefix_sharing.cpp)
  const Attribution free_run = integrated_gradients(g, x, ig);

  int64_t previous = 0;
  for (int64_t rows : {1, 7, 16, 50}) {
    INFO("budget of " << rows << " rows");
    const int64_t budget = ig_batch_bytes(g, rows, 3, P, K, T);
    Batches b;
    AttributionOptions o;
    o.max_memory = budget;
    o.max_batch = 2;  // replaced by the budget
    o.progress = b.callback();
    const Attribution a = integrated_gradients(g, x, ig, o);
    REQUIRE(b.total() == 3 * steps);
    REQUIRE(b.largest() == rows);  // fits exactly, one more row would not
    REQUIRE(ig_batch_bytes(g, rows + 1, 3, P, K, T) > budget);
    REQUIRE(b.largest() > previous);
    previous = b.largest();
    REQUIRE(max_abs_diff(a.attributions, free_run.attributions) <= 1e-5f);
    REQUIRE(max_abs_diff(a.delta, free_run.delta) <= 1e-5f);
  }
  SECTION("one byte less than one row needs") {
    AttributionOptions o;
    o.max_memory = ig_batch_bytes(g, 1, 3, P, K, T) - 1;
    REQUIRE_THROWS_AS(integrated_gradients(g, x, ig, o), ValueError);
    REQUIRE_THROWS_WITH(integrated_gradients(g, x, ig, o),
                        Catch::Contains("integrated_gradients") && Catch::Contains("too small for one row"));
    o.max_memory = -1;
    REQUIRE_THROWS_WITH(integrated_gradients(g, x, ig, o), Catch::Contains("max_memory must be >= 0"));
  }
}

TEST_CASE("max_memory: DeepLIFT in budgeted chunks gives the unchunked result", "[attribution][memory][deeplift]") {
  const Graph g = test::relu_cnn();
  const Tensor x = randn({9, 1, 8, 8}, 6);
  DeepLiftOptions dl;
  dl.baseline = Baseline::constant(0.1f);
  const Attribution whole = deeplift(g, x, dl);
  // Fixed: the weights, x, the attributions (3 targets) and the baseline; per
  // batch of x and baseline rows: the ops' scratch and the forward kept for
  // DeepLIFT over both (2·rows rows), the multipliers of the x rows (what a
  // backward over rows adds to its forward), both rows.
  const auto bytes = [&](int64_t rows) {
    return 4 * (parameter_floats(g) + 9 * 64 + 3 * 9 * 64 + 9 * 64 + planned_scratch_floats(g, 2 * rows) +
                planned_floats(g, 2 * rows, Keep::deeplift, false) + planned_floats(g, rows, Keep::deeplift, true) -
                planned_floats(g, rows, Keep::deeplift, false) + 2 * rows * 64);
  };
  for (int64_t rows : {1, 2, 4}) {
    INFO(rows << " examples per chunk");
    Batches b;
    AttributionOptions o;
    o.max_memory = bytes(rows);
    o.progress = b.callback();
    const Attribution a = deeplift(g, x, dl, o);
    REQUIRE(b.largest() == rows);
    REQUIRE(max_abs_diff(a.attributions, whole.attributions) <= 1e-5f);
    REQUIRE(max_abs_diff(a.delta, whole.delta) <= 1e-5f);
  }
  AttributionOptions o;
  o.max_memory = bytes(1) - 1;
  REQUIRE_THROWS_WITH(deeplift(g, x, dl, o), Catch::Contains("deeplift") && Catch::Contains("too small for one row"));
}

TEST_CASE("max_memory: CD in budgeted chunks gives the unchunked result", "[attribution][memory][cd]") {
  const Graph g = test::relu_cnn();
  const Tensor x = randn({5, 1, 8, 8}, 7);
  std::vector<Tensor> masks;
  for (int k = 0; k < 6; ++k) {
    Tensor m({1, 8, 8});
    for (int64_t i = 0; i < 64; ++i) m[i] = (i % 6 == k) ? 1.0f : 0.0f;
    masks.push_back(m);
  }
  CdOptions whole_opts;
  whole_opts.max_batch = 1000;
  const CdResult whole = contextual_decomposition(g, x, masks, whole_opts);
  int64_t previous = 0;
  for (int64_t kib : {8, 16, 64, 256}) {
    INFO(kib << " KiB");
    Batches b;
    CdOptions o;
    o.max_memory = kib << 10;
    o.progress = b.callback();
    const CdResult r = contextual_decomposition(g, x, masks, o);
    REQUIRE(b.total() == 30);
    REQUIRE(b.largest() >= previous);  // more memory, no smaller chunks
    previous = b.largest();
    REQUIRE(max_abs_diff(r.rel, whole.rel) <= 1e-5f);
    REQUIRE(max_abs_diff(r.irrel, whole.irrel) <= 1e-5f);
  }
  REQUIRE(previous > 1);
  CdOptions tiny;
  tiny.max_memory = 1024;
  REQUIRE_THROWS_WITH(contextual_decomposition(g, x, masks, tiny),
                      Catch::Contains("contextual_decomposition") && Catch::Contains("too small for one row"));
}

TEST_CASE("max_memory: the planned buffers follow the network's shapes", "[attribution][memory]") {
  // relu_cnn per example: input 64, conv1 / bn1 / relu 4·8·8 each, max-pool,
  // conv2, relu, conv3, add, leaky ReLU and flatten 4·4·4 each, fc1 and its
  // ReLU 10 each, fc2 3: 1303 floats, all kept by a Keep::all forward.
  const Graph g = test::relu_cnn();
  for (int64_t rows : {1, 3, 17, 64}) {
    INFO(rows << " rows");
    REQUIRE(planned_floats(g, rows, Keep::all, false) == 1303 * rows);
    // The ops' scratch: at least one temporary as large as the largest
    // activation (conv1's output, 256 per row) and each convolution's packing.
    const int64_t scratch = planned_scratch_floats(g, rows);
    REQUIRE(scratch >= 256 * rows);
    kernels::Conv2dConfig same;
    same.pads = {1, 1, 1, 1};
    const int64_t conv1 = kernels::conv2d_scratch_floats({rows, 1, 8, 8}, {4, 1, 3, 3}, same);
    const int64_t conv2 = kernels::conv2d_scratch_floats({rows, 4, 4, 4}, {4, 4, 3, 3}, same);
    REQUIRE(scratch >= conv1);
    REQUIRE(scratch >= conv2);
    REQUIRE(scratch <= 256 * rows + conv1 + conv2);
  }
  REQUIRE(parameter_floats(g) == 4 * 9 + 4 + 4 * 4 + 2 * (4 * 4 * 9 + 4) + 64 * 10 + 10 + 10 * 3 + 3);
}

TEST_CASE("max_memory: the convolutions' scratch is per thread, plus the batch's padded input", "[attribution][memory]") {
  const Shape w{16, 16, 3, 3};
  kernels::Conv2dConfig c;
  c.pads = {1, 1, 1, 1};
  const int before = num_threads();
  set_num_threads(1);
  const int64_t one = kernels::conv2d_scratch_floats({8, 16, 16, 16}, w, c);
  const int64_t small = kernels::conv2d_scratch_floats({1, 16, 16, 16}, w, c);
  const int64_t big = kernels::conv2d_scratch_floats({256, 16, 16, 16}, w, c);
  const int64_t bigger = kernels::conv2d_scratch_floats({512, 16, 16, 16}, w, c);
  set_num_threads(2);
  const int64_t two = kernels::conv2d_scratch_floats({8, 16, 16, 16}, w, c);
  set_num_threads(before);
  REQUIRE(one > 0);
  REQUIRE(small <= one);
  // A batch's GEMM reads one zero-padded copy of its input: 16 channels of
  // 18 × 18 per example, held once; the packing blocks (a set per thread)
  // stop growing with the batch, at 2 MB per thread at most.
  const int64_t padded = 16 * 18 * 18;
  REQUIRE(bigger - big == 256 * padded);
  REQUIRE(two - one == one - 8 * padded);
  REQUIRE(one - 8 * padded < (int64_t{1} << 19));
}

TEST_CASE("max_memory: a budget below the weights and one row names what it needs", "[attribution][memory]") {
  const Graph g = test::relu_cnn();
  const Tensor x = randn({2, 1, 8, 8}, 8);
  AttributionOptions o;
  o.max_memory = 4 * parameter_floats(g);  // the weights alone
  try {
    integrated_gradients(g, x, IntegratedGradientsOptions{}, o);
    FAIL("no error");
  } catch (const ValueError& e) {
    const std::string m = e.what();
    INFO(m);
    REQUIRE(m.find("max_memory " + bytes_text(o.max_memory)) != std::string::npos);
    REQUIRE(m.find("needs at least") != std::string::npos);
    REQUIRE(m.find("weights") != std::string::npos);
  }
}
