#include "every_op.hpp"

#include "trim/graph/layers.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/recurrent.hpp"
#include "trim/kernels/resize.hpp"
#include "trim/kernels/volume.hpp"

namespace trim::test {

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

}  // namespace trim::test
