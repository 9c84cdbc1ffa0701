// Wavelet transforms: spec strings and their errors, the flattened layout
// against PyWavelets fixtures (tests/reference/make_dwt.py), perfect
// reconstruction, the inverse op's exact adjoint, gradient and kind checks,
// TRIM composition and the wavelet groupings.

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "composition.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"
#include "trim/transforms/wavelet.hpp"

using namespace trim;
using trim::test::message_of;
using trim::test::randn;
using trim::test::require_close;
using trim::test::require_ok;

namespace {

Shape with_batch(int64_t n, const Shape& s) {
  Shape r{n};
  for (int64_t v : s) r.push_back(v);
  return r;
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) s += double(a[i]) * b[i];
  return s;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (float v : t) m = std::max(m, double(std::fabs(v)));
  return m;
}

/// max |t[i] − v[i]| (sizes must match).
double max_diff(const Tensor& t, const std::vector<float>& v) {
  REQUIRE(t.numel() == int64_t(v.size()));
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, double(std::fabs(t[i] - v[size_t(i)])));
  return m;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Graph inverse_graph(const Transform& t) {
  Graph g;
  const NodeId in = nn::input(g, "s", t.coefficient_shape());
  g.set_outputs({add_inverse(g, in, t, "inv")});
  g.finalize();
  return g;
}

/// Specs covering every mode, both dimensionalities, biorthogonal and
/// orthogonal wavelets, odd sizes, shorter-than-filter sizes, channels.
struct Case {
  std::string spec;
  Shape shape;
};
std::vector<Case> adjoint_cases() {
  std::vector<Case> c;
  for (const char* mode : {"zero", "constant", "symmetric", "reflect", "periodic", "smooth", "antisymmetric",
                           "antireflect", "periodization"}) {
    c.push_back({std::string("dwt1:bior2.4:2:") + mode, {2, 13}});
    c.push_back({std::string("dwt1:db3:3:") + mode, {5}});
    c.push_back({std::string("dwt2:rbio3.3:2:") + mode, {2, 9, 7}});
    c.push_back({std::string("dwt2:db2:2:") + mode, {6, 10}});
  }
  c.push_back({"swt1:bior2.2:2", {2, 12}});
  c.push_back({"swt2:db2", {8, 4}});
  c.push_back({"swt2:sym3:1", {2, 6, 10}});
  return c;
}

}  // namespace

TEST_CASE("wavelet spec strings: defaults, canonical form and shapes", "[transform][wavelet]") {
  auto t = make_transform("dwt2:db4", {1, 28, 28});
  CHECK(t->spec() == "dwt2:db4:2:symmetric");  // pywt.dwt_max_level(28, 8) == 2
  CHECK(t->axes() == 2);
  // pywt.wavedec2(zeros((28, 28)), 'db4', level=2): 17x17 at level 1, 12x12 at level 2.
  CHECK(t->coefficient_shape() == Shape({1, 12 * 12 * 4 + 17 * 17 * 3}));
  CHECK(make_transform(t->spec(), {1, 28, 28})->coefficient_shape() == t->coefficient_shape());
  CHECK(make_transform("dwt2:db4::periodization", {28, 28})->spec() == "dwt2:db4:2:periodization");
  CHECK(make_transform("dwt1:haar:3:periodization", {3, 16})->coefficient_shape() == Shape({3, 16}));
  CHECK(make_transform("dwt1:db2:0", {7})->coefficient_shape() == Shape({7}));
  auto s = make_transform("swt2:haar", {2, 8, 12});
  CHECK(s->spec() == "swt2:haar:2");
  CHECK(s->coefficient_shape() == Shape({2, 7, 8, 12}));
  CHECK(make_transform("swt1:db2:3", {16})->coefficient_shape() == Shape({4, 16}));
  const auto* w = dynamic_cast<const WaveletTransform*>(t.get());
  REQUIRE(w != nullptr);
  CHECK(w->level() == 2);
  CHECK(w->wavelet().name == "db4");
  CHECK(w->channels() == 1);
  CHECK(w->layout().bands.size() == 7);
  CHECK(make_wavelet("dwt1", "sym4", -1, kernels::DwtMode::Zero, {100})->spec() == "dwt1:sym4:3:zero");
}

