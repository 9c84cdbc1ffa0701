#include "trim/graph/ops/structural.hpp"

#include <algorithm>
#include <cmath>

#include "trim/core/error.hpp"
#include "trim/graph/nn.hpp"
#include "trim/kernels/structural.hpp"

namespace trim::ops {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

/// `[5,-1]`: a target shape printed with -1 kept (Shape::str prints `*`).
std::string target_str(const Shape& s) {
  std::string out = "[";
  for (int k = 0; k < s.rank(); ++k) out += (k ? "," : "") + str(s[k]);
  return out + "]";
}

std::string list_str(const std::vector<int>& v) {
  std::string out = "[";
  for (size_t k = 0; k < v.size(); ++k) out += (k ? "," : "") + str(v[k]);
  return out + "]";
}

void require_batch_axis(const Shape& x, const std::string& where) {
  if (x.rank() < 1) throw ShapeError(where + ": input " + x.str() + " has no batch axis, expected rank >= 1");
}

/// Normalises a possibly negative axis of `x` and rejects the batch axis.
int data_axis(int axis, const Shape& x, const std::string& where) {
  const int r = x.rank();
  if (axis < -r || axis >= r)
    throw ShapeError(where + ": axis " + str(axis) + " is out of range for input " + x.str() + " (rank " +
                     str(r) + ")");
  const int a = axis < 0 ? axis + r : axis;
  if (a == 0)
    throw ValueError(where + ": axis " + str(axis) + " of input " + x.str() +
                     " is the batch axis, expected an axis in [1," + str(r) + ") or negative");
  return a;
}

/// dx += dy over all elements (the adjoint of any reshape).
void add_into(const Tensor& dy, Tensor& dx) { dx.as_vector() += dy.as_vector(); }

}  // namespace

// ---- Reshape ------------------------------------------------------------------------

Shape Reshape::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                           const std::string& where) const {
  const Shape& x = in.at(0);
  require_batch_axis(x, where);
  if (per_example_.rank() + 1 > Shape::max_rank)
    throw ShapeError(where + ": target " + target_str(per_example_) + " with the batch axis exceeds rank " +
                     str(Shape::max_rank));
  int unknown = -1;
  int64_t known = 1;
  for (int k = 0; k < per_example_.rank(); ++k) {
    const int64_t d = per_example_[k];
    if (d == -1) {
      if (unknown >= 0)
        throw ValueError(where + ": target " + target_str(per_example_) + " has more than one -1");
      unknown = k;
    } else if (d < 1) {
      throw ValueError(where + ": target " + target_str(per_example_) + " has dimension " + str(d) +
                       ", expected >= 1 or a single -1");
    } else {
      known *= d;
    }
  }
  const int64_t count = x.numel(1, x.rank());
  Shape y{x[0]};
  for (int k = 0; k < per_example_.rank(); ++k) y.push_back(per_example_[k]);
  if (unknown >= 0) {
    if (count % known != 0)
      throw ShapeError(where + ": input " + x.str() + " has " + str(count) +
                       " elements per example, not a multiple of the " + str(known) + " of target " +
                       target_str(per_example_));
    y[unknown + 1] = count / known;
  } else if (count != known) {
    throw ShapeError(where + ": input " + x.str() + " has " + str(count) + " elements per example, target " +
                     target_str(per_example_) + " has " + str(known));
  }
  return y;
}

void Reshape::forward(const OpArgs& a, Tensor& y) const { y.as_vector() = a.input().as_vector(); }

void Reshape::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) add_into(dy, *dx);
}

// ---- Flatten ------------------------------------------------------------------------

Shape Flatten::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                           const std::string& where) const {
  const Shape& x = in.at(0);
  require_batch_axis(x, where);
  const int r = x.rank();
  const int a = axis_ < 0 ? axis_ + r : axis_;
  if (a == 0)
    throw ValueError(where + ": axis " + str(axis_) + " of input " + x.str() +
                     " would merge the batch axis, expected 1 <= axis <= " + str(r));
  if (a < 0 || a > r)
    throw ShapeError(where + ": axis " + str(axis_) + " is out of range for input " + x.str() +
                     ", expected 1 <= axis <= " + str(r));
  Shape y;
  for (int k = 0; k < a; ++k) y.push_back(x[k]);
  y.push_back(x.numel(a, r));
  return y;
}

