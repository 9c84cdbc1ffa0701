// TRIM on density cubes: F(T(x)) = model(x) for the 3-D transforms with a
// small conv3d network, and DeepLIFT's completeness through them.
#include <cmath>

#include "models.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/kernels/volume.hpp"

using namespace trim;
using test::randn;

namespace {

/// conv3d 3³ (2 channels) -> ReLU -> flatten -> linear 2, input [*, 1, 6, 8, 10].
Graph conv3d_model() {
  Graph g(41);
  NodeId x = nn::input(g, "x", {1, 6, 8, 10});
  kernels::Conv3dConfig c;
  c.pads = {1, 1, 1, 1, 1, 1};
  x = nn::relu(g, nn::conv3d(g, x, 2, {3, 3, 3}, "conv", c));
  g.set_outputs({nn::linear(g, nn::flatten(g, x), 2, "fc")});
  g.finalize();
  return g;
}

}  // namespace

TEST_CASE("TrimModel: F(T(x)) equals a conv3d model(x) for the 3-D transforms", "[attribution][trim_model][transform3d]") {
  const Graph model = conv3d_model();
  const Tensor x = randn({2, 1, 6, 8, 10}, 1);
  const Tensor y = model.evaluate(x);
  for (const char* spec : {"fft3", "rfft3:ortho", "fft3:polar", "dct3", "dwt3:haar:2", "dwt3:db2:1:periodization"}) {
    INFO(spec);
    const TrimModel tm(model, make_transform(spec, {1, 6, 8, 10}));
    test::require_close(tm.forward(tm.coefficients(x)), y, 1e-4, 1e-2, spec);
    // DeepLIFT (zero baseline) is complete through the inverse.
    const Attribution a = deeplift(tm.graph(), tm.coefficients(x));
    for (int64_t i = 0; i < a.delta.numel(); ++i) CHECK(std::fabs(a.delta[i]) < 1e-3);
  }
}
