#pragma once
// Internal to the elementwise ops (activations, products, sums): large
// element ranges split over the thread pool. Not installed.

#include <algorithm>
#include <cstdint>

#include "trim/core/parallel.hpp"

namespace trim::ops::detail {

/// Elements per task when a large elementwise op is split over threads.
constexpr int64_t kElementTask = int64_t{1} << 14;

/// Runs fn(begin, end) over [0, n) element ranges, in parallel for large n
/// (below 4 tasks' worth a split costs more than it saves). Each element is
/// computed the same way whatever the split.
template <class F>
void over_elements(int64_t n, F&& fn) {
  if (n < 4 * kElementTask) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_for((n + kElementTask - 1) / kElementTask,
               [&](int64_t b, int64_t e) { fn(b * kElementTask, std::min(n, e * kElementTask)); });
}

}  // namespace trim::ops::detail
