// Forward / backward: batches, several inputs and outputs, errors.
#include <cstring>

#include "every_op.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/fusion.hpp"
#include "trim/graph/lifetimes.hpp"
#include "trim/graph/layers.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/pool.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/batch_norm.hpp"
#include "trim/graph/ops/conv.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/graph/ops/recurrent.hpp"
#include "trim/kernels/activation.hpp"
#include "trim/kernels/resize.hpp"
#include "trim/kernels/volume.hpp"

using namespace trim;
using test::every_op;
using test::randn;

namespace {
/// y1 = fc(a) + b, y2 = fc2(y1): two inputs, two outputs, a shared node.
Graph two_headed() {
  Graph g(5);
  const NodeId a = nn::input(g, "a", {3});
  const NodeId b = nn::input(g, "b", {4});
  const NodeId y1 = nn::add(g, nn::linear(g, a, 4, "fc"), b, "y1");
  const NodeId y2 = nn::linear(g, y1, 2, "fc2");
  g.set_outputs({y1, y2});
  g.finalize();
  return g;
}
}  // namespace

TEST_CASE("backward of several outputs matches the hand-derived gradient", "[graph][executor]") {
  Graph g = two_headed();
  const Tensor a = randn({6, 3}, 1), b = randn({6, 4}, 2);
  const Tensor u1 = randn({6, 4}, 3), u2 = randn({6, 2}, 4);
  Workspace ws;
  forward(g, ws, {a, b});
  REQUIRE(ws.batch() == 6);
  const Gradients grads = backward(g, ws, {u1, u2}, true);
  // d/d y1 = u1 + u2·W2 ; d/da = (u1 + u2 W2) W1 ; d/db = u1 + u2 W2.
  const auto W1 = g.parameter("fc.weight").value.as_matrix();
  const auto W2 = g.parameter("fc2.weight").value.as_matrix();
  const MatrixRM dy1 = u1.as_matrix() + u2.as_matrix() * W2;
  REQUIRE((grads.inputs[1].as_matrix() - dy1).cwiseAbs().maxCoeff() < 1e-5f);
  REQUIRE((grads.inputs[0].as_matrix() - dy1 * W1).cwiseAbs().maxCoeff() < 1e-5f);
  // Parameter gradients are summed over the batch.
  const MatrixRM dW1 = dy1.transpose() * a.as_matrix();
  REQUIRE((grads.params[0].as_matrix() - dW1).cwiseAbs().maxCoeff() < 1e-4f);
  test::require_ok(check_gradients(g, {a, b}));
}

TEST_CASE("batch size is free and checked", "[graph][executor]") {
  Graph g = two_headed();
  for (int64_t n : {1, 3, 17}) {
    const std::vector<Tensor> out = g.evaluate({randn({n, 3}, 1), randn({n, 4}, 2)});
    REQUIRE(out[1].shape() == Shape{n, 2});
  }
  REQUIRE_THROWS_WITH(g.evaluate({randn({2, 3}, 1), randn({3, 4}, 2)}),
                      Catch::Contains("input 'b': batch 3 differs"));
  REQUIRE_THROWS_WITH(g.evaluate(std::vector<Tensor>{randn({2, 3}, 1)}), Catch::Contains("1 inputs given, the graph has 2"));
  REQUIRE_THROWS_WITH(g.evaluate({randn({2, 5}, 1), randn({2, 4}, 2)}),
                      "input 'a': shape [2,5], expected [*,3]");
}

TEST_CASE("backward checks its preconditions", "[graph][executor]") {
  Graph g = two_headed();
  Workspace ws;
  REQUIRE_THROWS_WITH(backward(g, ws, {}), Catch::Contains("needs a forward()"));
  forward(g, ws, {randn({2, 3}, 1), randn({2, 4}, 2)});
  REQUIRE_THROWS_WITH(backward(g, ws, {Tensor({2, 4})}), Catch::Contains("1 output cotangents given"));
  REQUIRE_THROWS_WITH(backward(g, ws, {Tensor({2, 4}), Tensor({2, 3})}),
                      Catch::Contains("cotangent of output linear 'fc2' has shape [2,3], expected [2,2]"));
}

TEST_CASE("a workspace is reusable across batch sizes", "[graph][executor]") {
  Graph g = two_headed();
  Workspace ws;
  for (int64_t n : {4, 2, 8}) {
    const Tensor a = randn({n, 3}, n), b = randn({n, 4}, n + 1);
    forward(g, ws, {a, b});
    const Gradients grads = backward(g, ws, {Tensor({n, 4}, 1.0f), Tensor({n, 2}, 1.0f)});
    Workspace fresh;
    forward(g, fresh, {a, b});
    const Gradients expected = backward(g, fresh, {Tensor({n, 4}, 1.0f), Tensor({n, 2}, 1.0f)});
    REQUIRE(grads.inputs[0].to_vector() == expected.inputs[0].to_vector());
  }
}

TEST_CASE("parameter gradients alone skip the input gradients", "[graph][executor]") {
  Graph g = two_headed();
  const Tensor a = randn({3, 3}, 1), b = randn({3, 4}, 2);
  const std::vector<Tensor> u{randn({3, 4}, 3), randn({3, 2}, 4)};
  Workspace ws;
  forward(g, ws, {a, b});
  const Gradients both = backward(g, ws, u, true);
  const Gradients params_only = backward(g, ws, u, true, false);
  REQUIRE(params_only.inputs.empty());
  REQUIRE(ws.grad(g.inputs()[0]).empty());  // the input VJP was not computed
  for (size_t p = 0; p < both.params.size(); ++p)
    REQUIRE(params_only.params[p].to_vector() == both.params[p].to_vector());
}


