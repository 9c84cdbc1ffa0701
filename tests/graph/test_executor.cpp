// Forward / backward: batches, several inputs and outputs, errors.
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/layers.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/recurrent.hpp"
#include "trim/kernels/resize.hpp"
#include "trim/kernels/volume.hpp"

using namespace trim;
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

namespace {
/// Every op the library builds, on one path from x: conv, batch norm, the
/// activations, both pools, a residual add, concat / slice / pad /
/// transpose / reshape, constants, dense, (log-)softmax.
Graph every_op() {
  Graph g(11);
  const NodeId x = nn::input(g, "x", {2, 8, 8});
  NodeId h = nn::conv2d(g, x, 4, {3, 3}, "conv", nn::Conv2dOptions().padding(1));
  h = nn::relu(g, nn::batch_norm(g, h, "bn"));
  const NodeId skip = h;
  h = nn::elu(g, nn::conv2d(g, h, 4, {3, 3}, "conv2", nn::Conv2dOptions().padding(1)));
  h = nn::add(g, nn::tanh(g, h), skip);
  h = nn::max_pool2d(g, h, {2, 2});
  const NodeId a = nn::slice(g, h, 1, 0, 2), b = nn::avg_pool2d(g, nn::pad(g, h, {{0, 0}, {1, 1}, {1, 1}}), {3, 3},
                                                                  nn::Pool2dOptions().strides(1));
  h = nn::concat(g, {a, nn::sigmoid(g, b)}, 1);
  h = nn::transpose(g, h, {0, 1, 3, 2});
  h = nn::mul_constant(g, nn::add_constant(g, h, Tensor({4, 4}, 0.5f), "shift"), Tensor({4}, 1.5f), "scale");
  const NodeId pooled = nn::flatten(g, nn::global_avg_pool(g, nn::leaky_relu(g, h)));
  const NodeId logits = nn::linear(g, nn::softplus(g, nn::linear(g, nn::reshape(g, h, {-1}), 8, "fc1")), 3, "fc2");
  // 1-D convolution and pools, clip and gelu.
  NodeId s = nn::conv1d(g, nn::reshape(g, h, {6, 16}), 3, 3, "conv1d", nn::Conv1dOptions().padding(1));
  s = nn::avg_pool1d(g, nn::max_pool1d(g, nn::gelu(g, nn::clip(g, s, -1.0f, 2.0f)), 2), 2);  // [*,3,4]
  // Products of data, reductions, broadcast and the scalar functions (layers.hpp).
  using F = ops::Math;
  NodeId p = nn::layer_norm(g, h, -1, "ln");                                                   // [*,6,4,4]
  p = nn::multiply(g, p, nn::math(g, nn::reduce_mean(g, p, {2, 3}), F::HardSigmoid, 0.2f, 0.5f));  // [*,6,1,1] gate
  p = nn::math(g, nn::matmul(g, p, nn::softmax_by_kinds(g, p, -1, "attn")), F::HardSwish);
  const NodeId pos = nn::add_constant(g, nn::math(g, p, F::Pow, 2.0f), Tensor::scalar(1.0f), "one");
  NodeId q = nn::multiply(g, nn::math(g, p, F::Erf), nn::math(g, pos, F::Sqrt));
  q = nn::add(g, {q, nn::math(g, pos, F::Log), nn::math(g, pos, F::Reciprocal), nn::math(g, nn::silu(g, p), F::Exp)});
  q = nn::reduce_sum(g, nn::reduce_max(g, nn::divide(g, q, pos), {3}, false), {2}, false);   // [*,4]
  const NodeId extra = nn::linear(g, nn::add_broadcast(g, q, nn::reduce_sum(g, nn::flatten(g, s), {1}), true), 3, "fc4");
  const NodeId weights = nn::constant(g, Tensor({1, 3}, std::vector<float>{0.5f, -1.0f, 2.0f}), "weights");
  // Upsampling and volume ops: [*,4,4,4] -> up 8x8 -> bilinear 4x4 -> a volume [*,1,2,4,4].
  kernels::ResizeConfig half;
  half.mode = kernels::ResizeMode::linear;
  half.scales = {0.5, 0.5};
  const NodeId up = nn::resize(g, nn::conv_transpose2d(g, h, 2, {2, 2}, "up", nn::ConvTransposeOptions().strides(2)), half);
  kernels::Conv3dConfig c3;
  c3.pads = {0, 1, 0, 0, 0, 1};
  kernels::Pool3dWindow mp, ap;
  mp.kernel = {1, 2, 2};
  ap.kernel = {2, 1, 1};
  const NodeId vol = nn::avg_pool3d(
      g, nn::max_pool3d(g, nn::relu(g, nn::conv3d(g, nn::reshape(g, up, {1, 2, 4, 4}), 2, {1, 2, 2}, "c3d", c3)), mp), ap);
  const NodeId seq = nn::conv_transpose1d(g, nn::reshape(g, vol, {2, -1}), 1, 3, "up1");
  const NodeId bias = g.add(std::make_shared<ops::BatchConstant>(), {x},
                            {g.add_parameter("bc", Tensor({3}, 0.25f), Init::keep(), false)}, "bc");
  // An LSTM step (Kind::Cell).
  const int lstm_bias = g.add_parameter("lstm_bias", Tensor({8}, 0.1f), Init::keep(), true);
  const NodeId zx = nn::linear(g, pooled, 8, "lstm_zx"), zh = nn::linear(g, q, 8, "lstm_zh");
  const NodeId cell =
      g.add(std::make_shared<ops::LstmCell>(), {zx, zh, nn::linear(g, pooled, 2, "lstm_c0")}, {lstm_bias}, "lstm_c");
  const NodeId hid = g.add(std::make_shared<ops::LstmHidden>(), {zx, zh, cell}, {lstm_bias}, "lstm_h");
  const NodeId mixed = nn::multiply(
      g, nn::add(g, {logits, nn::linear(g, pooled, 3, "fc3"), extra, nn::linear(g, nn::flatten(g, seq), 3, "fc5"), bias,
                     nn::linear(g, hid, 3, "fc6")}),
      weights);
  g.set_outputs({nn::log_softmax(g, mixed), nn::softmax(g, logits)});
  g.finalize();
  return g;
}
}  // namespace

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
