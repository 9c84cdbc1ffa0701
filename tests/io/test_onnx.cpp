// ONNX import and export: PyTorch-exported models (tests/reference/make_onnx.py)
// against PyTorch's outputs and input gradients, kinds of imported nodes,
// gradient checks, export round trips, and malformed files.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "every_op.hpp"
#include "fixture.hpp"
#include "temp_dir.hpp"
#include "testing.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/fusion.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/io/npy.hpp"
#include "trim/io/onnx.hpp"
#include "trim/transforms/transform.hpp"
#include "trim/transforms/wavelet.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::TempDir;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

std::string model_path(const std::string& name) { return std::string(TRIM_FIXTURE_DIR) + "/onnx/" + name + ".onnx"; }

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Reference {
  Tensor x, y, u, dx;
};

Reference reference(const std::string& name) {
  const test::Fixture f("onnx/" + name + ".txt");
  Reference r;
  r.y = f["y"];
  r.u = f["u"];
  if (f.has("x")) {
    r.x = f["x"];
    r.dx = f["dx"];
  } else {  // large inputs travel as .npy
    const std::string base = std::string(TRIM_FIXTURE_DIR) + "/onnx/" + name;
    r.x = io::read_npy(base + "_x.npy");
    r.dx = io::read_npy(base + "_dx.npy");
  }
  return r;
}

/// Forward and input gradient of the imported model against PyTorch, and the
/// gradients of the parameters listed as {fixture name (torch's), graph name}.
void check_against_torch(const Graph& g, const Reference& r, const std::string& name = "",
                         const std::vector<std::pair<std::string, std::string>>& params = {}) {
  Workspace ws;
  forward(g, ws, {r.x});
  const std::vector<Tensor> y = outputs(g, ws);
  REQUIRE(y.size() == 1);
  // Relative error per element, with a floor of 5% of the largest output: an
  // output that cancels to near zero carries the absolute round-off of its terms.
  double top = 0.0;
  for (float v : r.y) top = std::max(top, std::fabs(double(v)));
  require_close(y[0], r.y, 1e-5, std::max(1e-3, 0.05 * top), "output");
  const Gradients grads = backward(g, ws, {r.u}, !params.empty());
  require_close(grads.inputs[0], r.dx, 1e-4, 1e-3, "input gradient");
  if (params.empty()) return;
  const test::Fixture f("onnx/" + name + ".txt");
  for (const auto& [torch_name, graph_name] : params) {
    INFO(torch_name << " as " << graph_name);
    require_close(grads.params[static_cast<size_t>(g.parameter_index(graph_name))], f["grad." + torch_name], 1e-4,
                  1e-3, "parameter gradient");
  }
}

/// Name of parameter `k` of the node called `node`.
std::string param_of(const Graph& g, const std::string& node, size_t k) {
  return g.parameters()[static_cast<size_t>(g.node(g.find_node(node)).params.at(k))].name;
}

/// Input-gradient check by finite differences. Parameters are left to the
/// PyTorch comparison: steps small enough to stay clear of ReLU and
/// max-pool kinks in parameter space drown in float32 round-off.
GradcheckOptions input_gradcheck() {
  GradcheckOptions o;
  o.step = 1e-3;
  o.parameters = false;
  return o;
}

/// Per node type, the kind trim must have given it.
Kind expected_kind(const std::string& type) {
  static const std::map<std::string, Kind> kinds = {
      {"linear", Kind::Linear},          {"conv1d", Kind::Linear},          {"conv2d", Kind::Linear},
      {"batch_norm", Kind::Linear},      {"add_constant", Kind::Linear},    {"mul_constant", Kind::Linear},
      {"avg_pool1d", Kind::Linear},      {"avg_pool2d", Kind::Linear},      {"global_avg_pool", Kind::Linear},
      {"relu", Kind::Elementwise},       {"leaky_relu", Kind::Elementwise}, {"elu", Kind::Elementwise},
      {"sigmoid", Kind::Elementwise},    {"tanh", Kind::Elementwise},       {"softplus", Kind::Elementwise},
      {"clip", Kind::Elementwise},       {"max_pool1d", Kind::Selection},   {"max_pool2d", Kind::Selection},
      {"add", Kind::Sum},                {"softmax", Kind::Opaque},         {"log_softmax", Kind::Opaque},
      {"reshape", Kind::Structural},     {"flatten", Kind::Structural},     {"transpose", Kind::Structural},
      {"concat", Kind::Structural},      {"slice", Kind::Structural},       {"broadcast", Kind::Structural},
      {"mul", Kind::Product},            {"matmul", Kind::Product},         {"reduce_sum", Kind::Linear},
      {"reduce_mean", Kind::Linear},     {"reduce_max", Kind::Selection},   {"exp", Kind::Elementwise},
      {"log", Kind::Elementwise},        {"reciprocal", Kind::Elementwise}, {"pow", Kind::Elementwise},
  };
  auto it = kinds.find(type);
  if (it == kinds.end()) FAIL("unexpected node type " << type);
  return it->second;
}

