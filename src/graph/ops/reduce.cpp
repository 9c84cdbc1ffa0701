#include "trim/graph/ops/reduce.hpp"

#include <algorithm>
#include <limits>

#include "broadcast_index.hpp"
#include "trim/core/error.hpp"

namespace trim::ops {

namespace {

/// The reduced shape with the axes kept as size 1 (validating the axes).
Shape kept_shape(const Shape& x, const std::vector<int>& axes, const std::string& where) {
  const int r = x.rank();
  if (axes.empty()) throw ValueError(where + ": no axes to reduce");
  Shape k = x;
  std::vector<bool> seen(static_cast<size_t>(std::max(r, 1)), false);
  for (int a0 : axes) {
    if (a0 < -r || a0 >= r)
      throw ShapeError(where + ": axis " + std::to_string(a0) + " is out of range for input " + x.str());
    const int a = a0 < 0 ? a0 + r : a0;
    if (a == 0) throw ValueError(where + ": axis " + std::to_string(a0) + " of input " + x.str() + " is the batch axis");
    if (seen[static_cast<size_t>(a)]) throw ValueError(where + ": axis " + std::to_string(a0) + " is given twice");
    seen[static_cast<size_t>(a)] = true;
    k[a] = 1;
  }
  return k;
}

Shape output_shape(const Shape& x, const std::vector<int>& axes, bool keepdims, const std::string& where) {
  const Shape k = kept_shape(x, axes, where);
  if (keepdims) return k;
  std::vector<bool> reduced(static_cast<size_t>(x.rank()), false);
  for (int a : axes) reduced[static_cast<size_t>(a < 0 ? a + x.rank() : a)] = true;
  Shape y;
  for (int a = 0; a < x.rank(); ++a)
    if (!reduced[static_cast<size_t>(a)]) y.push_back(x[a]);
  return y;
}

/// Calls fn(i, j) for every element i of x and the element j of the kept
/// (size-1 axes) reduction it belongs to.
template <class Fn>
void over_pairs(const Shape& x, const Shape& kept, Fn&& fn) {
  detail::for_each_run(x, x, kept, [&](int64_t o, int64_t, int64_t ik, int64_t n, int64_t, int64_t sk) {
    for (int64_t i = 0; i < n; ++i) fn(o + i, ik + i * sk);
  });
}

}  // namespace

// ---- Reduce -----------------------------------------------------------------------

Shape Reduce::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  return output_shape(in.at(0), axes_, keepdims_, where);
}

void Reduce::forward(const OpArgs& args, Tensor& y) const {
  const Tensor& x = args.input();
  const Shape kept = kept_shape(x.shape(), axes_, "reduce");
  y.set_zero();
  float* py = y.data();
  const float* px = x.data();
  over_pairs(x.shape(), kept, [&](int64_t i, int64_t j) { py[j] += px[i]; });
  if (mode_ == Mean && y.numel() > 0) y.as_vector() *= static_cast<float>(y.numel()) / static_cast<float>(x.numel());
}

void Reduce::backward(const OpArgs& args, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  Tensor* dx = g.input(0);
  if (!dx) return;
  const Shape kept = kept_shape(dx->shape(), axes_, "reduce");
  const float scale = mode_ == Mean && dy.numel() > 0 ? static_cast<float>(dy.numel()) / dx->numel() : 1.0f;
  const float* pd = dy.data();
  float* px = dx->data();
  (void)args;
  over_pairs(dx->shape(), kept, [&](int64_t i, int64_t j) { px[i] += scale * pd[j]; });
}

// ---- ReduceMax --------------------------------------------------------------------

Shape ReduceMax::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  return output_shape(in.at(0), axes_, keepdims_, where);
}

void ReduceMax::select_indices(const OpArgs& args, std::vector<int64_t>& index) const {
  const Tensor& x = args.input();
  const Shape kept = kept_shape(x.shape(), axes_, "reduce_max");
  index.assign(static_cast<size_t>(kept.numel()), -1);
  const float* px = x.data();
  over_pairs(x.shape(), kept, [&](int64_t i, int64_t j) {
    int64_t& best = index[static_cast<size_t>(j)];
    if (best < 0 || px[i] > px[best]) best = i;
  });
}

void ReduceMax::forward(const OpArgs& args, Tensor& y) const {
  std::vector<int64_t> index;
  select_indices(args, index);
  for (int64_t j = 0; j < y.numel(); ++j) y[j] = args.input()[index[static_cast<size_t>(j)]];
}

void ReduceMax::backward(const OpArgs& args, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  Tensor* dx = g.input(0);
  if (!dx) return;
  std::vector<int64_t> index;
  select_indices(args, index);
  for (int64_t j = 0; j < dy.numel(); ++j) (*dx)[index[static_cast<size_t>(j)]] += dy[j];
}

// ---- Broadcast --------------------------------------------------------------------

Shape Broadcast::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  const Shape& x = in.at(0);
  bool ok = x.rank() == target_.rank() + 1;
  for (int k = 0; ok && k < target_.rank(); ++k) ok = target_[k] >= 1 && (x[k + 1] == target_[k] || x[k + 1] == 1);
  if (!ok)
    throw ShapeError(where + ": input " + x.str() + " does not broadcast to per-example shape " + target_.str() +
                     " (same rank, each axis equal or 1)");
  Shape y{x[0]};
  for (int k = 0; k < target_.rank(); ++k) y.push_back(target_[k]);
  return y;
}

void Broadcast::forward(const OpArgs& args, Tensor& y) const {
  const Tensor& x = args.input();
  const float* px = x.data();
  float* py = y.data();
  over_pairs(y.shape(), x.shape(), [&](int64_t i, int64_t j) { py[i] = px[j]; });
}

void Broadcast::backward(const OpArgs&, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  Tensor* dx = g.input(0);
  if (!dx) return;
  const float* pd = dy.data();
  float* px = dx->data();
  over_pairs(dy.shape(), dx->shape(), [&](int64_t i, int64_t j) { px[j] += pd[i]; });
}

}  // namespace trim::ops
