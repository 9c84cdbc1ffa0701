#pragma once
/// \file
/// trim::mpi: the same data-set run on many processes (built only with MPI).
///
/// Every function takes a communicator, so an embedding program (a
/// simulation code that already runs under MPI) passes its own, or a split
/// of it, and trim never calls MPI_Init itself.
///
/// The model of a run:
///   - `partition` gives each rank one contiguous slice of the examples,
///     deterministically and aligned to the summary's block grid, so the
///     summaries reduced across ranks are bit for bit those of one process;
///   - each rank reads its slice, works through it in chunks (`Job` keeps
///     all ranks in lock-step, one collective per chunk, which also gives
///     rank 0 the progress of the whole job), and writes its rows through a
///     `DistributedWriter` (one part file per rank, merged on commit);
///   - an exception on one rank is turned into the same `RankError` on every
///     rank at the next collective (`check`, `Job::sync`): the job stops with
///     one message naming the rank, no rank waits forever. Work between two
///     collectives must therefore be local (no MPI calls that other ranks
///     would have to join).
///
/// Outputs and part files must be on a file system every rank sees (as on
/// any cluster's shared scratch).

#include <mpi.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/dataset/array.hpp"
#include "trim/dataset/summary.hpp"

namespace trim::mpi {

/// The slice of `n` examples owned by `rank` of `ranks`: contiguous, in rank
/// order, covering [0, n) exactly; slice boundaries are multiples of `align`
/// (so no summary block is split), and sizes differ by at most `align`.
dataset::Rows partition(int64_t n, int ranks, int rank, int64_t align = 1);

/// The error every rank throws when one rank failed: "rank R: <message>" of
/// the lowest failing rank (its message names the file or shape).
class RankError : public Error {
 public:
  RankError(int rank, const std::string& message)
      : Error("rank " + std::to_string(rank) + ": " + message), rank_(rank), message_(message) {}
  int rank() const { return rank_; }
  /// The failing rank's own message, without the "rank R: " prefix.
  const std::string& message() const { return message_; }

 private:
  int rank_;
  std::string message_;
};

/// Collective: every rank passes its own error (or none). When any rank has
/// one, every rank throws the same RankError; otherwise returns. A RankError
/// passed in is rethrown as is (it is already agreed).
void check(MPI_Comm comm, std::exception_ptr error);

/// Runs `fn` (local work) and then `check`: the usual wrapper of one step.
template <class Fn>
void guarded(MPI_Comm comm, Fn&& fn) {
  std::exception_ptr error;
  try {
    fn();
  } catch (...) {
    error = std::current_exception();
  }
  check(comm, error);
}

/// Collective: the sum of `local` over all ranks.
int64_t total(MPI_Comm comm, int64_t local);

/// Collective: gathers the summaries of all ranks on `root` and merges them
/// there. Returns the merged summary on `root` and `local` elsewhere.
dataset::Summary reduce(MPI_Comm comm, const dataset::Summary& local, int root = 0);

/// One data-set run divided among the ranks of `comm`, stepped in chunks.
class Job {
 public:
  /// `examples` in total, `chunk` examples per step, slices aligned to
  /// `align` (use the summary's block size).
  Job(MPI_Comm comm, int64_t examples, int64_t chunk, int64_t align = 64);

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm comm() const { return comm_; }
  int64_t examples() const { return examples_; }
  /// This rank's examples.
  dataset::Rows slice() const { return slice_; }
  /// Steps every rank takes (the chunks of the largest slice); the same on every rank.
  int64_t steps() const { return steps_; }
  /// This rank's chunk at `step` (count 0 once its slice is done).
  dataset::Rows chunk(int64_t step) const;
  /// Collective, once per step on every rank: agrees on errors (throws
  /// RankError everywhere when one rank failed) and returns the examples
  /// finished by the whole job so far (`done_here`: this rank's, cumulative).
  int64_t sync(std::exception_ptr error, int64_t done_here);

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  int64_t examples_ = 0, chunk_ = 1, steps_ = 0;
  dataset::Rows slice_;
};

/// Writes an array [shape...] from all ranks: each rank's rows go to its own
/// part file (`FILE.partR.npy` next to the output, resumable with the
/// writer options), and the collective commit() copies the parts in rank
/// order into `spec` on rank 0 (any format create_array writes, serial HDF5
/// included) and removes them. The output appears only when every part is
/// complete.
class DistributedWriter {
 public:
  /// Collective. `slice`: this rank's rows (from Job::slice or partition).
  DistributedWriter(MPI_Comm comm, const std::string& spec, const std::vector<int64_t>& shape, dataset::Rows slice,
                    const dataset::WriterOptions& options = {});
  ~DistributedWriter();

  /// Rows [first, first + count) of the whole array (inside this rank's slice).
  void write(int64_t first, int64_t count, const float* data);
  /// True when rows of the whole array `r` (inside this rank's slice) are on disk (resume).
  bool is_finished(dataset::Rows r) const;
  /// Reads finished rows of the whole array (inside this rank's slice) back
  /// from this rank's part (a resumed run feeds them to its summary).
  void read_back(int64_t first, int64_t count, float* out);
  /// Collective: completes every part and merges them on rank 0.
  void commit();

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::string spec_, part_;
  std::vector<int64_t> shape_;
  dataset::Rows slice_;
  dataset::WriterOptions options_;
  std::unique_ptr<dataset::ArrayWriter> part_writer_;
};

}  // namespace trim::mpi
