// 3-D transforms (fft3, rfft3, dct3, dwt3) against NumPy / SciPy /
// PyWavelets (tests/reference/make_transform3d.py), perfect reconstruction,
// the inverse ops' exact adjoints, radial shells of |k| and the dwt3 groupings.
#include <cmath>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/wavelet.hpp"

using namespace trim;
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

const char* const kSpecs[] = {"fft3",          "fft3:ortho:polar",     "rfft3:forward",     "rfft3:polar",
                              "dct3",          "dct3:ortho",           "dwt3:haar:2",       "dwt3:db2:1:periodization",
                              "dwt3:bior2.2:1:reflect", "dwt3:db2:2:zero", "dwt3:haar:2:smooth"};

}  // namespace

TEST_CASE("3-D transforms equal NumPy, SciPy and PyWavelets", "[transform][transform3d]") {
  const test::Fixture f("transform3d.txt");
  const Tensor& xe = f["x_even"];  // [1, 6, 8, 10]
  const Tensor& xo = f["x_odd"];   // [1, 5, 6, 7]
  require_close(make_transform("fft3:ortho", {6, 8, 10})->forward(xe), f["fft3_ortho"], 1e-5, 1e-1, "fft3");
  require_close(make_transform("rfft3", {6, 8, 10})->forward(xe), f["rfft3"], 1e-5, 1.0, "rfft3");
  require_close(make_transform("rfft3", {5, 6, 7})->forward(xo), f["rfft3_odd"], 1e-5, 1.0, "rfft3 odd");
  require_close(make_transform("dct3:ortho", {5, 6, 7})->forward(xo), f["dct3_ortho"], 1e-5, 1e-1, "dct3");
  struct Case {
    const char* spec;
    const Tensor* x;
    const char* name;
  };
  for (const Case& c : {Case{"dwt3:haar:2:symmetric", &xe, "dwt3_even_haar_2_symmetric"},
                        Case{"dwt3:db2:2:zero", &xe, "dwt3_even_db2_2_zero"},
                        Case{"dwt3:db2:1:periodization", &xo, "dwt3_odd_db2_1_periodization"},
                        Case{"dwt3:bior2.2:1:reflect", &xo, "dwt3_odd_bior2_2_1_reflect"},
                        Case{"dwt3:haar:2:smooth", &xo, "dwt3_odd_haar_2_smooth"}}) {
    INFO(c.spec);
    Shape in;
    for (int a = 1; a < 4; ++a) in.push_back(c.x->dim(a));
    const auto t = make_transform(c.spec, in);
    CHECK(t->spec() == c.spec);
    require_close(t->forward(*c.x), f[c.name], 1e-5, 1e-1, c.spec);
  }
}

TEST_CASE("3-D transforms: perfect reconstruction, channels, graph inverse and exact adjoint",
          "[transform][transform3d]") {
  uint64_t seed = 300;
  const Shape shape{2, 5, 6, 7};  // two channels of 5x6x7 volumes
  for (const char* spec : kSpecs) {
    INFO(spec);
    const auto t = make_transform(spec, shape);
    CHECK(t->axes() == 3);
    const Tensor x = randn(with_batch(2, shape), ++seed);
    const Tensor s = t->forward(x);
    require_close(t->inverse(s), x, 1e-5, 1.0, "reconstruction");
    // Channels are independent volumes: channel 1 of the batch = its own transform.
    Shape one{5, 6, 7};
    const auto t1 = make_transform(spec, one);
    Tensor x1(with_batch(1, one));
    std::copy(x.begin() + 210, x.begin() + 420, x1.begin());
    const Tensor s1 = t1->forward(x1);
    Tensor part(s1.shape());
    std::copy(s.begin() + s1.numel(), s.begin() + 2 * s1.numel(), part.begin());
    require_close(part, s1, 1e-6, 1e-3, "channel 1");

    Graph g;
    const NodeId in = nn::input(g, "s", t->coefficient_shape());
    g.set_outputs({add_inverse(g, in, *t)});
    g.finalize();
    require_close(g.evaluate(s), x, 1e-5, 1.0, "graph reconstruction");
    if (t->polar()) continue;  // nonlinear inverse: gradients are checked in test_polar.cpp
    // <T⁻¹ r, u> = <r, (T⁻¹)ᵀ u> for arbitrary coefficients r.
    const Tensor r = randn(s.shape(), ++seed);
    const Tensor u = randn(x.shape(), ++seed);
    Workspace ws;
    forward(g, ws, {r});
    const Tensor ar = outputs(g, ws)[0];
    const Tensor atu = backward(g, ws, {u}).inputs.at(0);
    const double lhs = dot(ar, u), rhs = dot(r, atu);
    const double scale = std::sqrt(dot(ar, ar) * dot(u, u)) + std::sqrt(dot(r, r) * dot(atu, atu));
    INFO("<Ar,u> = " << lhs << ", <r,Atu> = " << rhs);
    CHECK(std::fabs(lhs - rhs) <= 1e-5 * scale);
  }
}

