#pragma once
// Internal to the kernels: a loop over rows (planes, examples, matrix rows)
// split over trim's pool only when it has enough work to pay for the split.

#include <cstdint>
#include <utility>

#include "trim/core/parallel.hpp"

namespace trim::kernels::detail {

/// Floats a copy or elementwise pass moves before splitting it over the
/// threads pays (below, waking a helper costs more than it saves).
constexpr int64_t kSplitFloats = int64_t{1} << 16;

/// Calls fn(begin, end) over [0, n): over the pool when there are two rows or
/// more and `work` (floats moved, multiply-adds) is at least `min_work`, else
/// once on the calling thread. Each row is computed the same way whatever
/// the split.
template <class F>
void over_rows(int64_t n, int64_t work, int64_t min_work, F&& fn) {
  if (n >= 2 && work >= min_work)
    parallel_for(n, std::forward<F>(fn));
  else
    fn(int64_t{0}, n);
}

}  // namespace trim::kernels::detail