void Flatten::forward(const OpArgs& a, Tensor& y) const { y.as_vector() = a.input().as_vector(); }

void Flatten::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) add_into(dy, *dx);
}

// ---- Transpose ----------------------------------------------------------------------

Shape Transpose::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                             const std::string& where) const {
  const Shape& x = in.at(0);
  require_batch_axis(x, where);
  const int r = x.rank();
  if (static_cast<int>(perm_.size()) != r)
    throw ShapeError(where + ": perm " + list_str(perm_) + " has " + str(static_cast<int64_t>(perm_.size())) +
                     " entries, input " + x.str() + " has rank " + str(r));
  std::vector<bool> seen(static_cast<size_t>(r), false);
  for (int p : perm_) {
    if (p < 0 || p >= r || seen[static_cast<size_t>(p)])
      throw ValueError(where + ": perm " + list_str(perm_) + " is not a permutation of 0.." + str(r - 1));
    seen[static_cast<size_t>(p)] = true;
  }
  if (perm_[0] != 0)
    throw ValueError(where + ": perm " + list_str(perm_) +
                     " moves the batch axis, expected perm[0] = 0 (input " + x.str() + ")");
  Shape y;
  for (int p : perm_) y.push_back(x[p]);
  return y;
}

void Transpose::forward(const OpArgs& a, Tensor& y) const { kernels::transpose_forward(a.input(), perm_, y); }

void Transpose::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::transpose_backward(dy, perm_, *dx);
}

// ---- Concat -------------------------------------------------------------------------

Shape Concat::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                          const std::string& where) const {
  const Shape& x0 = in.at(0);
  require_batch_axis(x0, where);
  for (size_t i = 1; i < in.size(); ++i)
    if (in[i].rank() != x0.rank())
      throw ShapeError(where + ": input " + str(static_cast<int64_t>(i)) + " " + in[i].str() + " has rank " +
                       str(in[i].rank()) + ", input 0 " + x0.str() + " has rank " + str(x0.rank()));
  const int a = data_axis(axis_, x0, where);
  Shape y = x0;
  for (size_t i = 1; i < in.size(); ++i) {
    for (int k = 0; k < x0.rank(); ++k)
      if (k != a && in[i][k] != x0[k])
        throw ShapeError(where + ": input " + str(static_cast<int64_t>(i)) + " " + in[i].str() +
                         " does not match input 0 " + x0.str() + " outside axis " + str(a));
    y[a] += in[i][a];
  }
  return y;
}

void Concat::forward(const OpArgs& a, Tensor& y) const { kernels::concat_forward(a.inputs, axis_, y); }

void Concat::backward(const OpArgs& a, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  const int ax = dy.shape().axis(axis_);
  std::vector<int64_t> lengths;
  lengths.reserve(a.inputs.size());
  for (const Tensor* x : a.inputs) lengths.push_back(x->dim(ax));
  kernels::concat_backward(dy, ax, lengths, g.inputs, g.assign);
}

// ---- Slice --------------------------------------------------------------------------

namespace {

struct SliceRange {
  int64_t start, count;
};

/// Python-style bounds resolved against an axis of length `len`.
SliceRange resolve_slice(int64_t start, int64_t end, int64_t step, int axis, const Shape& x,
                         const std::string& where) {
  const int64_t len = x[axis];
  const int64_t s = start < 0 ? start + len : start;
  if (s < 0 || s >= len)
    throw ShapeError(where + ": start " + str(start) + " is out of range for axis " + str(axis) + " of input " +
                     x.str() + " (size " + str(len) + ")");
  int64_t e = end < 0 ? end + len : end;
  e = std::min(std::max(e, int64_t{0}), len);
  if (e <= s)
    throw ShapeError(where + ": slice " + str(start) + ":" + str(end) + " of axis " + str(axis) + " of input " +
                     x.str() + " is empty (resolved to " + str(s) + ":" + str(e) + ")");
  return {s, 1 + (e - s - 1) / step};
}

}  // namespace

