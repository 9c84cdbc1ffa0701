#pragma once
// Internal to the conv-like ops (conv, transposed conv, conv3d): the bias
// [C_out] broadcast over batch and space. Not installed.

#include <string>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/core/tensor.hpp"

namespace trim::ops::detail {

/// Throws ShapeError (starting with `where`) unless params[1] is [cout] when `bias`.
inline void check_channel_bias(bool bias, const std::vector<Shape>& params, int64_t cout, const std::string& where) {
  if (bias && (params.size() < 2 || params[1] != Shape{cout}))
    throw ShapeError(where + ": bias " + (params.size() < 2 ? std::string("missing") : params[1].str()) +
                     ", expected [" + std::to_string(cout) + "]");
}

/// y[n, o, ...] += scale · b[o].
inline void add_channel_bias(const Tensor& b, Tensor& y, float scale) {
  const int64_t cout = b.numel();
  if (cout == 0 || y.numel() == 0) return;
  const int64_t plane = y.numel() / (y.dim(0) * cout);
  const int64_t rows = y.numel() / plane;
  float* yd = y.data();
  const float* bd = b.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float v = scale * bd[r % cout];
    float* row = yd + r * plane;
    for (int64_t i = 0; i < plane; ++i) row[i] += v;
  }
}

}  // namespace trim::ops::detail
