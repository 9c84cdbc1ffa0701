// The training loop end to end: an MLP learns two interleaved spirals, a
// small CNN learns bar orientation, runs are bit-reproducible by seed, and
// fit / predict / accuracy check their arguments.
#include <cmath>
#include <cstring>
#include <vector>

#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/train/loss.hpp"
#include "trim/train/optimizer.hpp"
#include "trim/train/trainer.hpp"

using namespace trim;
using namespace trim::train;
using trim::test::randn;
using trim::test::require_close;

namespace {

struct Dataset {
  Tensor x;
  Tensor y;  // class indices as floats
};

/// Two interleaved spirals of `per_class` points each (1.5 turns, noisy),
/// classes alternating row by row.
Dataset spirals(int64_t per_class, uint64_t seed) {
  Rng rng(seed);
  Dataset d{Tensor({2 * per_class, 2}), Tensor({2 * per_class})};
  for (int64_t i = 0; i < 2 * per_class; ++i) {
    const int cls = static_cast<int>(i % 2);
    const double t = rng.uniform();
    const double r = 0.15 + 0.85 * t;
    const double angle = 3.0 * M_PI * t + cls * M_PI;
    d.x.at({i, 0}) = static_cast<float>(r * std::cos(angle) + 0.02 * rng.normal());
    d.x.at({i, 1}) = static_cast<float>(r * std::sin(angle) + 0.02 * rng.normal());
    d.y[i] = static_cast<float>(cls);
  }
  return d;
}

Graph mlp(uint64_t seed) {
  Graph g(seed);
  NodeId h = nn::input(g, "x", {2});
  h = nn::relu(g, nn::linear(g, h, 32, "fc1"));
  h = nn::tanh(g, nn::linear(g, h, 32, "fc2"));
  h = nn::linear(g, h, 2, "fc3");
  g.set_outputs({h});
  g.finalize();
  return g;
}

/// 12×12 noise images with one bright bar, horizontal (class 0) or
/// vertical (class 1), of random length and position.
Dataset bars(int64_t n, uint64_t seed) {
  Rng rng(seed);
  Dataset d{Tensor({n, 1, 12, 12}), Tensor({n})};
  rng.fill_normal(d.x, 0.0f, 0.3f);
  for (int64_t i = 0; i < n; ++i) {
    const int cls = static_cast<int>(rng.below(2));
    const int64_t len = 5 + static_cast<int64_t>(rng.below(4));
    const int64_t along = static_cast<int64_t>(rng.below(static_cast<uint64_t>(12 - len + 1)));
    const int64_t across = static_cast<int64_t>(rng.below(12));
    for (int64_t k = along; k < along + len; ++k)
      if (cls == 0)
        d.x.at({i, 0, across, k}) += 1.0f;
      else
        d.x.at({i, 0, k, across}) += 1.0f;
    d.y[i] = static_cast<float>(cls);
  }
  return d;
}

Graph cnn(uint64_t seed) {
  Graph g(seed);
  NodeId h = nn::input(g, "image", {1, 12, 12});
  h = nn::conv2d(g, h, 6, {3, 3}, "conv1", nn::Conv2dOptions().padding(1));
  h = nn::relu(g, h);
  h = nn::max_pool2d(g, h, {4, 4});
  h = nn::flatten(g, h);
  h = nn::linear(g, h, 2, "fc");
  g.set_outputs({h});
  g.finalize();
  return g;
}

bool same_weights(const Graph& a, const Graph& b) {
  for (size_t i = 0; i < a.parameters().size(); ++i) {
    const Tensor& p = a.parameters()[i].value;
    const Tensor& q = b.parameters()[i].value;
    if (p.shape() != q.shape() || std::memcmp(p.data(), q.data(), sizeof(float) * p.numel()) != 0)
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("an MLP learns two interleaved spirals", "[train][fit]") {
  const Dataset train = spirals(200, 1);
  const Dataset test = spirals(200, 2);
  Graph g = mlp(3);
  Adam opt(0.01);
  FitOptions o;
  o.epochs = 80;
  o.batch_size = 32;
  o.seed = 4;
  int calls = 0;
  o.on_epoch = [&](const EpochReport& r) {
    REQUIRE(r.epoch == calls++);
    REQUIRE(r.epochs == 80);
    REQUIRE(r.examples == 400);
    REQUIRE(r.batches == 13);
  };
  const History h = fit(g, train.x, train.y, LossKind::CrossEntropy, opt, o);
  REQUIRE(calls == 80);
  REQUIRE(h.epochs.size() == 80);
  REQUIRE(opt.steps() == 80 * 13);
  INFO("loss " << h.losses().front() << " -> " << h.final_loss());
  REQUIRE(h.final_loss() < 0.2 * h.losses().front());
  const double train_acc = accuracy(predict(g, train.x, 64), train.y);
  const double test_acc = accuracy(predict(g, test.x, 64), test.y);
  INFO("train accuracy " << train_acc << ", held-out accuracy " << test_acc);
  REQUIRE(test_acc > 0.95);
  REQUIRE(evaluate_loss(g, test.x, test.y, LossKind::CrossEntropy) < 0.3);

  // The task is not linearly separable: a linear classifier trained the same
  // way stays far below.
  Graph lin(3);
  lin.set_outputs({nn::linear(lin, nn::input(lin, "x", {2}), 2, "fc")});
  lin.finalize();
  Adam lin_opt(0.01);
  o.on_epoch = nullptr;
  fit(lin, train.x, train.y, LossKind::CrossEntropy, lin_opt, o);
  const double lin_acc = accuracy(predict(lin, test.x), test.y);
  INFO("linear held-out accuracy " << lin_acc);
  REQUIRE(lin_acc < 0.75);
}

TEST_CASE("a small CNN learns bar orientation", "[train][fit]") {
  const Dataset train = bars(256, 5);
  const Dataset test = bars(128, 6);
  Graph g = cnn(7);
  const double before = evaluate_loss(g, test.x, test.y, LossKind::CrossEntropy);
  SGD opt(0.05, 0.9);
  FitOptions o;
  o.epochs = 8;
  o.batch_size = 32;
  o.seed = 8;
  const History h = fit(g, train.x, train.y, LossKind::CrossEntropy, opt, o);
  const double after = evaluate_loss(g, test.x, test.y, LossKind::CrossEntropy);
  const double acc = accuracy(predict(g, test.x), test.y);
  INFO("train loss " << h.losses().front() << " -> " << h.final_loss() << "; held-out loss "
                     << before << " -> " << after << ", accuracy " << acc);
  REQUIRE(h.final_loss() < 0.5 * h.losses().front());
  REQUIRE(after < 0.5 * before);
  REQUIRE(acc > 0.9);
}

TEST_CASE("training is bit-reproducible by seed", "[train][fit]") {
  const Dataset d = spirals(64, 9);
  const auto run = [&](uint64_t graph_seed, uint64_t fit_seed) {
    Graph g = mlp(graph_seed);
    Adam opt(0.01);
    FitOptions o;
    o.epochs = 4;
    o.batch_size = 16;
    o.seed = fit_seed;
    fit(g, d.x, d.y, LossKind::CrossEntropy, opt, o);
    return g;
  };
  const Graph a = run(1, 2);
  REQUIRE(same_weights(a, run(1, 2)));
  REQUIRE_FALSE(same_weights(a, run(1, 3)));  // other shuffle
  REQUIRE_FALSE(same_weights(a, run(5, 2)));  // other initial weights
  // The same holds through conv, pooling and flatten (parallel reductions
  // over the batch must not depend on thread timing).
  const Dataset images = bars(64, 12);
  const auto run_cnn = [&](uint64_t fit_seed) {
    Graph g = cnn(13);
    SGD opt(0.05, 0.9);
    FitOptions o;
    o.epochs = 2;
    o.batch_size = 16;
    o.seed = fit_seed;
    fit(g, images.x, images.y, LossKind::CrossEntropy, opt, o);
    return g;
  };
  const Graph c = run_cnn(14);
  REQUIRE(same_weights(c, run_cnn(14)));
  REQUIRE_FALSE(same_weights(c, run_cnn(15)));
  // Graph::initialize(seed) reproduces the weights of Graph(seed).
  Graph g = mlp(1);
  g.initialize(5);
  REQUIRE(same_weights(g, mlp(5)));
}

TEST_CASE("fit with a custom loss recovers a linear map", "[train][fit]") {
  // y = x Aᵀ + b exactly; SGD with momentum on MSE finds A and b.
  const Tensor a({2, 3}, {1.0f, -2.0f, 0.5f, 0.0f, 3.0f, -1.0f});
  const Tensor b({2}, {0.5f, -1.0f});
  const Tensor x = randn({96, 3}, 10);
  Tensor y({96, 2});
  for (int64_t i = 0; i < 96; ++i)
    for (int64_t o = 0; o < 2; ++o) {
      float s = b[o];
      for (int64_t k = 0; k < 3; ++k) s += a.at({o, k}) * x.at({i, k});
      y.at({i, o}) = s;
    }
  Graph g(11);
  const NodeId out = nn::linear(g, nn::input(g, "x", {3}), 2, "fc");
  g.set_outputs({out});
  g.finalize();
  int loss_calls = 0;
  const LossFn loss = [&](const Tensor& p, const Tensor& t) {
    ++loss_calls;
    REQUIRE(p.dim(0) == t.dim(0));
    return mse_loss(p, t);
  };
  SGD opt(0.05, 0.9);
  FitOptions o;
  o.epochs = 60;
  o.batch_size = 20;  // 96 = 4·20 + 16: the last minibatch is smaller
  const History h = fit(g, x, y, loss, opt, o);
  REQUIRE(loss_calls == 60 * 5);
  REQUIRE(h.epochs.back().batches == 5);
  REQUIRE(h.final_loss() < 1e-6);
  require_close(g.parameter("fc.weight").value, a, 1e-3, 1e-1);
  require_close(g.parameter("fc.bias").value, b, 1e-3, 1e-1);

  o.epochs = 1;
  o.drop_last = true;
  const History dropped = fit(g, x, y, loss, opt, o);
  REQUIRE(dropped.epochs[0].batches == 4);
  REQUIRE(dropped.epochs[0].examples == 80);
}

TEST_CASE("predict evaluates in batches like one forward", "[train][predict]") {
  Graph g(12);
  NodeId h = nn::input(g, "x", {4});
  h = nn::linear(g, nn::linear(g, h, 5, "a"), 3, "b");
  g.set_outputs({h});
  g.finalize();
  const Tensor x = randn({23, 4}, 13);
  const Tensor whole = g.evaluate(x);
  for (int64_t bs : {1, 5, 23, 100}) require_close(predict(g, x, bs), whole, 1e-5, 1e-1);
  REQUIRE(predict(g, Tensor({0, 4})).shape() == Shape{0, 3});
  REQUIRE(evaluate_loss(g, x, whole, LossKind::MSE) == 0.0);
}

TEST_CASE("accuracy counts arg-max hits", "[train][predict]") {
  const Tensor logits({4, 3}, {0, 1, 0, 5, 2, 2, 1, 1, 1, -1, -2, 3});
  REQUIRE(accuracy(logits, std::vector<int64_t>{1, 0, 0, 2}) == 1.0);  // ties: lowest class
  REQUIRE(accuracy(logits, Tensor({4}, {1, 1, 0, 0})) == 0.5);
  REQUIRE(accuracy(Tensor({3}, {-1, 2, 0}), std::vector<int64_t>{0, 1, 1}) == Approx(2.0 / 3));
  REQUIRE(accuracy(Tensor({3, 1}, {-1, 2, 0}), Tensor({3}, {0, 1, 0})) == 1.0);
  REQUIRE_THROWS_WITH(accuracy(logits, Tensor({4}, {1, 3, 0, 0})),
                      Catch::StartsWith("accuracy") && Catch::Contains("row 1"));
  REQUIRE_THROWS_AS(accuracy(logits, Tensor({3})), ShapeError);
  REQUIRE_THROWS_AS(accuracy(Tensor({2, 2, 2}), Tensor({2})), ShapeError);
}

TEST_CASE("fit and predict reject what they cannot train", "[train][fit]") {
  Graph g(1);
  g.set_outputs({nn::linear(g, nn::input(g, "x", {3}), 2, "fc")});
  g.finalize();
  SGD opt(0.1);
  const Tensor x = randn({10, 3}, 1);
  const Tensor y({10});
  FitOptions o;
  REQUIRE_THROWS_WITH(
      fit(g, x, Tensor({9}), LossKind::CrossEntropy, opt, o),
      Catch::StartsWith("fit") && Catch::Contains("[10,3]") && Catch::Contains("[9]"));
  REQUIRE_THROWS_WITH(
      fit(g, randn({10, 4}, 2), y, LossKind::CrossEntropy, opt, o),
      Catch::Contains("input 'x'") && Catch::Contains("[10,4]") && Catch::Contains("[*,3]"));
  o.batch_size = 0;
  REQUIRE_THROWS_WITH(fit(g, x, y, LossKind::CrossEntropy, opt, o), Catch::Contains("batch_size"));
  o.batch_size = 16;
  o.drop_last = true;
  REQUIRE_THROWS_WITH(fit(g, x, y, LossKind::CrossEntropy, opt, o), Catch::Contains("drop_last"));
  o.drop_last = false;
  o.epochs = -1;
  REQUIRE_THROWS_AS(fit(g, x, y, LossKind::CrossEntropy, opt, o), ValueError);
  o.epochs = 1;
  REQUIRE_THROWS_WITH(fit(g, x, Tensor({10}, 5.0f), LossKind::CrossEntropy, opt, o),
                      Catch::Contains("label 5") && Catch::Contains("[0,2)"));
  const LossFn bad = [](const Tensor& p, const Tensor&) {
    return LossResult{1.0, Tensor({p.dim(0)})};
  };
  REQUIRE_THROWS_WITH(fit(g, x, y, bad, opt, o),
                      Catch::Contains("gradient [10]") && Catch::Contains("[10,2]"));
  const LossFn diverged = [](const Tensor& p, const Tensor&) {
    return LossResult{NAN, Tensor(p.shape())};
  };
  REQUIRE_THROWS_WITH(fit(g, x, y, diverged, opt, o), Catch::Contains("diverged"));
  REQUIRE_THROWS_AS(predict(g, x, 0), ValueError);

  Graph two(1);
  const NodeId a = nn::input(two, "a", {3});
  const NodeId b = nn::input(two, "b", {3});
  two.set_outputs({nn::add(two, a, b)});
  two.finalize();
  REQUIRE_THROWS_WITH(fit(two, x, y, LossKind::MSE, opt, o),
                      Catch::StartsWith("fit") && Catch::Contains("one input and one output") &&
                          Catch::Contains("2 inputs"));
  REQUIRE_THROWS_WITH(predict(two, x), Catch::StartsWith("predict") && Catch::Contains("2 inputs"));

  Graph open(1);
  open.set_outputs({nn::linear(open, nn::input(open, "x", {3}), 2, "fc")});
  REQUIRE_THROWS_WITH(predict(open, x), Catch::Contains("finalize"));
}