TEST_CASE("a forward kept for input gradients gives the same input gradients with less held", "[graph][executor]") {
  const Graph g = every_op();
  for (int64_t n : {5, 2, 7}) {
    const Tensor x = randn({n, 2, 8, 8}, static_cast<uint64_t>(n));
    const std::vector<Tensor> u{randn({n, 3}, 20), randn({n, 3}, 21)};
    Workspace all;
    forward(g, all, {x});
    const Gradients expected = backward(g, all, u);
    Workspace lean;  // reused across the batch sizes, as an attribution runner does
    for (int rep = 0; rep < 2; ++rep) {
      forward(g, lean, {x}, Keep::input_gradients);
      for (NodeId o : g.outputs()) REQUIRE(lean.value(o).to_vector() == all.value(o).to_vector());
      const Gradients got = backward(g, lean, u);
      INFO("batch " << n << ", repetition " << rep);
      REQUIRE(got.inputs[0].to_vector() == expected.inputs[0].to_vector());
    }
    int64_t dropped = 0;
    for (NodeId id = 0; id < g.num_nodes(); ++id) dropped += lean.value(id).empty() ? 1 : 0;
    REQUIRE(dropped >= 10);  // most of the graph: conv, batch norm, structural and linear outputs
    REQUIRE_THROWS_WITH(backward(g, lean, u, true), Catch::Contains("Keep::all"));
    // A full forward on the same workspace afterwards keeps everything again.
    forward(g, lean, {x});
    for (NodeId id = 0; id < g.num_nodes(); ++id) REQUIRE(lean.value(id).to_vector() == all.value(id).to_vector());
    REQUIRE(backward(g, lean, u, true).params[0].to_vector() == backward(g, all, u, true).params[0].to_vector());
  }
}

namespace {
/// The op it wraps, except that its backward always adds into zeroed
/// buffers (backward_assigns() false): the executor's behaviour before ops
/// could overwrite the first contribution to a cotangent.
class AddsOnly final : public Op {
 public:
  explicit AddsOnly(std::shared_ptr<const Op> op) : op_(std::move(op)) {}
  Kind kind() const override { return op_->kind(); }
  std::string type() const override { return op_->type(); }
  int arity() const override { return op_->arity(); }
  Shape infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& p, const std::string& where) const override {
    return op_->infer_shape(in, p, where);
  }
  void forward(const OpArgs& a, Tensor& y) const override { op_->forward(a, y); }
  void backward(const OpArgs& a, const Tensor& y, const Tensor& dy, const OpGrads& g) const override {
    REQUIRE(g.assign.empty());
    op_->backward(a, y, dy, g);
  }
  bool backward_reads_inputs(bool p) const override { return op_->backward_reads_inputs(p); }
  bool backward_reads_output() const override { return op_->backward_reads_output(); }

 private:
  std::shared_ptr<const Op> op_;
};

/// Relu, tanh, add (one of them adding a node to itself), max pool,
/// products (same shape and broadcast), convolutions (pointwise, overwritten by the GEMM's store; 3×3, scattered
/// into zeros), batch norm and concatenation feeding each other; `adds_only`
/// wraps those ops in AddsOnly.
Graph overwrite_graph(bool adds_only) {
  Graph g(9);
  const auto add = [&](std::shared_ptr<const Op> op, std::vector<NodeId> in, const std::string& name,
                       std::vector<int> params = {}) {
    if (adds_only) op = std::make_shared<AddsOnly>(op);
    return g.add(op, std::move(in), std::move(params), name);
  };
  const auto param = [&](const std::string& name, Shape shape, Init init) {
    return g.add_parameter(name, Tensor(std::move(shape)), init);
  };
  const NodeId x = nn::input(g, "x", {2, 7, 7});
  const NodeId a = add(std::make_shared<ops::Relu>(), {x}, "a");
  const NodeId c = add(std::make_shared<ops::Tanh>(), {a}, "c");
  const NodeId b = add(std::make_shared<ops::Add>(), {a, a}, "b");  // a's last reader, twice: adds
  const NodeId d = add(std::make_shared<ops::Add>(), {c, b, x}, "d");
  const NodeId r = add(std::make_shared<ops::Relu>(), {d}, "r");
  kernels::PoolWindow w;  // d's last reader, so its backward starts d's cotangent
  w.kernel = {3, 3};
  w.stride = {2, 2};
  w.pads = {1, 1, 1, 1};
  const NodeId e = add(std::make_shared<ops::MaxPool>(2, w), {d}, "pool");
  // a's first reader in the backward: a pointwise convolution; c's a 3×3 one.
  const NodeId pw = add(std::make_shared<ops::Conv2d>(kernels::Conv2dConfig{}, false), {a}, "pointwise",
                        {param("pointwise.w", {3, 2, 1, 1}, Init::fan_in_uniform(2))});
  kernels::Conv2dConfig same;
  same.pads = {1, 1, 1, 1};
  const NodeId k3 = add(std::make_shared<ops::Conv2d>(same, true), {c}, "conv3",
                        {param("conv3.w", {2, 2, 3, 3}, Init::fan_in_uniform(18)), param("conv3.b", {2}, Init::fan_in_uniform(18))});
  // Negative scales turn the relu's zero cotangents into −0 products, which
  // an overwrite must write as +0.
  Tensor scale({3});
  scale[0] = -0.5f, scale[1] = 1.5f, scale[2] = -2.0f;
  const NodeId bn = add(std::make_shared<ops::BatchNorm>(), {pw}, "bn",
                        {g.add_parameter("bn.weight", scale, Init::keep()), param("bn.bias", {3}, Init::fan_in_uniform(1)),
                         param("bn.mean", {3}, Init::fan_in_uniform(1)), param("bn.var", {3}, Init::ones())});
  const NodeId bnr = add(std::make_shared<ops::Relu>(), {bn}, "bn.relu");
  const NodeId cat = add(std::make_shared<ops::Concat>(1), {bnr, k3, bnr}, "cat");  // bn.relu twice: adds
  // Products: a squeeze-excitation gate, whose first backward starts both
  // the pooled map's cotangent (written) and the gate's (summed from zero),
  // and a product of two same-shape values it starts both cotangents of.
  const NodeId gap = add(std::make_shared<ops::GlobalAvgPool>(), {e}, "gap");
  const NodeId gate = add(std::make_shared<ops::Multiply>(), {e, gap}, "gate");
  const NodeId squash = add(std::make_shared<ops::Tanh>(), {gate}, "squash");
  const NodeId prod = add(std::make_shared<ops::Multiply>(), {squash, gate}, "prod");
  g.set_outputs({nn::linear(g, nn::flatten(g, prod), 3, "fc"), nn::linear(g, nn::flatten(g, r), 2, "fc2"),
                 nn::linear(g, nn::flatten(g, cat), 2, "fc3")});
  g.finalize();
  return g;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

/// body(n) at 1 and 2 threads, for batches of 3 and 1 rows.
template <class Body>
void at_threads_and_batches(const Body& body) {
  test::RestoreThreads restore;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int64_t n : {3, 1}) {
      INFO(threads << " threads, batch " << n);
      body(n);
    }
  }
}
}  // namespace

