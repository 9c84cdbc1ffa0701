// TRIM in a learned decoder's latent space: F(T(x)) = model(x) with the
// residual held fixed, and the methods' exact properties through the
// decoder's own layers (DeepLIFT's and IG's completeness, CD's rel + irrel).
#include <cmath>
#include <string>

#include "models.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/transforms/dictionary.hpp"

using namespace trim;
using test::randn;

namespace {

std::string onnx(const std::string& name) { return std::string(TRIM_FIXTURE_DIR) + "/onnx/" + name + ".onnx"; }

/// A CNN on 8x8 maps: conv 3x3 -> ReLU -> linear 2.
Graph map_model() {
  Graph g(51);
  NodeId x = nn::input(g, "x", {1, 8, 8});
  x = nn::relu(g, nn::conv2d(g, x, 3, {3, 3}, "conv", Conv2dOptions().padding(1)));
  g.set_outputs({nn::linear(g, nn::flatten(g, x), 2, "fc")});
  g.finalize();
  return g;
}

}  // namespace

TEST_CASE("TrimModel in a decoder's latent space: F(T(x)) = model(x), complete DeepLIFT and IG, CD",
          "[attribution][trim_model][decoder]") {
  const Graph model = map_model();
  const Tensor x = randn({2, 1, 8, 8}, 5);
  const Tensor y = model.evaluate(x);
  for (const std::string& spec : {"decoder:" + onnx("vae_decoder") + ":" + onnx("vae_encoder"),
                                 "decoder:" + onnx("vae_decoder")}) {
    INFO(spec);
    const TrimModel tm(model, make_transform(spec, {1, 8, 8}));
    REQUIRE(tm.has_residual());  // a decoder is not exact: x − T⁻¹(T(x)) is held fixed
    const Tensor s = tm.coefficients(x);
    const Tensor r = tm.residual(x);
    test::require_close(tm.forward(s, &r), y, 1e-4, 1e-2, "F(T(x))");
    const AttributionOptions o = tm.options_for(x);
    const Attribution dl = deeplift(tm.graph(), s, {}, o);
    for (int64_t i = 0; i < dl.delta.numel(); ++i) CHECK(std::fabs(dl.delta[i]) < 1e-4);
    IntegratedGradientsOptions ig;
    ig.n_steps = 64;
    const Attribution a = integrated_gradients(tm.graph(), s, ig, o);
    for (int64_t i = 0; i < a.delta.numel(); ++i) CHECK(std::fabs(a.delta[i]) < 1e-3);
    // CD through the decoder's Linear and Tanh nodes, one group per latent dimension.
    CdOptions co;
    co.extra_inputs = o.extra_inputs;
    const CdResult cd = contextual_decomposition(tm.graph(), s, component_groups(tm.transform()), co);
    const Tensor f = tm.forward(s, &r);
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t e = 0; e < 2; ++e)
        for (int64_t k = 0; k < 4; ++k) {
          const int64_t i = (t * 2 + e) * 4 + k;
          CHECK(cd.rel[i] + cd.irrel[i] == Approx(f[e * 2 + t]).margin(1e-4));
        }
  }
}
