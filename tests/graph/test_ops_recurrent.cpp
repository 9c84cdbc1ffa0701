// LSTM step ops (Kind::Cell): forward against the LSTM equations written
// here, gradients (inputs and bias) against finite differences, and the
// kind's claims (DeepLIFT's rule complete, CD with everything relevant equal
// to the forward). acd agreement is tested on a PyTorch LSTM in
// tests/io/test_onnx_recurrent.cpp.
#include <cmath>

#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/recurrent.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

TEST_CASE("lstm_cell and lstm_hidden follow the LSTM equations and their kind", "[ops][recurrent]") {
  const int64_t H = 3;
  Graph g(1);
  const NodeId zx = nn::input(g, "zx", {4 * H});
  const NodeId zh = nn::input(g, "zh", {4 * H});
  const NodeId c0 = nn::input(g, "c0", {H});
  const int b = g.add_parameter("bias", randn({4 * H}, 7), Init::keep(), true);
  const NodeId c = g.add(std::make_shared<ops::LstmCell>(), {zx, zh, c0}, {b}, "c");
  const NodeId h = g.add(std::make_shared<ops::LstmHidden>(), {zx, zh, c}, {b}, "h");
  g.set_outputs({h, c});
  g.finalize();
  CHECK(g.node(c).op->kind() == Kind::Cell);
  const Tensor a = randn({2, 4 * H}, 1), r = randn({2, 4 * H}, 2), s = randn({2, H}, 3);
  const Tensor& bias = g.parameters()[static_cast<size_t>(b)].value;
  Workspace ws;
  forward(g, ws, {a, r, s});
  Tensor ec({2, H}), eh({2, H});
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t j = 0; j < H; ++j) {
      auto pre = [&](int64_t gate) { return double(a[n * 4 * H + gate * H + j]) + r[n * 4 * H + gate * H + j] + bias[gate * H + j]; };
      // ONNX order: i, o, f, c.
      const double cell = sig(pre(2)) * s[n * H + j] + sig(pre(0)) * std::tanh(pre(3));
      ec[n * H + j] = static_cast<float>(cell);
      eh[n * H + j] = static_cast<float>(sig(pre(1)) * std::tanh(cell));
    }
  require_close(ws.value(c), ec, 1e-6);
  require_close(ws.value(h), eh, 1e-6);
  GradcheckOptions go;
  go.parameters = true;
  require_ok(check_gradients(g, {a, r, s}, go));
  for (NodeId id : {c, h}) {
    INFO(g.describe(id));
    require_ok(check_kind(g, id, {a, r, s}));
  }
  // Shapes are checked when the node is added.
  Graph bad(1);
  const NodeId x = nn::input(bad, "x", {4 * H});
  const int p = bad.add_parameter("bias", Tensor({4 * H}), Init::keep(), true);
  REQUIRE_THROWS_AS(bad.add(std::make_shared<ops::LstmCell>(), {x, x, x}, {p}, "cell"), ShapeError);
}
