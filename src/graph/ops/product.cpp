#include "trim/graph/ops/product.hpp"

#include <Eigen/Core>

#include "broadcast_index.hpp"
#include "trim/core/error.hpp"

namespace trim::ops {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapC = Eigen::Map<const RowMatrix>;
using Map = Eigen::Map<RowMatrix>;

}  // namespace

// ---- Multiply ---------------------------------------------------------------------

Shape Multiply::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  const Shape& a = in.at(0);
  const Shape& b = in.at(1);
  if (a.rank() != b.rank() || a.rank() < 1)
    throw ShapeError(where + ": inputs " + a.str() + " and " + b.str() +
                     " must have the same rank (insert size-1 axes to broadcast)");
  Shape y;
  for (int k = 0; k < a.rank(); ++k) {
    if (a[k] == b[k] || b[k] == 1) y.push_back(a[k]);
    else if (a[k] == 1) y.push_back(b[k]);
    else
      throw ShapeError(where + ": inputs " + a.str() + " and " + b.str() + " do not broadcast (axis " +
                       std::to_string(k) + ")");
  }
  return y;
}

void Multiply::forward(const OpArgs& args, Tensor& y) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  if (a.shape() == b.shape()) {
    y.as_vector() = a.as_vector().cwiseProduct(b.as_vector());
    return;
  }
  const float* pa = a.data();
  const float* pb = b.data();
  float* py = y.data();
  detail::for_each_run(y.shape(), a.shape(), b.shape(),
                       [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
                         for (int64_t i = 0; i < n; ++i) py[o + i] = pa[ia + i * sa] * pb[ib + i * sb];
                       });
}

void Multiply::backward(const OpArgs& args, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  Tensor* da = g.input(0);
  Tensor* db = g.input(1);
  if (a.shape() == b.shape()) {
    if (da) da->as_vector() += dy.as_vector().cwiseProduct(b.as_vector());
    if (db) db->as_vector() += dy.as_vector().cwiseProduct(a.as_vector());
    return;
  }
  const float* pa = a.data();
  const float* pb = b.data();
  const float* pd = dy.data();
  float* ga = da ? da->data() : nullptr;
  float* gb = db ? db->data() : nullptr;
  detail::for_each_run(dy.shape(), a.shape(), b.shape(),
                       [&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
                         for (int64_t i = 0; i < n; ++i) {
                           if (ga) ga[ia + i * sa] += pd[o + i] * pb[ib + i * sb];
                           if (gb) gb[ib + i * sb] += pd[o + i] * pa[ia + i * sa];
                         }
                       });
}

// ---- MatMul -----------------------------------------------------------------------

Shape MatMul::infer_shape(const std::vector<Shape>& in, const std::vector<Shape>&, const std::string& where) const {
  const Shape& a = in.at(0);
  const Shape& b = in.at(1);
  const int r = a.rank();
  bool ok = r >= 3 && b.rank() == r && a[r - 1] == b[r - 2];
  for (int k = 0; ok && k < r - 2; ++k) ok = a[k] == b[k];
  if (!ok)
    throw ShapeError(where + ": inputs " + a.str() + " and " + b.str() +
                     " do not multiply: expected [N,...,M,K] @ [N,...,K,P] with equal leading axes (rank >= 3)");
  Shape y = a;
  y[r - 1] = b[r - 1];
  return y;
}

void MatMul::forward(const OpArgs& args, Tensor& y) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  const int r = a.rank();
  const int64_t M = a.dim(r - 2), K = a.dim(r - 1), P = b.dim(r - 1);
  const int64_t count = M * K == 0 ? 0 : a.numel() / (M * K);
  for (int64_t s = 0; s < count; ++s)
    Map(y.data() + s * M * P, M, P).noalias() =
        MapC(a.data() + s * M * K, M, K) * MapC(b.data() + s * K * P, K, P);
}

void MatMul::backward(const OpArgs& args, const Tensor&, const Tensor& dy, const OpGrads& g) const {
  const Tensor& a = args.input(0);
  const Tensor& b = args.input(1);
  const int r = a.rank();
  const int64_t M = a.dim(r - 2), K = a.dim(r - 1), P = b.dim(r - 1);
  const int64_t count = M * K == 0 ? 0 : a.numel() / (M * K);
  Tensor* da = g.input(0);
  Tensor* db = g.input(1);
  for (int64_t s = 0; s < count; ++s) {
    const MapC d(dy.data() + s * M * P, M, P);
    if (da) Map(da->data() + s * M * K, M, K).noalias() += d * MapC(b.data() + s * K * P, K, P).transpose();
    if (db) Map(db->data() + s * K * P, K, P).noalias() += MapC(a.data() + s * M * K, M, K).transpose() * d;
  }
}

}  // namespace trim::ops