std::multiset<Kind> node_kinds(const Graph& g) {
  std::multiset<Kind> k;
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).is_input) k.insert(g.node(id).op->kind());
  return k;
}

std::multiset<std::string> node_types(const Graph& g) {
  std::multiset<std::string> t;
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).is_input) t.insert(g.node(id).op->type());
  return t;
}

/// Every node's declared kind matches its type; `check_kind` verifies the
/// first node of each type numerically (all of them when `every` is set).
void check_kinds(const Graph& g, const Tensor& x, bool every, const std::set<std::string>& skip = {}) {
  std::set<std::string> seen = skip;
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.is_input) continue;
    const std::string type = n.op->type();
    INFO(g.describe(id));
    if (type == "pad") {
      const bool zero = dynamic_cast<const ops::Pad&>(*n.op).value() == 0.0f;
      REQUIRE(n.op->kind() == (zero ? Kind::Structural : Kind::Linear));
    } else {
      REQUIRE(n.op->kind() == expected_kind(type));
    }
    if (every || seen.insert(type).second) require_ok(check_kind(g, id, {x}));
  }
}

/// Outputs of two graphs on the same input, bit for bit.
void require_identical(const Graph& a, const Graph& b, const Tensor& x) {
  const Tensor ya = a.evaluate(x), yb = b.evaluate(x);
  REQUIRE(ya.shape() == yb.shape());
  REQUIRE(std::memcmp(ya.data(), yb.data(), static_cast<size_t>(ya.numel()) * sizeof(float)) == 0);
}

std::set<std::string> param_names(const Graph& g) {
  std::set<std::string> s;
  for (const Parameter& p : g.parameters()) s.insert(p.name);
  return s;
}

/// When TRIM_TEST_ONNX_OUT names a directory, exported models are also kept
/// there (for checking them with other tools by hand).
void keep(const Graph& g, const std::string& name, int opset) {
  if (const char* dir = std::getenv("TRIM_TEST_ONNX_OUT"))
    io::save_onnx(g, std::string(dir) + "/" + name + "_opset" + std::to_string(opset) + ".onnx", opset);
}

}  // namespace

// ---- PyTorch models -----------------------------------------------------------------------------

TEST_CASE("onnx: MLP from torch matches outputs and input gradients", "[io][onnx]") {
  Graph g = io::load_onnx(model_path("mlp"));
  const Reference r = reference("mlp");
  REQUIRE(g.finalized());
  REQUIRE(g.shape(g.inputs()[0]) == Shape({Shape::free, 4, 5}));
  check_against_torch(g, r, "mlp",
                      {{"fc1.weight", "fc1.weight"}, {"fc1.bias", "fc1.bias"}, {"fc2.bias", "fc2.bias"},
                       {"fc3.weight", "fc3.weight"}, {"fc2.weight", param_of(g, "/fc2/MatMul", 0)}});
  // x.view(x.size(0), -1) became one reshape; (x - mean) / 1.5 constant arithmetic;
  // Linear on rank 3 (MatMul + Add) one biased dense layer.
  const auto types = node_types(g);
  REQUIRE(types.count("reshape") == 3);  // the view, unsqueeze and squeeze
  REQUIRE(types.count("add_constant") == 1);
  REQUIRE(types.count("mul_constant") == 2);
  REQUIRE(types.count("linear") == 3);
  REQUIRE(g.parameter("fc1.weight").value.shape() == Shape({24, 20}));
  REQUIRE(g.parameter("fc1.weight").trainable);
  REQUIRE(g.parameter("fc2.bias").trainable);
  check_kinds(g, r.x, true);
  require_ok(check_gradients(g, {r.x}, input_gradcheck()));
}

TEST_CASE("onnx: LeNet (opset 11) matches outputs and input gradients", "[io][onnx]") {
  Graph g = io::load_onnx(model_path("lenet"));
  const Reference r = reference("lenet");
  check_against_torch(g, r, "lenet",
                      {{"conv1.weight", "conv1.weight"}, {"conv1.bias", "conv1.bias"},
                       {"conv2.bias", "conv2.bias"}, {"fc2.weight", "fc2.weight"}});
  const auto types = node_types(g);
  REQUIRE(types.count("conv2d") == 2);
  REQUIRE(types.count("clip") == 1);
  REQUIRE(types.count("max_pool2d") == 1);
  REQUIRE(types.count("log_softmax") == 1);
  check_kinds(g, r.x, true);
  require_ok(check_gradients(g, {r.x}, input_gradcheck()));
}

