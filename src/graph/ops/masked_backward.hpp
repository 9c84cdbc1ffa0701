#pragma once
// Internal to the piecewise-linear activations (ReLU, Clip): the backward
// dx = dy · [passes(y)] read off the output, in one pass. Not installed.

#include <cstdint>

#include "over_elements.hpp"
#include "trim/graph/op.hpp"

namespace trim::ops::detail {

/// grads.input(0) = or += dy · (passes(y) ? 1 : 0), elementwise; dx may be dy
/// itself (Op::backward_in_place). The same products as Activation::backward
/// with a 0/1 φ'. The derivative is a statement of its own, and dx written
/// over dy is a loop of its own: so written, GCC vectorizes these loops (with
/// the derivative inside the product, or with dx and dy possibly overlapping,
/// it did not, and ResNet-50's gradients spent 6 % of their time here).
template <class Passes>
void masked_backward(const Tensor& y, const Tensor& dy, const OpGrads& grads, const Passes& passes) {
  Tensor* dx = grads.input(0);
  if (!dx) return;
  const float* v = y.data();
  const float* g = dy.data();
  float* out = dx->data();
  const bool assign = grads.assigns(0);
  over_elements(dy.numel(), [&](int64_t b, int64_t e) {
    if (assign && out == g) {
      for (int64_t i = b; i < e; ++i) {
        const float d = passes(v[i]) ? 1.0f : 0.0f;
        out[i] = 0.0f + out[i] * d;
      }
    } else if (assign) {
      for (int64_t i = b; i < e; ++i) {
        const float d = passes(v[i]) ? 1.0f : 0.0f;
        out[i] = 0.0f + g[i] * d;
      }
    } else {
      for (int64_t i = b; i < e; ++i) {
        const float d = passes(v[i]) ? 1.0f : 0.0f;
        out[i] += g[i] * d;
      }
    }
  });
}

}  // namespace trim::ops::detail
