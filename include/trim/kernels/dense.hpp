#pragma once
/// \file
/// Affine map over the last axis, y = x Wᵀ + b (torch.nn.Linear layout), and
/// its vector-Jacobian products. x is viewed as [M, in] with M the product of
/// the leading axes; W is [out, in]; b is [out] or null.

#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// y[M,out] = x[M,in] · Wᵀ (+ b). `y` must be shaped; overwritten.
void dense_forward(const Tensor& x, const Tensor& weight, const Tensor* bias, Tensor& y);
/// dx[M,in] += dy[M,out] · W.
void dense_backward_input(const Tensor& dy, const Tensor& weight, Tensor& dx);
/// dW[out,in] += dyᵀ · x; db[out] += Σ_rows dy (db may be null).
void dense_backward_params(const Tensor& x, const Tensor& dy, Tensor& dweight, Tensor* dbias);

}  // namespace trim::kernels