TEST_CASE("wavelet spec errors name the bad part", "[transform][wavelet]") {
  std::string m = message_of<ValueError>([] { make_transform("dwt2:db39:2", {32, 32}); });
  CHECK(contains(m, "'dwt2:db39:2'"));
  CHECK(contains(m, "unknown wavelet 'db39'"));
  CHECK(contains(m, "did you mean 'db38'"));
  m = message_of<ValueError>([] { make_transform("dwt2:db4:x", {32, 32}); });
  CHECK(contains(m, "bad level 'x'"));
  m = message_of<ValueError>([] { make_transform("dwt1:db4:99999", {32}); });
  CHECK(contains(m, "level 99999 too high"));
  CHECK(contains(m, "dwt_max_level for size 32 is 2"));
  m = message_of<ValueError>([] { make_transform("dwt2:db4:99999999999", {32, 32}); });
  CHECK(contains(m, "bad level '99999999999'"));
  m = message_of<ValueError>([] { make_transform("dwt1:db4:-1", {32}); });
  CHECK(contains(m, "level -1"));
  m = message_of<ValueError>([] { make_transform("dwt1:db4:2:symetric", {32}); });
  CHECK(contains(m, "unknown wavelet mode 'symetric'"));
  m = message_of<ValueError>([] { make_transform("dwt1", {32}); });
  CHECK(contains(m, "missing wavelet"));
  m = message_of<ValueError>([] { make_transform("dwt1:db4:2:zero:extra", {32}); });
  CHECK(contains(m, "unexpected part 'extra'"));
  m = message_of<ValueError>([] { make_transform("swt1:db4:2:zero", {32}); });
  CHECK(contains(m, "takes no mode"));
  m = message_of<ValueError>([] { make_transform("dwt1:haar:1:reflect", {1}); });
  CHECK(contains(m, "reflect"));
  CHECK(contains(m, "'dwt1:haar:1:reflect'"));
  m = message_of<ValueError>([] { make_transform("swt1:haar", {7}); });
  CHECK(contains(m, "must be even"));
  m = message_of<ValueError>([] { make_transform("swt2:haar:3", {8, 12}); });
  CHECK(contains(m, "level 3 too high"));
  m = message_of<ShapeError>([] { make_transform("dwt2:db2", {8}); });
  CHECK(contains(m, "[8]"));
  CHECK_THROWS_AS(make_transform("dwt2:db2", {0, 8}), ShapeError);
  CHECK_THROWS_AS(make_wavelet("dwt4", "db2", 1, kernels::DwtMode::Zero, {8}), ValueError);
}

