#pragma once
// Internal to the kernels: per-thread scratch arrays kept between calls.

#include <cstdint>

#include "trim/core/tensor.hpp"

namespace trim::kernels::detail {

/// Slot `which` (< Slots) of this thread's scratch arrays owned by `Owner` (a
/// tag type, so that different kernels' arrays never alias), grown to at
/// least n floats and kept between calls; 64-byte aligned.
template <class Owner, int Slots>
float* thread_scratch(int which, int64_t n) {
  thread_local Tensor buf[Slots];
  Tensor& t = buf[which];
  if (t.numel() < n) t.resize(Shape{n});
  return t.data();
}

}  // namespace trim::kernels::detail
