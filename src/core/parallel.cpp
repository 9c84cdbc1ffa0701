#include "trim/core/parallel.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace trim {

namespace {

int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#endif
}

std::atomic<int> g_threads{0};  // 0: not yet chosen

/// Eigen's products run single-threaded: an OpenMP team of Eigen's would
/// spin between products (OpenMP's default wait policy) and take the cores
/// the pool's helpers need; measured on LeNet-sized attribution at 2 threads:
/// 1.4x slower with both. Large products split their rows over the pool
/// instead (kernels/dense.cpp).
const bool g_eigen_serial = (Eigen::setNbThreads(1), true);

thread_local bool t_in_task = false;  // this thread runs a task of a pool job

/// How long a thread that ran out of work polls for more before it blocks.
/// Blocking at once, a loop of two 50 µs halves with 100 µs of serial work
/// between loops took 198 µs instead of 150 on an idle 2-core machine (the
/// helper wakes late, then the caller sleeps until it is done), and a network
/// runs one or more such loops per layer. Polling a little longer than a
/// network's serial steps between loops catches the next loop (162 µs), and
/// costs at most this much CPU per loop on a busy machine, where the poll
/// also yields the core. OMP_WAIT_POLICY=passive turns it off, as it does
/// OpenMP's spinning.
std::chrono::microseconds spin_time() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (policy) {
    std::string p(policy);
    for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (p == "passive") return std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(100);
}
const std::chrono::microseconds kSpin = spin_time();

/// Polls `ready` for up to kSpin, yielding the core between polls; true when
/// it became true.
template <class Ready>
bool spin_until(const Ready& ready) {
  if (kSpin.count() <= 0) return ready();
  const auto end = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (ready()) return true;
    if ((i & 15) == 15) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::yield();
    }
  }
}

/// The process's pool: helper threads that wait (polling briefly, then
/// asleep) until a job is posted, take its tasks from a shared counter and
/// go back to waiting. The caller never
/// waits for a helper that has not registered with the job; it waits only
/// for tasks already running. One job at a time (try-lock): a concurrent
/// caller runs its job serially. Helpers are created on demand, never
/// destroyed (detached; the pool lives until the process exits).
class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool();  // never destroyed: helpers outlive main
    return *pool;
  }

  void run(int64_t n, int helpers, const std::function<void(int64_t)>& task) {
    std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
    if (!busy || helpers < 1 || n < 2) {
      serial(n, task);
      return;
    }
    grow(helpers);
    Job job;
    job.task = &task;
    job.n = n;
    job.helpers = helpers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &job;
      ++generation_;
    }
    work_.notify_all();
    t_in_task = true;
    work(job);
    t_in_task = false;
    std::unique_lock<std::mutex> lock(mutex_);
    job_ = nullptr;  // helpers that have not registered will not touch this job
    if (active_ != 0) {
      lock.unlock();
      spin_until([this] { return active_.load(std::memory_order_acquire) == 0; });
      lock.lock();
    }
    done_.wait(lock, [this] { return active_ == 0; });
    if (job.error) std::rethrow_exception(job.error);
  }

  static void serial(int64_t n, const std::function<void(int64_t)>& task) {
    for (int64_t i = 0; i < n; ++i) task(i);
  }

 private:
  struct Job {
    const std::function<void(int64_t)>* task = nullptr;
    int64_t n = 0;
    int helpers = 0;  ///< helpers with an index below this may join
    std::atomic<int64_t> next{0};
    std::mutex error_mutex;
    std::exception_ptr error;
  };

  void grow(int helpers) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(count_) < helpers) {
      const int index = count_++;
      std::thread([this, index] { helper(index); }).detach();
    }
  }

  static void work(Job& job) {
    for (int64_t i = job.next.fetch_add(1); i < job.n; i = job.next.fetch_add(1)) {
      try {
        (*job.task)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(job.error_mutex);
        if (!job.error) job.error = std::current_exception();
      }
    }
  }

  void helper(int index) {
    t_in_task = true;
#ifdef _OPENMP
    omp_set_num_threads(1);  // an OpenMP region opened in a task stays serial
#endif
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (job_ == nullptr || generation_ == seen) {
        seen = generation_;  // a job that ended before this helper came: skip it
        lock.unlock();
        spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
        lock.lock();
      }
      work_.wait(lock, [&] { return job_ != nullptr && generation_ != seen; });
      seen = generation_;
      Job* job = job_;
      if (index >= job->helpers) continue;  // the pool is larger than this job's thread count
      ++active_;
      lock.unlock();
      work(*job);
      lock.lock();
      if (--active_ == 0) done_.notify_all();
    }
  }

  std::mutex run_mutex_, mutex_;
  std::condition_variable work_, done_;
  Job* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> active_{0};
  int count_ = 0;  ///< helper threads started
};

}  // namespace

int num_threads() {
  if (g_threads == 0) g_threads = default_threads();
  return g_threads;
}

void set_num_threads(int n) { g_threads = n < 1 ? default_threads() : n; }

bool in_parallel() {
#ifdef _OPENMP
  if (omp_in_parallel() != 0) return true;
#endif
  return t_in_task;
}

void parallel_tasks(int64_t n, const std::function<void(int64_t)>& task) {
  if (n <= 0) return;
  const int threads = num_threads();
  if (n == 1 || threads <= 1 || in_parallel()) {
    Pool::serial(n, task);
    return;
  }
  Pool::instance().run(n, threads - 1, task);
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  // Four chunks per thread, claimed by whichever thread is free: with one
  // each, a thread slowed by a neighbour process held the other at the end
  // of every loop (ResNet-18 gradient SHAP at 64², 2 threads beside a busy
  // process: 6 % faster).
  const int threads = num_threads();
  const int64_t chunks = std::min<int64_t>(n, 4 * int64_t{threads});
  if (threads <= 1 || chunks <= 1 || in_parallel()) {
    fn(0, n);
    return;
  }
  parallel_tasks(chunks, [&](int64_t c) { fn(n * c / chunks, n * (c + 1) / chunks); });
}

}  // namespace trim
