#include "trim/graph/ops/dense.hpp"

#include <algorithm>

#include "over_elements.hpp"
#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"
#include "trim/kernels/dense.hpp"

namespace trim::ops {

// ---- Dense --------------------------------------------------------------------

Shape Dense::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                         const std::string& where) const {
  const Shape& w = params.at(0);
  const Shape& x = in.at(0);
  if (x.rank() < 2)
    throw ShapeError(where + ": input " + x.str() + ", expected rank >= 2 ([*,in])");
  if (w.rank() != 2) throw ShapeError(where + ": weight " + w.str() + ", expected [out,in]");
  if (x[x.rank() - 1] != w[1])
    throw ShapeError(where + ": input " + x.str() + ", expected [*," + std::to_string(w[1]) + "]");
  if (bias_ && (params.size() < 2 || params[1] != Shape{w[0]}))
    throw ShapeError(where + ": bias " + (params.size() < 2 ? std::string("missing") : params[1].str()) +
                     ", expected [" + std::to_string(w[0]) + "]");
  Shape y = x;
  y[y.rank() - 1] = w[0];
  return y;
}

void Dense::forward(const OpArgs& a, Tensor& y) const {
  kernels::dense_forward(a.input(), a.param(0), bias_ ? &a.param(1) : nullptr, y);
}

void Dense::forward_unbiased(const OpArgs& a, Tensor& y) const {
  kernels::dense_forward(a.input(), a.param(0), nullptr, y);
}

void Dense::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  if (!bias_) return;
  const int64_t out = a.param(1).numel();
  y.as_matrix(y.numel() / out, out).rowwise() += scale * a.param(1).as_matrix(1, out).row(0);
}

void Dense::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::dense_backward_input(dy, a.param(0), *dx);
  if (Tensor* dw = g.param(0)) kernels::dense_backward_params(a.input(), dy, *dw, bias_ ? g.param(1) : nullptr);
  else if (bias_ && g.param(1)) {
    const int64_t out = a.param(1).numel();
    g.param(1)->as_matrix(1, out).row(0) += dy.as_matrix(dy.numel() / out, out).colwise().sum();
  }
}

// ---- ConstantBinary -------------------------------------------------------------

namespace {
/// c expanded to the per-example shape x.shape[1:] (c is trailing-aligned).
Tensor expand_per_example(const Tensor& c, const Shape& x) {
  Shape inner;
  for (int i = 1; i < x.rank(); ++i) inner.push_back(x[i]);
  Tensor out(inner);
  const int offset = x.rank() - c.rank();  // axis of x matching c's axis 0
  const std::vector<int64_t> cstr = row_major_strides(c.shape());
  std::vector<int64_t> idx(static_cast<size_t>(inner.rank()), 0);
  for (int64_t k = 0; k < out.numel(); ++k) {
    int64_t ci = 0;
    for (int a = 0; a < c.rank(); ++a) {
      const int xa = a + offset;  // axis in x
      const int64_t pos = xa == 0 ? 0 : idx[static_cast<size_t>(xa - 1)];
      if (c.shape()[a] != 1) ci += pos * cstr[static_cast<size_t>(a)];
    }
    out[k] = c[ci];
    for (int a = inner.rank() - 1; a >= 0; --a) {
      if (++idx[static_cast<size_t>(a)] < inner[a]) break;
      idx[static_cast<size_t>(a)] = 0;
    }
  }
  return out;
}

/// Calls fn(x_row, y_row, c_expanded, n) for every example.
template <class Fn>
void per_example(const Tensor& x, Tensor& y, const Tensor& c, Fn fn) {
  const Tensor e = expand_per_example(c, x.shape());
  const int64_t n = e.numel();
  const int64_t batch = n == 0 ? 0 : x.numel() / n;
  for (int64_t b = 0; b < batch; ++b) fn(x.data() + b * n, y.data() + b * n, e.data(), n);
}
}  // namespace

Shape ConstantBinary::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>& params,
                                  const std::string& where) const {
  const Shape& x = in.at(0);
  const Shape& c = params.at(0);
  bool ok = c.rank() <= x.rank() && x.rank() >= 1;
  for (int a = 0; ok && a < c.rank(); ++a) {
    const int xa = a + x.rank() - c.rank();
    ok = c[a] == 1 || (xa > 0 && c[a] == x[xa]);
  }
  if (!ok)
    throw ShapeError(where + ": constant " + c.str() + " does not broadcast to input " + x.str() +
                     " (per example; a constant cannot vary over the batch)");
  return x;
}

void ConstantBinary::forward(const OpArgs& a, Tensor& y) const {
  if (mode_ == Add)
    per_example(a.input(), y, a.param(0), [](const float* x, float* o, const float* c, int64_t n) {
      for (int64_t i = 0; i < n; ++i) o[i] = x[i] + c[i];
    });
  else
    forward_unbiased(a, y);
}

void ConstantBinary::forward_unbiased(const OpArgs& a, Tensor& y) const {
  if (mode_ == Add) {
    std::copy(a.input().begin(), a.input().end(), y.begin());
    return;
  }
  per_example(a.input(), y, a.param(0), [](const float* x, float* o, const float* c, int64_t n) {
    for (int64_t i = 0; i < n; ++i) o[i] = x[i] * c[i];
  });
}

