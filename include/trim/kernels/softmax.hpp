#pragma once
/// \file
/// Softmax and log-softmax along one axis of a tensor of any rank, and their
/// vector-Jacobian products.
///
/// The tensor is viewed as [outer, len, inner] around the axis; each of the
/// outer·inner lines of length `len` is normalised on its own. Both maps
/// subtract the line's maximum first, so no finite input overflows.
/// `axis` may be negative (−1 is the last axis). The VJPs need only the
/// forward output `y`, never the input.

#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// y = exp(x − max) / Σ exp(x − max) along `axis`. `y` shaped like x; overwritten.
void softmax_forward(const Tensor& x, int axis, Tensor& y);
/// dx += y ⊙ (dy − Σ_axis dy ⊙ y), given the softmax output y.
void softmax_backward(const Tensor& y, const Tensor& dy, int axis, Tensor& dx);

/// y = x − max − log Σ exp(x − max) along `axis`. `y` shaped like x; overwritten.
void log_softmax_forward(const Tensor& x, int axis, Tensor& y);
/// dx += dy − exp(y) ⊙ Σ_axis dy, given the log-softmax output y.
void log_softmax_backward(const Tensor& y, const Tensor& dy, int axis, Tensor& dx);

}  // namespace trim::kernels
