#pragma once
// Internal to the kernels: convolutions with small outputs computed tap by
// tap, skipping the products with padding. conv.cpp routes the forward and
// the input gradient here when worthwhile().

#include <cstdint>

namespace trim::kernels::taps {

/// One ungrouped 2-D convolution: x [n, cin, h, w] to y [n, cout, ho, wo],
/// kernel kh × kw, strides sh / sw, pt / pl padding before the input,
/// dilations dh / dw.
struct Geometry {
  int64_t n, cin, cout, h, w, ho, wo, kh, kw, sh, sw, pt, pl, dh, dw;
};

/// True when most products of a direct convolution of g would be with
/// padding (at most 2/3 of them with the input: a 3×3 kernel over a 2×2
/// output, say) and the batch gives the GEMMs enough columns.
bool worthwhile(const Geometry& g);

/// y (=, or += when `accumulate`) the convolution of x with the weight w and
/// (when not null) the per-channel bias. The weight of output channel o, input
/// channel c and tap k (k = kw·row + column) is w[(o·cin + c)·kh·kw + k]; with
/// `transposed`, it is w[(c·cout + o)·kh·kw + kh·kw − 1 − k] (the input
/// gradient of a stride-1 convolution with weight w is this convolution of its
/// output gradient).
void convolve(const Geometry& g, const float* x, const float* w, bool transposed, const float* bias, float* y,
              bool accumulate);

/// Floats of scratch convolve keeps (once per call; threads share it).
int64_t scratch_floats(const Geometry& g);

}  // namespace trim::kernels::taps