TEST_CASE("wavelet coefficients are pywt's arrays raveled and concatenated", "[transform][wavelet]") {
  // Flatten fixture arrays [2, ...] of one case per example, in band order.
  auto concat = [](const std::vector<const Tensor*>& parts) {
    std::vector<float> out;
    for (int64_t b = 0; b < 2; ++b)
      for (const Tensor* p : parts) {
        const int64_t n = p->numel() / 2;
        out.insert(out.end(), p->data() + b * n, p->data() + (b + 1) * n);
      }
    return out;
  };
  {  // pywt.wavedec2(x, 'db2', 'symmetric', level=2) for x [2, 11, 14]
    const test::Fixture f("dwt_2d.txt");
    const std::string key = "wavedec2_0_";
    const Tensor& x = f[key + "x"];
    std::vector<const Tensor*> parts{&f[key + "a"]};
    for (int j = 0; j < 2; ++j)
      for (const char* o : {"h", "v", "d"}) parts.push_back(&f[key + o + std::to_string(j)]);
    const std::vector<float> expected = concat(parts);
    // As a batch of two examples, and as one example with two channels.
    for (bool channels : {false, true}) {
      INFO("channels " << channels);
      const auto t = make_transform("dwt2:db2:2", channels ? Shape{2, 11, 14} : Shape{11, 14});
      const Tensor s = t->forward(channels ? x.reshaped({1, 2, 11, 14}) : x);
      REQUIRE(s.shape() == (channels ? Shape{1, 2, 268} : Shape{2, 268}));
      REQUIRE(s.numel() == int64_t(expected.size()));
      REQUIRE(max_diff(s, expected) <= 1e-5 * max_abs(x));
      require_close(t->inverse(s), channels ? x.reshaped({1, 2, 11, 14}) : x, 1e-5, 1.0, "reconstruction");
    }
  }
  {  // pywt.wavedec(x, 'coif1', 'antireflect', level=2) for x [2, 29]
    const test::Fixture f("dwt_multilevel.txt");
    const Tensor& x = f["wavedec5_x"];
    const std::vector<float> expected = concat({&f["wavedec5_c0"], &f["wavedec5_c1"], &f["wavedec5_c2"]});
    const auto t = make_transform("dwt1:coif1:2:antireflect", {29});
    const Tensor s = t->forward(x);
    REQUIRE(s.numel() == int64_t(expected.size()));
    REQUIRE(max_diff(s, expected) <= 1e-5 * max_abs(x));
  }
  {  // pywt.swt(x, 'db2', level=3, trim_approx=True) stacked: [2, 4, 16]
    const test::Fixture f("dwt_swt.txt");
    const Tensor& x = f["swt0_x"];
    const std::vector<float> expected = concat({&f["swt0_c0"], &f["swt0_c1"], &f["swt0_c2"], &f["swt0_c3"]});
    const auto t = make_transform("swt1:db2:3", {16});
    const Tensor s = t->forward(x);
    REQUIRE(s.shape() == Shape({2, 4, 16}));
    REQUIRE(max_diff(s, expected) <= 1e-5 * max_abs(x));
    // and iswt of arbitrary coefficients
    const std::vector<float> r = concat({&f["swt0_r0"], &f["swt0_r1"], &f["swt0_r2"], &f["swt0_r3"]});
    require_close(t->inverse(Tensor({2, 4, 16}, r)), f["swt0_rec"], 1e-5, 1.0, "iswt");
  }
  {  // pywt.swt2(x, 'db2', level=2, trim_approx=True) for one 8x12 image
    const test::Fixture f("dwt_swt.txt");
    const Tensor& x = f["swt2_0_x"];
    const auto t = make_transform("swt2:db2:2", {8, 12});
    const Tensor s = t->forward(x.reshaped({1, 8, 12}));
    const char* names[] = {"a", "h0", "v0", "d0", "h1", "v1", "d1"};
    for (int band = 0; band < 7; ++band) {
      const Tensor& ref = f[std::string("swt2_0_") + names[band]];
      double err = 0.0;
      for (int64_t i = 0; i < 96; ++i) err = std::max(err, double(std::fabs(s[band * 96 + i] - ref[i])));
      INFO("band " << names[band]);
      REQUIRE(err <= 1e-5 * max_abs(x));
    }
  }
}

TEST_CASE("wavelet perfect reconstruction and inverse op equals inverse()", "[transform][wavelet]") {
  uint64_t seed = 50;
  for (const Case& c : adjoint_cases()) {
    INFO(c.spec << " on " << c.shape.str());
    const auto t = make_transform(c.spec, c.shape);
    REQUIRE(t->exact());
    const Tensor x = randn(with_batch(3, c.shape), ++seed);
    const Tensor s = t->forward(x);
    REQUIRE(s.shape() == with_batch(3, t->coefficient_shape()));
    require_close(t->inverse(s), x, 1e-5, 1.0, "reconstruction");
    Graph g = inverse_graph(*t);
    const Tensor r = randn(s.shape(), ++seed);
    require_close(g.evaluate(r), t->inverse(r), 1e-6, 1e-3, "graph vs inverse()");
  }
  const auto dmey = make_transform("dwt2:dmey:1", {64, 64});
  CHECK_FALSE(dmey->exact());
  const Tensor x = randn({1, 64, 64}, 3);
  const Tensor back = dmey->inverse(dmey->forward(x));
  CHECK(max_abs_diff(back, x) < 1e-2 * max_abs(x));  // PyWavelets' own dmey accuracy
}

