// Learned decoders as transforms: the ONNX decoder / encoder against PyTorch
// (tests/reference/make_decoder.py), the least-squares fit against L-BFGS in
// float64, the inverse as appended decoder nodes and as one op (gradients
// against finite differences), shapes and errors.
#include <cmath>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/decoder.hpp"
#include "trim/transforms/dictionary.hpp"
#include "trim/transforms/grouping.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

std::string onnx(const std::string& name) { return std::string(TRIM_FIXTURE_DIR) + "/onnx/" + name + ".onnx"; }
const std::string kBoth = "decoder:" + onnx("vae_decoder") + ":" + onnx("vae_encoder");
const std::string kDecoder = "decoder:" + onnx("vae_decoder");

}  // namespace

TEST_CASE("decoder transform: decoder and encoder equal PyTorch", "[transform][decoder]") {
  const test::Fixture f("decoder.txt");
  const auto t = make_transform(kBoth, {64});
  CHECK(t->family() == "decoder");
  CHECK(t->spec() == kBoth);
  CHECK(t->coefficient_shape() == Shape{4});
  CHECK(t->coefficient_layout() == CoefficientLayout::Components);
  CHECK(t->groupings() == std::vector<std::string>{"components"});
  CHECK(t->figure_kind() == FigureKind::Bars);
  CHECK_FALSE(t->exact());
  require_close(t->inverse(f["z"]), f["x_of_z"], 1e-5, 1e-2, "decoder");
  require_close(t->forward(f["x"]), f["z_of_x"], 1e-5, 1e-2, "encoder");
  // The example may be shaped: 64 values as one 8x8 map.
  const auto m = make_transform(kBoth, {1, 8, 8});
  CHECK(m->inverse(f["z"]).shape() == Shape{3, 1, 8, 8});
  require_close(m->forward(f["x"].reshaped({3, 1, 8, 8})), f["z_of_x"], 1e-5, 1e-2, "encoder on maps");
  const Grouping g = component_groups(*m);
  CHECK(g.size() == 4);
  CHECK(signal_shape_for(kDecoder, {5, 4}) == Shape{64});  // leading axes: a batch
}

TEST_CASE("decoder transform without an encoder fits the least-squares code", "[transform][decoder]") {
  const test::Fixture f("decoder.txt");
  const auto t = std::dynamic_pointer_cast<const DecoderTransform>(make_transform(kDecoder, {64}));
  REQUIRE(t);
  CHECK_FALSE(t->has_encoder());
  const Tensor z = t->forward(f["x_in"]);
  REQUIRE(z.shape() == Shape{3, 4});
  const Tensor err = t->reconstruction_error(f["x_in"], z);
  for (int64_t b = 0; b < 3; ++b) {
    INFO("example " << b << ": |D(z) - x|^2 = " << err[b] << ", L-BFGS " << f["fit_residual"][b]);
    // As good as the float64 L-BFGS optimum (to float32 rounding of the loss).
    CHECK(err[b] <= f["fit_residual"][b] * 1.001 + 1e-6);
    for (int64_t j = 0; j < 4; ++j) CHECK(z[b * 4 + j] == Approx(f["z_fit"][b * 4 + j]).margin(2e-3));
  }
}

TEST_CASE("decoder inverse: appended nodes and the single op agree, gradients match finite differences",
          "[transform][decoder]") {
  const auto t = make_transform(kBoth, {1, 8, 8});
  const Tensor s = randn({2, 4}, 3);
  {
    Graph g;
    const NodeId in = nn::input(g, "s", t->coefficient_shape());
    const NodeId out = add_inverse(g, in, *t, "inv");
    CHECK(g.num_nodes() > 3);  // the decoder's layers, not one opaque node
    g.set_outputs({nn::tanh(g, out)});
    g.finalize();
    CHECK(g.shape(out) == Shape{Shape::free, 1, 8, 8});
    Tensor want = t->inverse(s);
    for (float& v : want) v = std::tanh(v);
    require_close(g.evaluate(s), want, 1e-6, 1e-3, "appended decoder");
    require_ok(check_gradients(g, {s}));
  }
  {
    Graph g;
    const NodeId in = nn::input(g, "s", t->coefficient_shape());
    const NodeId out = g.add(t->inverse_op(), {in}, {}, "inv");
    g.set_outputs({out});
    g.finalize();
    CHECK(g.node(out).op->kind() == Kind::Opaque);
    require_close(g.evaluate(s), t->inverse(s), 1e-6, 1e-3, "decoder op");
    require_ok(check_gradients(g, {s}));
  }
}

TEST_CASE("decoder transform errors name the problem", "[transform][decoder]") {
  CHECK_THROWS_WITH(make_transform("decoder:", {64}), Catch::Contains("decoder:DECODER.onnx"));
  CHECK_THROWS_WITH(make_transform("decoder:nope.onnx", {64}), Catch::Contains("nope.onnx"));
  CHECK_THROWS_AS(make_transform("decoder:nope.onnx", {64}), IoError);
  CHECK_THROWS_WITH(make_transform(kDecoder, {63}), Catch::Contains("[63]") && Catch::Contains("decoder gives"));
  // Encoder and decoder swapped: the encoder takes 4 values, examples have 64.
  CHECK_THROWS_WITH(make_transform("decoder:" + onnx("vae_decoder") + ":" + onnx("vae_decoder"), {64}),
                    Catch::Contains("encoder takes"));
  CHECK_THROWS_AS(make_transform(kDecoder, {64})->inverse(Tensor(Shape{2, 5})), ShapeError);
}
