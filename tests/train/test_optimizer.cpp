// SGD and Adam against torch.optim on fixed gradient sequences, plus state,
// buffer and argument handling.
#include <memory>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/graph.hpp"
#include "trim/train/optimizer.hpp"

using namespace trim;
using namespace trim::train;
using trim::test::require_close;

namespace {

/// A graph holding the fixture's two parameters and a buffer in between
/// (which the optimiser must leave alone and which has no gradient).
Graph parameter_graph(const test::Fixture& f) {
  Graph g;
  g.add_parameter("p0", f["p0"]);
  g.add_parameter("buffer", Tensor({2}, 7.0f), Init::keep(), false);
  g.add_parameter("p1", f["p1"]);
  return g;
}

Gradients gradients(const test::Fixture& f, int k) {
  Gradients grads;
  grads.params = {f["g0_" + std::to_string(k)], Tensor(), f["g1_" + std::to_string(k)]};
  return grads;
}

void check_against_torch(const std::string& config, Optimizer& opt) {
  const test::Fixture f("train_optim.txt");
  Graph g = parameter_graph(f);
  for (int k = 0; k < 5; ++k) {
    opt.step(g, gradients(f, k));
    const std::string at = config + " step " + std::to_string(k);
    require_close(g.parameter("p0").value, f[config + "_p0_" + std::to_string(k)], 1e-6, 1e-1,
                  at + " p0");
    require_close(g.parameter("p1").value, f[config + "_p1_" + std::to_string(k)], 1e-6, 1e-1,
                  at + " p1");
  }
  REQUIRE(opt.steps() == 5);
  require_close(g.parameter("buffer").value, Tensor({2}, 7.0f), 0.0);
}

}  // namespace

TEST_CASE("SGD matches torch.optim.SGD", "[train][optim]") {
  SECTION("plain") {
    SGD opt(0.1);
    check_against_torch("sgd", opt);
  }
  SECTION("momentum, dampening and weight decay") {
    SGD opt(0.05, 0.9, 0.01, false, 0.1);
    check_against_torch("sgd_momentum", opt);
  }
  SECTION("nesterov with weight decay") {
    SGD opt(0.05, 0.8, 0.05, true);
    check_against_torch("sgd_nesterov", opt);
  }
}

TEST_CASE("Adam matches torch.optim.Adam", "[train][optim]") {
  SECTION("defaults") {
    Adam opt(0.01);
    check_against_torch("adam", opt);
  }
  SECTION("betas, eps and weight decay") {
    Adam opt(0.02, 0.8, 0.99, 1e-6, 0.1);
    check_against_torch("adam_wd", opt);
  }
}

TEST_CASE("optimiser state can be reset and the learning rate changed", "[train][optim]") {
  const test::Fixture f("train_optim.txt");
  Graph a = parameter_graph(f);
  Graph b = parameter_graph(f);
  Adam opt(0.01);
  opt.step(a, gradients(f, 0));
  opt.step(a, gradients(f, 1));
  opt.reset();
  REQUIRE(opt.steps() == 0);
  // After reset the optimiser behaves as a new one: first step of b equals
  // torch's first step.
  opt.step(b, gradients(f, 0));
  require_close(b.parameter("p0").value, f["adam_p0_0"], 1e-6, 1e-1);

  SGD sgd(0.1);
  sgd.set_lr(0.0);
  const Tensor before = b.parameter("p0").value;
  sgd.step(b, gradients(f, 2));
  require_close(b.parameter("p0").value, before, 0.0);
  REQUIRE(sgd.lr() == 0.0);
  REQUIRE_THROWS_AS(sgd.set_lr(-1.0), ValueError);
}

TEST_CASE("optimisers reject bad arguments and mismatched gradients", "[train][optim]") {
  REQUIRE_THROWS_AS(SGD(-0.1), ValueError);
  REQUIRE_THROWS_AS(SGD(0.1, -0.5), ValueError);
  REQUIRE_THROWS_AS(SGD(0.1, 0.9, -1.0), ValueError);
  REQUIRE_THROWS_WITH(SGD(0.1, 0.0, 0.0, true),
                      Catch::StartsWith("sgd") && Catch::Contains("nesterov"));
  REQUIRE_THROWS_WITH(SGD(0.1, 0.9, 0.0, true, 0.5), Catch::Contains("dampening"));
  REQUIRE_THROWS_WITH(Adam(1e-3, 1.0), Catch::StartsWith("adam") && Catch::Contains("beta1"));
  REQUIRE_THROWS_AS(Adam(1e-3, 0.9, -0.1), ValueError);
  REQUIRE_THROWS_AS(Adam(1e-3, 0.9, 0.999, -1e-8), ValueError);
  REQUIRE_THROWS_AS(Adam(1e-3, 0.9, 0.999, 1e-8, -0.1), ValueError);

  const test::Fixture f("train_optim.txt");
  Graph g = parameter_graph(f);
  const Tensor p0 = g.parameter("p0").value;
  SGD opt(0.1);
  Gradients too_few;
  too_few.params = {f["g0_0"]};
  REQUIRE_THROWS_WITH(opt.step(g, too_few), Catch::StartsWith("sgd step") &&
                                                Catch::Contains("1 parameter gradients") &&
                                                Catch::Contains("3 parameters"));
  Gradients missing = gradients(f, 0);
  missing.params[2] = Tensor();
  REQUIRE_THROWS_WITH(opt.step(g, missing),
                      Catch::Contains("'p1'") && Catch::Contains("with_params"));
  Gradients wrong = gradients(f, 0);
  wrong.params[0] = Tensor({4, 3});
  REQUIRE_THROWS_WITH(opt.step(g, wrong), Catch::Contains("'p0'") && Catch::Contains("[4,3]") &&
                                              Catch::Contains("[3,4]"));
  // Nothing changed on a failed step (validation precedes updates).
  require_close(g.parameter("p0").value, p0, 0.0);
  REQUIRE(opt.steps() == 0);

  opt.step(g, gradients(f, 0));
  Graph other;
  other.add_parameter("w", Tensor({2}));
  Gradients og;
  og.params = {Tensor({2})};
  REQUIRE_THROWS_WITH(opt.step(other, og), Catch::Contains("one optimiser per graph"));
}
