// Models scientists train beyond plain CNNs, exported from PyTorch at opsets
// 13 and 17 (tests/reference/make_reach_ops.py): a U-Net-style regressor
// (ConvTranspose, nearest and bilinear Resize, skip concat), a 3-D CNN on a
// density cube (Conv3d, MaxPool3d, AvgPool3d, trilinear Resize) and a 1-D
// ConvTranspose net. Each imports, predicts and differentiates as PyTorch
// does at batch 1 and 3, and the attribution methods keep their identities.
#include <cmath>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/graph/executor.hpp"
#include "trim/io/onnx.hpp"

using namespace trim;
using trim::test::require_close;

namespace {

std::string model_path(const std::string& name) { return std::string(TRIM_FIXTURE_DIR) + "/reach/" + name + ".onnx"; }

double largest(const Tensor& t) {
  double m = 0.0;
  for (float v : t) m = std::max(m, double(std::fabs(v)));
  return m;
}

/// Outputs and input gradients at batch 1 and 3, parameter gradients at 3.
void check_against_torch(const Graph& g, const test::Fixture& f, const std::vector<std::string>& params) {
  for (const char* n : {"1", "3"}) {
    INFO("batch " << n);
    const Tensor& x = f[std::string("x") + n];
    Workspace ws;
    forward(g, ws, {x});
    const Tensor& ref = f[std::string("y") + n];
    require_close(outputs(g, ws)[0], ref, 1e-5, std::max(1e-3, 0.05 * largest(ref)), "output");
    const bool with_params = n[0] == '3';
    const Gradients grads = backward(g, ws, {f[std::string("u") + n]}, with_params);
    const Tensor& dx = f[std::string("dx") + n];
    require_close(grads.inputs[0], dx, 1e-4, std::max(1e-3, 0.05 * largest(dx)), "input gradient");
    if (!with_params) continue;
    for (const std::string& p : params) {
      INFO("parameter " << p);
      const Tensor& ref_g = f["grad." + p];
      require_close(grads.params[static_cast<size_t>(g.parameter_index(p))], ref_g, 1e-4,
                    std::max(1e-3, 0.05 * largest(ref_g)), "parameter gradient");
    }
  }
}

/// DeepLIFT completeness (Σ attributions = F(x) − F(0)) for a piecewise-linear
/// network, and CD's rel + irrel = output for two complementary masks.
void check_attribution(const Graph& g, const Tensor& x) {
  const Tensor y = g.evaluate(x);
  const Tensor y0 = g.evaluate(Tensor(x.shape()));
  double scale = 1e-3;
  for (int64_t i = 0; i < y.numel(); ++i) scale = std::max(scale, double(std::fabs(y[i] - y0[i])));
  const Attribution dl = deeplift(g, x);
  for (float d : dl.delta) REQUIRE(std::fabs(d) <= 1e-5 * scale);
  const int64_t targets = y.dim(1), n = y.dim(0);
  const Shape per = test::per_example(x.shape());
  Tensor half(per);
  for (int64_t i = 0; i < half.numel(); ++i) half[i] = i < half.numel() / 2 ? 1.0f : 0.0f;
  const CdResult cd = contextual_decomposition(g, x, std::vector<Tensor>{half, Tensor(per, 1.0f)});
  REQUIRE(cd.rel.shape() == Shape({targets, n, 2}));
  for (int64_t t = 0; t < targets; ++t)
    for (int64_t e = 0; e < n; ++e)
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t i = (t * n + e) * 2 + k;
        REQUIRE(std::fabs(double(cd.rel[i]) + cd.irrel[i] - y[e * targets + t]) <= 1e-4 * scale);
      }
}

void check_model(const std::string& name, const std::vector<std::string>& params) {
  const test::Fixture f("reach/" + name + ".txt");
  for (const char* opset : {"13", "17"}) {
    INFO(name << " opset " << opset);
    const Graph g = io::load_onnx(model_path(name + "_op" + opset));
    check_against_torch(g, f, params);
    check_attribution(g, f["x3"]);
  }
}

}  // namespace

