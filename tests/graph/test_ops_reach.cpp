// Upsampling and volume ops: transposed convolution, resize, conv3d and the
// 3-D pools, against PyTorch fixtures (tests/reference/make_reach_ops.py) on
// odd sizes, strides, groups, paddings and dilations, then check_gradients
// and check_kind on each.
#include <cmath>
#include <string>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/conv_transpose.hpp"
#include "trim/graph/ops/resize.hpp"
#include "trim/graph/ops/volume.hpp"

using namespace trim;
using trim::test::require_ok;

namespace {

int64_t cfg(const Tensor& c, int i) { return static_cast<int64_t>(std::lround(c[i])); }

void close(const Tensor& a, const Tensor& ref, double rtol, const std::string& what) {
  double m = 0.0;
  for (float v : ref) m = std::max(m, double(std::fabs(v)));
  test::require_close(a, ref, rtol, std::max(1e-3, 0.1 * m), what);
}

/// x -> op -> output with the fixture's parameters; forward and gradients
/// against PyTorch, then the numerical checks.
template <class Build>
void check_fixture(const test::Fixture& f, Kind kind, bool weights, bool bias, Build build) {
  Graph g(5);
  const NodeId x = nn::input(g, "x", test::per_example(f["x"].shape()));
  const NodeId y = build(g, x);
  g.set_outputs({y});
  g.finalize();
  REQUIRE(g.node(y).op->kind() == kind);
  if (weights) g.set_parameter("op.weight", f["weight"]);
  if (bias) g.set_parameter("op.bias", f["bias"]);
  Workspace ws;
  forward(g, ws, {f["x"]});
  close(ws.value(y), f["y"], 1e-5, "y");
  const Gradients grads = backward(g, ws, {f["u"]}, weights);
  close(grads.inputs[0], f["dx"], 1e-4, "dx");
  if (weights) close(grads.params[0], f["dweight"], 1e-4, "dweight");
  if (bias) close(grads.params[1], f["dbias"], 1e-4, "dbias");
  GradcheckOptions go;
  go.parameters = weights;
  Tensor xc = f["x"];
  if (kind == Kind::Selection)  // distinct values 0.1 apart (no ties): finite differences stay valid
    for (int64_t i = 0; i < xc.numel(); ++i) xc[i] = 0.1f * static_cast<float>((i * 7919) % xc.numel());
  require_ok(check_gradients(g, {xc}, go));
  require_ok(check_kind(g, y, {xc}));
}

}  // namespace

TEST_CASE("conv_transpose matches torch's ConvTranspose1d/2d and passes the checks", "[ops][conv_transpose]") {
  for (const char* name : {"2d_basic", "2d_groups", "2d_dilated", "2d_k2s2", "1d_basic", "1d_depthwise"}) {
    SECTION(name) {
      const test::Fixture f(std::string("reach/convt_") + name + ".txt");
      const Tensor& c = f["config"];
      nn::ConvTransposeOptions o;
      o.stride = {cfg(c, 0), cfg(c, 1)};
      o.pads = {cfg(c, 2), cfg(c, 3), cfg(c, 4), cfg(c, 5)};
      o.output_padding = {cfg(c, 6), cfg(c, 7)};
      o.dilation = {cfg(c, 8), cfg(c, 9)};
      o.groups = cfg(c, 10);
      o.bias = cfg(c, 11) != 0;
      const Shape w = f["weight"].shape();
      const int64_t cout = w[1] * o.groups;
      check_fixture(f, Kind::Linear, true, o.bias, [&](Graph& g, NodeId x) {
        return w.rank() == 3 ? nn::conv_transpose1d(g, x, cout, w[2], "op", o)
                             : nn::conv_transpose2d(g, x, cout, {w[2], w[3]}, "op", o);
      });
    }
  }
}

