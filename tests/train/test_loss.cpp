// Losses: values and gradients against torch.nn.MSELoss / CrossEntropyLoss,
// gradients against central differences, stability and argument checks.
#include <cmath>
#include <functional>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/train/loss.hpp"

using namespace trim;
using namespace trim::train;
using trim::test::randn;
using trim::test::require_close;

namespace {

/// Central differences of `f` at `x`, element by element, in double.
Tensor numeric_grad(const std::function<double(const Tensor&)>& f, const Tensor& x, float h) {
  Tensor g(x.shape());
  Tensor xp = x;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = x[i];
    xp[i] = v + h;
    const double fp = f(xp);
    xp[i] = v - h;
    const double fm = f(xp);
    xp[i] = v;
    g[i] = static_cast<float>((fp - fm) / (double(v + h) - double(v - h)));
  }
  return g;
}

std::vector<int64_t> as_indices(const Tensor& labels) {
  std::vector<int64_t> out;
  for (float v : labels) out.push_back(static_cast<int64_t>(v));
  return out;
}

}  // namespace

TEST_CASE("mse_loss matches torch.nn.MSELoss", "[train][loss]") {
  const test::Fixture f("train_loss.txt");
  const LossResult r = mse_loss(f["mse_pred"], f["mse_target"]);
  REQUIRE(r.value == Approx(f["mse_value"][0]).epsilon(1e-6));
  require_close(r.grad, f["mse_grad"], 1e-5, 1e-3, "mse grad");
  REQUIRE(loss_function(LossKind::MSE)(f["mse_pred"], f["mse_target"]).value == r.value);
}

TEST_CASE("cross_entropy_loss matches torch.nn.CrossEntropyLoss", "[train][loss]") {
  const test::Fixture f("train_loss.txt");
  const Tensor& logits = f["ce_logits"];
  SECTION("class indices as a tensor") {
    const LossResult r = cross_entropy_loss(logits, f["ce_labels"]);
    REQUIRE(r.value == Approx(f["ce_value"][0]).epsilon(1e-6));
    require_close(r.grad, f["ce_grad"], 1e-5, 1e-3, "ce grad");
    REQUIRE(loss_function(LossKind::CrossEntropy)(logits, f["ce_labels"]).value == r.value);
  }
  SECTION("class indices as a vector") {
    const LossResult r = cross_entropy_loss(logits, as_indices(f["ce_labels"]));
    REQUIRE(r.value == Approx(f["ce_value"][0]).epsilon(1e-6));
    require_close(r.grad, f["ce_grad"], 1e-5, 1e-3, "ce grad");
  }
  SECTION("probability targets") {
    const LossResult r = cross_entropy_loss(logits, f["ce_probs"]);
    REQUIRE(r.value == Approx(f["ce_soft_value"][0]).epsilon(1e-6));
    require_close(r.grad, f["ce_soft_grad"], 1e-5, 1e-3, "soft ce grad");
  }
}

TEST_CASE("loss gradients agree with central differences", "[train][loss]") {
  const Tensor pred = randn({4, 3}, 1);
  const Tensor target = randn({4, 3}, 2);
  const LossResult mse = mse_loss(pred, target);
  const Tensor mse_fd =
      numeric_grad([&](const Tensor& p) { return mse_loss(p, target).value; }, pred, 1e-2f);
  require_close(mse.grad, mse_fd, 1e-3, 1e-2, "mse");

  const Tensor logits = randn({5, 4}, 3, 2.0f);
  const std::vector<int64_t> labels{3, 0, 1, 1, 2};
  const LossResult ce = cross_entropy_loss(logits, labels);
  const Tensor ce_fd = numeric_grad(
      [&](const Tensor& z) { return cross_entropy_loss(z, labels).value; }, logits, 1e-2f);
  require_close(ce.grad, ce_fd, 1e-3, 1e-2, "ce");

  Tensor probs = randn({5, 4}, 4);
  for (float& v : probs) v = std::fabs(v);
  const LossResult soft = cross_entropy_loss(logits, probs);
  const Tensor soft_fd = numeric_grad(
      [&](const Tensor& z) { return cross_entropy_loss(z, probs).value; }, logits, 1e-2f);
  require_close(soft.grad, soft_fd, 1e-3, 1e-2, "soft ce");
}