TEST_CASE("the first contribution to a cotangent overwrites its buffer: same bits as adding into zeros",
          "[graph][executor]") {
  const Graph fast = overwrite_graph(false);
  const Graph reference = overwrite_graph(true);
  Workspace ws;  // reused: its buffers hold the previous pass's values
  for (int64_t n : {3, 1, 3}) {
    Tensor x = randn({n, 2, 7, 7}, static_cast<uint64_t>(n));
    x[0] = 0.0f;  // relu' = 0 against a negative cotangent: −0 · ... must come out +0 as 0 + (−0) does
    const std::vector<Tensor> u{randn({n, 3}, 30 + static_cast<uint64_t>(n)), randn({n, 2}, 40), randn({n, 2}, 50)};
    for (Keep keep : {Keep::all, Keep::input_gradients}) {
      forward(fast, ws, {x}, keep);
      const Gradients got = backward(fast, ws, u);
      Workspace fresh;
      forward(reference, fresh, {x}, keep);
      const Gradients expected = backward(reference, fresh, u);
      INFO("batch " << n);
      REQUIRE(same_bits(got.inputs[0], expected.inputs[0]));
    }
  }
}

namespace {

/// Residual blocks as ONNX exports them with batch norm folded: conv → ReLU;
/// add(ReLU output, conv) → ReLU (the residual read first); add(conv, later
/// conv) → ReLU (a projection computed after the block's last conv); a
/// bottleneck, add(conv, block input) → ReLU, whose input its first conv
/// reads too; add(conv, ReLU of a conv computed after it), whose ReLU must
/// not mask dy in place before the other conv has read it; and a conv read
/// twice, whose ReLU cannot take over its output.
struct ResidualGraph {
  Graph g{5};
  NodeId stem, stem_relu, c1, add1, relu1, c2, proj, add2, relu2, c4, relu4, c5, add3, relu5, c6, c7, relu7, add4, c3,
      relu3, both;
  /// `adds_only`: every op wrapped in AddsOnly (no cotangent handed on).
  explicit ResidualGraph(bool adds_only = false) {
    kernels::Conv2dConfig same;
    same.pads = {1, 1, 1, 1};
    int k = 0;
    const auto wrap = [&](std::shared_ptr<const Op> op) -> std::shared_ptr<const Op> {
      return adds_only ? std::make_shared<AddsOnly>(std::move(op)) : op;
    };
    const auto conv = [&](NodeId in, int64_t cin, int64_t cout, int kernel) {
      const std::string name = "conv" + std::to_string(k++);
      const int64_t fan_in = cin * kernel * kernel;
      return g.add(wrap(std::make_shared<ops::Conv2d>(kernel == 3 ? same : kernels::Conv2dConfig{}, true)), {in},
                   {g.add_parameter(name + ".w", Tensor({cout, cin, kernel, kernel}), Init::fan_in_uniform(fan_in)),
                    g.add_parameter(name + ".b", Tensor({cout}), Init::fan_in_uniform(fan_in))},
                   name);
    };
    const auto relu = [&](NodeId in) { return g.add(wrap(std::make_shared<ops::Relu>()), {in}, {}, "relu" + std::to_string(k++)); };
    const auto sum = [&](NodeId a, NodeId b) { return g.add(wrap(std::make_shared<ops::Add>()), {a, b}, {}, "add" + std::to_string(k++)); };
    const NodeId x = nn::input(g, "x", {3, 6, 5});
    stem = conv(x, 3, 8, 3);
    stem_relu = relu(stem);
    c1 = conv(stem_relu, 8, 8, 1);
    add1 = sum(stem_relu, c1);
    relu1 = relu(add1);
    c2 = conv(relu1, 8, 8, 3);
    proj = conv(relu1, 8, 8, 1);
    add2 = sum(c2, proj);
    relu2 = relu(add2);
    c4 = conv(relu2, 8, 8, 1);
    relu4 = relu(c4);
    c5 = conv(relu4, 8, 8, 3);
    add3 = sum(c5, relu2);
    relu5 = relu(add3);
    c6 = conv(relu5, 8, 8, 1);
    c7 = conv(relu5, 8, 8, 3);
    relu7 = relu(c7);
    add4 = sum(c6, relu7);
    c3 = conv(add4, 8, 8, 3);
    relu3 = relu(c3);
    both = sum(relu3, c3);  // c3 read twice
    g.set_outputs({nn::linear(g, nn::flatten(g, both), 3, "fc")});
    g.finalize();
    g.initialize(7);
  }
};

}  // namespace

