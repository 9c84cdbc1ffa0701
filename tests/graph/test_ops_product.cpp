// Products of data (Kind::Product), reductions, broadcast, the scalar
// functions composite layers decompose into, and the composites themselves:
// forward against loops written here, gradients against finite differences,
// each node against its declared kind.
#include <algorithm>
#include <cmath>
#include <string>

#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/core/parallel.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/layers.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/reduce.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

/// Every node of g depending on the input passes check_kind; the graph passes check_gradients.
void check_all(Graph& g, const std::vector<Tensor>& in, double step = 1e-2) {
  GradcheckOptions go;
  go.step = step;  // smaller where a max may switch
  require_ok(check_gradients(g, in, go));
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).is_input) {
      INFO(g.describe(id));
      require_ok(check_kind(g, id, in));
    }
}

}  // namespace

TEST_CASE("multiply broadcasts like NumPy and is bilinear", "[ops][product]") {
  Graph g(1);
  const NodeId x = nn::input(g, "x", {3, 4, 5});
  const NodeId s = nn::input(g, "s", {3, 1, 1});
  const NodeId y = nn::multiply(g, x, s, "gate");
  const NodeId z = nn::multiply(g, y, nn::tanh(g, x), "self");
  g.set_outputs({z});
  g.finalize();
  CHECK(g.node(y).op->kind() == Kind::Product);
  CHECK(g.shape(y) == Shape{Shape::free, 3, 4, 5});
  const Tensor a = randn({2, 3, 4, 5}, 1), b = randn({2, 3, 1, 1}, 2);
  Workspace ws;
  forward(g, ws, {a, b});
  Tensor expected({2, 3, 4, 5});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 20; ++i) {
        const int64_t k = (n * 3 + c) * 20 + i;
        expected[k] = a[k] * b[n * 3 + c] * std::tanh(a[k]);
      }
  require_close(ws.value(z), expected, 1e-6);
  check_all(g, {a, b});
  REQUIRE_THROWS_AS(nn::multiply(g, x, nn::input(g, "w", {4, 5}), "bad"), Error);
}

TEST_CASE("multiply's broadcast runs match loops for every pattern and thread count", "[ops][product]") {
  // A gate per (example, channel) on either side (squeeze-excitation), one
  // shared by all channels (runs reading the same gate elements: not split
  // over threads), a gate along the last axis (strided runs), size-1 axes on
  // both sides; the large shapes split their runs over threads.
  struct Case {
    Shape a, b;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4, 5}, {2, 3, 1, 1}}, {{2, 3, 1, 1}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {2, 1, 4, 5}},
      {{2, 3, 4, 5}, {2, 1, 1, 5}}, {{2, 1, 4, 5}, {2, 3, 4, 1}}, {{3, 40, 24, 24}, {3, 40, 1, 1}},
      {{3, 40, 1, 1}, {3, 40, 24, 24}}, {{3, 40, 24, 24}, {3, 1, 24, 24}}, {{3, 40, 24, 24}, {3, 40, 24, 24}},
  };
  test::RestoreThreads restore;
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& cs = cases[k];
    Shape out;
    for (int d = 0; d < 4; ++d) out.push_back(std::max(cs.a[d], cs.b[d]));
    Graph g(1);
    const NodeId xa = nn::input(g, "a", test::per_example(cs.a));
    const NodeId xb = nn::input(g, "b", test::per_example(cs.b));
    g.set_outputs({nn::multiply(g, xa, xb, "mul")});
    g.finalize();
    const Tensor a = randn(cs.a, 1 + k), b = randn(cs.b, 11 + k), u = randn(out, 21 + k);
    // References: loops over the output with each operand's broadcast index
    // (gradient sums in double).
    Tensor y_ref(out), da_ref(cs.a), db_ref(cs.b);
    std::vector<double> da_sum(static_cast<size_t>(a.numel())), db_sum(static_cast<size_t>(b.numel()));
    const auto at = [](const Shape& s, const int64_t* i) {
      int64_t f = 0;
      for (int d = 0; d < 4; ++d) f = f * s[d] + (s[d] == 1 ? 0 : i[d]);
      return f;
    };
    int64_t i[4], o = 0;
    for (i[0] = 0; i[0] < out[0]; ++i[0])
      for (i[1] = 0; i[1] < out[1]; ++i[1])
        for (i[2] = 0; i[2] < out[2]; ++i[2])
          for (i[3] = 0; i[3] < out[3]; ++i[3], ++o) {
            const int64_t ia = at(cs.a, i), ib = at(cs.b, i);
            y_ref[o] = a[ia] * b[ib];
            da_sum[static_cast<size_t>(ia)] += double(u[o]) * b[ib];
            db_sum[static_cast<size_t>(ib)] += double(u[o]) * a[ia];
          }
    for (int64_t j = 0; j < a.numel(); ++j) da_ref[j] = static_cast<float>(da_sum[static_cast<size_t>(j)]);
    for (int64_t j = 0; j < b.numel(); ++j) db_ref[j] = static_cast<float>(db_sum[static_cast<size_t>(j)]);
    std::vector<Tensor> first;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      INFO("case " << k << ", " << threads << " threads");
      Workspace ws;
      forward(g, ws, {a, b});
      const Gradients gr = backward(g, ws, {u});
      require_close(ws.value(g.outputs()[0]), y_ref, 1e-6, 1e-3, "y");
      require_close(gr.inputs[0], da_ref, 1e-4, 1.0, "da");  // sums of up to 576 terms
      require_close(gr.inputs[1], db_ref, 1e-4, 1.0, "db");
      const std::vector<Tensor> got = {ws.value(g.outputs()[0]), gr.inputs[0], gr.inputs[1]};
      if (first.empty()) first = got;
      for (size_t t = 0; t < got.size(); ++t) REQUIRE(std::equal(got[t].begin(), got[t].end(), first[t].begin()));
    }
  }
}