TEST_CASE("onnx: CNN with batch-norm and a residual block matches torch", "[io][onnx]") {
  Graph g = io::load_onnx(model_path("bnres"));
  const Reference r = reference("bnres");
  check_against_torch(g, r);
  const auto types = node_types(g);
  REQUIRE(types.count("batch_norm") == 1);  // the exporter fused the others into their convs
  REQUIRE(types.count("add") == 2);         // residual sum, and data - data
  REQUIRE(types.count("pad") == 1);
  REQUIRE(types.count("slice") == 4);  // two axes each of h[:, :, 1:, :-1] and r[:, :, :7, :6]
  REQUIRE(types.count("transpose") == 1);
  REQUIRE(types.count("concat") == 1);
  REQUIRE(g.parameter("post_bn.running_mean").trainable == false);
  REQUIRE(g.parameter("post_bn.weight").trainable);
  check_kinds(g, r.x, false);
  require_ok(check_gradients(g, {r.x}, input_gradcheck()));
}

TEST_CASE("onnx: 1-D audio CNN (opset 17) matches torch", "[io][onnx]") {
  Graph g = io::load_onnx(model_path("audio1d"));
  const Reference r = reference("audio1d");
  check_against_torch(g, r);
  const auto types = node_types(g);
  REQUIRE(types.count("conv1d") == 3);
  REQUIRE(types.count("max_pool1d") == 1);
  REQUIRE(types.count("avg_pool1d") == 1);
  // The softmax over channels inside the network is built from kinds (exp, sums, a product).
  REQUIRE(types.count("softmax") == 0);
  REQUIRE(types.count("reduce_max") == 1);
  REQUIRE(types.count("mul") == 1);
  check_kinds(g, r.x, false);
  require_ok(check_gradients(g, {r.x}, input_gradcheck()));
}

TEST_CASE("onnx: spatial means (ReduceMean) become global average pools", "[io][onnx]") {
  Graph g = io::load_onnx(model_path("meanpool"));
  const Reference r = reference("meanpool");
  check_against_torch(g, r);
  REQUIRE(node_types(g).count("global_avg_pool") == 2);
  check_kinds(g, r.x, true);
  require_ok(check_gradients(g, {r.x}, input_gradcheck()));
}

TEST_CASE("onnx: Conv2d with per-axis strides, pads, dilations and groups (opset 15) matches torch", "[io][onnx]") {
  Graph g = io::load_onnx(model_path("convopts"));
  const Reference r = reference("convopts");
  check_against_torch(g, r, "convopts", {{"conv1.weight", "conv1.weight"}, {"conv1.bias", "conv1.bias"}});
  const auto types = node_types(g);
  REQUIRE(types.count("conv2d") == 2);
  REQUIRE(types.count("avg_pool2d") == 1);
  REQUIRE(types.count("max_pool2d") == 1);
  REQUIRE(g.parameter("conv1.weight").value.shape() == Shape({6, 2, 3, 2}));
  check_kinds(g, r.x, true);
  require_ok(check_gradients(g, {r.x}, input_gradcheck()));
}