TEST_CASE("onnx reach: U-Net-style regressor (ConvTranspose, Resize, skip concat)", "[io][onnx][reach]") {
  check_model("unet", {"up.weight", "up.bias", "enc1.weight"});
}

TEST_CASE("onnx reach: 3-D CNN on a density cube (Conv3d, MaxPool3d, AvgPool3d, trilinear)", "[io][onnx][reach]") {
  check_model("cnn3d", {"c2.weight", "fc.weight"});
}

TEST_CASE("onnx reach: 1-D ConvTranspose net (output padding, dilation, groups, linear resize)", "[io][onnx][reach]") {
  check_model("convt1d", {"t1.weight", "t2.weight", "t2.bias"});
}

TEST_CASE("onnx reach: a token classifier is explained in the space of its embedding", "[io][onnx][reach][tokens]") {
  const test::Fixture f("reach/tokens.txt");
  for (const char* opset : {"13", "17"}) {
    INFO("opset " << opset);
    std::vector<io::OnnxTokenInput> tokens;
    io::OnnxImportOptions options;
    options.token_inputs = &tokens;
    const Graph g = io::load_onnx(model_path(std::string("tokens_op") + opset), options);
    REQUIRE(tokens.size() == 1);
    CHECK(tokens[0].ids == "ids");
    CHECK(tokens[0].embedding == "emb.weight");
    CHECK(tokens[0].table.shape() == Shape{40, 8});
    REQUIRE(g.inputs().size() == 1);
    CHECK(g.node(g.inputs()[0]).name == tokens[0].input);
    CHECK(g.shape(g.inputs()[0]) == Shape{Shape::free, 12, 8});
    for (const char* n : {"1", "3"}) {
      // The embedding of the ids is the input PyTorch's model saw.
      REQUIRE(io::embed_tokens(tokens[0], f[std::string("ids") + n]).to_vector() == f[std::string("x") + n].to_vector());
    }
    check_against_torch(g, f, {});
    check_attribution(g, f["x3"]);
    // Groups of time steps: a span of tokens (all embedding dimensions) per mask.
    Tensor span({12, 8}), rest({12, 8});
    for (int64_t t = 0; t < 12; ++t)
      for (int64_t d = 0; d < 8; ++d) (t >= 3 && t < 7 ? span : rest)[t * 8 + d] = 1.0f;
    const Tensor y = g.evaluate(f["x3"]);
    const CdResult cd = contextual_decomposition(g, f["x3"], std::vector<Tensor>{span, rest});
    for (int64_t i = 0; i < cd.rel.numel(); ++i) CHECK(std::isfinite(cd.rel[i]));
  }
  io::OnnxTokenInput t;
  t.ids = "ids";
  t.table = Tensor({4, 2}, 1.0f);
  CHECK_THROWS_WITH(io::embed_tokens(t, Tensor({1, 2}, 4.0f)), Catch::Contains("token id 4") && Catch::Contains("[0, 4)"));
}

TEST_CASE("onnx reach: class token, masks, ScatterND and a zero state of [N, ...] fold at import",
          "[io][onnx][reach][fold]") {
  // Opset 13 exported without constant folding (Not, Cast, ScatterND on
  // ConstantOfShape, Shape arithmetic), opset 17 with it.
  check_model("clsmask", {});
  const Graph g = io::load_onnx(model_path("clsmask_op13"));
  int batch_constants = 0;
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).is_input && g.node(id).op->type() == "batch_constant") ++batch_constants;
  CHECK(batch_constants == 2);  // the expanded class token and the zero state
}

TEST_CASE("onnx reach: ConvTranspose, Resize and 3-D ops survive load -> save -> load", "[io][onnx][reach][export]") {
  for (const char* name : {"unet_op17", "cnn3d_op13", "convt1d_op17"}) {
    const Graph a = io::load_onnx(model_path(name));
    const std::string kernel_name = std::string(name).substr(0, std::string(name).find('_'));
    const test::Fixture f("reach/" + kernel_name + ".txt");
    for (int opset : {11, 17}) {
      INFO(name << " written at opset " << opset);
      const Graph b = io::load_onnx_bytes(io::save_onnx_bytes(a, opset), std::string(name) + " re-exported");
      REQUIRE(b.evaluate(f["x3"]).to_vector() == a.evaluate(f["x3"]).to_vector());
    }
  }
}

