#pragma once
// Internal to the kernels: 3×3, stride-1 convolutions by Winograd's minimal
// filtering algorithms F(2×2, 3×3) and F(4×4, 3×3) (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016), the tile size chosen
// by the output's shape (never by the thread count). conv.cpp routes the
// forward and the "same"-size input gradient of such convolutions here when
// worthwhile(). F(4×4) rounds more than a direct convolution: about 2–7·10⁻⁶
// of the largest output for N(0, 1) inputs, He-scaled weights and 64–512
// channels, against 3–7·10⁻⁷ for F(2×2) (docs/graph.md).

#include <cstdint>

#include "epilogue.hpp"

namespace trim::kernels::winograd {

/// One 3×3, stride-1, undilated, ungrouped convolution: x [n, cin, h, w] to
/// y [n, cout, ho, wo], with pt / pl rows / columns of zero padding before the
/// input (the padding after it follows from ho and wo).
struct Geometry {
  int64_t n, cin, cout, h, w, ho, wo, pt, pl;
};

/// True when this build has the Winograd path (AVX-512) and g is big enough
/// for its fewer multiply-adds (2.25× fewer with 2×2 tiles, 4× with 4×4) to
/// outweigh the tile transforms and the weight transform every call makes.
bool worthwhile(const Geometry& g);

/// y (=, or += when `accumulate`) the convolution of x with the weight w and
/// (when not null) the per-channel bias. The weight of output channel o and
/// input channel c is w[(o·cin + c)·9 + k] (k = 3·row + column); with
/// `transposed`, it is w[(c·cout + o)·9 + 8 − k]: the input gradient of a
/// convolution with weight w is this convolution of its output gradient.
/// `after` (only without `accumulate`) finishes each output row as it is
/// written.
void convolve(const Geometry& g, const float* x, const float* w, bool transposed, const float* bias, float* y,
              bool accumulate, const detail::Finish& after = {});

/// Floats of scratch convolve keeps: `shared` once per call, `per_thread` on
/// every thread.
void scratch_floats(const Geometry& g, int64_t& per_thread, int64_t& shared);

}  // namespace trim::kernels::winograd