TEST_CASE("onnx: ResNet-18 (1x64x64, 3 outputs) matches torch", "[io][onnx][resnet]") {
  Graph g = io::load_onnx(model_path("resnet18"));
  const Reference r = reference("resnet18");
  check_against_torch(g, r);
  const auto types = node_types(g);
  REQUIRE(types.count("conv2d") == 20);
  REQUIRE(types.count("batch_norm") == 20);
  REQUIRE(types.count("add") == 8);
  // PyTorch state-dict names survive.
  for (const char* name : {"conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                           "layer4.1.bn2.bias", "fc.weight", "fc.bias"})
    REQUIRE_NOTHROW(g.parameter(name));
  REQUIRE(g.parameter("fc.weight").value.shape() == Shape({3, 64}));
  REQUIRE_FALSE(g.parameter("layer3.1.bn1.running_mean").trainable);
  // A few kinds, checked numerically.
  for (const char* n : {"/conv1/Conv", "/bn1/BatchNormalization", "/maxpool/MaxPool", "/layer1/layer1.0/Add"}) {
    INFO(n);
    const NodeId id = g.find_node(n);
    require_ok(check_kind(g, id, {r.x}));
  }
  // The batch stays free: one example alone gives the same output.
  Tensor x0({1, 1, 64, 64});
  std::copy(r.x.data(), r.x.data() + 4096, x0.data());
  const Tensor y0 = g.evaluate(x0);
  for (int k = 0; k < 3; ++k) REQUIRE(y0[k] == Approx(r.y[k]).epsilon(1e-5));
}

TEST_CASE("onnx: DenseNet (torchvision's structure) matches torch, its concat → batch norm → ReLU fused",
          "[io][onnx][densenet]") {
  const Graph g = io::load_onnx(model_path("densenet"));
  const Reference r = reference("densenet");
  check_against_torch(g, r);  // node by node (Keep::all)
  // Every dense layer (the first of a block concatenates one input) and each
  // block's output normalise a concatenation.
  std::vector<char> kept(static_cast<size_t>(g.num_nodes()), 0);
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    kept[static_cast<size_t>(id)] = !g.node(id).is_input && g.node(id).op->type() == "relu";
  int concats = 0;
  for (const FusedRelu& f : fused_relus(g, kept)) concats += f.concat >= 0;
  REQUIRE(node_types(g).count("concat") == 6);
  REQUIRE(concats == 6);
  // The forward for input gradients reads the concatenations' inputs in place.
  Workspace ws;
  forward(g, ws, {r.x}, Keep::input_gradients);
  double top = 0.0;
  for (float v : r.y) top = std::max(top, std::fabs(double(v)));
  require_close(outputs(g, ws)[0], r.y, 1e-5, std::max(1e-3, 0.05 * top), "output");
  require_close(backward(g, ws, {r.u}).inputs[0], r.dx, 1e-4, 1e-3, "input gradient");
}

TEST_CASE("onnx: hand-made opset-12 model covers attribute forms torch does not emit", "[io][onnx]") {
  Graph g = io::load_onnx(model_path("handmade"));
  const Reference r = reference("handmade");
  check_against_torch(g, r);
  check_kinds(g, r.x, true);
  GradcheckOptions o;  // no max-pool, few kinks: parameters too
  o.step = 1e-4;
  require_ok(check_gradients(g, {r.x}, o));
  // Gemm with alpha, beta and transB = 0 is one dense layer with a folded weight.
  REQUIRE(g.node(g.find_node("gemm")).op->type() == "linear");
  REQUIRE(g.parameter("gemm.B").value.shape() == Shape({5, 12}));
}

TEST_CASE("onnx: attribution methods explain an imported ResNet-18, in pixels and in wavelet space",
          "[io][onnx][resnet][attribution]") {
  // The point of importing: the methods dispatch on node kinds, so they must
  // run on an imported graph as on a hand-built one, with their identities.
  const Graph g = io::load_onnx(model_path("resnet18"));
  const Reference r = reference("resnet18");
  const Tensor y = g.evaluate(r.x);
  const Tensor y0 = g.evaluate(Tensor(r.x.shape()));
  double scale = 1e-3;
  for (int64_t i = 0; i < y.numel(); ++i) scale = std::max(scale, double(std::fabs(y[i] - y0[i])));

  // Conv, batch-norm, ReLU, max-pool, residual adds, average pool and Gemm are
  // piecewise linear: DeepLIFT's attributions sum to F(x) − F(0).
  const Attribution dl = deeplift(g, r.x);
  REQUIRE(dl.delta.shape() == Shape({3, 2}));
  for (float d : dl.delta) REQUIRE(std::fabs(d) <= 1e-5 * scale);

  // In db4 wavelet space: integrated gradients nearly complete, CD exact.
  const TrimModel tm(g, make_transform("dwt2:db4:3", {1, 64, 64}));
  const Tensor s = tm.coefficients(r.x);
  require_close(tm.forward(s), y, 1e-4, 1e-2, "model on inverse(T(x))");
  IntegratedGradientsOptions ig;
  ig.n_steps = 64;
  const Attribution a = integrated_gradients(tm.graph(), s, ig);
  for (float d : a.delta) REQUIRE(std::fabs(d) <= 0.01 * scale);  // ReLU kinks: ~0.4 % seen with 64 steps
  const Grouping bands = wavelet_subbands(tm.transform());
  const CdResult cd = contextual_decomposition(tm.graph(), s, bands);
  REQUIRE(cd.rel.shape() == Shape({3, 2, bands.size()}));
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t b = 0; b < bands.size(); ++b) {
        const int64_t i = (t * 2 + n) * bands.size() + b;
        REQUIRE(std::fabs(double(cd.rel[i]) + cd.irrel[i] - y[n * 3 + t]) <= 1e-4 * scale);
      }
  // No coefficient relevant: rel is zero. All relevant: rel is the output up
  // to the bias split of acd's Linear rule, which rounding noise in
  // irrel = total − rel sways where a pre-activation is near zero (~0.1 %).
  const Shape coef = tm.transform().coefficient_shape();
  const CdResult ends =
      contextual_decomposition(tm.graph(), s, std::vector<Tensor>{Tensor(coef, 0.0f), Tensor(coef, 1.0f)});
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t n = 0; n < 2; ++n) {
      REQUIRE(std::fabs(ends.rel[(t * 2 + n) * 2]) <= 1e-6 * scale);
      REQUIRE(std::fabs(ends.rel[(t * 2 + n) * 2 + 1] - y[n * 3 + t]) <= 1e-2 * scale);
    }
}

// ---- export ------------------------------------------------------------------------------------

TEST_CASE("onnx: load -> save -> load reproduces outputs bit for bit", "[io][onnx][export]") {
  for (const char* name : {"mlp", "lenet", "bnres", "audio1d", "meanpool", "convopts", "resnet18", "handmade"}) {
    INFO(name);
    const Graph a = io::load_onnx(model_path(name));
    const Reference r = reference(name);
    for (int opset = io::onnx_min_opset; opset <= io::onnx_max_opset; ++opset) {  // every opset read and written
      INFO("opset " << opset);
      const Graph b = io::load_onnx_bytes(io::save_onnx_bytes(a, opset), std::string(name) + " re-exported");
      require_identical(a, b, r.x);
      REQUIRE(param_names(a) == param_names(b));
      if (opset >= 13) REQUIRE(node_kinds(a) == node_kinds(b));  // before, inner-axis softmax adds transposes
      keep(a, name, opset);
    }
  }
}

