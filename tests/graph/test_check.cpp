// The checkers must catch wrong gradients and false kind declarations;
// otherwise every op test that relies on them proves nothing.
#include "testing.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"

using namespace trim;
using test::randn;

namespace {

/// y = x² declared as Elementwise with a configurable (possibly wrong) φ'.
class Square : public ElementwiseOp {
 public:
  explicit Square(float dphi_scale) : scale_(dphi_scale) {}
  std::string type() const override { return "square"; }
  void phi(const float* x, float* y, int64_t n) const override {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * x[i];
  }
  void dphi(const float* x, float* d, int64_t n) const override {
    for (int64_t i = 0; i < n; ++i) d[i] = scale_ * 2 * x[i];
  }

 private:
  float scale_;
};

/// y = x² falsely claiming to be ReLU-like (it is not positively homogeneous).
class SquareReluLike final : public Square {
 public:
  SquareReluLike() : Square(1.0f) {}
  bool relu_like() const override { return true; }
};

/// y = x² falsely declared Linear (no bias).
class FakeLinear : public Op {
 public:
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "fake_linear"; }
  Shape infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string&) const override {
    return in[0];
  }
  void forward(const OpArgs& a, Tensor& y) const override {
    for (int64_t i = 0; i < y.numel(); ++i) y[i] = a.input()[i] * a.input()[i];
  }
  void forward_unbiased(const OpArgs& a, Tensor& y) const override { forward(a, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}
  void backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const override {
    if (g.input(0))
      for (int64_t i = 0; i < dy.numel(); ++i) (*g.input(0))[i] += 2 * a.input()[i] * dy[i];
  }
};

/// Declared Sum but computes a − b.
class FakeSum : public Op {
 public:
  Kind kind() const override { return Kind::Sum; }
  std::string type() const override { return "fake_sum"; }
  int arity() const override { return 2; }
  Shape infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string&) const override {
    return in[0];
  }
  void forward(const OpArgs& a, Tensor& y) const override {
    for (int64_t i = 0; i < y.numel(); ++i) y[i] = a.input(0)[i] - a.input(1)[i];
  }
  void backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const override {
    for (int64_t i = 0; i < dy.numel(); ++i) {
      if (g.input(0)) (*g.input(0))[i] += dy[i];
      if (g.input(1)) (*g.input(1))[i] -= dy[i];
    }
  }
};

/// Declared Selection of the larger neighbour pair element, but reports the
/// smaller one's index.
class FakeSelect : public Op {
 public:
  Kind kind() const override { return Kind::Selection; }
  std::string type() const override { return "fake_select"; }
  Shape infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string&) const override {
    return {in[0][0], in[0][1] / 2};
  }
  void forward(const OpArgs& a, Tensor& y) const override {
    for (int64_t j = 0; j < y.numel(); ++j) y[j] = std::max(a.input()[2 * j], a.input()[2 * j + 1]);
  }
  void select_indices(const OpArgs& a, std::vector<int64_t>& idx) const override {
    idx.resize(static_cast<size_t>(a.input().numel() / 2));
    for (size_t j = 0; j < idx.size(); ++j)
      idx[j] = a.input()[2 * j] < a.input()[2 * j + 1] ? 2 * j : 2 * j + 1;
  }
  void backward(const OpArgs&, const Tensor&, const Tensor&, const OpGrads&) const override {}
};

Graph single(std::shared_ptr<const Op> op, int inputs = 1) {
  Graph g;
  std::vector<NodeId> xs;
  for (int i = 0; i < inputs; ++i) xs.push_back(nn::input(g, "x" + std::to_string(i), {6}));
  g.set_outputs({g.add(std::move(op), xs, {}, "op")});
  g.finalize();
  return g;
}

}  // namespace

TEST_CASE("check_gradients accepts a right and rejects a wrong backward", "[check]") {
  Graph good = single(std::make_shared<Square>(1.0f));
  Graph bad = single(std::make_shared<Square>(1.1f));
  const Tensor x = randn({3, 6}, 1);
  test::require_ok(check_gradients(good, {x}));
  const CheckResult r = check_gradients(bad, {x});
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.report, Catch::Contains("input 'x0'"));
}

TEST_CASE("check_gradients covers parameters", "[check]") {
  Graph g;
  const NodeId x = nn::input(g, "x", {4});
  g.set_outputs({nn::linear(g, x, 3, "fc")});
  g.finalize();
  test::require_ok(check_gradients(g, {randn({2, 4}, 3)}));
}

TEST_CASE("check_kind rejects false declarations", "[check]") {
  const Tensor x = randn({3, 6}, 2);
  test::require_ok(check_kind(single(std::make_shared<Square>(1.0f)), 1, {x}));
  const CheckResult wrong_dphi = check_kind(single(std::make_shared<Square>(1.5f)), 1, {x});
  REQUIRE_FALSE(wrong_dphi.ok);
  REQUIRE_THAT(wrong_dphi.report, Catch::Contains("finite differences"));
  const CheckResult nonlinear = check_kind(single(std::make_shared<FakeLinear>()), 1, {x});
  REQUIRE_FALSE(nonlinear.ok);
  REQUIRE_THAT(nonlinear.report, Catch::Contains("not linear"));
  const CheckResult not_sum = check_kind(single(std::make_shared<FakeSum>(), 2), 2, {x, randn({3, 6}, 3)});
  REQUIRE_FALSE(not_sum.ok);
  const CheckResult misrouted = check_kind(single(std::make_shared<FakeSelect>()), 1, {x});
  REQUIRE_FALSE(misrouted.ok);
  REQUIRE_THAT(misrouted.report, Catch::Contains("x[index[j]]"));
  const CheckResult not_relu = check_kind(single(std::make_shared<SquareReluLike>()), 1, {x});
  REQUIRE_FALSE(not_relu.ok);
  REQUIRE_THAT(not_relu.report, Catch::Contains("relu_like"));
}
