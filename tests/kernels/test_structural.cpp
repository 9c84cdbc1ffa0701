// Structural kernels: permutation, concat, slice and pad against PyTorch
// (fixture) and, for shapes too large for a fixture, a naive index-by-index
// reference; every backward is checked to accumulate (+=).
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "testing.hpp"
#include "trim/kernels/structural.hpp"

using namespace trim;
using trim::test::randn;
using trim::test::require_close;

namespace {

/// y[idx] = x[idx permuted], one element at a time.
Tensor naive_permute(const Tensor& x, const std::vector<int>& perm) {
  Shape ys;
  for (int p : perm) ys.push_back(x.dim(p));
  Tensor y(ys);
  const std::vector<int64_t> xstr = row_major_strides(x.shape());
  for (int64_t j = 0; j < y.numel(); ++j) {
    int64_t rest = j, src = 0;
    for (int k = ys.rank() - 1; k >= 0; --k) {
      src += (rest % ys[k]) * xstr[static_cast<size_t>(perm[static_cast<size_t>(k)])];
      rest /= ys[k];
    }
    y[j] = x[src];
  }
  return y;
}

/// A tensor whose element i holds i (so any misplaced element shows).
Tensor iota(const Shape& s) {
  Tensor t(s);
  std::iota(t.begin(), t.end(), 0.0f);
  return t;
}

void require_equal(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  REQUIRE(max_abs_diff(a, b) == 0.0f);
}

}  // namespace

TEST_CASE("transpose matches torch.permute and its gradient", "[kernels][structural]") {
  const test::Fixture f("structural.txt");
  const Tensor& x = f["t_x"];
  const std::vector<std::pair<const char*, std::vector<int>>> cases{
      {"t0231", {0, 2, 3, 1}}, {"t0312", {0, 3, 1, 2}}, {"t0132", {0, 1, 3, 2}}, {"t0213", {0, 2, 1, 3}}};
  for (const auto& [name, perm] : cases) {
    INFO(name);
    const Tensor& want = f[std::string(name) + "_y"];
    Tensor y(want.shape());
    kernels::transpose_forward(x, perm, y);
    require_equal(y, want);
    Tensor dx(x.shape(), 1.0f);  // backward adds
    kernels::transpose_backward(f[std::string(name) + "_u"], perm, dx);
    Tensor expect = f[std::string(name) + "_dx0"];
    for (float& v : expect) v += 1.0f;
    require_close(dx, expect, 1e-6);
  }
}

TEST_CASE("transpose agrees with a naive reference for every permutation", "[kernels][structural]") {
  // All 24 permutations of a rank-4 tensor with a size-1 axis, then shapes
  // crossing several 32×32 tiles with ragged edges, then one large enough
  // to run in parallel.
  std::vector<std::pair<Shape, std::vector<int>>> cases;
  std::vector<int> p{0, 1, 2, 3};
  do cases.push_back({Shape{2, 3, 1, 5}, p});
  while (std::next_permutation(p.begin(), p.end()));
  do cases.push_back({Shape{3, 4, 2, 5}, p});
  while (std::next_permutation(p.begin(), p.end()));
  cases.push_back({Shape{3, 37, 65}, {0, 2, 1}});
  cases.push_back({Shape{2, 70, 3, 40}, {0, 3, 2, 1}});
  cases.push_back({Shape{2, 70, 3, 40}, {0, 2, 3, 1}});
  cases.push_back({Shape{2, 33, 2, 3, 34}, {4, 1, 3, 0, 2}});
  cases.push_back({Shape{8, 90, 100}, {0, 2, 1}});
  cases.push_back({Shape{8, 90, 100}, {1, 0, 2}});
  cases.push_back({Shape{7}, {0}});
  cases.push_back({Shape{}, {}});
  for (const auto& [shape, perm] : cases) {
    std::string perm_str;
    for (int k : perm) perm_str += std::to_string(k) + " ";
    INFO("shape " << shape.str() << " perm " << perm_str);
    const Tensor x = shape.rank() == 0 ? Tensor::scalar(3.0f) : iota(shape);
    const Tensor want = naive_permute(x, perm);
    Tensor y(want.shape());
    kernels::transpose_forward(x, perm, y);
    require_equal(y, want);
    // Backward is the inverse permutation, added to what dx holds.
    Tensor dx(x.shape(), 0.5f);
    kernels::transpose_backward(want, perm, dx);
    Tensor expect = x;
    for (float& v : expect) v += 0.5f;
    require_equal(dx, expect);
  }
  CHECK(kernels::inverse_permutation({0, 3, 1, 2}) == std::vector<int>{0, 2, 3, 1});
}