TEST_CASE("onnx: every op the library builds is written and read back with the same outputs", "[io][onnx][export]") {
  // every_op() is the graph the executor's tests cover every op with: a new
  // op added there must export (or this test names it).
  const Graph a = test::every_op();
  const Tensor x = randn({3, 2, 8, 8}, 41);
  for (int opset : {13, io::onnx_max_opset}) {
    INFO("opset " << opset);
    const Graph b = io::load_onnx_bytes(io::save_onnx_bytes(a, opset), "every_op re-exported");
    const std::vector<Tensor> ya = a.evaluate(std::vector<Tensor>{x}), yb = b.evaluate(std::vector<Tensor>{x});
    REQUIRE(ya.size() == yb.size());
    for (size_t k = 0; k < ya.size(); ++k) require_close(yb[k], ya[k], 1e-5);
  }
}

namespace {

/// A model built with the nn:: builders that uses every exportable op.
Graph build_cnn(uint64_t seed) {
  Graph g(seed);
  const NodeId x = nn::input(g, "image", {2, 10, 10});
  NodeId h = nn::conv2d(g, x, 6, {3, 3}, "conv1", nn::Conv2dOptions().padding(1));
  h = nn::batch_norm(g, h, "bn1");
  h = nn::relu(g, h, "relu1");
  const NodeId skip = h;
  h = nn::conv2d(g, h, 6, {3, 3}, "conv2", nn::Conv2dOptions{{1, 1}, {1, 0, 1, 2}, {1, 1}, 2, false});
  h = nn::conv2d(g, h, 6, {2, 2}, "conv3", nn::Conv2dOptions{{1, 1}, {0, 1, 1, 1}, {1, 2}, 1, true});
  h = nn::add(g, {h, skip, skip}, "sum");
  h = nn::elu(g, h, 0.7f, "elu");
  h = nn::pad(g, h, {{0, 0}, {1, 0}, {0, 2}}, 0.5f, "pad");  // [*,6,11,12]
  h = nn::max_pool2d(g, h, {2, 2}, nn::Pool2dOptions().strides(2), "pool1");  // [*,6,5,6]
  h = nn::slice(g, h, 3, 1, 6, 2, "slice");  // [*,6,5,3]
  h = nn::clip(g, h, -0.5f, 1.5f, "clip");
  h = nn::transpose(g, h, {0, 1, 3, 2}, "transpose");  // [*,6,3,5]
  h = nn::avg_pool2d(g, h, {2, 2}, nn::Pool2dOptions{{1, 1}, {0, 0, 1, 1}, false, true}, "pool2");  // [*,6,3,5]
  const NodeId a = nn::add_constant(g, h, randn({6, 1, 1}, seed + 1), "shift");
  const NodeId b = nn::mul_constant(g, h, randn({1, 3, 5}, seed + 2), "scale");
  h = nn::concat(g, {a, b}, 1, "cat");  // [*,12,3,5]
  const NodeId gp = nn::global_avg_pool(g, h, "gap");  // [*,12,1,1]
  NodeId f = nn::flatten(g, gp, 1, "flat");                         // [*,12]
  NodeId t = nn::flatten(g, h, 2, "flat2");                          // [*,12,15]
  t = nn::linear(g, t, 4, "proj");                                   // [*,12,4] (MatMul + Add)
  t = nn::tanh(g, t, "tanh");
  t = nn::reshape(g, t, {-1}, "reshape");                            // [*,48]
  t = nn::linear(g, t, 12, "fc_t", false);
  f = nn::add(g, f, t, "join");
  f = nn::leaky_relu(g, f, 0.2f, "lrelu");
  f = nn::linear(g, f, 8, "fc1");
  f = nn::softplus(g, f, 1.0f, 20.0f, "softplus");
  f = nn::sigmoid(g, f, "sigmoid");
  f = nn::linear(g, f, 3, "fc2");
  const NodeId p = nn::softmax(g, f, 1, "probs");
  const NodeId lp = nn::log_softmax(g, f, -1, "logprobs");
  g.set_outputs({p, lp});
  g.finalize();
  // Non-trivial batch-norm statistics.
  g.set_parameter("bn1.running_mean", randn({6}, seed + 3, 0.3f));
  Tensor var = randn({6}, seed + 4, 0.3f);
  for (float& v : var) v = 0.5f + v * v;
  g.set_parameter("bn1.running_var", var);
  return g;
}

Graph build_audio(uint64_t seed) {
  Graph g(seed);
  const NodeId x = nn::input(g, "wave", {2, 40});
  nn::Conv1dOptions c;
  c.stride = 2;
  c.dilation = 2;
  c.pad_left = 3;
  c.pad_right = 1;
  NodeId h = nn::conv1d(g, x, 4, 5, "conv", c);  // [*,4,19]
  h = nn::max_pool1d(g, h, 3, nn::Pool1dOptions{2, 1, 1, true, true}, "mp");
  h = nn::avg_pool1d(g, h, 2, nn::Pool1dOptions{1, 0, 1, false, false}, "ap");
  h = nn::batch_norm(g, h, "bn");
  h = nn::softmax(g, h, 1, "softmax_channels");  // an inner axis: opset 11 needs a transpose
  h = nn::flatten(g, h, 1, "flat");
  h = nn::linear(g, h, 3, "fc");
  g.set_outputs({h});
  g.finalize();
  return g;
}

/// A few plain SGD steps on sum(y · u), so saved weights differ from the initial ones.
void train_a_little(Graph& g, const std::vector<Tensor>& x) {
  for (int step = 0; step < 3; ++step) {
    Workspace ws;
    forward(g, ws, x);
    std::vector<Tensor> cot;
    for (size_t k = 0; k < g.outputs().size(); ++k)
      cot.push_back(randn(ws.value(g.outputs()[k]).shape(), 100 + step + k));
    const Gradients gr = backward(g, ws, cot, true, false);
    for (size_t p = 0; p < g.parameters().size(); ++p)
      if (g.parameters()[p].trainable && !gr.params[p].empty())
        g.parameters()[p].value.as_vector() -= 0.05f * gr.params[p].as_vector();
  }
}

}  // namespace

