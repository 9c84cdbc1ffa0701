#pragma once
// Private to kernels/: depthwise convolutions (groups = input channels, one
// input channel per group) computed directly, without a GEMM. A GEMM per
// group would have one row per output channel and a depth of kh·kw: the
// micro-kernel's panels would be mostly padding.

#include <cstdint>

namespace trim::kernels::depthwise {

/// x [n, channels, h, w] → y [n, channels·mult, ho, wo]; output channel o
/// reads input channel o / mult.
struct Geometry {
  int64_t n, channels, mult, h, w, ho, wo, kh, kw;
  int64_t sh, sw, pt, pl, dh, dw;
};

/// y = conv(x, weight) (+ bias; may be null), y overwritten.
void forward(const Geometry& g, const float* x, const float* weight, const float* bias, float* y);
/// dx = Jₓᵀ dy when `overwrite` (dx's old values never read), else dx += Jₓᵀ dy.
void backward_input(const Geometry& g, const float* dy, const float* weight, float* dx, bool overwrite);
/// dweight += Σ_batch ∂⟨dy, y⟩/∂weight (deterministic for any thread count).
void backward_weight(const Geometry& g, const float* x, const float* dy, float* dweight);

// The same products on blocks of 16 channels in a channel-interleaved copy
// (conv_depthwise_blocked.cpp): every vector lane works whatever the plane
// width. forward, backward_input and backward_weight pick them when
// blocked_fits(g).
bool blocked_fits(const Geometry& g);
void forward_blocked(const Geometry& g, const float* x, const float* weight, const float* bias, float* y);
void backward_input_blocked(const Geometry& g, const float* dy, const float* weight, float* dx, bool overwrite);
void backward_weight_blocked(const Geometry& g, const float* x, const float* dy, float* dweight);

}  // namespace trim::kernels::depthwise
