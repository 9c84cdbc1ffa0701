// TrimModel: F(T(x)) = model(x) for exact transforms, normalisation and
// reshape, residual input, and gradients / IG in fft2 space against PyTorch
// autograd on the same weights.
#include <cmath>

#include "fixture.hpp"
#include "models.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/error.hpp"
#include "trim/transforms/dictionary.hpp"

using namespace trim;
using test::randn;

using test::fixture_cnn;

TEST_CASE("TrimModel: F(T(x)) equals model(x) for every exact transform", "[attribution][trim_model]") {
  const Graph model = test::relu_cnn();
  const Tensor x = randn({3, 1, 8, 8}, 1);
  const Tensor y = model.evaluate(x);
  for (const char* spec :
       {"identity", "fft1", "fft2", "rfft1", "rfft2:ortho", "dct2", "dct1:forward", "stft:hann:4:2:center"}) {
    INFO(spec);
    const TrimModel tm(model, make_transform(spec, {1, 8, 8}));
    REQUIRE_FALSE(tm.has_residual());
    REQUIRE(tm.graph().inputs().size() == 1);
    test::require_close(tm.forward(tm.coefficients(x)), y, 1e-4, 1e-3, spec);
  }
}

TEST_CASE("TrimModel::sharing_weights holds the model's weights once", "[attribution][trim_model][memory]") {
  Graph model = test::relu_cnn();
  const Tensor x = randn({3, 1, 8, 8}, 2);
  const Tensor y = model.evaluate(x);
  const TrimModel copied(model, make_transform("fft2", {1, 8, 8}));
  const std::unique_ptr<TrimModel> shared = TrimModel::sharing_weights(model, make_transform("fft2", {1, 8, 8}));
  // The same TRIM model, and the model still evaluates as before ...
  REQUIRE(max_abs_diff(shared->forward(shared->coefficients(x)), copied.forward(copied.coefficients(x))) == 0.0f);
  REQUIRE(max_abs_diff(model.evaluate(x), y) == 0.0f);
  // ... through weights it borrows from the TRIM graph: one copy in memory.
  REQUIRE_FALSE(model.parameters().empty());
  for (const Parameter& p : model.parameters()) {
    INFO(p.name);
    REQUIRE_FALSE(p.value.owns_data());
    REQUIRE(p.value.data() == shared->graph().parameter(p.name).value.data());
    REQUIRE(shared->graph().parameter(p.name).value.owns_data());
  }
}

TEST_CASE("TrimModel: normalisation and reshape sit between the inverse and the model", "[attribution][trim_model]") {
  // The model takes flat, standardised 64-vectors; the transform acts on 8×8 maps.
  Graph model(4);
  NodeId in = nn::input(model, "x", {64});
  model.set_outputs({nn::linear(model, nn::tanh(model, nn::linear(model, in, 5, "fc1")), 2, "fc2")});
  model.finalize();
  TrimOptions opt;
  opt.mean = Tensor({1}, std::vector<float>{0.25f});
  opt.std = Tensor({1}, std::vector<float>{2.0f});
  opt.reshape = {64};
  const TrimModel tm(model, make_transform("dct2:ortho", {1, 8, 8}), opt);
  const Tensor x = randn({2, 1, 8, 8}, 2);
  Tensor z = x.reshaped({2, 64});
  for (float& v : z) v = (v - 0.25f) / 2.0f;
  test::require_close(tm.forward(tm.coefficients(x)), model.evaluate(z), 1e-5, 1e-3, "normalised");
  // Without the reshape the shapes do not fit, and the error says so.
  opt.reshape = {};
  REQUIRE_THROWS_WITH(TrimModel(model, make_transform("dct2:ortho", {1, 8, 8}), opt),
                      Catch::Contains("TrimModel(dct2:ortho)") && Catch::Contains("[*,64]"));
  opt.std = Tensor({1}, std::vector<float>{0.0f});
  opt.reshape = {64};
  REQUIRE_THROWS_WITH(TrimModel(model, make_transform("dct2:ortho", {1, 8, 8}), opt), Catch::Contains("positive"));
}

TEST_CASE("TrimModel: the residual is a second input held fixed by the methods", "[attribution][trim_model]") {
  const Graph model = test::relu_cnn();
  TrimOptions opt;
  opt.residual = TrimOptions::Residual::On;
  const TrimModel tm(model, make_transform("fft2", {1, 8, 8}), opt);
  REQUIRE(tm.has_residual());
  const Tensor x = randn({2, 1, 8, 8}, 3);
  const Tensor r = tm.residual(x);
  for (float v : r) REQUIRE(v == 0.0f);  // fft2 is exact
  // A non-zero residual shifts the input the model sees.
  const Tensor shift = randn({2, 1, 8, 8}, 4, 0.1f);
  Tensor xs = x;
  xs.as_vector() += shift.as_vector();
  test::require_close(tm.forward(tm.coefficients(x), &shift), model.evaluate(xs), 1e-4, 1e-3, "residual");
  REQUIRE_THROWS_AS(tm.forward(tm.coefficients(x)), ValueError);
  const AttributionOptions o = tm.options_for(x);
  REQUIRE(o.extra_inputs.size() == 1);
  const Attribution a = integrated_gradients(tm.graph(), tm.coefficients(x), {}, o);
  REQUIRE(a.attributions.shape() == Shape{3, 2, 1, 8, 8, 2});
}