TEST_CASE("onnx: a model built and trained in C++ is saved and reloaded exactly", "[io][onnx][export]") {
  TempDir dir;
  Graph cnn = build_cnn(7);
  const Tensor xi = randn({3, 2, 10, 10}, 8);
  train_a_little(cnn, {xi});
  Graph audio = build_audio(9);
  const Tensor xa = randn({3, 2, 40}, 10);
  train_a_little(audio, {xa});
  for (int opset : {11, 13, 17}) {
    INFO("opset " << opset);
    const std::string p1 = dir.file("cnn.onnx"), p2 = dir.file("audio.onnx");
    io::save_onnx(cnn, p1, opset);
    io::save_onnx(audio, p2, opset);
    keep(cnn, "cnn", opset);
    keep(audio, "audio", opset);
    const Graph c2 = io::load_onnx(p1), a2 = io::load_onnx(p2);
    // Same parameters, same values.
    REQUIRE(param_names(c2) == param_names(cnn));
    for (const Parameter& p : cnn.parameters()) {
      INFO(p.name);
      const Tensor& q = c2.parameter(p.name).value;
      REQUIRE(q.shape() == p.value.shape());
      REQUIRE(std::memcmp(q.data(), p.value.data(), static_cast<size_t>(q.numel()) * 4) == 0);
      REQUIRE(c2.parameter(p.name).trainable == p.trainable);
    }
    const std::vector<Tensor> y1 = cnn.evaluate(std::vector<Tensor>{xi}), y2 = c2.evaluate(std::vector<Tensor>{xi});
    REQUIRE(y1.size() == 2);
    REQUIRE(y2.size() == 2);
    for (size_t k = 0; k < 2; ++k)
      REQUIRE(std::memcmp(y1[k].data(), y2[k].data(), static_cast<size_t>(y1[k].numel()) * 4) == 0);
    REQUIRE(c2.find_node("conv1") >= 0);
    REQUIRE(c2.shape(c2.find_node("image")) == Shape({Shape::free, 2, 10, 10}));
    // The softmax over channels inside the network comes back built from kinds
    // (exp, sums, a product: CD and DeepLIFT pass it), equal up to rounding.
    require_close(a2.evaluate(xa), audio.evaluate(xa), 1e-6);
    // The reloaded graph's kinds hold. (Not clip's: check_kind's finite
    // differences only avoid kinks at 0, and clip's inputs here come close
    // to its bounds; the clip test covers it with controlled inputs.)
    if (opset == 17) check_kinds(c2, xi, false, {"clip"});
  }
}

TEST_CASE("onnx: export approximations and refusals", "[io][onnx][export]") {
  // softplus with beta != 1 becomes Mul -> Softplus -> Mul (equal up to rounding).
  Graph g;
  const NodeId x = nn::input(g, "x", {5});
  const NodeId y = nn::softplus(g, x, 2.0f, 20.0f, "sp");
  g.set_outputs({y});
  g.finalize();
  const Graph g2 = io::load_onnx_bytes(io::save_onnx_bytes(g), "softplus");
  const Tensor in = randn({4, 5}, 3);
  require_close(g2.evaluate(in), g.evaluate(in), 1e-6);

  // gelu (no ONNX operator before opset 20) becomes the erf form torch writes.
  Graph ge;
  const NodeId xe = nn::input(ge, "x", {5});
  ge.set_outputs({nn::gelu(ge, xe, "act")});
  ge.finalize();
  const Graph ge2 = io::load_onnx_bytes(io::save_onnx_bytes(ge, 13), "gelu");
  require_close(ge2.evaluate(in), ge.evaluate(in), 1e-6);
  REQUIRE_THROWS_WITH(io::save_onnx_bytes(g, 18), Catch::Contains("opset 18"));
  TempDir dir;
  REQUIRE_THROWS_WITH(io::save_onnx(g, dir.file("no/such/dir.onnx")), Catch::Contains("no/such/dir.onnx"));
}