TEST_CASE("a forward for input gradients computes conv → (add →) ReLU in the convolution", "[graph][executor]") {
  const ResidualGraph r;
  std::vector<char> kept(static_cast<size_t>(r.g.num_nodes()), 0);
  for (NodeId id : {r.stem_relu, r.relu1, r.relu2, r.relu4, r.relu5, r.relu3}) kept[static_cast<size_t>(id)] = 1;
  const std::vector<FusedRelu> fused = fused_relus(r.g, kept);
  const auto at = [&](NodeId id) { return fused[static_cast<size_t>(id)]; };
  CHECK((at(r.stem).relu == r.stem_relu && at(r.stem).add < 0));
  CHECK((at(r.c1).relu == r.relu1 && at(r.c1).add == r.add1 && at(r.c1).residual == r.stem_relu));
  CHECK((at(r.proj).relu == r.relu2 && at(r.proj).add == r.add2 && at(r.proj).residual == r.c2));
  CHECK((at(r.c4).relu == r.relu4 && at(r.c4).add < 0));
  CHECK((at(r.c5).relu == r.relu5 && at(r.c5).add == r.add3 && at(r.c5).residual == r.relu2));
  CHECK(at(r.c2).producer < 0);
  CHECK(at(r.c3).producer < 0);  // read twice
  int count = 0;
  for (const FusedRelu& f : fused) count += f.producer >= 0;
  CHECK(count == 5);
  // A ReLU whose output is not kept has no buffer of its own to be written early.
  kept[static_cast<size_t>(r.relu1)] = 0;
  CHECK(fused_relus(r.g, kept)[static_cast<size_t>(r.c1)].producer < 0);

  // The fused forward (Keep::input_gradients) gives the bits of the op by op
  // one (Keep::all), outputs and input gradients, batch after batch on one
  // workspace.
  const Graph& g = r.g;
  Workspace lean, full;
  for (int64_t n : {3, 1, 4}) {
    const Tensor x = randn({n, 3, 6, 5}, static_cast<uint64_t>(n));
    const std::vector<Tensor> u{randn({n, 3}, 20 + static_cast<uint64_t>(n))};
    forward(g, full, {x}, Keep::all);
    forward(g, lean, {x}, Keep::input_gradients);
    INFO("batch " << n);
    REQUIRE(same_bits(outputs(g, lean)[0], outputs(g, full)[0]));
    REQUIRE(same_bits(backward(g, lean, u).inputs[0], backward(g, full, u).inputs[0]));
  }
}

TEST_CASE("a ReLU's and an add's backward hand their cotangent buffer to their inputs",
          "[graph][executor]") {
  const ResidualGraph r;
  const std::vector<char> needed(static_cast<size_t>(r.g.num_nodes()), 1);
  BufferPlan in_place_plan, plain_plan;
  const std::vector<int> slot = plan_reverse_order(r.g, 4, needed, in_place_plan, true);
  const std::vector<int> plain = plan_reverse_order(r.g, 4, needed, plain_plan);
  const auto at = [&](const std::vector<int>& s, NodeId id) { return s[static_cast<size_t>(id)]; };
  // ReLU → its convolution or add; add → every input read nowhere else.
  CHECK(at(slot, r.stem) == at(slot, r.stem_relu));
  CHECK(at(slot, r.add1) == at(slot, r.relu1));
  CHECK(at(slot, r.c1) == at(slot, r.add1));
  CHECK(at(slot, r.c2) == at(slot, r.add2));
  CHECK(at(slot, r.proj) == at(slot, r.add2));
  CHECK(at(slot, r.add2) == at(slot, r.relu2));
  CHECK(at(slot, r.relu3) == at(slot, r.both));
  // The bottleneck: its last conv and its input share the add's dy; the
  // input's other reader, the first conv, adds into it after the last conv
  // has read it. The input then hands it on to the add before it.
  CHECK(at(slot, r.c5) == at(slot, r.add3));
  CHECK(at(slot, r.relu2) == at(slot, r.add3));
  CHECK(at(slot, r.c4) != at(slot, r.add3));
  // Two sharers: the ReLU, whose backward runs first, leaves dy as it is.
  CHECK(at(slot, r.c6) == at(slot, r.add4));
  CHECK(at(slot, r.relu7) == at(slot, r.add4));
  CHECK(at(slot, r.c7) != at(slot, r.relu7));
  // Not: a value whose other reader is the add's other input (c3, read by
  // relu3; the stem's ReLU, read by c1): that reader would write dy while
  // reading it.
  CHECK(at(slot, r.c3) != at(slot, r.relu3));
  CHECK(at(slot, r.stem_relu) != at(slot, r.add1));
  // Without in_place (DeepLIFT's multipliers), every cotangent has a slot of
  // its own while its consumer's is alive.
  CHECK(at(plain, r.stem) != at(plain, r.stem_relu));
  CHECK(at(plain, r.c2) != at(plain, r.add2));

  // The gradients equal those of a pass that hands nothing on and adds every
  // contribution into zeros (equal values; a handed-on −0 may stay −0).
  const ResidualGraph reference(true);
  Workspace ws, ref;
  for (int64_t n : {2, 5}) {
    const Tensor x = randn({n, 3, 6, 5}, 60 + static_cast<uint64_t>(n));
    const std::vector<Tensor> u{randn({n, 3}, 70 + static_cast<uint64_t>(n))};
    forward(r.g, ws, {x}, Keep::input_gradients);
    forward(reference.g, ref, {x}, Keep::input_gradients);
    const Tensor got = backward(r.g, ws, u).inputs[0], expected = backward(reference.g, ref, u).inputs[0];
    INFO("batch " << n);
    REQUIRE(got.shape() == expected.shape());
    for (int64_t e = 0; e < got.numel(); ++e) REQUIRE(got[e] == expected[e]);
  }
}

