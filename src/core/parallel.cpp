#include "trim/core/parallel.hpp"

#include <Eigen/Core>
#include <atomic>
#include <exception>
#include <algorithm>
#include <mutex>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace trim {

namespace {
int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
std::atomic<int> g_threads{0};  // 0: not yet chosen
}  // namespace

int num_threads() {
  if (g_threads == 0) g_threads = default_threads();
  return g_threads;
}

void set_num_threads(int n) {
  g_threads = n < 1 ? default_threads() : n;
  Eigen::setNbThreads(g_threads);
}

bool in_parallel() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int threads = num_threads();
  if (n == 1 || threads <= 1 || in_parallel()) {
    fn(0, n);
    return;
  }
#ifdef _OPENMP
  std::exception_ptr error;
  std::mutex error_mutex;
  const int64_t chunks = std::min<int64_t>(n, threads);
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = n * c / chunks;
    const int64_t end = n * (c + 1) / chunks;
    try {
      fn(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
#else
  fn(0, n);
#endif
}

}  // namespace trim