TEST_CASE("3-D inverse ops pass check_gradients and check_kind", "[transform][transform3d]") {
  for (const char* spec : {"rfft3:ortho", "dwt3:db2:1:symmetric", "fft3:polar"}) {
    INFO(spec);
    const auto t = make_transform(spec, {4, 5, 6});
    Graph g;
    const NodeId in = nn::input(g, "s", t->coefficient_shape());
    const NodeId inv = add_inverse(g, in, *t, "inv");
    g.set_outputs({nn::tanh(g, inv)});
    g.finalize();
    const Tensor s = t->forward(randn({1, 4, 5, 6}, 9, 0.2f));
    require_ok(check_gradients(g, {s}));
    require_ok(check_kind(g, inv, {s}));
  }
}

TEST_CASE("3-D radial shells of |k| match NumPy", "[transform][transform3d][grouping]") {
  const test::Fixture f("transform3d.txt");
  for (const char* spec : {"fft3", "rfft3"}) {
    INFO(spec);
    const Tensor& want = f[std::string(spec) == "fft3" ? "shells_fft" : "shells_rfft"];
    const Grouping g = radial_bands(*make_transform(spec, {6, 8, 10}), 4);
    REQUIRE(g.size() == 4);
    CHECK(g.names.back() == "1.30-1.73");
    REQUIRE(g.labels.size() == static_cast<size_t>(2 * want.numel()));
    for (int64_t i = 0; i < want.numel(); ++i) {
      INFO("bin " << i);
      REQUIRE(g.labels[static_cast<size_t>(2 * i)] == static_cast<int32_t>(want[i]));
      REQUIRE(g.labels[static_cast<size_t>(2 * i + 1)] == static_cast<int32_t>(want[i]));
    }
  }
}

TEST_CASE("3-D transforms answer what they are", "[transform][transform3d]") {
  const auto f = make_transform("fft3", {1, 6, 8, 10});
  CHECK(f->family() == "fft3");
  CHECK(f->coefficient_layout() == CoefficientLayout::Spectrum);
  CHECK(f->coefficient_shape() == Shape{1, 6, 8, 10, 2});
  CHECK(make_transform("rfft3", {6, 8, 9})->coefficient_shape() == Shape{6, 8, 5, 2});
  CHECK(signal_shape_for("fft3", {1, 6, 8, 10, 2}) == Shape{1, 6, 8, 10});
  CHECK(signal_shape_for("rfft3", {6, 8, 5, 2}) == Shape{6, 8, 8});
  CHECK_FALSE(signal_shape_for("dwt3:haar", {1, 100}).has_value());
  const auto w = make_transform("dwt3:haar:2", {1, 6, 8, 10});
  CHECK(w->family() == "dwt3");
  CHECK(w->coefficient_layout() == CoefficientLayout::Subbands);
  CHECK(w->figure_kind() == FigureKind::Grid);
  CHECK(w->groupings() == std::vector<std::string>{"subbands", "levels"});
  const Grouping sb = wavelet_subbands(*w);
  REQUIRE(sb.size() == 15);
  CHECK(sb.names[0] == "cA_2");
  CHECK(sb.names[1] == "aad_2");
  CHECK(sb.names[7] == "ddd_2");
  CHECK(sb.names[14] == "ddd_1");
  const Grouping lv = wavelet_levels(*w);
  CHECK(lv.names == std::vector<std::string>{"cA_2", "level_2", "level_1"});
  const Grouping each = wavelet_coefficients(*w);
  CHECK(each.names[1] == "cA_2[0,0,1]");
  // cA_2 of 6x8x10 is 2x2x3 (haar halves each axis, rounding up).
  CHECK(dynamic_cast<const WaveletTransform&>(*w).layout().bands[0].shape == std::vector<int64_t>{2, 2, 3});
  CHECK_THROWS_WITH(make_transform("dwt3:haar", {8, 8}), Catch::Contains("at least 3"));
  CHECK_THROWS_WITH(make_transform("fft3", {8, 8}), Catch::Contains("at least 3"));
}