TEST_CASE("matmul of two data tensors: forward, gradients, kind", "[ops][product]") {
  Graph g(2);
  const NodeId q = nn::input(g, "q", {2, 3, 4});
  const NodeId k = nn::input(g, "k", {2, 4, 5});
  const NodeId y = nn::matmul(g, q, k, "scores");
  g.set_outputs({y});
  g.finalize();
  CHECK(g.shape(y) == Shape{Shape::free, 2, 3, 5});
  const Tensor a = randn({3, 2, 3, 4}, 3), b = randn({3, 2, 4, 5}, 4);
  const Tensor out = g.evaluate({a, b})[0];
  for (int s = 0; s < 6; ++s)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 5; ++j) {
        double acc = 0;
        for (int l = 0; l < 4; ++l) acc += double(a[s * 12 + i * 4 + l]) * b[s * 20 + l * 5 + j];
        REQUIRE(std::fabs(out[s * 15 + i * 5 + j] - acc) < 1e-5);
      }
  check_all(g, {a, b});
  Graph bad;
  const NodeId u = nn::input(bad, "u", {3, 4});
  REQUIRE_THROWS_AS(nn::matmul(bad, u, nn::input(bad, "v", {3, 4})), ShapeError);
  REQUIRE_THROWS_AS(nn::matmul(bad, nn::input(bad, "w", {4}), nn::input(bad, "z", {4})), ShapeError);
}

TEST_CASE("reductions over any non-batch axes and broadcast", "[ops][reduce]") {
  const Tensor a = randn({2, 3, 4, 5}, 5);
  for (bool keep : {true, false}) {
    Graph g(3);
    const NodeId x = nn::input(g, "x", {3, 4, 5});
    const NodeId s = nn::reduce_sum(g, x, {1, -1}, keep, "sum");
    const NodeId m = nn::reduce_mean(g, x, {2}, keep, "mean");
    const NodeId mx = nn::reduce_max(g, x, {-1}, keep, "max");
    g.set_outputs({s, m, mx});
    g.finalize();
    CHECK(g.node(s).op->kind() == Kind::Linear);
    CHECK(g.node(mx).op->kind() == Kind::Selection);
    CHECK(g.shape(s) == (keep ? Shape{Shape::free, 1, 4, 1} : Shape{Shape::free, 4}));
    CHECK(g.shape(m) == (keep ? Shape{Shape::free, 3, 1, 5} : Shape{Shape::free, 3, 5}));
    const auto out = g.evaluate(std::vector<Tensor>{a});
    for (int n = 0; n < 2; ++n)
      for (int h = 0; h < 4; ++h) {
        double acc = 0;
        for (int c = 0; c < 3; ++c)
          for (int w = 0; w < 5; ++w) acc += a[((n * 3 + c) * 4 + h) * 5 + w];
        REQUIRE(std::fabs(out[0][n * 4 + h] - acc) < 1e-5);
      }
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 3; ++c)
        for (int w = 0; w < 5; ++w) {
          double acc = 0;
          for (int h = 0; h < 4; ++h) acc += a[((n * 3 + c) * 4 + h) * 5 + w] / 4.0;
          REQUIRE(std::fabs(out[1][(n * 3 + c) * 5 + w] - acc) < 1e-6);
        }
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 3; ++c)
        for (int h = 0; h < 4; ++h) {
          float best = -1e30f;
          for (int w = 0; w < 5; ++w) best = std::max(best, a[((n * 3 + c) * 4 + h) * 5 + w]);
          REQUIRE(out[2][(n * 3 + c) * 4 + h] == best);
        }
    check_all(g, {a}, 1e-3);
  }
  Graph g(4);
  const NodeId x = nn::input(g, "x", {3, 1, 5});
  const NodeId b = nn::broadcast(g, x, {3, 4, 5}, "b");
  g.set_outputs({nn::reduce_sum(g, nn::multiply(g, b, b), {2})});
  g.finalize();
  CHECK(g.node(b).op->kind() == Kind::Structural);
  const Tensor c = randn({2, 3, 1, 5}, 6);
  const Tensor y = g.evaluate(c);
  for (int64_t i = 0; i < y.numel(); ++i) REQUIRE(std::fabs(y[i] - 4.0f * c[i] * c[i]) < 1e-5);
  check_all(g, {c});
  Graph e;
  const NodeId z = nn::input(e, "z", {3, 1, 5});
  REQUIRE_THROWS_AS(nn::reduce_sum(e, z, {0}), ValueError);
  REQUIRE_THROWS_AS(nn::reduce_sum(e, z, {4}), ShapeError);
  REQUIRE_THROWS_AS(nn::reduce_sum(e, z, {1, -3}), ValueError);
  REQUIRE_THROWS_AS(nn::broadcast(e, z, {3, 4, 6}), ShapeError);
}

