#pragma once
/// \file
/// Streaming summaries of per-example results (band importances, group
/// scores, attributions) over a data set: mean, standard deviation, standard
/// error, a seeded bootstrap interval of the mean, median and quartiles, for
/// all examples and per class.
///
/// Examples arrive a chunk at a time with their global index. Means and
/// variances are Welford running sums per block of `block` consecutive
/// examples, merged with Chan's formula in block order at the end. Because
/// the blocks sit on a fixed grid of global indices, the result is the same
/// bit for bit whatever the chunk size, and whatever the number of MPI ranks
/// as long as each block is summarised by one rank (trim::mpi::partition
/// aligns the slices to blocks).
///
/// Medians, quartiles and the bootstrap need every value: with
/// `keep_values` (the default) the summary keeps one float per example and
/// column (4 bytes x N x columns: 1.2 GB for a million maps x 300 columns)
/// and computes them exactly at the end: quantiles as numpy.quantile's
/// default (linear interpolation between order statistics), the bootstrap
/// from resamples drawn by a counter-based hash of (seed, replicate, index),
/// so it too is independent of chunking and ranks. Without `keep_values`
/// memory is constant and only count, mean, std and sem are reported.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "trim/io/json.hpp"

namespace trim::dataset {

/// Welford's running mean and sum of squared deviations, with the exact
/// pairwise merge of Chan, Golub & LeVeque (1979).
struct RunningStats {
  int64_t count = 0;
  double mean = 0;
  double m2 = 0;  ///< sum of squared deviations from the mean

  void add(double x);
  /// Combines with the statistics of a disjoint set of values.
  void merge(const RunningStats& other);
  /// Sample variance (ddof = 1, as numpy.var(ddof=1)); NaN below 2 values.
  double variance() const;
  double stdev() const;
  /// Standard error of the mean: stdev / sqrt(count).
  double sem() const;
};

struct SummaryOptions {
  /// Bootstrap replicates of the mean (0: no interval).
  int bootstrap = 1000;
  uint64_t seed = 0;
  /// Coverage of the bootstrap interval (percentile method).
  double level = 0.95;
  /// Keep every value for exact quantiles and the bootstrap (see the file comment).
  bool keep_values = true;
  /// Examples per Welford block: the grid MPI slices align to.
  int64_t block = 64;
};

/// Per-column statistics of one set of examples, each vector flattened
/// row-major over the summary's column shape. Quantile and interval vectors are
/// empty without keep_values (the interval also without bootstrap).
struct ColumnStats {
  int64_t count = 0;
  std::vector<double> mean, stdev, sem;
  std::vector<double> ci_low, ci_high;
  std::vector<double> median, q1, q3;
};

struct SummaryResult {
  std::vector<int64_t> column_shape;
  SummaryOptions options;
  ColumnStats all;
  /// Per class label, in increasing label order (empty without labels).
  std::vector<std::pair<int64_t, ColumnStats>> classes;

  /// The JSON document of docs/scale.md: arrays nested as column_shape
  /// (e.g. [targets][groups]); NaN (fewer than 2 examples) is written as null
  /// by write_json(..., NonFinite::Null).
  io::Json to_json() const;
};

/// Writes a summary as the HDF5 group `group` of `file` (created if needed):
/// `GROUP/all/{mean,std,sem,ci_low,ci_high,median,q1,q3}` float64 datasets
/// of the column shape, `GROUP/classes/<label>/...` the same per class, and
/// the attributes `count` (per set), `bootstrap_replicates`, `bootstrap_seed`,
/// `bootstrap_level`. Written under `GROUP.partial` and renamed when complete,
/// replacing an older group. IoError when the build has no HDF5.
void write_summary_hdf5(const SummaryResult& result, const std::string& file, const std::string& group);

/// Accumulates per-example values [columns...] chunk by chunk.
class Summary {
 public:
  /// `column_shape`: the shape of one example's values, e.g. {targets, groups}.
  explicit Summary(std::vector<int64_t> column_shape, SummaryOptions options = {});

  const std::vector<int64_t>& column_shape() const { return column_shape_; }
  int64_t columns() const { return columns_; }
  const SummaryOptions& options() const { return options_; }
  /// Examples added so far (here and in merged summaries).
  int64_t examples() const;

  /// Adds examples first .. first + count − 1: `values` holds count ×
  /// columns() floats (row-major), `labels` (optional) one class per example.
  /// Within a block, examples must come in increasing index order without
  /// repeats (ValueError otherwise), as a streamed run delivers them.
  void add(int64_t first, int64_t count, const float* values, const int64_t* labels = nullptr);

  /// Takes in the examples of another summary of the same shape and options
  /// (disjoint examples; a block split between the two is joined when its
  /// halves are adjacent).
  void merge(const Summary& other);

  /// The statistics of everything added (see the file comment).
  SummaryResult result() const;

  /// A byte string of the whole state, and back (to send between MPI ranks).
  std::string serialize() const;
  static Summary deserialize(const std::string& bytes);

 private:
  struct Block {
    int64_t first = 0;  ///< global index of the first example held
    int64_t count = 0;
    std::vector<RunningStats> all;
    std::map<int64_t, std::vector<RunningStats>> classes;
    std::vector<float> values;   ///< count × columns, with keep_values
    std::vector<int64_t> labels; ///< count, when labels were given
  };
  static void join(Block& a, const Block& b, int64_t columns);

  std::vector<int64_t> column_shape_;
  int64_t columns_ = 0;
  SummaryOptions options_;
  bool labelled_ = false;
  std::map<int64_t, Block> blocks_;
};

/// Index of bootstrap replicate `replicate`'s `i`-th draw among `n` values: a
/// SplitMix64-style hash, so any process draws the same resamples
/// (documented in docs/scale.md; tests/reference/make_summary.py repeats it).
int64_t bootstrap_index(uint64_t seed, int64_t replicate, int64_t i, int64_t n);

}  // namespace trim::dataset