TEST_CASE("TrimModel in fft2 space: gradients and IG match PyTorch autograd", "[attribution][trim_model]") {
  const test::Fixture f("attribution_fft2.txt");
  const Graph model = fixture_cnn(f);
  test::require_close(model.evaluate(f["x"]), f["output"], 1e-5, 1e-3, "model output");
  const TrimModel tm(model, make_transform("fft2", {1, 8, 8}));
  const Tensor s = tm.coefficients(f["x"]);
  test::require_close(s, f["s"], 1e-5, 1e-2, "fft2 coefficients");
  test::require_close(tm.forward(s), f["output"], 1e-5, 1e-3, "F(T(x))");
  test::require_close(gradient(tm.graph(), f["s"]).attributions, f["gradient"], 1e-4, 1e-4, "gradient");
  const Attribution ig = integrated_gradients(tm.graph(), f["s"]);
  test::require_close(ig.attributions, f["ig"], 1e-4, 1e-4, "integrated gradients");
  // Completeness in coefficient space: Σ IG = F(s) − F(0).
  for (float d : ig.delta) REQUIRE(std::fabs(d) < 1e-3);
}

TEST_CASE("TrimModel: DeepLIFT completeness through the inverse transform node", "[attribution][trim_model]") {
  const Graph model = test::relu_cnn();
  for (const char* spec : {"fft2", "rfft2", "dct2:ortho", "stft:hamming:4:2:center"}) {
    INFO(spec);
    const TrimModel tm(model, make_transform(spec, {1, 8, 8}));
    const Tensor s = tm.coefficients(randn({2, 1, 8, 8}, 5));
    const Attribution a = deeplift(tm.graph(), s);
    const Tensor fx = tm.forward(s), f0 = tm.forward(Tensor(s.shape()));
    for (int64_t t = 0; t < 3; ++t)
      for (int64_t n = 0; n < 2; ++n) {
        double sum = 0.0;
        const int64_t P = s.numel() / 2;
        for (int64_t i = 0; i < P; ++i) sum += a.attributions[(t * 2 + n) * P + i];
        const double diff = double(fx[n * 3 + t]) - f0[n * 3 + t];
        REQUIRE(sum == Approx(diff).margin(1e-4 * std::max(1.0, std::fabs(double(fx[n * 3 + t])))));
      }
  }
}

TEST_CASE("TrimModel in dwt2 space: gradients and IG match PyTorch autograd", "[attribution][trim_model]") {
  const test::Fixture f("attribution_fft2.txt");  // the CNN's weights and inputs
  const test::Fixture w("attribution_dwt2.txt");
  const Graph model = fixture_cnn(f);
  const TrimModel tm(model, make_transform("dwt2:db2:2:symmetric", {1, 8, 8}));
  const Tensor c = tm.coefficients(f["x"]);
  // Float32 error relative to the signal scale (the inputs are O(1)), as the
  // wavelet fixtures are judged; a 1e-2 floor is tighter than float32 allows.
  test::require_close(c, w["coefficients"], 1e-5, 1.0, "wavedec2 coefficients");
  test::require_close(tm.forward(c), f["output"], 1e-5, 1e-3, "F(T(x))");
  test::require_close(gradient(tm.graph(), w["coefficients"]).attributions, w["gradient"], 1e-4, 1e-4, "gradient");
  const Attribution ig = integrated_gradients(tm.graph(), w["coefficients"]);
  test::require_close(ig.attributions, w["ig"], 1e-4, 1e-4, "integrated gradients");
  for (float d : ig.delta) REQUIRE(std::fabs(d) < 1e-3);
}

TEST_CASE("TrimModel in NMF space with its residual: gradients and IG match PyTorch autograd",
          "[attribution][trim_model]") {
  const test::Fixture f("attribution_fft2.txt");
  const test::Fixture n("attribution_nmf.txt");
  const Graph model = fixture_cnn(f);
  auto t = std::make_shared<DictionaryTransform>(LinearDictionary(to_matrix(n["components"])), Shape{1, 8, 8});
  REQUIRE_FALSE(t->exact());
  const TrimModel tm(model, t);  // lossy: the residual input is on by default
  REQUIRE(tm.has_residual());
  const Tensor& s = n["codes"];
  const Tensor& r = n["residual"];
  test::require_close(tm.forward(s, &r), n["output"], 1e-5, 1e-3, "F(s) with residual = model(x)");
  AttributionOptions o;
  o.extra_inputs = {r};
  test::require_close(gradient(tm.graph(), s, o).attributions, n["gradient"], 1e-4, 1e-4, "gradient");
  const Attribution ig = integrated_gradients(tm.graph(), s, {}, o);
  test::require_close(ig.attributions, n["ig"], 1e-4, 1e-4, "integrated gradients");
  // The residual trim computes itself makes F(T(x)) = model(x) exactly.
  const Tensor& x = n["x"];
  const AttributionOptions own = tm.options_for(x);
  REQUIRE(own.extra_inputs.size() == 1);
  test::require_close(tm.forward(tm.coefficients(x), &own.extra_inputs[0]), n["output"], 1e-5, 1e-3,
                      "F(T(x)) + own residual");
}
