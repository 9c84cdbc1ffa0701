#include "trim/kernels/dense.hpp"

#include "over_rows.hpp"

namespace trim::kernels {

namespace {
int64_t rows(const Tensor& t, int64_t cols) { return cols == 0 ? 0 : t.numel() / cols; }

/// Products of at least this many multiply-adds split their rows over trim's
/// pool. Eigen itself stays single-threaded (core/parallel.cpp): its OpenMP
/// team would spin between products and take the cores the pool needs.
constexpr int64_t kSplitWork = int64_t{1} << 18;
}  // namespace

void dense_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y) {
  const int64_t out = weight.dim(0), in = weight.dim(1);
  const int64_t m = rows(x, in);
  auto Y = y.as_matrix(m, out);
  const auto X = x.as_matrix(m, in);
  const auto W = weight.as_matrix(out, in);
  detail::over_rows(m, m * in * out, kSplitWork, [&](int64_t r0, int64_t r1) {
    Y.middleRows(r0, r1 - r0).noalias() = X.middleRows(r0, r1 - r0) * W.transpose();
    if (bias) Y.middleRows(r0, r1 - r0).rowwise() += bias->as_matrix(1, out).row(0);
  });
}

void dense_backward_input(const Tensor& dy, const Tensor& weight, Tensor& dx) {
  const int64_t out = weight.dim(0), in = weight.dim(1);
  const int64_t m = rows(dy, out);
  auto DX = dx.as_matrix(m, in);
  const auto DY = dy.as_matrix(m, out);
  const auto W = weight.as_matrix(out, in);
  detail::over_rows(m, m * in * out, kSplitWork, [&](int64_t r0, int64_t r1) {
    DX.middleRows(r0, r1 - r0).noalias() += DY.middleRows(r0, r1 - r0) * W;
  });
}

void dense_backward_params(const Tensor& x, const Tensor& dy, Tensor& dweight, Tensor* dbias) {
  const int64_t out = dweight.dim(0), in = dweight.dim(1);
  const int64_t m = rows(x, in);
  auto DW = dweight.as_matrix(out, in);
  const auto DY = dy.as_matrix(m, out);
  const auto X = x.as_matrix(m, in);
  detail::over_rows(out, m * in * out, kSplitWork, [&](int64_t o0, int64_t o1) {  // rows of dW: disjoint writes
    DW.middleRows(o0, o1 - o0).noalias() += DY.middleCols(o0, o1 - o0).transpose() * X;
  });
  if (dbias) dbias->as_matrix(1, out).row(0) += dy.as_matrix(m, out).colwise().sum();
}

}  // namespace trim::kernels
