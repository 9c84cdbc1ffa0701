#pragma once
/// \file
/// Scalar activation functions φ and their derivatives φ', applied to flat
/// float arrays.
///
/// Every `*_forward(x, y, n)` writes y[i] = φ(x[i]) and every
/// `*_derivative(x, d, n)` writes d[i] = φ'(x[i]), both with `=`, for
/// i < n; `y` (or `d`) may alias `x`. The VJP of an activation is
/// dx += dy ⊙ φ'(x), so φ' is all a backward pass needs.
///
/// The functions match torch.nn.functional in value (including the choice
/// of φ' at kinks: relu'(0) = 0, leaky_relu'(0) = slope, elu'(0) = α) but are
/// computed in forms that stay finite and accurate for every finite input:
/// σ' and tanh' as e/(1+e)² with e = exp(−|x|) or exp(−2|x|), softplus as
/// max(z, 0) + log1p(exp(−|z|)), GELU from an erfc-type formula whose left
/// tail keeps its relative accuracy (1 + erf would cancel). The smooth
/// functions are written on Eigen's packet layer (vectorised exp, compare
/// and select for any SIMD target); relu and leaky relu are plain loops the
/// compiler vectorises.

#include <cstdint>

namespace trim::kernels {

/// max(x, 0); φ'(0) = 0.
void relu_forward(const float* x, float* y, int64_t n);
void relu_derivative(const float* x, float* d, int64_t n);

/// x for x > 0, else negative_slope · x; φ'(0) = negative_slope.
void leaky_relu_forward(const float* x, float* y, int64_t n, float negative_slope);
void leaky_relu_derivative(const float* x, float* d, int64_t n, float negative_slope);

/// x for x > 0, else α · (exp(x) − 1); φ'(0) = α (torch's convention).
void elu_forward(const float* x, float* y, int64_t n, float alpha);
void elu_derivative(const float* x, float* d, int64_t n, float alpha);

/// tanh(x); φ' = 1 − tanh², computed without cancellation near saturation.
void tanh_forward(const float* x, float* y, int64_t n);
void tanh_derivative(const float* x, float* d, int64_t n);

/// 1 / (1 + exp(−x)); φ' = σ(1 − σ), exact (no cancellation) for large |x|.
void sigmoid_forward(const float* x, float* y, int64_t n);
void sigmoid_derivative(const float* x, float* d, int64_t n);

/// SiLU in one pass: s = σ(x) and y = x·s, each bit for bit what
/// sigmoid_forward and then the product give.
void silu_forward(const float* x, float* s, float* y, int64_t n);

/// The VJP of SiLU x·σ(x) from x and its stored s = σ(x):
/// dx (= or +=) dy · (s + x·s·(1 − s)), no exp. 1 − s loses relative
/// accuracy for large x, but there the term it scales is added to s ≈ 1:
/// the result stays within ~x·6e-8 of exact (the composite Mul + σ' path
/// has the same cancellation near the derivative's zero at x ≈ −1.28).
void silu_backward(const float* x, const float* s, const float* dy, float* dx, int64_t n, bool assign);

/// (1/β) · log(1 + exp(β x)), and x itself where β x > threshold
/// (torch.nn.Softplus); φ' = σ(β x), or 1 above the threshold. β ≠ 0.
void softplus_forward(const float* x, float* y, int64_t n, float beta, float threshold);
void softplus_derivative(const float* x, float* d, int64_t n, float beta, float threshold);

/// Exact GELU x · Φ(x), Φ the standard normal CDF (torch.nn.GELU());
/// φ' = Φ(x) + x · exp(−x²/2) / √(2π).
void gelu_forward(const float* x, float* y, int64_t n);
void gelu_derivative(const float* x, float* d, int64_t n);

}  // namespace trim::kernels
