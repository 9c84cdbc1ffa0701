// Architectures beyond plain CNNs (tests/reference/make_reach.py): small
// EfficientNet / RegNetY / MobileNetV3 / ConvNeXt / MLP / self-attention
// models from torchvision's blocks, and nn.MultiheadAttention as torch
// exports it (make_attention.py: nn.TransformerEncoder, a ViT), exported at
// opsets 13 and 17. Each
// imports, predicts and differentiates like PyTorch, its new nodes keep
// their kinds' promises, and DeepLIFT and CD pass through every node.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/layers.hpp"
#include "trim/graph/nn.hpp"
#include "trim/io/onnx.hpp"

using namespace trim;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

const char* const kModels[] = {"effnet", "regnety", "mobilenetv3", "convnext", "mlp", "attention"};

std::string path_of(const std::string& name, int opset) {
  return std::string(TRIM_FIXTURE_DIR) + "/reach/" + name + "_o" + std::to_string(opset) + ".onnx";
}

/// Relative comparison with a floor of 5% of the largest reference value (an
/// output that cancels to near zero carries the absolute round-off of its terms).
void require_like_torch(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  double top = 0.0;
  for (float v : want) top = std::max(top, std::fabs(double(v)));
  require_close(got, want, rtol, std::max(1e-4, 0.05 * top), what);
}

bool is_new_op(const std::string& type) {
  static const char* const types[] = {"mul",  "matmul", "reduce_sum", "reduce_mean", "reduce_max", "broadcast",
                                      "exp",  "log",    "sqrt",       "reciprocal",  "pow",        "erf",
                                      "hard_sigmoid", "hard_swish"};
  return std::find_if(std::begin(types), std::end(types), [&](const char* t) { return type == t; }) !=
         std::end(types);
}

}  // namespace

namespace {

/// Imports at `opset` and compares outputs (batch 3 and 1) and the input
/// gradient with PyTorch's; no node is left opaque.
void predicts_like_torch(const char* name, int opset) {
  INFO(name << " opset " << opset);
  const test::Fixture f(std::string("reach/") + name + ".txt");
  const Graph g = io::load_onnx(path_of(name, opset));
  int opaque = 0;
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).is_input && g.node(id).op->kind() == Kind::Opaque) ++opaque;
  REQUIRE(opaque == 0);  // every composite decomposed into kinds
  Workspace ws;
  forward(g, ws, {f["x"]});
  require_like_torch(ws.value(g.outputs()[0]), f["y"], 1e-5, "output, batch 3");
  require_like_torch(g.evaluate(f["x1"]), f["y1"], 1e-5, "output, batch 1");
  const Gradients grads = backward(g, ws, {f["u"]});
  require_like_torch(grads.inputs[0], f["dx"], 1e-4, "input gradient");
}