void ConstantBinary::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  if (mode_ != Add) return;
  per_example(y, y, a.param(0), [scale](const float*, float* o, const float* c, int64_t n) {
    for (int64_t i = 0; i < n; ++i) o[i] += scale * c[i];
  });
}

void ConstantBinary::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dc = g.param(0)) {  // a trainable constant (LayerNorm's scale and shift): sum over its broadcast
    const Tensor& c = a.param(0);
    Tensor index(c.shape());
    for (int64_t k = 0; k < c.numel(); ++k) index[k] = static_cast<float>(k);
    const Tensor e = expand_per_example(index, dy.shape());
    const int64_t n = e.numel(), batch = n == 0 ? 0 : dy.numel() / n;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < n; ++i)
        (*dc)[static_cast<int64_t>(e[i])] += dy[b * n + i] * (mode_ == Add ? 1.0f : a.input()[b * n + i]);
  }
  Tensor* dx = g.input(0);
  if (!dx) return;
  if (mode_ == Add) {
    dx->as_vector() += dy.as_vector();
    return;
  }
  per_example(dy, *dx, a.param(0), [](const float* d, float* o, const float* c, int64_t n) {
    for (int64_t i = 0; i < n; ++i) o[i] += d[i] * c[i];
  });
}

// ---- Constant -------------------------------------------------------------------

Shape Constant::infer_shape(const std::vector<Shape>&, const std::vector<Shape>& params,
                            const std::string&) const {
  return params.at(0);
}

void Constant::forward(const OpArgs& a, Tensor& y) const { y = a.param(0); }

void Constant::add_bias(const OpArgs& a, Tensor& y, float scale) const {
  y.as_vector() += scale * a.param(0).as_vector();
}

// ---- Add --------------------------------------------------------------------------

Shape Add::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                       const std::string& where) const {
  for (const Shape& s : in)
    if (s != in[0])
      throw ShapeError(where + ": input shapes " + in[0].str() + " and " + s.str() + " differ");
  return in.at(0);
}

// Large sums split over the threads (a residual add of ResNet-18 at 64²,
// batch 16, is 1 MB each way): serial, the other thread waited, and read
// back halves of tensors the other core had just written.
void Add::forward(const OpArgs& a, Tensor& y) const {
  float* out = y.data();
  detail::over_elements(y.numel(), [&](int64_t b, int64_t e) {
    // The first two in one pass (a residual add has two).
    const float* x0 = a.input(0).data();
    if (a.inputs.size() >= 2) {
      const float* x1 = a.input(1).data();
      for (int64_t k = b; k < e; ++k) out[k] = x0[k] + x1[k];
    } else {
      std::copy(x0 + b, x0 + e, out + b);
    }
    for (size_t i = 2; i < a.inputs.size(); ++i) {
      const float* xi = a.input(i).data();
      for (int64_t k = b; k < e; ++k) out[k] += xi[k];
    }
  });
}

void Add::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  const float* d = dy.data();
  detail::over_elements(dy.numel(), [&](int64_t b, int64_t e) {
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      Tensor* dx = g.inputs[i];
      if (!dx || dx == &dy) continue;  // handed dy itself (backward_in_place): already its gradient
      float* out = dx->data();
      if (g.assigns(i))
        for (int64_t k = b; k < e; ++k) out[k] = d[k] + 0.0f;  // as 0 + dy: −0 becomes +0
      else
        for (int64_t k = b; k < e; ++k) out[k] += d[k];
    }
  });
}

}  // namespace trim::ops

namespace trim::nn {

NodeId input(Graph& g, const std::string& name, const Shape& per_example) {
  Shape s{Shape::free};
  for (int64_t d : per_example) s.push_back(d);
  return g.input(name, s);
}

NodeId constant(Graph& g, const Tensor& value, const std::string& name) {
  const int p = g.add_parameter(name, value, Init::keep(), false);
  return g.add(std::make_shared<ops::Constant>(), {}, {p}, name);
}

NodeId linear(Graph& g, NodeId x, int64_t out_features, const std::string& name, bool bias) {
  const Shape& xs = g.shape(x);
  if (xs.rank() < 2)
    throw ShapeError("linear '" + name + "': input " + xs.str() + ", expected rank >= 2 ([*,in])");
  const int64_t in = xs[xs.rank() - 1];
  std::vector<int> params{g.add_parameter(name + ".weight", Tensor({out_features, in}),
                                          Init::fan_in_uniform(in))};
  if (bias)
    params.push_back(g.add_parameter(name + ".bias", Tensor({out_features}), Init::fan_in_uniform(in)));
  return g.add(std::make_shared<ops::Dense>(bias), {x}, params, name);
}

NodeId add_constant(Graph& g, NodeId x, const Tensor& c, const std::string& name) {
  const int p = g.add_parameter(name + ".value", c, Init::keep(), false);
  return g.add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Add), {x}, {p}, name);
}

NodeId mul_constant(Graph& g, NodeId x, const Tensor& c, const std::string& name) {
  const int p = g.add_parameter(name + ".value", c, Init::keep(), false);
  return g.add(std::make_shared<ops::ConstantBinary>(ops::ConstantBinary::Mul), {x}, {p}, name);
}

NodeId add(Graph& g, const std::vector<NodeId>& xs, const std::string& name) {
  return g.add(std::make_shared<ops::Add>(), xs, {}, name);
}

}  // namespace trim::nn