// ---- errors --------------------------------------------------------------------------------------

TEST_CASE("onnx: errors name the file, node and operator", "[io][onnx][errors]") {
  const std::string p = model_path("errors_unsupported");
  REQUIRE_THROWS_AS(io::load_onnx(p), IoError);
  REQUIRE_THROWS_WITH(io::load_onnx(p), Catch::Contains("errors_unsupported.onnx") && Catch::Contains("node 'cosine' (Cos)") &&
                                            Catch::Contains("unsupported operator"));
  REQUIRE_THROWS_AS(io::load_onnx(model_path("errors_missing_init")), IoError);
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_missing_init")),
                      Catch::Contains("node 'fc' (Gemm)") && Catch::Contains("'fc.weight' is not defined"));
  REQUIRE_THROWS_AS(io::load_onnx(model_path("errors_bad_attr")), ValueError);
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_bad_attr")),
                      Catch::Contains("node 'act' (LeakyRelu)") && Catch::Contains("attribute 'alpha' has type STRING"));
  REQUIRE_THROWS_AS(io::load_onnx(model_path("errors_fixed_batch")), ShapeError);
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_fixed_batch")),
                      Catch::Contains("errors_fixed_batch.onnx") && Catch::Contains("node 'reshape' (Reshape)") &&
                          Catch::Contains("batch"));
  // The product of two data inputs imports since Kind::Product (tests/io/test_reach.cpp).
  REQUIRE(io::load_onnx(model_path("errors_data_product")).evaluate(Tensor({2, 4}, -1.5f))[0] == 2.25f);
  REQUIRE_THROWS_AS(io::load_onnx(model_path("errors_short_init")), IoError);
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_short_init")),
                      Catch::Contains("'fc.weight'") && Catch::Contains("20 bytes of raw data, expected 48"));
  REQUIRE_THROWS_AS(io::load_onnx(model_path("errors_conv_shape")), ShapeError);
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_conv_shape")),
                      Catch::Contains("node 'conv' (Conv)") && Catch::Contains("conv2d 'conv'"));
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_old_opset")), Catch::Contains("opset 9 is not supported"));
  io::OnnxImportOptions any;
  any.allow_any_opset = true;
  REQUIRE(io::load_onnx(model_path("errors_old_opset"), any).evaluate(Tensor({2, 4}, -1.0f))[0] == 0.0f);
  REQUIRE_THROWS_WITH(io::load_onnx("/nonexistent/model.onnx"),
                      Catch::Contains("/nonexistent/model.onnx") && Catch::Contains("cannot open"));
}

TEST_CASE("onnx: integer arithmetic at import that would overflow 64 bits is refused or done exactly", "[io][onnx][errors]") {
  // Each was undefined behaviour (signed overflow) before it was checked; the
  // sanitizer suite runs this test too.
  // Range(-(2^63 - 1), 2^63 - 1, 0.7·2^63): its elements fit in int64 though
  // k·delta alone does not for k = 2.
  const Tensor r = io::load_onnx(model_path("errors_range_overflow")).evaluate(Tensor({1, 3}));
  const double start = -9223372036854775807.0, delta = 6456360425798343065.0;
  for (int k = 0; k < 3; ++k) REQUIRE(r[k] == static_cast<float>(start + k * delta));
  REQUIRE_THROWS_AS(io::load_onnx(model_path("errors_concat_overflow")), ShapeError);
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_concat_overflow")),
                      Catch::Contains("node 'join' (Concat)") && Catch::Contains("too large"));
  REQUIRE_THROWS_AS(io::load_onnx(model_path("errors_transpose_overflow")), ShapeError);
  REQUIRE_THROWS_WITH(io::load_onnx(model_path("errors_transpose_overflow")),
                      Catch::Contains("node 'flip' (Transpose)") && Catch::Contains("too large"));
}

TEST_CASE("onnx: truncated files and random bytes raise errors, never crash", "[io][onnx][errors]") {
  const std::string good = read_bytes(model_path("lenet"));
  REQUIRE(good.size() > 1000);
  int parsed_ok = 0;
  for (size_t cut : {size_t{0}, size_t{1}, size_t{7}, size_t{100}, good.size() / 3, good.size() / 2, good.size() - 300,
                     good.size() - 1}) {
    INFO("cut at " << cut);
    try {
      (void)io::load_onnx_bytes(good.substr(0, cut), "lenet-truncated.onnx");
      ++parsed_ok;
    } catch (const Error& e) {
      REQUIRE(std::string(e.what()).find("lenet-truncated.onnx") != std::string::npos);
    }
  }
  REQUIRE(parsed_ok == 0);
  REQUIRE_THROWS_WITH(io::load_onnx_bytes(good.substr(0, good.size() / 2), "half.onnx"),
                      Catch::Contains("malformed or truncated"));
  Rng rng(17);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(1 + rng.below(2048), '\0');
    for (char& c : bytes) c = static_cast<char>(rng.below(256));
    REQUIRE_THROWS_AS(io::load_onnx_bytes(bytes, "random.onnx"), Error);
  }
  // Corrupted bytes inside a valid model: an error or a graph, never a crash.
  const std::string small = read_bytes(model_path("mlp"));
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = small;
    for (int k = 0; k < 1 + trial % 3; ++k) bytes[rng.below(bytes.size())] = static_cast<char>(rng.below(256));
    try {
      (void)io::load_onnx_bytes(bytes, "flipped.onnx");
    } catch (const Error&) {
    }
  }
}