TEST_CASE("the gradient pass differentiates Mul(x, Sigmoid(x)) whole, only where the sigmoid is the product's alone",
          "[graph][executor]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {2, 5});
  const NodeId silu = nn::silu(g, x, "silu");                                      // Mul(x, σ(x))
  const NodeId flipped = nn::multiply(g, nn::sigmoid(g, x, "fs"), x, "flipped");  // Mul(σ(x), x)
  const NodeId shared_sig = nn::sigmoid(g, x, "ss");
  const NodeId shared = nn::multiply(g, x, shared_sig, "shared");  // its sigmoid is read twice
  const NodeId out_sig = nn::sigmoid(g, x, "os");
  const NodeId as_output = nn::multiply(g, x, out_sig, "as_output");  // its sigmoid is an output
  const NodeId other = nn::sigmoid(g, nn::tanh(g, x, "t"), "other");
  const NodeId not_silu = nn::multiply(g, x, other, "not_silu");  // σ of something else
  g.set_outputs({nn::add(g, silu, flipped, "a1"), nn::add(g, shared, shared_sig, "a2"), as_output, out_sig,
                 not_silu});
  g.finalize();
  const std::vector<FusedSilu> fused = fused_silus(g);
  const auto at = [&](NodeId id) { return fused[static_cast<size_t>(id)]; };
  CHECK((at(silu).x == x && at(silu).sigmoid == g.node(silu).inputs[1]));
  CHECK((at(flipped).x == x && at(flipped).sigmoid == g.node(flipped).inputs[0]));
  CHECK(at(shared).sigmoid < 0);
  CHECK(at(as_output).sigmoid < 0);
  CHECK(at(not_silu).sigmoid < 0);
  // Fused and op-by-op contributions add up in x's cotangent: central differences.
  test::require_ok(check_gradients(g, {randn({3, 2, 5}, 5, 2.0f)}));

  // Input gradients against the closed form in double, over the whole range
  // (deep in both tails 1 − σ(x) rounds to 1 or 0).
  Tensor in({1, 2, 5}, {-60.f, -20.f, -5.f, -1.28f, -0.3f, 0.0f, 0.7f, 3.f, 17.f, 40.f});
  for (int64_t batch : {1, 2}) {
    Tensor xb({batch, 2, 5});
    for (int64_t i = 0; i < xb.numel(); ++i) xb[i] = in[i % 10] * (i < 10 ? 1.0f : -0.5f);
    Graph h;
    const NodeId hx = nn::input(h, "x", {2, 5});
    // Two of them: the later one's gradient assigns x's cotangent, the other adds.
    const NodeId s1 = nn::silu(h, hx, "s1"), s2 = nn::silu(h, hx, "s2");
    h.set_outputs({nn::add(h, s1, s2, "sum")});
    h.finalize();
    REQUIRE(fused_silus(h)[static_cast<size_t>(s1)].sigmoid >= 0);
    REQUIRE(fused_silus(h)[static_cast<size_t>(s2)].sigmoid >= 0);
    Workspace ws;
    const Tensor u = randn({batch, 2, 5}, 31);
    for (Keep keep : {Keep::all, Keep::input_gradients}) {
      forward(h, ws, {xb}, keep);
      // Computed in one pass, the values are the bits of the two nodes'.
      Tensor sig(xb.shape()), prod(xb.shape());
      kernels::sigmoid_forward(xb.data(), sig.data(), xb.numel());
      for (int64_t i = 0; i < xb.numel(); ++i) prod[i] = xb[i] * sig[i];
      REQUIRE(same_bits(ws.value(g.node(s1).inputs[1]), sig));
      if (keep == Keep::all) REQUIRE(same_bits(ws.value(s2), prod));  // else lent on after the sum
      const Tensor dx = backward(h, ws, {u}).inputs[0];
      for (int64_t i = 0; i < xb.numel(); ++i) {
        const double v = xb[i], s = v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
        const double expected = 2 * u[i] * (s + v * s * (1 - s));
        INFO("x = " << v << ", batch " << batch);
        REQUIRE(std::fabs(dx[i] - expected) <= 1e-6 * std::fabs(u[i]) + 1e-6 * std::fabs(expected));
      }
    }
  }
}