TEST_CASE("onnx reach: Mod, Equal, Not, Where and Expand fold; expanding data to a higher rank is refused",
          "[io][onnx][reach][fold]") {
  const test::Fixture f("reach/folds.txt");
  const Graph g = io::load_onnx(model_path("folds"));
  require_close(g.evaluate(f["x"]), f["y"], 1e-6, 1e-3, "folded model");
  CHECK_THROWS_WITH(io::load_onnx(model_path("errors_expand")),
                    Catch::Contains("errors_expand.onnx") && Catch::Contains("(Expand)") &&
                        Catch::Contains("expanding to a higher rank is not supported"));
}

TEST_CASE("onnx reach: ConvTranspose with output_shape and auto_pad (forms torch does not write)", "[io][onnx][reach]") {
  const test::Fixture f("reach/convt_attrs.txt");
  const Graph g = io::load_onnx(model_path("convt_attrs"));
  Workspace ws;
  forward(g, ws, {f["x"], f["x1"]});
  const std::vector<Tensor> y = outputs(g, ws);
  REQUIRE(y.size() == 3);
  require_close(y[0], f["y1"], 1e-5, 1e-3, "output_shape smaller than the full output");
  require_close(y[1], f["y2"], 1e-5, 1e-3, "output_shape larger: output padding");
  require_close(y[2], f["y3"], 1e-5, 1e-3, "1-D, SAME_UPPER");
}

TEST_CASE("onnx reach: the deprecated Upsample (opset 9) reads as a nearest resize", "[io][onnx][reach]") {
  const test::Fixture f("reach/upsample9.txt");
  io::OnnxImportOptions any;
  any.allow_any_opset = true;
  const Graph g = io::load_onnx(model_path("upsample9"), any);
  REQUIRE(g.evaluate(f["x"]).to_vector() == f["y"].to_vector());
}

TEST_CASE("onnx reach: bad ConvTranspose, Resize and token inputs are reported with the node", "[io][onnx][reach][errors]") {
  CHECK_THROWS_WITH(io::load_onnx(model_path("errors_convt_opad")),
                    Catch::Contains("node 'up' (ConvTranspose)") && Catch::Contains("output_padding"));
  CHECK_THROWS_WITH(io::load_onnx(model_path("errors_resize_channels")),
                    Catch::Contains("node 'resize' (Resize)") && Catch::Contains("channel axis"));
  CHECK_THROWS_WITH(io::load_onnx(model_path("errors_tokens")),
                    Catch::Contains("input 'ids'") && Catch::Contains("(Cast)") && Catch::Contains("embedding"));
}

TEST_CASE("onnx reach: a Transpose may move the batch axis when another puts it back", "[io][onnx][reach][fold]") {
  const test::Fixture f("reach/moved_batch.txt");
  const Graph g = io::load_onnx(model_path("moved_batch"));
  require_close(g.evaluate(f["x"]), f["y"], 1e-6, 1e-3, "sequence-first detour");
  // An elementwise node follows the moved layout; a graph output left
  // sequence-first is refused.
  CHECK_THROWS_WITH(io::load_onnx(model_path("errors_moved_batch")),
                    Catch::Contains("graph output 'y'") && Catch::Contains("batch axis moved"));
}

TEST_CASE("onnx reach: a state of shape [1, N, H] (ConstantOfShape, N second) joins the data batch-first",
          "[io][onnx][reach][fold]") {
  const Graph g = io::load_onnx(model_path("state_second"));
  const Tensor x = test::randn({4, 1, 3}, 12);
  Tensor expected = x;
  for (float& v : expected) v += 0.5f;
  REQUIRE(g.evaluate(x).to_vector() == expected.to_vector());
}