/// DeepLIFT's completeness at a zero and a random baseline; CD's parts finite
/// and summing to PyTorch's output.
void attributions_hold(const char* name, int opset) {
  INFO(name << " opset " << opset);
  const test::Fixture f(std::string("reach/") + name + ".txt");
  const Graph g = io::load_onnx(path_of(name, opset));
  const Tensor& x = f["x"];
  const Tensor fx = g.evaluate(x);
  const int64_t N = x.dim(0), K = fx.numel() / N, P = x.numel() / N;

  // Zero baseline, and a random one. At the zero baseline a LayerNorm scales by
  // 1/√eps ≈ 316, so the two halves of the product rule cancel by ~300× in
  // float32 multipliers: the pre-norm blocks (a LayerNorm reads the input
  // itself, x = 0 has zero variance) get 4e-5 (float32's 6e-8 times ~300;
  // measured 0.5–2.3e-5, depending on the build and on how the x and
  // baseline rows share a batch).
  double top_fx = 0.0;
  for (float v : fx) top_fx = std::max(top_fx, std::fabs(double(v)));
  Rng brng(9);
  Tensor random_base(x.shape());
  brng.fill_normal(random_base, 0.0f, 0.5f);
  for (const Tensor* base : {static_cast<const Tensor*>(nullptr), static_cast<const Tensor*>(&random_base)}) {
    DeepLiftOptions dl;
    if (base) dl.baseline = Baseline::of(*base);
    const Attribution a = deeplift(g, x, dl);
    const Tensor fb = g.evaluate(base ? *base : Tensor(x.shape()));
    const double tol = !base && (std::string(name) == "attention" || std::string(name) == "tencoder_sf") ? 4e-5 : 1e-5;
    for (size_t t = 0; t < a.targets.size(); ++t)
      for (int64_t n = 0; n < N; ++n) {
        const int64_t k = a.targets[t];
        double s = 0.0;
        for (int64_t i = 0; i < P; ++i) s += a.attributions[(int64_t(t) * N + n) * P + i];
        const double diff = double(fx[n * K + k]) - fb[n * K + k];
        // Floor: 5% of the largest output, as require_like_torch (a target
        // whose F(x) and F(b) nearly cancel carries the round-off of its terms).
        const double scale = std::max({std::fabs(diff), std::fabs(double(fx[n * K + k])),
                                       std::fabs(double(fb[n * K + k])), 0.05 * top_fx, 1e-3});
        INFO("target " << k << " example " << n << (base ? " random" : " zero") << " baseline: sum " << s
                       << " vs F(x) - F(b) " << diff);
        REQUIRE(std::fabs(s - diff) / scale <= tol);
      }
  }

  // Groups: a random partition of the features in three, everything, nothing. (The
  // empty group's rel need not vanish: where a Linear node's relevant and
  // irrelevant inputs are both exactly zero, as behind a dead ReLU, acd's rule
  // splits its bias evenly.)
  Rng rng(7);
  std::vector<Tensor> masks(3, Tensor(test::per_example(x.shape())));
  for (int64_t i = 0; i < P; ++i) masks[rng.below(3)][i] = 1.0f;
  masks.push_back(Tensor(test::per_example(x.shape()), 1.0f));
  masks.push_back(Tensor(test::per_example(x.shape())));
  const CdResult cd = contextual_decomposition(g, x, masks);
  const int64_t G = static_cast<int64_t>(masks.size());
  double top = 0.0;
  for (float v : f["y"]) top = std::max(top, std::fabs(double(v)));
  for (int64_t t = 0; t < K; ++t)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t gi = 0; gi < G; ++gi) {
        const int64_t at = (t * N + n) * G + gi;
        INFO("target " << t << " example " << n << " group " << gi);
        REQUIRE(std::isfinite(cd.rel[at]));
        // rel + irrel is the output, PyTorch's to float precision.
        REQUIRE(std::fabs(cd.rel[at] + cd.irrel[at] - f["y"][n * K + t]) <= 1e-5 * std::max(top, 1.0) + 1e-5);
      }
}

}  // namespace

TEST_CASE("reach models import and predict like PyTorch at batch 1 and 3, gradients too", "[io][reach]") {
  for (const char* name : kModels)
    for (int opset : {13, 17}) predicts_like_torch(name, opset);
}

TEST_CASE("reach models: gradient check and every new node against its kind", "[io][reach]") {
  for (const char* name : kModels) {
    INFO(name);
    const test::Fixture f(std::string("reach/") + name + ".txt");
    Graph g = io::load_onnx(path_of(name, 17));
    GradcheckOptions o;  // small steps: ReLU and hard-sigmoid kinks
    o.step = 1e-3;
    o.tolerance = 5e-2;
    o.parameters = false;
    // RegNetY and MobileNetV3 have ReLUs in their 2-unit squeeze paths: a kink
    // within the step flips a whole channel's gate, so only PyTorch's autograd
    // (the test above) judges their gradients.
    if (std::string(name) != "regnety" && std::string(name) != "mobilenetv3") require_ok(check_gradients(g, {f["x"]}, o));
    int checked = 0;
    for (NodeId id = 0; id < g.num_nodes(); ++id)
      if (!g.node(id).is_input && is_new_op(g.node(id).op->type())) {
        INFO(g.describe(id));
        require_ok(check_kind(g, id, {f["x"]}));
        ++checked;
      }
    REQUIRE(checked > 0);
  }
}

TEST_CASE("reach models: DeepLIFT completeness and CD pass through products and decomposed layers",
          "[io][reach][attribution]") {
  for (const char* name : kModels)
    for (int opset : {13, 17}) attributions_hold(name, opset);
}