TEST_CASE("onnx: input shape overrides replace the declared per-example shape", "[io][onnx][errors]") {
  io::OnnxImportOptions o;
  o.input_shapes["x"] = Shape{4, 5};
  const Graph g = io::load_onnx(model_path("mlp"), o);
  REQUIRE(g.shape(g.inputs()[0]) == Shape({Shape::free, 4, 5}));
  o.input_shapes["x"] = Shape{5, 5};
  REQUIRE_THROWS_AS(io::load_onnx(model_path("mlp"), o), ShapeError);
}

// ---- the clip op ----------------------------------------------------------------------------------

TEST_CASE("clip clamps, declares its kind and has the right gradient", "[ops][clip]") {
  const float inf = std::numeric_limits<float>::infinity();
  for (auto [lo, hi] : {std::pair<float, float>{-0.5f, 0.7f}, {0.0f, inf}, {-inf, 0.3f}}) {
    Graph g;
    const NodeId x = nn::input(g, "x", {3, 4});
    const NodeId y = nn::clip(g, x, lo, hi, "c");
    g.set_outputs({y});
    g.finalize();
    Tensor in = randn({2, 3, 4}, 4);
    for (float& v : in)  // finite differences must not straddle a bound
      if (std::fabs(v - lo) < 0.05f || std::fabs(v - hi) < 0.05f) v += 0.1f;
    const Tensor out = g.evaluate(in);
    for (int64_t k = 0; k < in.numel(); ++k) REQUIRE(out[k] == std::min(std::max(in[k], lo), hi));
    require_ok(check_gradients(g, {in}));
    require_ok(check_kind(g, y, {in}));
    REQUIRE(g.node(y).op->kind() == Kind::Elementwise);
  }
  const ops::Clip c(-1.0f, 1.0f);
  const float xs[] = {-2.0f, -1.0f, 0.5f, 1.0f, 3.0f, std::numeric_limits<float>::quiet_NaN()};
  float ys[6], ds[6];
  c.phi(xs, ys, 6);
  c.dphi(xs, ds, 6);
  REQUIRE(ys[0] == -1.0f);
  REQUIRE(ys[4] == 1.0f);
  REQUIRE(std::isnan(ys[5]));
  REQUIRE(ds[0] == 0.0f);
  REQUIRE(ds[1] == 0.0f);
  REQUIRE(ds[2] == 1.0f);
  REQUIRE(ds[4] == 0.0f);

  // The backward reads the output only: dy·φ'(x) exactly, on the bounds,
  // beyond them, at ±infinity and for NaN, whether it assigns or adds (the
  // input read twice: the second contribution adds into the first).
  for (auto [lo, hi] : {std::pair<float, float>{-1.0f, 1.0f}, {0.0f, 6.0f}, {0.0f, inf}, {2.0f, 2.0f}}) {
    Graph twice;
    const NodeId in = nn::input(twice, "x", {8});
    const NodeId a = nn::clip(twice, in, lo, hi, "a");
    const NodeId b = nn::clip(twice, in, lo, hi, "b");
    twice.set_outputs({a, b});
    twice.finalize();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const Tensor xv({1, 8}, std::vector<float>{-2.0f, lo, 0.5f, hi, 7.0f, -inf, inf, nan});
    const Tensor ua = randn({1, 8}, 5), ub = randn({1, 8}, 6);
    const ops::Clip op(lo, hi);
    float d[8];
    op.dphi(xv.data(), d, 8);
    for (Keep keep : {Keep::all, Keep::input_gradients}) {
      Workspace ws;
      forward(twice, ws, {xv}, keep);
      const Tensor dx = backward(twice, ws, {ua, ub}).inputs[0];
      for (int64_t k = 0; k < 8; ++k) {
        INFO("lo " << lo << " hi " << hi << " x " << xv[k]);
        REQUIRE(dx[k] == (0.0f + ua[k] * d[k]) + ub[k] * d[k]);
      }
    }
  }

  Graph g;
  const NodeId x = nn::input(g, "x", {3});
  REQUIRE_THROWS_AS(nn::clip(g, x, 1.0f, 0.0f, "bad"), ValueError);
  REQUIRE_THROWS_WITH(nn::clip(g, x, std::nanf(""), 0.0f, "nan"), Catch::StartsWith("clip 'nan'"));
}
