#pragma once
/// \file
/// Inference-form batch normalisation over axis 1 and its vector-Jacobian
/// products.
///
/// With running statistics fixed, batch norm is a per-channel affine map
///   y = x · scale[c] + shift[c],
///   scale = weight / √(running_var + eps),  shift = bias − running_mean · scale,
/// computed in this order as PyTorch does in eval mode. x is (N, C, ...) of
/// any rank ≥ 2; weight, bias, mean and var are [C].

#include <cstdint>
#include <vector>

#include "trim/core/tensor.hpp"

namespace trim::kernels {

/// scale[c] and shift[c] (C = weight.numel()); either output may be null.
void batch_norm_coefficients(const Tensor& weight, const Tensor& bias, const Tensor& mean,
                             const Tensor& var, float eps, float* scale, float* shift);

/// y = x · scale (+ shift when `with_shift`), overwriting y (shaped like x);
/// with `relu`, y = max(0, x · scale + shift) in the same pass, bit for bit
/// what relu_forward gives on the batch norm's output.
void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& mean, const Tensor& var, float eps, Tensor& y,
                        bool with_shift = true, bool relu = false);
/// y = max(0, x · scale + shift) for x the concatenation of `parts` along
/// axis 1 (each [N, C_k, ...], the same N and trailing axes as y), read
/// where they lie: bit for bit batch_norm_forward(concat(parts), ..., relu)
/// without forming the concatenation.
void batch_norm_relu_forward_concat(const std::vector<const Tensor*>& parts, const Tensor& weight,
                                    const Tensor& bias, const Tensor& mean, const Tensor& var, float eps,
                                    Tensor& y);
/// y += alpha · shift, broadcast over axis 1.
void batch_norm_add_shift(const Tensor& weight, const Tensor& bias, const Tensor& mean,
                          const Tensor& var, float eps, Tensor& y, float alpha = 1.0f);

/// dx += dy · scale (with `overwrite`, dx = 0 + dy · scale whatever it held).
/// With `relu_output` (z = max(0, y) of a ReLU after the batch norm), dy is
/// the ReLU's output gradient and is masked by z > 0 first, bit for bit as
/// the ReLU's backward and then the batch norm's would give.
void batch_norm_backward_input(const Tensor& dy, const Tensor& weight, const Tensor& var, float eps,
                               Tensor& dx, bool overwrite = false, const Tensor* relu_output = nullptr);
/// weight / √(var + eps) per channel: the factor batch_norm_backward_input
/// multiplies the gradient by.
Tensor batch_norm_gradient_scale(const Tensor& weight, const Tensor& var, float eps);
/// dweight[c] += Σ dy · (x − mean) / √(var + eps); dbias[c] += Σ dy (sums over
/// every axis but 1). Either output may be null.
void batch_norm_backward_params(const Tensor& x, const Tensor& dy, const Tensor& mean,
                                const Tensor& var, float eps, Tensor* dweight, Tensor* dbias);

}  // namespace trim::kernels