TEST_CASE("batch norm → ReLU runs as one pass forward and backward, bit for bit as two", "[graph][executor]") {
  Graph g(4);
  const NodeId x = nn::input(g, "x", {3, 5, 5});
  const NodeId bn1 = nn::batch_norm(g, x, "bn1");  // on the input itself: pre-activation style
  const NodeId r1 = nn::relu(g, bn1, "r1");
  const NodeId c = nn::conv2d(g, r1, 4, {3, 3}, "c", nn::Conv2dOptions().padding(1));
  const NodeId bn2 = nn::batch_norm(g, c, "bn2");
  const NodeId r2 = nn::relu(g, bn2, "r2");
  const NodeId bn3 = nn::batch_norm(g, r2, "bn3");
  const NodeId r3 = nn::relu(g, bn3, "r3");
  const NodeId both = nn::add(g, r3, bn3, "both");  // bn3 is read twice: not fused
  g.set_outputs({nn::linear(g, nn::flatten(g, both), 3, "fc")});
  g.finalize();
  g.initialize(3);
  // Batch norms with negative scales and shifts either way, so some channels' ReLUs cut most elements.
  for (const char* name : {"bn1", "bn2", "bn3"}) {
    const int64_t C = g.parameter(std::string(name) + ".weight").value.numel();
    g.set_parameter(std::string(name) + ".weight", randn({C}, 11));
    g.set_parameter(std::string(name) + ".bias", randn({C}, 12));
    g.set_parameter(std::string(name) + ".running_mean", randn({C}, 13));
  }

  std::vector<char> kept(static_cast<size_t>(g.num_nodes()), 0);
  for (NodeId id : {r1, r2, r3}) kept[static_cast<size_t>(id)] = 1;
  const std::vector<FusedRelu> fused = fused_relus(g, kept);
  CHECK((fused[static_cast<size_t>(bn1)].producer == bn1 && fused[static_cast<size_t>(bn1)].relu == r1));
  CHECK(fused[static_cast<size_t>(bn2)].relu == r2);
  CHECK(fused[static_cast<size_t>(bn3)].producer < 0);
  const std::vector<NodeId> bns = relu_batch_norms(g);
  CHECK(bns[static_cast<size_t>(r1)] == bn1);
  CHECK(bns[static_cast<size_t>(r2)] == bn2);
  CHECK(bns[static_cast<size_t>(r3)] < 0);

  // Keep::all fuses nothing forward; parameter gradients fuse nothing backward.
  Workspace lean, full;
  for (int64_t n : {2, 1}) {
    Tensor in = randn({n, 3, 5, 5}, 20 + static_cast<uint64_t>(n));
    in[0] = 0.0f;
    const std::vector<Tensor> u{randn({n, 3}, 30)};
    forward(g, full, {in}, Keep::all);
    forward(g, lean, {in}, Keep::input_gradients);
    INFO("batch " << n);
    REQUIRE(same_bits(outputs(g, lean)[0], outputs(g, full)[0]));
    const Tensor dx = backward(g, lean, u).inputs[0];
    REQUIRE(same_bits(dx, backward(g, full, u).inputs[0]));
    REQUIRE(same_bits(dx, backward(g, full, u, true, true).inputs[0]));
  }
  // Input gradients against central differences; a small step, as three
  // ReLU layers put kinks close to any point.
  GradcheckOptions small;
  small.step = 1e-4;
  small.parameters = false;
  test::require_ok(check_gradients(g, {randn({2, 3, 5, 5}, 40)}, small));
}