TEST_CASE("attention as torch exports it: TransformerEncoder (batch first and not), ViT, Swin, MultiheadAttention "
          "with its weights, a masked TransformerDecoderLayer",
          "[io][reach][attention]") {
  // Sequence-first inside, the batch merged with the heads ([T, N·heads, d]):
  // read batch-first (tests/reference/make_attention.py).
  for (const char* name : {"encoder", "tencoder_sf", "vit", "swin", "mha_weights", "decoder"})
    for (int opset : {13, 17}) {
      INFO(name << " opset " << opset);
      const std::vector<io::OnnxIssue> issues = io::check_onnx(path_of(name, opset));
      std::string listed;
      for (const io::OnnxIssue& i : issues) listed += i.node + ": " + i.message + "\n";
      INFO(listed);
      REQUIRE(issues.empty());
      predicts_like_torch(name, opset);
      attributions_hold(name, opset);
    }
  // Finite differences through the merged-layout reshapes and transposes.
  for (const char* name : {"tencoder_sf", "vit", "swin"}) {
    INFO(name);
    const test::Fixture f(std::string("reach/") + name + ".txt");
    Graph g = io::load_onnx(path_of(name, 17));
    GradcheckOptions o;
    o.step = 1e-3;
    o.tolerance = 5e-2;
    o.parameters = false;
    require_ok(check_gradients(g, {f["x1"]}, o));
  }
}

TEST_CASE("views of a moved and merged batch: transposes, reshapes (also to a leading 1), a softmax over a middle "
          "axis, a constant, MatMul of two views", "[io][reach][attention]") {
  const std::string dir = std::string(TRIM_FIXTURE_DIR) + "/reach/";
  const test::Fixture f("reach/layout_views.txt");
  Graph g = io::load_onnx(dir + "layout_views.onnx");
  require_close(g.evaluate(f["x"]), f["y"], 1e-5, 1e-6, "views, batch 3");
  auto first = [](const Tensor& t) {  // example 0 of a batch
    Shape s = t.shape();
    s[0] = 1;
    return Tensor(s, std::vector<float>(t.data(), t.data() + s.numel()));
  };
  const Tensor x1 = first(f["x"]);
  require_close(g.evaluate(x1), first(f["y"]), 1e-5, 1e-6, "views, batch 1");
  GradcheckOptions o;
  o.step = 1e-3;
  o.tolerance = 2e-2;
  o.parameters = false;
  require_ok(check_gradients(g, {x1}, o));
}

TEST_CASE("a batch merged with other axes: readers that cannot keep it batch-first are named", "[io][reach][attention]") {
  const std::string dir = std::string(TRIM_FIXTURE_DIR) + "/reach/";
  CHECK_THROWS_WITH(io::load_onnx(dir + "errors_merged_slice.onnx"),
                    Catch::Contains("(Slice)") && Catch::Contains("merged with other axes") &&
                        Catch::Contains("[T, N·heads, d]"));
  CHECK_THROWS_WITH(io::load_onnx(dir + "errors_batch_mix.onnx"), Catch::Contains("node 'mix' (Reshape)"));
  // A sequence-first graph input: the message says how to export it.
  CHECK_THROWS_WITH(io::load_onnx(dir + "errors_seq_first_input.onnx"),
                    Catch::Contains("dimension 1 is symbolic") && Catch::Contains("x.transpose(0, 1)"));
  // Dropout in training mode is refused, unless its ratio is 0 (torchvision's Swin).
  CHECK_THROWS_WITH(io::load_onnx(dir + "errors_dropout_train.onnx"), Catch::Contains("training_mode is true"));
  const Tensor x = test::randn({2, 6}, 3);
  REQUIRE(io::load_onnx(dir + "dropout_p0_train.onnx").evaluate(x).to_vector() == x.to_vector());
}

TEST_CASE("a softmax that ends the network stays one opaque op; inside it is built from kinds", "[io][reach]") {
  const Graph g = io::load_onnx(path_of("attention", 17));
  int products = 0, selections = 0;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    if (g.node(id).is_input) continue;
    products += g.node(id).op->kind() == Kind::Product;
    selections += g.node(id).op->type() == "reduce_max";
  }
  REQUIRE(products >= 3);    // q·kᵀ, weights·v, the softmax's normalisation (and LayerNorms)
  REQUIRE(selections == 1);  // the softmax's max
}