TEST_CASE("cross_entropy_loss is finite for extreme logits", "[train][loss]") {
  const Tensor logits({3, 3}, {1e30f, -1e30f, 0.0f, 88.0f, 89.0f, 90.0f, -1e4f, -1e4f, -1e4f});
  const LossResult r = cross_entropy_loss(logits, std::vector<int64_t>{1, 2, 0});
  REQUIRE(std::isfinite(r.value));
  for (float g : r.grad) REQUIRE(std::isfinite(g));
  // Row 0 picks a class 2e30 below the maximum: loss 2e30 / 3 from that row.
  REQUIRE(r.value == Approx(2e30 / 3).epsilon(1e-3));
  // Equal logits: log C per row, gradient 1/C − 1 on the label.
  REQUIRE(r.grad.at({2, 0}) == Approx((1.0 / 3 - 1) / 3));
  REQUIRE(r.grad.at({2, 1}) == Approx((1.0 / 3) / 3));
  // Gradients of every row sum to zero (softmax minus a one-hot).
  for (int64_t i = 0; i < 3; ++i)
    REQUIRE(r.grad.at({i, 0}) + r.grad.at({i, 1}) + r.grad.at({i, 2}) == Approx(0.0).margin(1e-7));
}

TEST_CASE("losses reject bad shapes and labels with clear messages", "[train][loss]") {
  REQUIRE_THROWS_WITH(mse_loss(Tensor({3, 4}), Tensor({4, 3})), Catch::StartsWith("mse_loss") &&
                                                                    Catch::Contains("[3,4]") &&
                                                                    Catch::Contains("[4,3]"));
  REQUIRE_THROWS_AS(mse_loss(Tensor({3, 4}), Tensor({12})), ShapeError);
  REQUIRE_THROWS_AS(mse_loss(Tensor({0, 4}), Tensor({0, 4})), ValueError);

  const Tensor logits = randn({3, 4}, 5);
  REQUIRE_THROWS_WITH(cross_entropy_loss(Tensor({12}), Tensor({12})),
                      Catch::StartsWith("cross_entropy_loss") && Catch::Contains("[N,C]"));
  REQUIRE_THROWS_WITH(cross_entropy_loss(logits, Tensor({3}, {0, 4, 1})),
                      Catch::StartsWith("cross_entropy_loss") && Catch::Contains("label 4") &&
                          Catch::Contains("row 1") && Catch::Contains("[0,4)"));
  REQUIRE_THROWS_WITH(cross_entropy_loss(logits, Tensor({3}, {0, 1, -1})),
                      Catch::Contains("label -1") && Catch::Contains("row 2"));
  REQUIRE_THROWS_WITH(cross_entropy_loss(logits, Tensor({3}, {0, 1.5f, 2})),
                      Catch::Contains("row 1") && Catch::Contains("not an integer"));
  REQUIRE_THROWS_AS(cross_entropy_loss(logits, Tensor({3}, {0, NAN, 2})), ValueError);
  REQUIRE_THROWS_WITH(
      cross_entropy_loss(logits, Tensor({2})),
      Catch::StartsWith("cross_entropy_loss") && Catch::Contains("[2]") && Catch::Contains("[3]"));
  REQUIRE_THROWS_AS(cross_entropy_loss(logits, Tensor({3, 5})), ShapeError);
  REQUIRE_THROWS_AS(cross_entropy_loss(logits, std::vector<int64_t>{0, 1}), ShapeError);
  REQUIRE_THROWS_WITH(cross_entropy_loss(logits, std::vector<int64_t>{0, 1, 7}),
                      Catch::Contains("label 7") && Catch::Contains("row 2"));
}