TEST_CASE("conv_transpose rejects bad configurations with the layer's name", "[ops][conv_transpose]") {
  Graph g(1);
  const NodeId x = nn::input(g, "x", {4, 5, 5});
  nn::ConvTransposeOptions o;
  o.stride = {2, 2};
  o.output_padding = {2, 0};
  CHECK_THROWS_WITH(nn::conv_transpose2d(g, x, 3, {3, 3}, "up", o),
                    Catch::Contains("conv_transpose2d 'up'") && Catch::Contains("output_padding"));
  o.output_padding = {0, 0};
  o.groups = 3;
  CHECK_THROWS_WITH(nn::conv_transpose2d(g, x, 3, {3, 3}, "up", o), Catch::Contains("groups 3"));
  o.groups = 1;
  o.pads = {6, 6, 6, 6};
  CHECK_THROWS_WITH(nn::conv_transpose2d(g, x, 3, {2, 2}, "up", o), Catch::Contains("remove the whole output"));
  const NodeId ok = nn::conv_transpose2d(g, x, 6, {3, 3}, "up2", nn::ConvTransposeOptions().strides(2));
  CHECK(g.shape(ok) == Shape{Shape::free, 6, 11, 11});
  CHECK(g.parameter("up2.weight").value.shape() == Shape{4, 6, 3, 3});
}

TEST_CASE("resize matches torch's F.interpolate and ONNX's reference, and passes the checks", "[ops][resize]") {
  // torch's modes, then the ONNX backend's NumPy reference for the ones torch does not write.
  for (const char* name : {"nearest2x", "nearest_size", "nearest_down", "bilinear2x", "bilinear_ac", "bilinear_odd",
                           "bicubic", "bicubic_ac", "linear1d", "nearest1d", "trilinear", "onnx_nearest_rpc_half",
                           "onnx_nearest_ceil_asym", "onnx_nearest_rpf_pyhalf", "onnx_nearest_floor_half",
                           "onnx_linear_pyhalf_len1", "onnx_linear_ac_down", "onnx_cubic_a05_asym"}) {
    SECTION(name) {
      const test::Fixture f(std::string("reach/resize_") + name + ".txt");
      const Tensor& c = f["config"];
      const int sd = f["x"].rank() - 2;
      kernels::ResizeConfig rc;
      rc.mode = static_cast<kernels::ResizeMode>(cfg(c, 0));
      rc.coordinates = static_cast<kernels::ResizeCoordinates>(cfg(c, 1));
      rc.nearest = static_cast<kernels::ResizeNearest>(cfg(c, 2));
      if (f.has("cubic_a")) rc.cubic_a = f["cubic_a"][0];
      for (int k = 0; k < sd; ++k) {
        rc.scales.push_back(c[3 + k]);
        rc.sizes.push_back(cfg(c, 3 + sd + k));
      }
      check_fixture(f, Kind::Linear, false, false, [&](Graph& g, NodeId x) { return nn::resize(g, x, rc, "op"); });
    }
  }
}

TEST_CASE("resize rejects bad sizes and modes", "[ops][resize]") {
  Graph g(1);
  const NodeId x = nn::input(g, "x", {2, 4, 4});
  kernels::ResizeConfig rc;
  rc.scales = {2.0};
  CHECK_THROWS_WITH(nn::resize(g, x, rc, "r"), Catch::Contains("spatial axes"));
  rc.scales = {2.0, -1.0};
  CHECK_THROWS_WITH(nn::resize(g, x, rc, "r"), Catch::Contains("scale"));
  CHECK_THROWS_WITH(kernels::parse_resize_mode("area"), Catch::Contains("nearest, linear, cubic"));
  CHECK_THROWS_WITH(kernels::parse_resize_coordinates("tf_crop_and_resize"), Catch::Contains("not supported"));
}