TEST_CASE("concat → batch norm → ReLU runs from the concatenation's inputs, bit for bit as three", "[graph][executor]") {
  Graph g(5);
  const auto concat = [&](int axis, std::vector<NodeId> parts, const std::string& name) {
    return g.add(std::make_shared<ops::Concat>(axis), std::move(parts), {}, name);
  };
  // DenseNet's pattern: each layer normalises the concatenation of the block's input and earlier layers' outputs.
  const NodeId x = nn::input(g, "x", {3, 6, 6});
  const NodeId a = nn::relu(g, nn::conv2d(g, x, 4, {3, 3}, "a", nn::Conv2dOptions().padding(1)), "a.relu");
  const NodeId b = nn::conv2d(g, x, 2, {1, 1}, "b");  // read by two concatenations
  const NodeId cat1 = concat(1, {x, a, b}, "cat1");   // the graph's input, a kept ReLU, a plain value
  const NodeId r1 = nn::relu(g, nn::batch_norm(g, cat1, "bn1"), "r1");
  const NodeId c1 = nn::conv2d(g, r1, 2, {3, 3}, "c1", nn::Conv2dOptions().padding(1));
  const NodeId cat2 = concat(-3, {b, x, c1, b}, "cat2");  // axis 1 counted from the end; b twice
  const NodeId r2 = nn::relu(g, nn::batch_norm(g, cat2, "bn2"), "r2");
  const NodeId cat3 = concat(1, {r2, c1}, "cat3");  // also read by the sum below: not fused into
  const NodeId bn3 = nn::batch_norm(g, cat3, "bn3");
  const NodeId r3 = nn::relu(g, bn3, "r3");
  const NodeId cat4 = concat(2, {r3, r3}, "cat4");  // rows, not channels: not fused into
  const NodeId bn4 = nn::batch_norm(g, cat4, "bn4");
  const NodeId r4 = nn::relu(g, bn4, "r4");
  const NodeId pooled = nn::add(g, nn::global_avg_pool(g, cat3), nn::global_avg_pool(g, r4), "pooled");
  g.set_outputs({nn::linear(g, nn::flatten(g, pooled), 3, "fc")});
  g.finalize();
  g.initialize(5);
  // Negative scales and shifts either way, so some channels' ReLUs cut most elements.
  for (const char* name : {"bn1", "bn2", "bn3", "bn4"}) {
    const int64_t C = g.parameter(std::string(name) + ".weight").value.numel();
    g.set_parameter(std::string(name) + ".weight", randn({C}, 21));
    g.set_parameter(std::string(name) + ".bias", randn({C}, 22));
    g.set_parameter(std::string(name) + ".running_mean", randn({C}, 23));
  }

  std::vector<char> kept(static_cast<size_t>(g.num_nodes()), 0);
  for (NodeId id : {x, a, r1, r2, r3, r4}) kept[static_cast<size_t>(id)] = 1;
  const std::vector<FusedRelu> fused = fused_relus(g, kept);
  const auto at = [&](NodeId id) { return fused[static_cast<size_t>(id)]; };
  CHECK((at(cat1).concat == cat1 && at(cat1).relu == r1 && at(cat1).producer == g.node(r1).inputs[0]));
  CHECK(at(g.node(r1).inputs[0]).producer < 0);  // the batch norm's own turn computes nothing
  CHECK((at(cat2).concat == cat2 && at(cat2).relu == r2));
  CHECK(at(cat3).producer < 0);
  CHECK((at(bn3).producer == bn3 && at(bn3).concat < 0));  // batch norm → ReLU alone
  CHECK(at(cat4).producer < 0);
  CHECK((at(bn4).producer == bn4 && at(bn4).concat < 0));

  Workspace lean, full;
  at_threads_and_batches([&](int64_t n) {
    const Tensor in = randn({n, 3, 6, 6}, 30 + static_cast<uint64_t>(n));
    const std::vector<Tensor> u{randn({n, 3}, 40)};
    forward(g, full, {in}, Keep::all);
    forward(g, lean, {in}, Keep::input_gradients);
    CHECK(lean.value(cat1).numel() == 0);  // never formed
    CHECK(lean.value(g.node(r1).inputs[0]).numel() == 0);
    REQUIRE(same_bits(lean.value(r1), full.value(r1)));
    REQUIRE(same_bits(lean.value(r2), full.value(r2)));
    REQUIRE(same_bits(outputs(g, lean)[0], outputs(g, full)[0]));
    REQUIRE(same_bits(backward(g, lean, u).inputs[0], backward(g, full, u).inputs[0]));
  });
  // No finite differences here: the fused forward gives the node-by-node
  // bits, and the backward is the node-by-node one, each op's checked in its
  // own test. (This net's gradients are small next to its outputs: central
  // differences need steps of ~1e-2, where its thousands of ReLU inputs put
  // kinks inside the step.)
}

TEST_CASE("a convolution's input gradient runs the ReLU and batch norm before it, bit for bit as three passes",
          "[graph][executor]") {
  Graph g(6);
  const auto concat = [&](std::vector<NodeId> parts, const std::string& name) {
    return g.add(std::make_shared<ops::Concat>(1), std::move(parts), {}, name);
  };
  const auto conv = [&](NodeId in, int64_t out, int64_t k, const std::string& name) {
    return nn::conv2d(g, in, out, {k, k}, name, nn::Conv2dOptions().padding(k / 2));
  };
  // ResNet's conv → ReLU → conv on 32 channels (Winograd's input gradient),
  // then DenseNet's concat → batch norm → ReLU → 1×1 conv.
  const NodeId x = nn::input(g, "x", {3, 6, 6});
  const NodeId a = conv(x, 32, 3, "a");
  const NodeId ra = nn::relu(g, a, "ra");
  const NodeId b = conv(ra, 32, 3, "b");  // fused: writes a's cotangent
  const NodeId cat = concat({x, b}, "cat");
  const NodeId rc = nn::relu(g, nn::batch_norm(g, cat, "bn"), "rc");
  const NodeId c = conv(rc, 8, 1, "c");   // fused with the batch norm: writes cat's
  const NodeId d0 = conv(c, 8, 1, "d0");
  const NodeId rd = nn::relu(g, d0, "rd");
  const NodeId d = conv(rd, 4, 1, "d");  // not fused: e, later, reads d0 too
  const NodeId both = concat({d, conv(d0, 4, 1, "e")}, "both");
  const NodeId re = nn::relu(g, both, "re");
  const NodeId f = conv(re, 3, 1, "f");  // not fused: re has other readers
  g.set_outputs({nn::linear(g, nn::flatten(g, nn::add(g, f, nn::conv2d(g, re, 3, {1, 1}, "f2"), "sum")), 3, "fc"),
                 nn::linear(g, nn::flatten(g, re), 2, "fc2")});
  g.finalize();
  g.initialize(7);
  g.set_parameter("bn.weight", randn({35}, 11));  // negative scales too
  g.set_parameter("bn.bias", randn({35}, 12));
  g.set_parameter("bn.running_mean", randn({35}, 13));

  const std::vector<ConvRelu> fused = conv_relus(g);
  const auto at = [&](NodeId id) { return fused[static_cast<size_t>(id)]; };
  CHECK((at(b).relu == ra && at(b).batch_norm < 0 && at(b).x == a));
  CHECK((at(c).relu == rc && at(c).batch_norm == g.node(rc).inputs[0] && at(c).x == cat));
  CHECK((at(d).relu == rd && at(d).x == d0));  // paired; the pass leaves it, d0's cotangent started at e
  CHECK(at(f).relu < 0);  // re has other readers
  CHECK(at(a).relu < 0);

  Workspace lean, full;
  at_threads_and_batches([&](int64_t n) {
    Tensor in = randn({n, 3, 6, 6}, 30 + static_cast<uint64_t>(n));
    in[0] = 0.0f;
    const std::vector<Tensor> u{randn({n, 3}, 40), randn({n, 2}, 41)};
    forward(g, full, {in}, Keep::all);
    forward(g, lean, {in}, Keep::input_gradients);
    const Tensor dx = backward(g, lean, u).inputs[0];
    REQUIRE(same_bits(dx, backward(g, full, u).inputs[0]));
    REQUIRE(same_bits(dx, backward(g, full, u, true, true).inputs[0]));  // parameter gradients: nothing fused
  });
  GradcheckOptions small;
  small.step = 1e-3;
  small.parameters = false;
  test::require_ok(check_gradients(g, {randn({2, 3, 6, 6}, 50)}, small));
}