TEST_CASE("check_onnx lists every node trim cannot read, with the PyTorch layer it comes from", "[io][reach]") {
  const std::string bad = std::string(TRIM_FIXTURE_DIR) + "/reach/unsupported.onnx";
  REQUIRE_THROWS_AS(io::load_onnx(bad), Error);  // load_onnx stops at the first
  const std::vector<io::OnnxIssue> issues = io::check_onnx(bad);
  std::map<std::string, io::OnnxIssue> by_node;
  for (const io::OnnxIssue& i : issues) by_node[i.node] = i;
  REQUIRE(issues.size() == 3);
  REQUIRE(by_node.count("mix"));
  CHECK(by_node["mix"].op_type == "Einsum");
  CHECK(by_node["mix"].message.find("unsupported operator") != std::string::npos);
  CHECK(by_node["mix"].hint.find("einsum") != std::string::npos);
  // The batch-moving Transpose is followed (a later one may put the batch
  // back), and so is the elementwise node reading it.
  CHECK(by_node.count("seq_first") == 0);
  CHECK(by_node.count("after_transpose") == 0);
  REQUIRE(by_node.count("lstm"));
  CHECK(by_node["lstm"].hint == "torch.nn.LSTM");
  REQUIRE(by_node.count("window"));
  CHECK(by_node["window"].hint.find("Swin") != std::string::npos);
  for (const char* name : kModels) REQUIRE(io::check_onnx(path_of(name, 13)).empty());
}

TEST_CASE("products, reductions and the scalar functions export to ONNX and read back", "[io][reach][export]") {
  for (int opset : {11, 13, 14, 17}) {
    INFO("opset " << opset);
    Graph g(3);
    const NodeId x = nn::input(g, "x", {4, 6});
    NodeId h = nn::layer_norm(g, x, -1, "ln");
    h = nn::matmul(g, h, nn::softmax_by_kinds(g, nn::transpose(g, h, {0, 2, 1}), -1, "sm"), "att");  // [*,4,4]
    h = nn::multiply(g, h, nn::math(g, nn::reduce_mean(g, h, {2}), ops::Math::HardSigmoid, 0.2f, 0.5f), "gate");
    NodeId pos = nn::add_constant(g, nn::math(g, h, ops::Math::Pow, 2.0f, 0.0f, "sq"), Tensor::scalar(1.0f), "one");
    h = nn::add(g, {nn::math(g, h, ops::Math::Erf), nn::math(g, pos, ops::Math::Log), nn::math(g, pos, ops::Math::Sqrt),
                    nn::divide(g, h, pos, "div"),
                    nn::broadcast(g, nn::math(g, nn::reduce_max(g, h, {1}), ops::Math::Exp), {4, 4})});
    if (opset >= 14) h = nn::math(g, h, ops::Math::HardSwish, 0, 0, "hswish");
    g.set_outputs({nn::reduce_sum(g, nn::add_broadcast(g, h, nn::reduce_sum(g, h, {1, 2}), true, "centre"), {1}, false)});
    g.finalize();
    const Graph b = io::load_onnx_bytes(io::save_onnx_bytes(g, opset), "layers");
    const Tensor in = test::randn({3, 4, 6}, 11);
    require_close(b.evaluate(in), g.evaluate(in), 1e-5, 1e-3, "re-imported");
    std::multiset<Kind> ka, kb;
    for (NodeId id = 0; id < g.num_nodes(); ++id)
      if (!g.node(id).is_input) ka.insert(g.node(id).op->kind());
    for (NodeId id = 0; id < b.num_nodes(); ++id)
      if (!b.node(id).is_input) kb.insert(b.node(id).op->kind());
    REQUIRE(ka == kb);
  }
  Graph g;
  g.set_outputs({nn::math(g, nn::input(g, "x", {3}), ops::Math::HardSwish, 0, 0, "hs")});
  g.finalize();
  // Before opset 14 HardSwish is written as x · HardSigmoid(x) (torch's form).
  const Graph b = io::load_onnx_bytes(io::save_onnx_bytes(g, 13), "hard_swish at opset 13");
  const Tensor in({1, 3}, std::vector<float>{-4.0f, 0.7f, 3.5f});
  require_close(b.evaluate(in), g.evaluate(in), 1e-6, 1e-6, "re-imported");
}