TEST_CASE("wavelet inverse op backward is the exact adjoint, every mode", "[transform][wavelet]") {
  uint64_t seed = 500;
  for (const Case& c : adjoint_cases()) {
    INFO(c.spec << " on " << c.shape.str());
    const auto t = make_transform(c.spec, c.shape);
    Graph g = inverse_graph(*t);
    const Tensor s = randn(with_batch(2, t->coefficient_shape()), ++seed);
    const Tensor u = randn(with_batch(2, t->input_shape()), ++seed);
    Workspace ws;
    forward(g, ws, {s});
    const Tensor as = outputs(g, ws)[0];
    const Tensor atu = backward(g, ws, {u}).inputs.at(0);
    REQUIRE(atu.shape() == s.shape());
    const double lhs = dot(as, u), rhs = dot(s, atu);
    const double scale = std::sqrt(dot(as, as) * dot(u, u)) + std::sqrt(dot(s, s) * dot(atu, atu));
    INFO("<As,u> = " << lhs << ", <s,Atu> = " << rhs);
    CHECK(std::fabs(lhs - rhs) <= 1e-5 * scale);
  }
}

TEST_CASE("wavelet adjoint differs from the forward transform where it must", "[transform][wavelet]") {
  // Biorthogonal wavelet or non-periodic mode: Aᵀ ≠ T. Orthogonal + periodization: Aᵀ = T.
  const Tensor u = randn({1, 32}, 77);
  auto adjoint = [&u](const Transform& t) {
    Graph g = inverse_graph(t);
    Workspace ws;
    forward(g, ws, {Tensor(with_batch(1, t.coefficient_shape()))});
    return backward(g, ws, {u}).inputs.at(0);
  };
  const auto per = make_transform("dwt1:db3:2:periodization", {32});
  CHECK(max_abs_diff(adjoint(*per), per->forward(u)) < 1e-5);
  const auto bior = make_transform("dwt1:bior2.4:2:periodization", {32});
  CHECK(max_abs_diff(adjoint(*bior), bior->forward(u)) > 1e-2);
  const auto sym = make_transform("dwt1:db3:2:symmetric", {32});
  CHECK(max_abs_diff(adjoint(*sym), sym->forward(u)) > 1e-2);
}

TEST_CASE("wavelet inverse op passes check_gradients and check_kind", "[transform][wavelet]") {
  for (const char* spec : {"dwt1:bior2.4:2:smooth", "dwt2:db2:2:antireflect", "dwt2:rbio3.3:1:periodization",
                           "swt2:haar:1", "swt1:db2:2"}) {
    INFO(spec);
    const Shape shape = spec[3] == '2' ? Shape{2, 8, 7} : Shape{2, 12};
    const Shape use = std::string(spec).rfind("swt2", 0) == 0 ? Shape{2, 8, 6} : shape;
    const auto t = make_transform(spec, use);
    Graph g;
    const NodeId in = nn::input(g, "s", t->coefficient_shape());
    const NodeId inv = add_inverse(g, in, *t, "inv");
    g.set_outputs({inv});
    g.finalize();
    REQUIRE(g.node(inv).op->kind() == Kind::Linear);
    const Tensor s = randn(with_batch(2, t->coefficient_shape()), 7);
    require_ok(check_gradients(g, {s}));
    require_ok(check_kind(g, inv, {s}));
  }
}

TEST_CASE("wavelet inverse op rejects wrong shapes and outlives its transform", "[transform][wavelet]") {
  auto t = make_transform("dwt2:db2:2", {2, 9, 7});
  Graph bad;
  const NodeId b = nn::input(bad, "s", {2, 9, 7});
  std::string m = message_of<ShapeError>([&] { add_inverse(bad, b, *t, "inv"); });
  CHECK(contains(m, "'inv'"));
  CHECK(contains(m, "[*,2,9,7]"));
  CHECK(contains(m, "[*," + std::to_string(t->coefficient_shape()[0]) + "," +
                        std::to_string(t->coefficient_shape()[1]) + "]"));
  CHECK_THROWS_AS(t->forward(Tensor(Shape{1, 9, 7})), ShapeError);
  CHECK_THROWS_AS(t->inverse(Tensor(Shape{1, 9, 7})), ShapeError);

  const Tensor x = randn({2, 2, 9, 7}, 5);
  const Tensor s = t->forward(x);
  const Shape coef = t->coefficient_shape();
  const std::shared_ptr<const Op> op = t->inverse_op();
  CHECK(op->type() == "inverse_dwt2");
  t.reset();
  Graph g;
  const NodeId in = nn::input(g, "s", coef);
  g.set_outputs({g.add(op, {in}, {})});
  g.finalize();
  require_close(g.evaluate(s), x, 1e-5, 1.0);
}