TEST_CASE("a forward for input gradients computes conv → (add →) Clip(0, hi) in the convolution", "[graph][executor]") {
  const float inf = std::numeric_limits<float>::infinity();
  Graph g(6);
  const NodeId x = nn::input(g, "x", {3, 8, 8});
  const NodeId c1 = nn::conv2d(g, x, 32, {3, 3}, "c1", nn::Conv2dOptions().padding(1));
  const NodeId r1 = nn::clip(g, c1, 0.0f, 6.0f, "r1");  // ReLU6
  nn::Conv2dOptions depthwise;
  depthwise.pads = {1, 1, 1, 1};
  depthwise.groups = 32;
  const NodeId c2 = nn::conv2d(g, r1, 32, {3, 3}, "c2", depthwise);
  const NodeId r2 = nn::clip(g, c2, 0.0f, 6.0f, "r2");
  const NodeId c3 = nn::conv2d(g, r2, 32, {3, 3}, "c3", nn::Conv2dOptions().padding(1));  // Winograd from batch 2
  const NodeId a3 = nn::add(g, c3, r2, "a3");
  const NodeId r3 = nn::clip(g, a3, 0.0f, 6.0f, "r3");
  const NodeId c4 = nn::conv2d(g, r3, 8, {1, 1}, "c4");
  const NodeId r4 = nn::clip(g, c4, 0.5f, 6.0f, "r4");  // lower bound not 0: not fused
  const NodeId c5 = nn::conv2d(g, r4, 8, {1, 1}, "c5");
  const NodeId r5 = nn::clip(g, c5, -0.0f, 6.0f, "r5");  // −0 would become +0: not fused
  const NodeId c6 = nn::conv2d(g, r5, 8, {1, 1}, "c6");
  const NodeId r6 = nn::clip(g, c6, 0.0f, inf, "r6");  // a ReLU that keeps NaN
  const NodeId b7 = nn::batch_norm(g, r6, "b7");
  const NodeId r7 = nn::clip(g, b7, 0.0f, 6.0f, "r7");  // batch norm fuses only a ReLU
  g.set_outputs({nn::linear(g, nn::flatten(g, r7), 3, "fc")});
  g.finalize();
  g.initialize(5);

  std::vector<char> kept(static_cast<size_t>(g.num_nodes()), 0);
  for (NodeId id : {r1, r2, r3, r4, r5, r6, r7}) kept[static_cast<size_t>(id)] = 1;
  const std::vector<FusedRelu> fused = fused_relus(g, kept);
  const auto at = [&](NodeId id) { return fused[static_cast<size_t>(id)]; };
  CHECK((at(c1).relu == r1 && at(c1).clip_max == 6.0f && at(c1).add < 0));
  CHECK((at(c2).relu == r2 && at(c2).clip_max == 6.0f));
  CHECK((at(c3).relu == r3 && at(c3).add == a3 && at(c3).residual == r2 && at(c3).clip_max == 6.0f));
  CHECK(at(c4).producer < 0);
  CHECK(at(c5).producer < 0);
  CHECK((at(c6).relu == r6 && at(c6).clip_max == inf));
  CHECK(at(b7).producer < 0);

  // The fused forward gives the bits of the op by op one, outputs and input
  // gradients, with inputs large enough that the clips bind at both ends,
  // and a NaN that must stay NaN through the fused clips.
  Workspace lean, full;
  for (int64_t n : {3, 1, 2}) {
    Tensor in = randn({n, 3, 8, 8}, 50 + static_cast<uint64_t>(n));
    for (float& v : in) v *= 30.0f;
    const std::vector<Tensor> u{randn({n, 3}, 60)};
    for (bool with_nan : {false, true}) {
      if (with_nan) in[5] = std::numeric_limits<float>::quiet_NaN();
      forward(g, full, {in}, Keep::all);
      forward(g, lean, {in}, Keep::input_gradients);
      INFO("batch " << n << (with_nan ? ", a NaN" : ""));
      for (NodeId id : {r1, r2, r3}) {
        const Tensor& r = lean.value(id);
        int low = 0, high = 0;
        for (int64_t k = 0; k < r.numel(); ++k) {
          low += r[k] == 0.0f;
          high += r[k] == 6.0f;
        }
        INFO(g.node(id).name << " at 0: " << low << ", at 6: " << high << " of " << r.numel());
        CHECK((low > 0 && high > 0));
        REQUIRE(same_bits(r, full.value(id)));
      }
      REQUIRE(same_bits(outputs(g, lean)[0], outputs(g, full)[0]));
      REQUIRE(same_bits(backward(g, lean, u).inputs[0], backward(g, full, u).inputs[0]));
      if (with_nan) CHECK(std::isnan(outputs(g, lean)[0][0]));
    }
  }
  GradcheckOptions small;
  small.step = 1e-4;
  small.parameters = false;
  test::require_ok(check_gradients(g, {randn({2, 3, 8, 8}, 70)}, small));
}