Shape Slice::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                         const std::string& where) const {
  const Shape& x = in.at(0);
  require_batch_axis(x, where);
  if (step_ <= 0) throw ValueError(where + ": step " + str(step_) + ", expected a step > 0");
  const int a = data_axis(axis_, x, where);
  const SliceRange r = resolve_slice(start_, end_, step_, a, x, where);
  Shape y = x;
  y[a] = r.count;
  return y;
}

void Slice::forward(const OpArgs& args, Tensor& y) const {
  const Tensor& x = args.input();
  const int a = x.shape().axis(axis_);
  const SliceRange r = resolve_slice(start_, end_, step_, a, x.shape(), type());
  kernels::slice_forward(x, a, r.start, step_, y);
}

void Slice::backward(const OpArgs& args, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  Tensor* dx = g.input(0);
  if (!dx) return;
  const Tensor& x = args.input();
  const int a = x.shape().axis(axis_);
  const SliceRange r = resolve_slice(start_, end_, step_, a, x.shape(), type());
  kernels::slice_backward(dy, a, r.start, step_, *dx);
}

// ---- Pad ----------------------------------------------------------------------------

Pad::Pad(std::vector<std::array<int64_t, 2>> pads, float value) : pads_(std::move(pads)), value_(value) {
  all_pads_.push_back({0, 0});
  all_pads_.insert(all_pads_.end(), pads_.begin(), pads_.end());
}

Shape Pad::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&,
                       const std::string& where) const {
  const Shape& x = in.at(0);
  require_batch_axis(x, where);
  if (static_cast<int>(pads_.size()) != x.rank() - 1)
    throw ShapeError(where + ": " + str(static_cast<int64_t>(pads_.size())) + " {before, after} pairs for input " +
                     x.str() + ", expected " + str(x.rank() - 1) + " (one per axis after the batch)");
  if (!std::isfinite(value_))
    throw ValueError(where + ": padding value " + std::to_string(value_) + ", expected a finite value");
  Shape y = x;
  for (size_t k = 0; k < pads_.size(); ++k) {
    if (pads_[k][0] < 0 || pads_[k][1] < 0)
      throw ValueError(where + ": pads {" + str(pads_[k][0]) + ", " + str(pads_[k][1]) + "} for axis " +
                       str(static_cast<int64_t>(k + 1)) + ", expected both >= 0");
    y[static_cast<int>(k + 1)] += pads_[k][0] + pads_[k][1];
  }
  return y;
}

void Pad::forward(const OpArgs& a, Tensor& y) const { kernels::pad_forward(a.input(), all_pads_, value_, y); }

void Pad::forward_unbiased(const OpArgs& a, Tensor& y) const {
  kernels::pad_forward(a.input(), all_pads_, 0.0f, y);
}

void Pad::add_bias(const OpArgs&, Tensor& y, float scale) const {
  if (value_ != 0.0f) kernels::pad_add_border(y, all_pads_, scale * value_);
}

void Pad::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  if (Tensor* dx = g.input(0)) kernels::pad_backward(dy, all_pads_, *dx);
}

}  // namespace trim::ops

namespace trim::nn {

NodeId reshape(Graph& g, NodeId x, const Shape& per_example, const std::string& name) {
  return g.add(std::make_shared<ops::Reshape>(per_example), {x}, {}, name);
}

NodeId flatten(Graph& g, NodeId x, int axis, const std::string& name) {
  return g.add(std::make_shared<ops::Flatten>(axis), {x}, {}, name);
}

NodeId transpose(Graph& g, NodeId x, const std::vector<int>& perm, const std::string& name) {
  return g.add(std::make_shared<ops::Transpose>(perm), {x}, {}, name);
}

NodeId concat(Graph& g, const std::vector<NodeId>& xs, int axis, const std::string& name) {
  return g.add(std::make_shared<ops::Concat>(axis), xs, {}, name);
}

NodeId slice(Graph& g, NodeId x, int axis, int64_t start, int64_t end, int64_t step, const std::string& name) {
  return g.add(std::make_shared<ops::Slice>(axis, start, end, step), {x}, {}, name);
}

NodeId pad(Graph& g, NodeId x, const std::vector<std::array<int64_t, 2>>& pads, float value,
           const std::string& name) {
  return g.add(std::make_shared<ops::Pad>(pads, value), {x}, {}, name);
}

}  // namespace trim::nn