TEST_CASE("scalar functions: φ against the C library, φ' against finite differences", "[ops][math]") {
  struct Case {
    ops::Math::Fn fn;
    float a, b;
    bool positive;
    float (*ref)(float, float, float);
  };
  const Case cases[] = {
      {ops::Math::Exp, 0, 0, false, [](float x, float, float) { return std::exp(x); }},
      {ops::Math::Log, 0, 0, true, [](float x, float, float) { return std::log(x); }},
      {ops::Math::Sqrt, 0, 0, true, [](float x, float, float) { return std::sqrt(x); }},
      {ops::Math::Reciprocal, 0, 0, true, [](float x, float, float) { return 1.0f / x; }},
      {ops::Math::Pow, 3.0f, 0, false, [](float x, float p, float) { return std::pow(x, p); }},
      {ops::Math::Pow, -0.5f, 0, true, [](float x, float p, float) { return std::pow(x, p); }},
      {ops::Math::Erf, 0, 0, false, [](float x, float, float) { return std::erf(x); }},
      {ops::Math::HardSigmoid, 0.2f, 0.5f, false,
       [](float x, float a, float b) { return std::min(1.0f, std::max(0.0f, a * x + b)); }},
      {ops::Math::HardSwish, 0, 0, false,
       [](float x, float, float) { return x * std::min(1.0f, std::max(0.0f, x / 6.0f + 0.5f)); }},
  };
  for (const Case& c : cases) {
    Graph g(5);
    const NodeId x = nn::input(g, "x", {6});
    const NodeId y = nn::math(g, x, c.fn, c.a, c.b, "f");
    g.set_outputs({y});
    g.finalize();
    INFO(g.node(y).op->type());
    Tensor in = randn({4, 6}, 7, 2.5f);
    if (c.positive)
      for (float& v : in) v = std::fabs(v) + 0.3f;
    const Tensor out = g.evaluate(in);
    for (int64_t i = 0; i < in.numel(); ++i) REQUIRE(std::fabs(out[i] - c.ref(in[i], c.a, c.b)) <= 1e-5f * (1 + std::fabs(out[i])));
    check_all(g, {in});
  }
  Graph g;
  REQUIRE_THROWS_AS(nn::math(g, nn::input(g, "x", {2}), ops::Math::Pow, NAN), ValueError);
}

TEST_CASE("layer_norm and softmax_by_kinds equal their formulas and pass every check", "[ops][layers]") {
  Graph g(6);
  const NodeId x = nn::input(g, "x", {3, 8});
  const NodeId ln = nn::layer_norm(g, x, -1, "ln");
  const NodeId sm = nn::softmax_by_kinds(g, x, 1, "sm");
  const NodeId si = nn::silu(g, x, "silu");
  const NodeId mi = nn::mish(g, x, "mish");
  g.set_outputs({ln, sm, si, mi});
  g.finalize();
  Tensor w = randn({8}, 8), b = randn({8}, 9);
  g.set_parameter("ln.weight", w);
  g.set_parameter("ln.bias", b);
  const Tensor in = randn({2, 3, 8}, 10, 2.0f);
  const auto out = g.evaluate(std::vector<Tensor>{in});
  for (int r = 0; r < 6; ++r) {
    double mean = 0, var = 0;
    for (int i = 0; i < 8; ++i) mean += in[r * 8 + i] / 8.0;
    for (int i = 0; i < 8; ++i) var += (in[r * 8 + i] - mean) * (in[r * 8 + i] - mean) / 8.0;
    for (int i = 0; i < 8; ++i) {
      const double e = (in[r * 8 + i] - mean) / std::sqrt(var + 1e-5) * w[i] + b[i];
      REQUIRE(std::fabs(out[0][r * 8 + i] - e) < 1e-4);
      const double v = in[r * 8 + i];
      REQUIRE(std::fabs(out[2][r * 8 + i] - v / (1 + std::exp(-v))) < 1e-5);
      REQUIRE(std::fabs(out[3][r * 8 + i] - v * std::tanh(std::log1p(std::exp(v)))) < 1e-5);
    }
  }
  for (int n = 0; n < 2; ++n)
    for (int j = 0; j < 8; ++j) {
      double z = 0;
      for (int c = 0; c < 3; ++c) z += std::exp(double(in[(n * 3 + c) * 8 + j]));
      for (int c = 0; c < 3; ++c)
        REQUIRE(std::fabs(out[1][(n * 3 + c) * 8 + j] - std::exp(double(in[(n * 3 + c) * 8 + j])) / z) < 1e-6);
    }
  check_all(g, {in});
}