TEST_CASE("conv3d matches torch's Conv3d and passes the checks", "[ops][volume]") {
  for (const char* name : {"basic", "mixed", "pointwise", "dilated"}) {
    SECTION(name) {
      const test::Fixture f(std::string("reach/conv3d_") + name + ".txt");
      const Tensor& c = f["config"];
      kernels::Conv3dConfig cc;
      cc.stride = {cfg(c, 0), cfg(c, 1), cfg(c, 2)};
      for (int k = 0; k < 6; ++k) cc.pads[static_cast<size_t>(k)] = cfg(c, 3 + k);
      cc.dilation = {cfg(c, 9), cfg(c, 10), cfg(c, 11)};
      cc.groups = cfg(c, 12);
      const bool bias = cfg(c, 13) != 0;
      const Shape w = f["weight"].shape();
      check_fixture(f, Kind::Linear, true, bias,
                    [&](Graph& g, NodeId x) { return nn::conv3d(g, x, w[0], {w[2], w[3], w[4]}, "op", cc, bias); });
    }
  }
}

TEST_CASE("3-D max and average pooling match torch and pass the checks", "[ops][volume]") {
  for (const char* name : {"max_basic", "max_pad_ceil", "avg_basic", "avg_pad_incl", "avg_pad_excl"}) {
    SECTION(name) {
      const test::Fixture f(std::string("reach/pool3d_") + name + ".txt");
      const Tensor& c = f["config"];
      kernels::Pool3dWindow w;
      for (size_t k = 0; k < 3; ++k) {
        w.kernel[k] = cfg(c, static_cast<int>(k));
        w.stride[k] = cfg(c, 3 + static_cast<int>(k));
      }
      for (size_t k = 0; k < 6; ++k) w.pads[k] = cfg(c, 6 + static_cast<int>(k));
      w.ceil_mode = cfg(c, 12) != 0;
      w.count_include_pad = cfg(c, 13) != 0;
      const bool is_max = name[0] == 'm';
      check_fixture(f, is_max ? Kind::Selection : Kind::Linear, false, false, [&](Graph& g, NodeId x) {
        return is_max ? nn::max_pool3d(g, x, w, "op") : nn::avg_pool3d(g, x, w, "op");
      });
    }
  }
}

TEST_CASE("3-D ops reject bad windows with the node's name", "[ops][volume]") {
  Graph g(1);
  const NodeId x = nn::input(g, "x", {2, 3, 3, 3});
  kernels::Pool3dWindow w;
  w.kernel = {4, 2, 2};
  CHECK_THROWS_WITH(nn::max_pool3d(g, x, w, "p"), Catch::Contains("smaller than the kernel"));
  w.kernel = {2, 2, 2};
  w.pads = {2, 0, 0, 0, 0, 0};
  CHECK_THROWS_WITH(nn::avg_pool3d(g, x, w, "p"), Catch::Contains("half of the kernel"));
  kernels::Conv3dConfig cc;
  cc.groups = 3;
  CHECK_THROWS_WITH(nn::conv3d(g, x, 3, {1, 1, 1}, "c", cc), Catch::Contains("conv3d 'c'"));
  const NodeId y = nn::conv3d(g, x, 4, {2, 2, 2}, "c2", kernels::Conv3dConfig{});
  CHECK(g.shape(y) == Shape{Shape::free, 4, 2, 2, 2});
}

TEST_CASE("batch_constant repeats its value over the batch and is pure bias", "[ops][batch_constant]") {
  Graph g(1);
  const NodeId x = nn::input(g, "x", {2, 3});
  const Tensor v = test::randn({4, 2}, 3);
  const NodeId c = g.add(std::make_shared<ops::BatchConstant>(), {x},
                         {g.add_parameter("v", v, Init::keep(), false)}, "c");
  const NodeId y = nn::add(g, c, nn::reshape(g, nn::linear(g, nn::flatten(g, x), 8, "fc"), {4, 2}));
  g.set_outputs({y});
  g.finalize();
  CHECK(g.shape(c) == Shape{Shape::free, 4, 2});
  const Tensor xs = test::randn({3, 2, 3}, 4);
  Workspace ws;
  forward(g, ws, {xs});
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t i = 0; i < 8; ++i) REQUIRE(ws.value(c)[n * 8 + i] == v[i]);
  require_ok(check_gradients(g, {xs}));
  require_ok(check_kind(g, c, {xs}));
}