TEST_CASE("TRIM composition: model on wavelet inverse(T(x)) equals model on x", "[transform][wavelet]") {
  for (const char* spec : {"dwt2:db4:2:symmetric", "dwt2:bior2.2::periodization", "swt2:db1:1", "dwt1:sym3:2:zero"}) test::check_trim_composition(spec, Shape{2, 12, 10});
}

TEST_CASE("wavelet groupings partition the coefficients", "[transform][wavelet][grouping]") {
  for (const Case& c : std::vector<Case>{{"dwt2:db2:3", {2, 19, 16}}, {"dwt1:haar:2", {9}}, {"swt2:haar:2", {8, 8}},
                                         {"swt1:db2:1", {3, 6}}}) {
    INFO(c.spec);
    const auto t = make_transform(c.spec, c.shape);
    const auto* w = dynamic_cast<const WaveletTransform*>(t.get());
    REQUIRE(w);
    const int n = w->level();
    const bool two = c.spec[3] == '2';
    const int64_t numel = t->coefficient_shape().numel();
    for (const Grouping& g : {wavelet_subbands(*t), wavelet_levels(*t), wavelet_coefficients(*t)}) {
      REQUIRE(g.coefficient_shape == t->coefficient_shape());
      REQUIRE(int64_t(g.labels.size()) == numel);
      REQUIRE(g.centers.size() == g.names.size());
      CHECK(g.units == "level");
      std::vector<int64_t> count(static_cast<size_t>(g.size()), 0);
      int64_t outside = 0;
      for (int32_t l : g.labels) {
        if (l < 0 || l >= g.size())
          ++outside;
        else
          ++count[static_cast<size_t>(l)];
      }
      REQUIRE(outside == 0);  // a partition: every coefficient in exactly one group
      CHECK(std::count(count.begin(), count.end(), 0) == 0);
      CHECK(std::set<std::string>(g.names.begin(), g.names.end()).size() == g.names.size());
    }
    const Grouping sb = wavelet_subbands(*t);
    CHECK(sb.size() == 1 + (two ? 3 : 1) * n);
    CHECK(sb.names.front() == "cA_" + std::to_string(n));
    CHECK(sb.names.back() == "cD_1");
    if (two) CHECK(sb.names[1] == "cH_" + std::to_string(n));
    CHECK(sb.centers.front() == n + 1);
    CHECK(sb.centers.back() == 1);
    const Grouping lv = wavelet_levels(*t);
    CHECK(lv.size() == n + 1);
    CHECK(lv.names[1] == "level_" + std::to_string(n));
    CHECK(wavelet_coefficients(*t).size() == numel);

    // Band-passed parts of the sub-band partition sum back to x.
    const Tensor x = randn(with_batch(2, c.shape), 31);
    Tensor sum(x.shape());
    for (int gi = 0; gi < sb.size(); ++gi) sum.as_vector() += bandpass(*t, x, sb, gi).as_vector();
    require_close(sum, x, 1e-4, 1.0, "sum of sub-band parts");
  }
  // Channels share the band labels; coefficient names carry the channel.
  const auto t = make_transform("dwt2:db2:1", {2, 4, 4});
  const Grouping sb = wavelet_subbands(*t);
  const int64_t per = t->coefficient_shape()[1];
  CHECK(std::equal(sb.labels.begin(), sb.labels.begin() + per, sb.labels.begin() + per));
  const Grouping co = wavelet_coefficients(*t);
  CHECK(co.names.front() == "ch0:cA_1[0,0]");
  CHECK(co.names[size_t(per)] == "ch1:cA_1[0,0]");
  CHECK(wavelet_coefficients(*make_transform("dwt1:haar:1", {4})).names.back() == "cD_1[1]");
  // Not a wavelet transform.
  const std::string m = message_of<ValueError>([] { wavelet_subbands(*make_transform("fft2", {4, 4})); });
  CHECK(contains(m, "wavelet_subbands"));
  CHECK(contains(m, "'fft2'"));
}
