#pragma once
/// \file
/// Parallel loops on one persistent thread pool shared by all of trim.
///
/// The pool's helper threads poll for the next job for 100 µs (yielding the
/// core) and then sleep on a condition variable (OMP_WAIT_POLICY=passive:
/// sleep at once), and the calling thread never waits for a helper that has
/// not started a task: tasks are claimed from a shared counter, the caller
/// claims them too and afterwards waits only for tasks already running. On a
/// machine whose cores are taken by other processes a parallel loop therefore
/// degrades to about the speed of one thread instead of stalling at a barrier
/// until a descheduled helper gets a time slice (OpenMP's default spinning
/// made two threads slower than one there).
///
/// Loops nested inside a task run serially on the thread that runs the task.
/// Eigen's own products run single-threaded (Eigen::setNbThreads(1) when the
/// library loads): an Eigen OpenMP team would spin between products and take
/// the cores the pool needs. Large products split their rows over the pool.

#include <cstdint>
#include <functional>

namespace trim {

/// Number of threads trim uses, the caller included (default: OMP_NUM_THREADS
/// when OpenMP is available, else the number of cores).
int num_threads();
/// Sets the thread count for trim's pool; n < 1 restores the default.
void set_num_threads(int n);
/// True when called from inside a task of a parallel loop.
bool in_parallel();

/// Calls `fn(begin, end)` on disjoint chunks covering [0, n), in parallel when
/// n > 1 and more than one thread is available: min(n, 4 · num_threads())
/// chunks of near-equal size (one chunk on one thread), taken by whichever
/// thread is free. Chunk boundaries depend only on n and num_threads(), not
/// on which thread runs a chunk. An exception
/// thrown by a chunk is rethrown (the first one) after all chunks finished.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

/// Calls `task(i)` for i in [0, n) on the calling thread and the pool's
/// helpers, whichever takes a task first (dynamic scheduling: give tasks
/// whose results do not depend on the thread). Exceptions as parallel_for.
/// When another thread is already running a job on the pool, or from inside
/// a task, the tasks run serially on the calling thread.
void parallel_tasks(int64_t n, const std::function<void(int64_t)>& task);

}  // namespace trim
