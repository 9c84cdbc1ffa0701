// make_transform spec parsing, identity, add_inverse, and the TRIM
// composition model ∘ inverse evaluated on T(x).

#include <string>

#include "composition.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/transform.hpp"

using namespace trim;
using trim::test::message_of;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

TEST_CASE("transform spec strings round-trip", "[transform]") {
  for (const char* name : {"fft1", "fft2", "rfft1", "rfft2", "dct1", "dct2"}) {
    const std::string n = name;
    CHECK(make_transform(n, {3, 6, 5})->spec() == n);
    CHECK(make_transform(n + ":backward", {3, 6, 5})->spec() == n);
    CHECK(make_transform(n + ":ortho", {3, 6, 5})->spec() == n + ":ortho");
    CHECK(make_transform(n + ":forward", {3, 6, 5})->spec() == n + ":forward");
    const auto t = make_transform(n + ":ortho", {3, 6, 5});
    CHECK(make_transform(t->spec(), {3, 6, 5})->coefficient_shape() == t->coefficient_shape());
  }
  CHECK(make_transform("identity", {4})->spec() == "identity");
}

TEST_CASE("transform spec errors name the bad part", "[transform]") {
  std::string m = message_of<ValueError>([] { make_transform("fft4:ortho", {8, 8}); });
  CHECK(m.find("unknown transform 'fft4'") != std::string::npos);
  CHECK(m.find("'fft4:ortho'") != std::string::npos);
  m = message_of<ValueError>([] { make_transform("fft2:orth", {8, 8}); });
  CHECK(m.find("unknown normalisation 'orth'") != std::string::npos);
  m = message_of<ValueError>([] { make_transform("rfft1:", {8}); });
  CHECK(m.find("unknown normalisation ''") != std::string::npos);
  CHECK_THROWS_AS(make_transform("", {8}), ValueError);
  CHECK_THROWS_AS(make_transform("FFT2", {8, 8}), ValueError);
  CHECK_THROWS_AS(make_transform("identity:ortho", {8}), ValueError);
  m = message_of<ShapeError>([] { make_transform("fft2", {8}); });
  CHECK(m.find("fft2") != std::string::npos);
  CHECK(m.find("[8]") != std::string::npos);
  CHECK_THROWS_AS(make_transform("dct1", Shape{}), ShapeError);
  CHECK_THROWS_AS(make_transform("rfft2:ortho", {1, 0, 4}), ShapeError);
  CHECK_NOTHROW(make_transform("dct2", {8, 8}));
}

TEST_CASE("identity transform", "[transform]") {
  const auto t = make_transform("identity", {2, 5});
  CHECK(t->axes() == 0);
  CHECK(t->coefficient_shape() == Shape{2, 5});
  const Tensor x = randn({3, 2, 5}, 1);
  require_close(t->forward(x), x, 0.0);
  require_close(t->inverse(x), x, 0.0);
  Graph g;
  const NodeId in = nn::input(g, "s", t->coefficient_shape());
  const NodeId inv = add_inverse(g, in, *t);
  CHECK(g.node(inv).name == "inverse");
  g.set_outputs({inv});
  g.finalize();
  require_close(g.evaluate(x), x, 0.0);
  require_ok(check_gradients(g, {x}));
  require_ok(check_kind(g, inv, {x}));
  Graph bad;
  const NodeId b = nn::input(bad, "s", {2, 4});
  CHECK_THROWS_AS(add_inverse(bad, b, *t), ShapeError);
}

TEST_CASE("TRIM composition: model on inverse(T(x)) equals model on x", "[transform]") {
  for (const char* spec : {"fft2", "rfft2:ortho", "dct2:forward", "fft1:ortho", "identity"}) test::check_trim_composition(spec, Shape{2, 6, 5});
}