TEST_CASE("concat matches torch.cat and its gradient", "[kernels][structural]") {
  const test::Fixture f("structural.txt");
  {
    const Tensor &a = f["c_a"], &b = f["c_b"], &c = f["c_c"];
    Tensor y(f["c1_y"].shape());
    kernels::concat_forward({&a, &b, &c}, 1, y);
    require_equal(y, f["c1_y"]);
    Tensor da(a.shape()), dc(c.shape(), 2.0f);
    kernels::concat_backward(f["c1_u"], 1, {3, 2, 1}, {&da, nullptr, &dc});  // b's gradient not needed
    require_equal(da, f["c1_dx0"]);
    Tensor expect = f["c1_dx2"];
    for (float& v : expect) v += 2.0f;
    require_close(dc, expect, 1e-6);
  }
  {
    const Tensor &p = f["c_p"], &q = f["c_q"];
    Tensor y(f["c2_y"].shape());
    kernels::concat_forward({&p, &q}, -1, y);
    require_equal(y, f["c2_y"]);
    Tensor dp(p.shape()), dq(q.shape());
    kernels::concat_backward(f["c2_u"], 2, {1, 2}, {&dp, &dq});
    require_equal(dp, f["c2_dx0"]);
    require_equal(dq, f["c2_dx1"]);
  }
}

TEST_CASE("slice matches torch slicing and its gradient", "[kernels][structural]") {
  const test::Fixture f("structural.txt");
  const Tensor& x = f["s_x"];  // [2,5,6]
  struct Case {
    const char* name;
    int axis;
    int64_t start, step;
  };
  // Bounds resolved as Python does: -4:100:3 of 6 is 2:6:3, 2:-1 is 2:5.
  for (const Case& c : {Case{"s1", 1, 1, 2}, Case{"s2", 2, 2, 3}, Case{"s3", 2, 2, 1}, Case{"s4", 1, 4, 1}}) {
    INFO(c.name);
    const Tensor& want = f[std::string(c.name) + "_y"];
    Tensor y(want.shape());
    kernels::slice_forward(x, c.axis, c.start, c.step, y);
    require_equal(y, want);
    Tensor dx(x.shape(), -1.0f);
    kernels::slice_backward(f[std::string(c.name) + "_u"], c.axis, c.start, c.step, dx);
    Tensor expect = f[std::string(c.name) + "_dx0"];
    for (float& v : expect) v -= 1.0f;
    require_close(dx, expect, 1e-6);
  }
}

TEST_CASE("pad matches torch.nn.functional.pad and its gradient", "[kernels][structural]") {
  const test::Fixture f("structural.txt");
  const Tensor& x = f["p_x"];  // [2,3,4]
  const kernels::PadWidths p0{{0, 0}, {1, 2}, {0, 3}}, p1{{0, 0}, {0, 1}, {2, 1}};
  for (const auto& [name, pads, value] :
       {std::make_tuple("p0", p0, 0.0f), std::make_tuple("p1", p1, 1.5f)}) {
    INFO(name);
    const Tensor& want = f[std::string(name) + "_y"];
    Tensor y(want.shape(), 99.0f);
    kernels::pad_forward(x, pads, value, y);
    require_equal(y, want);
    Tensor dx(x.shape(), 1.0f);
    kernels::pad_backward(f[std::string(name) + "_u"], pads, dx);
    Tensor expect = f[std::string(name) + "_dx0"];
    for (float& v : expect) v += 1.0f;
    require_close(dx, expect, 1e-6);
    // The bias of padding with `value`: zero padding plus the border.
    Tensor z(want.shape());
    kernels::pad_forward(x, pads, 0.0f, z);
    kernels::pad_add_border(z, pads, value);
    require_equal(z, want);
  }
}

TEST_CASE("pad handles every axis, including the first and empty interiors", "[kernels][structural]") {
  const Tensor x({1, 2}, {1.0f, 2.0f});
  Tensor y({3, 5});
  kernels::pad_forward(x, {{1, 1}, {2, 1}}, -1.0f, y);
  const Tensor want({3, 5}, {-1, -1, -1, -1, -1,  //
                             -1, -1, 1, 2, -1,    //
                             -1, -1, -1, -1, -1});
  require_equal(y, want);
  Tensor dx(x.shape());
  kernels::pad_backward(want, {{1, 1}, {2, 1}}, dx);
  require_equal(dx, x);
  // Padding a rank-1 tensor.
  Tensor v({4});
  kernels::pad_forward(Tensor({1}, 7.0f), {{2, 1}}, 0.5f, v);
  require_equal(v, Tensor({4}, {0.5f, 0.5f, 7.0f, 0.5f}));
}
