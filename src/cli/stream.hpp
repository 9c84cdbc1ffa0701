#pragma once
// Streamed runs of `trim attribute`, `sweep` and `predict`: the input is
// read a chunk of examples at a time through the dataset readers (.npy
// memory-mapped, FILE.h5:/path, FILE.fits[EXT]), each chunk's results are
// written to the output as they come (examples first, resumable), and a
// summary with error bars over all examples is kept on the way. Under
// `mpirun` (a build with MPI) the examples are divided among the ranks and
// the output is the same, bit for bit, as one process's. docs/scale.md.
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "args.hpp"
#include "inputs.hpp"
#include "trim/core/tensor.hpp"
#include "trim/dataset/summary.hpp"
#include "trim/io/json.hpp"

namespace trim::cli {

/// The processes of this run: MPI is started when the tool was launched by
/// mpirun / mpiexec / srun (and the build has MPI), else this is one process.
/// main() holds one for the whole run; MPI_Finalize runs in the destructor.
class ProcessGroup {
 public:
  ProcessGroup(int* argc, char*** argv);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;
};
/// This process's rank and the number of processes (0 and 1 without MPI).
int process_rank();
int process_count();
/// Prints a failed run's message once per job and returns `status`: rank 0
/// prints errors every rank agreed on (mpi::RankError) or shares (usage);
/// an error only this rank has is printed with its rank and ends the whole
/// job (MPI_Abort), so no rank waits for this one.
int report_error(const std::string& prefix, const std::exception& e, int status);

/// The options every streaming command takes (--chunk, --summary, --labels,
/// --bootstrap, --resume), with one wording.
std::vector<OptionSpec> stream_options();

/// Runs setup work on every rank and agrees on its errors (under MPI a bad
/// model or option on one rank stops every rank with one message).
void agreed(const std::function<void()>& fn);

/// The options that decide a run's results, as (name, value) pairs for the
/// output's attributes and the resume fingerprint: every option given except
/// those that only say where or how results are written (-o, --resume,
/// --chunk, --threads, --quiet, --summary, --plot, --json, --labels, --bootstrap).
std::vector<std::pair<std::string, std::string>> run_settings(const Args& args);

/// The file an array spec names ("suite.h5" of "suite.h5:/sims/maps"), for provenance.
std::string spec_file(const std::string& spec);

/// Whether this run streams: the input or output is not a plain .npy, a
/// streaming option is given, or several processes run it. Otherwise the
/// command keeps its in-memory path (and its output layout).
bool is_streamed(const Args& args, const std::string& input, const std::string& output);

/// One streamed run: what to compute on each chunk and how to describe it.
struct StreamJob {
  std::string command;  ///< "attribute", "sweep", "predict": messages and attributes
  const Model* model = nullptr;
  std::string input, output;  ///< array specs; output may be empty (predict without -o: print)
  /// One example's result (the output is [N, row_shape...]).
  std::vector<int64_t> row_shape;
  /// Examples per library call: chunks are a multiple of it and start at a
  /// multiple of it, so the calls are the in-memory run's, bit for bit.
  int64_t call = 8;
  /// The run's settings, stored as attributes of an HDF5 output and part of
  /// the resume fingerprint.
  std::vector<std::pair<std::string, std::string>> settings;
  /// Results of examples [first, first + x.dim(0)) of model input x:
  /// [n, row_shape...]. `progress(done, total)` reports the chunk's own units.
  std::function<Tensor(int64_t first, const Tensor& x, const std::function<void(int64_t, int64_t)>& progress)>
      compute;
  /// Progress bar label and unit.
  std::string label, unit = "examples";
  /// The --plot figure from the summary (mean and 95 % band), drawn on rank 0; may be empty.
  std::function<void(const std::string& path, const dataset::SummaryResult& summary)> plot;
  std::string plot_path;
  /// Added to the --summary JSON as "provenance" (how to reproduce the run).
  io::Json provenance;
};

struct StreamReport {
  int64_t examples = 0;
  int64_t resumed = 0;  ///< examples a killed run had finished
  std::vector<int64_t> shape;
  bool lead = true;  ///< rank 0 (prints the report)
  /// Rank 0: the summary when --summary or --plot asked for one.
  bool has_summary = false;
  dataset::SummaryResult summary;
  /// predict without -o: the outputs, on rank 0, to print.
  Tensor printed;
};

/// Runs `job` over every example of its input (see the file comment).
/// Errors name the file, the example and (under MPI) the rank; a failed run
/// leaves no output (with --resume, its partial file to continue from).
StreamReport run_streamed(const Args& args, const StreamJob& job);

/// "[N,T,G] (examples first)": how reports show a streamed output's shape.
std::string streamed_shape_text(const std::vector<int64_t>& shape);

/// The mean over examples of a summary per target as a line plot with the
/// 95 % band (mean ± 1.96 standard errors): one series per target (at most
/// 10) over `x` (group or band centres), or bars per group when `bars`.
void plot_mean_band(const std::string& path, const dataset::SummaryResult& s, const std::vector<double>& x,
                    const std::vector<std::string>& names, bool bars, const std::vector<int64_t>& targets,
                    const std::string& title, const std::string& x_label, const std::string& value_label);

}  // namespace trim::cli
