#include "trim/kernels/dense.hpp"

namespace trim::kernels {

namespace {
int64_t rows(const Tensor& t, int64_t cols) { return cols == 0 ? 0 : t.numel() / cols; }
}  // namespace

void dense_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y) {
  const int64_t out = weight.dim(0), in = weight.dim(1);
  const int64_t m = rows(x, in);
  auto Y = y.as_matrix(m, out);
  Y.noalias() = x.as_matrix(m, in) * weight.as_matrix(out, in).transpose();
  if (bias) Y.rowwise() += bias->as_matrix(1, out).row(0);
}

void dense_backward_input(const Tensor& dy, const Tensor& weight, Tensor& dx) {
  const int64_t out = weight.dim(0), in = weight.dim(1);
  const int64_t m = rows(dy, out);
  dx.as_matrix(m, in).noalias() += dy.as_matrix(m, out) * weight.as_matrix(out, in);
}

void dense_backward_params(const Tensor& x, const Tensor& dy, Tensor& dweight, Tensor* dbias) {
  const int64_t out = dweight.dim(0), in = dweight.dim(1);
  const int64_t m = rows(x, in);
  dweight.as_matrix(out, in).noalias() += dy.as_matrix(m, out).transpose() * x.as_matrix(m, in);
  if (dbias) dbias->as_matrix(1, out).row(0) += dy.as_matrix(m, out).colwise().sum();
}

}  // namespace trim::kernels
