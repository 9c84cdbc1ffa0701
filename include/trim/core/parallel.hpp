#pragma once
/// \file
/// Batch parallelism. trim parallelises across the leading (batch) dimension
/// with OpenMP when it is available. Inside a parallel region Eigen's own GEMM
/// runs single-threaded (Eigen checks for an enclosing OpenMP team), so the
/// two never oversubscribe the cores; outside one (batch 1) Eigen may use all
/// threads for a single large GEMM.

#include <cstdint>
#include <functional>

namespace trim {

/// Number of threads trim uses (default: OpenMP's default, usually the core
/// count; 1 without OpenMP).
int num_threads();
/// Sets the thread count for trim and Eigen; n < 1 restores the default.
void set_num_threads(int n);
/// True when called from inside a trim parallel region.
bool in_parallel();

/// Calls `fn(begin, end)` on disjoint chunks covering [0, n), in parallel when
/// n > 1 and more than one thread is available. `fn` must not throw across
/// chunks: exceptions are caught and the first one is rethrown after all
/// chunks finished.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace trim
