// AttributionOptions::checkpoint / CdOptions::checkpoint: called between
// chunks of rows, and throwing from it abandons the call (how the Python
// module stops a long attribution on Ctrl-C).
#include <stdexcept>

#include "models.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"

using namespace trim;

namespace {
struct Stop : std::runtime_error {
  Stop() : std::runtime_error("stop") {}
};
}  // namespace

TEST_CASE("the checkpoint runs once per chunk and a throw from it stops the method", "[attribution][checkpoint]") {
  const Graph g = test::relu_cnn();
  const Tensor x = test::randn({3, 1, 8, 8}, 5);
  AttributionOptions o;
  o.max_batch = 8;
  int calls = 0;
  o.checkpoint = [&] { ++calls; };
  IntegratedGradientsOptions ig;
  ig.n_steps = 16;  // 3 examples x 16 points = 48 rows = 6 chunks of 8
  const Attribution a = integrated_gradients(g, x, ig, o);
  REQUIRE(calls == 6);
  // The checkpoint does not change the result.
  AttributionOptions plain = o;
  plain.checkpoint = nullptr;
  REQUIRE(max_abs_diff(integrated_gradients(g, x, ig, plain).attributions, a.attributions) == 0.0f);

  calls = 0;
  o.checkpoint = [&] {
    if (++calls == 3) throw Stop();
  };
  REQUIRE_THROWS_AS(integrated_gradients(g, x, ig, o), Stop);
  REQUIRE(calls == 3);

  calls = 0;
  o.max_batch = 2;  // deeplift: one example per chunk (x and baseline rows)
  REQUIRE_THROWS_AS(deeplift(g, x, {}, o), Stop);
  REQUIRE(calls == 3);

  CdOptions cd;
  cd.max_batch = 4;  // 5 masks x 3 examples in chunks of at most 4 rows
  int cd_calls = 0;
  cd.checkpoint = [&] {
    if (++cd_calls == 2) throw Stop();
  };
  std::vector<Tensor> masks(5, Tensor({1, 8, 8}, 1.0f));
  REQUIRE_THROWS_AS(contextual_decomposition(g, x, masks, cd), Stop);
  REQUIRE(cd_calls == 2);
}
