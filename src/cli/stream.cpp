#include "stream.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>

#include "outputs.hpp"
#include "progress.hpp"
#include "trim/core/check.hpp"
#include "trim/dataset/array.hpp"
#include "trim/io/json.hpp"
#include "trim/io/plot.hpp"

#ifdef TRIM_CLI_MPI
#include "trim/dataset/mpi.hpp"
#endif

namespace trim::cli {

namespace {

int g_rank = 0, g_size = 1;
bool g_mpi = false;

/// Launched by an MPI launcher (OpenMPI's mpirun, MPICH's hydra, srun with PMI/PMIx).
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

/// Summaries keep every value (exact quantiles, bootstrap) up to this many
/// floats (256 MB); beyond, only count, mean, std and sem.
constexpr int64_t kKeepValuesLimit = int64_t(1) << 26;

/// Examples per chunk when --chunk is not given.
constexpr int64_t kDefaultChunk = 64;

/// The summary's block: MPI slices are aligned to it (a multiple of every
/// command's examples per call).
constexpr int64_t kBlock = 64;

int64_t product(const std::vector<int64_t>& v, size_t from = 0) {
  int64_t p = 1;
  for (size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

/// Where results go, from one process or from every rank.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(int64_t first, int64_t count, const float* data) = 0;
  virtual bool is_finished(dataset::Rows r) const = 0;
  virtual void read_back(int64_t first, int64_t count, float* out) = 0;
  virtual void commit() = 0;
};

class LocalSink : public Sink {
 public:
  explicit LocalSink(std::unique_ptr<dataset::ArrayWriter> w) : w_(std::move(w)) {}
  void write(int64_t first, int64_t count, const float* data) override { w_->write(first, count, data); }
  bool is_finished(dataset::Rows r) const override { return w_->is_finished(r); }
  void read_back(int64_t first, int64_t count, float* out) override { w_->read_back(first, count, out); }
  void commit() override { w_->commit(); }

 private:
  std::unique_ptr<dataset::ArrayWriter> w_;
};

/// The processes of a run: one, or the ranks of MPI_COMM_WORLD.
class Team {
 public:
  Team(int64_t examples, int64_t chunk) : examples_(examples), chunk_(chunk) {
#ifdef TRIM_CLI_MPI
    if (g_mpi) {
      job_ = std::make_unique<mpi::Job>(MPI_COMM_WORLD, examples, chunk, kBlock);
      return;
    }
#endif
    steps_ = (examples + chunk - 1) / chunk;
  }
  bool lead() const { return g_rank == 0; }
  int64_t steps() const {
#ifdef TRIM_CLI_MPI
    if (job_) return job_->steps();
#endif
    return steps_;
  }
  dataset::Rows chunk(int64_t step) const {
#ifdef TRIM_CLI_MPI
    if (job_) return job_->chunk(step);
#endif
    const int64_t first = step * chunk_;
    return {first, std::max<int64_t>(0, std::min(chunk_, examples_ - first))};
  }
  /// Agrees on errors (throws on every rank when one failed) and returns the
  /// examples finished by the whole job.
  int64_t sync(std::exception_ptr error, int64_t done_here) {
#ifdef TRIM_CLI_MPI
    if (job_) return job_->sync(error, done_here);
#endif
    if (error) std::rethrow_exception(error);
    return done_here;
  }
  /// Runs local work and agrees on its errors.
  template <class Fn>
  void guarded(Fn&& fn) {
#ifdef TRIM_CLI_MPI
    if (g_mpi) return mpi::guarded(MPI_COMM_WORLD, fn);
#endif
    fn();
  }
  std::unique_ptr<Sink> writer(const std::string& spec, const std::vector<int64_t>& shape,
                               const dataset::WriterOptions& o);
  dataset::Summary reduce(const dataset::Summary& local) {
#ifdef TRIM_CLI_MPI
    if (g_mpi) return mpi::reduce(MPI_COMM_WORLD, local);
#endif
    return local;
  }
  /// Sends rank 0 the rows of every rank (predict printing its outputs).
  std::vector<float> gather(const std::vector<float>& mine) {
#ifdef TRIM_CLI_MPI
    if (g_mpi) {
      int n = static_cast<int>(mine.size());
      std::vector<int> counts(static_cast<size_t>(g_size)), offsets(static_cast<size_t>(g_size));
      MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
      int total = 0;
      for (int r = 0; r < g_size; ++r) offsets[static_cast<size_t>(r)] = total, total += counts[static_cast<size_t>(r)];
      std::vector<float> all(lead() ? static_cast<size_t>(total) : 0);
      MPI_Gatherv(mine.data(), n, MPI_FLOAT, all.data(), counts.data(), offsets.data(), MPI_FLOAT, 0, MPI_COMM_WORLD);
      return all;
    }
#endif
    return mine;
  }

 private:
  int64_t examples_, chunk_, steps_ = 0;
#ifdef TRIM_CLI_MPI
  std::unique_ptr<mpi::Job> job_;
#endif
};

#ifdef TRIM_CLI_MPI
class DistributedSink : public Sink {
 public:
  DistributedSink(const std::string& spec, const std::vector<int64_t>& shape, dataset::Rows slice,
                  const dataset::WriterOptions& o)
      : w_(MPI_COMM_WORLD, spec, shape, slice, o) {}
  void write(int64_t first, int64_t count, const float* data) override { w_.write(first, count, data); }
  bool is_finished(dataset::Rows r) const override { return w_.is_finished(r); }
  void read_back(int64_t first, int64_t count, float* out) override { w_.read_back(first, count, out); }
  void commit() override { w_.commit(); }

 private:
  mpi::DistributedWriter w_;
};
#endif

std::unique_ptr<Sink> Team::writer(const std::string& spec, const std::vector<int64_t>& shape,
                                   const dataset::WriterOptions& o) {
#ifdef TRIM_CLI_MPI
  if (job_) return std::make_unique<DistributedSink>(spec, shape, job_->slice(), o);
#endif
  return std::make_unique<LocalSink>(dataset::create_array(spec, shape, o));
}

bool is_npy(const std::string& spec) { return spec.size() > 4 && spec.substr(spec.size() - 4) == ".npy"; }

/// The --summary destinations: FILE.json and / or FILE.h5:/group, comma-separated.
struct SummaryTargets {
  std::vector<std::string> json;
  std::vector<dataset::ArraySpec> hdf5;
};

SummaryTargets parse_summary_targets(const std::string& text) {
  SummaryTargets t;
  if (text.empty()) return t;
  for (const std::string& part : split(text, ',')) {
    if (part.size() > 5 && part.substr(part.size() - 5) == ".json") {
      t.json.push_back(part);
      continue;
    }
    dataset::ArraySpec a;
    try {
      a = dataset::parse_array_spec(part);
    } catch (const Error&) {
    }
    if (a.format != dataset::Format::Hdf5)
      throw UsageError("--summary '" + part + "': expected FILE.json or FILE.h5:/group (comma-separated for both)");
    if (!dataset::has_hdf5()) throw UsageError("--summary '" + part + "': trim was built without HDF5");
    t.hdf5.push_back(a);
  }
  return t;
}

/// Class labels of examples: integers, one per example.
void read_labels(dataset::ArrayReader& r, dataset::Rows c, std::vector<int64_t>& out) {
  std::vector<float> v(static_cast<size_t>(c.count * r.row_size()));
  r.read_into(c.first, c.count, v.data());
  out.resize(static_cast<size_t>(c.count));
  for (int64_t i = 0; i < c.count; ++i) {
    const float f = v[static_cast<size_t>(i)];
    if (!(f == std::floor(f)) || std::fabs(f) > 16777216.0f)
      throw ValueError("labels '" + r.spec() + "': element [" + std::to_string(c.first + i) + "] is " +
                       std::to_string(f) + "; class labels are integers");
    out[static_cast<size_t>(i)] = static_cast<int64_t>(f);
  }
}

std::string joined(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

ProcessGroup::ProcessGroup(int* argc, char*** argv) {
#ifdef TRIM_CLI_MPI
  if (!launched_by_mpi()) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_mpi = g_size > 1;
#else
  (void)argc, (void)argv;
#endif
}

ProcessGroup::~ProcessGroup() {
#ifdef TRIM_CLI_MPI
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (initialised && !finalised) MPI_Finalize();
#endif
}

int process_rank() { return g_rank; }

int report_error(const std::string& prefix, const std::exception& e, int status) {
  if (!g_mpi) {
    std::fprintf(stderr, "%s%s\n", prefix.c_str(), e.what());
    return status;
  }
#ifdef TRIM_CLI_MPI
  // Agreed by every rank (mpi::check) or the same on every rank (the command
  // line): rank 0 says it once and every rank ends normally.
  if (dynamic_cast<const mpi::RankError*>(&e) || dynamic_cast<const UsageError*>(&e)) {
    if (g_rank == 0) std::fprintf(stderr, "%s%s\n", prefix.c_str(), e.what());
    return status;
  }
  // Only this rank knows: say which, and end the job so no rank waits for this one.
  std::fprintf(stderr, "%srank %d: %s\n", prefix.c_str(), g_rank, e.what());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, status);
#endif
  return status;
}
int process_count() { return g_size; }

std::vector<OptionSpec> stream_options() {
  return {
      {"chunk", "N",
       "stream the input N examples at a time (default 64; rounded up to the command's examples per call): memory "
       "stays bounded by the chunk whatever the file size. Any streaming option, an HDF5 or FITS input, an HDF5 "
       "output or mpirun makes the run stream; a streamed output is examples first [batch, ...] (see docs/scale.md)"},
      {"summary", "FILE.json|FILE.h5:/GROUP",
       "also write statistics over all examples per output value (target, group, band): count, mean, std, sem, "
       "bootstrap 95 % interval of the mean, median and quartiles (docs/scale.md); FILE.h5:/GROUP writes them as an "
       "HDF5 group; both comma-separated"},
      {"labels", "FILE", "class labels, one integer per example (.npy, FILE.h5:/path or FILE.fits): the summary "
                         "also has the statistics per class"},
      {"bootstrap", "N", "bootstrap replicates of the summary's interval (default 1000, seed 0; 0: none)"},
      {"resume", "",
       "continue a killed run with the same settings from its partial output (OUT.partial and its progress), "
       "without recomputing finished chunks; without it a stale partial output is replaced. A run with --resume also "
       "keeps its partial output when it fails"},
  };
}

void agreed(const std::function<void()>& fn) {
#ifdef TRIM_CLI_MPI
  if (g_mpi) return mpi::guarded(MPI_COMM_WORLD, fn);
#endif
  fn();
}

std::vector<std::pair<std::string, std::string>> run_settings(const Args& args) {
  static const char* const kWhere[] = {"output", "resume", "chunk", "threads", "quiet", "summary",
                                       "plot",   "json",   "labels", "bootstrap", "max-memory"};
  std::vector<std::pair<std::string, std::string>> s;
  for (const std::string& o : args.option_names()) {
    if (!args.has(o) || std::find(std::begin(kWhere), std::end(kWhere), o) != std::end(kWhere)) continue;
    s.emplace_back(o, args.get(o));
  }
  return s;
}

std::string spec_file(const std::string& spec) {
  try {
    return dataset::parse_array_spec(spec).file;
  } catch (const Error&) {
    return spec;
  }
}

bool is_streamed(const Args& args, const std::string& input, const std::string& output) {
  for (const char* o : {"chunk", "summary", "labels", "bootstrap", "resume"})
    if (args.has(o)) return true;
  if (launched_by_mpi()) return true;  // so 1 and N ranks write the same layout
  return !is_npy(input) || (!output.empty() && !is_npy(output));
}

std::string streamed_shape_text(const std::vector<int64_t>& shape) { return "[" + joined(shape) + "]"; }

StreamReport run_streamed(const Args& args, const StreamJob& job) {
  const Model& model = *job.model;
  StreamReport report;
  report.lead = g_rank == 0;
  const bool quiet = args.has("quiet") || g_rank != 0;
  const SummaryTargets summary_targets = parse_summary_targets(args.get("summary"));
  const bool want_summary = args.has("summary") || !job.plot_path.empty();
  const int bootstrap = static_cast<int>(args.get_int("bootstrap", 1000, 0, 1000000));
  int64_t chunk = args.get_int("chunk", kDefaultChunk, 1, int64_t(1) << 30);
  chunk = (chunk + job.call - 1) / job.call * job.call;
  if (job.output.empty() && (args.has("resume")))
    throw UsageError("--resume continues an output file: give -o");

  // The lead stages the summary and figure files; their folders are checked before any work.
  Outputs outputs;

  std::unique_ptr<dataset::ArrayReader> input, labels;
  int64_t N = 0;
  bool one_example = false;
  const Shape& example = model.example_shape;
  // Opening the files is local work: a bad file on one rank stops every rank with one message.
  auto open = [&] {
    for (const std::string& j : summary_targets.json) outputs.declare(j, "--summary");
    input = dataset::open_array(job.input);
    const Shape shape(input->shape());
    if (model.tokens.empty()) {
      if (shape == example) {
        one_example = true;
      } else if (shape.rank() != example.rank() + 1 || drop_leading(shape, 1) != example) {
        throw ShapeError("'" + job.input + "' has shape " + shape.str() + ", but model '" + model.path +
                         "' takes examples of shape " + example.str() + " (one example " + example.str() +
                         " or a batch " + batch_text(example) + ")");
      }
    }
    N = one_example ? 1 : input->rows();
    if (args.has("labels")) {
      labels = dataset::open_array(args.get("labels"));
      if (labels->rows() != N || labels->row_size() != 1)
        throw ShapeError("labels '" + args.get("labels") + "' has shape " + Shape(labels->shape()).str() +
                         ", expected one label per example [" + std::to_string(N) + "] (input '" + job.input + "')");
    }
  };
  {
    // Every rank opens; errors are agreed on before any rank goes on.
    std::exception_ptr error;
    try {
      open();
    } catch (...) {
      error = std::current_exception();
    }
#ifdef TRIM_CLI_MPI
    if (g_mpi) mpi::check(MPI_COMM_WORLD, error);
#endif
    if (error) std::rethrow_exception(error);
  }
  Team t(N, chunk);
  // Serial HDF5 cannot hold one file open for reading and writing at once (and a
  // kill while writing could damage the inputs' only copy): results go to their own file.
  auto same_file = [](const std::string& a, const std::string& b) {
    std::error_code ec;
    return std::filesystem::equivalent(spec_file(a), spec_file(b), ec);
  };
  if (!job.output.empty() && dataset::parse_array_spec(job.output).format == dataset::Format::Hdf5)
    for (const std::string& in : {job.input, args.get("labels")})
      if (!in.empty() && same_file(job.output, in))
        throw UsageError("-o '" + job.output + "' is in the file of the input '" + in +
                         "': write results to their own .h5 file (HDF5 cannot read and write one file at once here)");

  std::vector<int64_t> shape = {N};
  for (int64_t d : job.row_shape) shape.push_back(d);
  report.shape = shape;
  report.examples = N;
  const int64_t row = product(job.row_shape);

  dataset::WriterOptions wo;
  wo.attributes = {{"trim_command", job.command}, {"model", model.path}, {"input", job.input}};
  for (const auto& s : job.settings) wo.attributes.push_back(s);
  wo.attributes.emplace_back("layout", "examples first: [example, " + joined(job.row_shape) + "]");
  wo.resume = args.has("resume");
  wo.keep_partial = args.has("resume");
  std::unique_ptr<Sink> sink;
  if (!job.output.empty()) sink = t.writer(job.output, shape, wo);  // collective under MPI

  dataset::SummaryOptions so;
  so.bootstrap = bootstrap;
  so.block = kBlock;
  so.keep_values = N * row <= kKeepValuesLimit;
  dataset::Summary summary(job.row_shape, so);
  std::vector<float> printed;  // predict without -o

  Progress progress(job.label, "examples", quiet);
  int64_t done_here = 0, all_done = 0;
  std::vector<float> buf;
  std::vector<int64_t> class_of;
  for (int64_t step = 0; step < t.steps(); ++step) {
    std::exception_ptr error;
    try {
      const dataset::Rows c = t.chunk(step);
      if (c.count > 0) {
        buf.resize(static_cast<size_t>(c.count * row));
        if (sink && sink->is_finished(c)) {
          sink->read_back(c.first, c.count, buf.data());
          report.resumed += c.count;
        } else {
          Tensor raw = one_example ? input->read(0, input->rows()).reshaped(prepend({1}, example))
                                   : input->read(c.first, c.count);
          for (int64_t i = 0; i < raw.numel(); ++i)
            if (!std::isfinite(raw[i])) {
              const int64_t per = raw.numel() / c.count;
              Shape full = raw.shape();
              full[0] = N;
              throw ValueError("input '" + job.input + "': element " +
                               index_text(full, c.first * per + i) + " is " +
                               (std::isnan(raw[i]) ? "NaN" : "infinite") + " (trim accepts finite values only)");
            }
          const Tensor x = model_input(model, raw, job.input);
          const int64_t base = all_done;
          const Tensor y = job.compute(c.first, x, [&](int64_t d, int64_t total) {
            if (total > 0) progress.update(base + d * c.count * g_size / total, N);
          });
          if (y.numel() != c.count * row)
            throw Error("internal: " + job.command + " returned " + y.shape().str() + " for " +
                        std::to_string(c.count) + " examples");
          for (int64_t i = 0; i < y.numel(); ++i)
            if (!std::isfinite(y[i])) {
              Shape full = y.shape();
              full[0] = N;
              throw ValueError("the " + job.command + " results: element " + index_text(full, c.first * row + i) +
                               " is " + (std::isnan(y[i]) ? "NaN" : "infinite") + " (nothing was written)");
            }
          std::copy(y.begin(), y.end(), buf.begin());
          if (sink) sink->write(c.first, c.count, buf.data());
        }
        if (labels) read_labels(*labels, c, class_of);
        if (want_summary) summary.add(c.first, c.count, buf.data(), labels ? class_of.data() : nullptr);
        if (!sink) printed.insert(printed.end(), buf.begin(), buf.end());
        done_here += c.count;
      }
    } catch (...) {
      error = std::current_exception();
    }
    all_done = t.sync(error, done_here);
    progress.update(std::min(all_done, N), N);
  }
  progress.finish();
  input.reset();  // a summary group may go into the input's file
  labels.reset();
  report.resumed = [&] {
#ifdef TRIM_CLI_MPI
    if (g_mpi) return mpi::total(MPI_COMM_WORLD, report.resumed);
#endif
    return report.resumed;
  }();
  if (!sink) {
    printed = t.gather(printed);  // collective under MPI
    if (report.lead) {
      report.printed = Tensor(Shape(shape));
      std::copy(printed.begin(), printed.end(), report.printed.begin());
    }
  }

  if (want_summary) {
    const dataset::Summary merged = t.reduce(summary);  // collective
    t.guarded([&] {
      if (!report.lead) return;
      report.summary = merged.result();
      report.has_summary = true;
      for (const std::string& j : summary_targets.json)
        outputs.file(j, [&](const std::string& tmp) {
          io::Json doc = report.summary.to_json();
          doc.set("command", job.command).set("input", job.input).set("output", job.output);
          doc.set("output_shape", shape).set("processes", g_size);
          if (job.provenance.type() != io::Json::Type::Null) doc.set("provenance", job.provenance);
          io::write_json(tmp, doc, io::NonFinite::Null);
        });
      if (!job.plot_path.empty())
        outputs.file(job.plot_path, [&](const std::string& tmp) { job.plot(tmp, report.summary); });
    });
  }
  if (sink) {
    sink->commit();  // collective: the output appears on rank 0 once every part is complete
    sink.reset();
  }
  t.guarded([&] {
    if (!report.lead) return;
    for (const dataset::ArraySpec& a : summary_targets.hdf5) dataset::write_summary_hdf5(report.summary, a.file, a.inner);
    outputs.commit();
  });
  return report;
}

void plot_mean_band(const std::string& path, const dataset::SummaryResult& s, const std::vector<double>& x,
                    const std::vector<std::string>& names, bool bars, const std::vector<int64_t>& targets,
                    const std::string& title, const std::string& x_label, const std::string& value_label) {
  const int64_t T = static_cast<int64_t>(targets.size());
  const int64_t G = T > 0 ? static_cast<int64_t>(s.all.mean.size()) / T : 0;
  std::vector<io::Series> series;
  for (int64_t k = 0; k < std::min<int64_t>(T, 10); ++k) {
    io::Series c;
    c.label = "output " + std::to_string(targets[static_cast<size_t>(k)]);
    for (int64_t j = 0; j < G; ++j) {
      const size_t i = static_cast<size_t>(k * G + j);
      c.x.push_back(x.empty() ? double(j) : x[static_cast<size_t>(j)]);
      c.y.push_back(s.all.mean[i]);
      const double sem = s.all.sem[i];
      c.err.push_back(std::isfinite(sem) ? 1.96 * sem : 0.0);
    }
    series.push_back(std::move(c));
  }
  const std::string full_title = title + ", mean of " + std::to_string(s.all.count) + " examples";
  const std::string band = value_label + " (mean, 95 % band: 1.96 SEM)";
  if (bars) {
    io::BarPlot p;
    p.figure.title = full_title;
    p.categories = names;
    p.x_label = x_label;
    p.y.label = band;
    p.series = series;
    io::plot_bars(path, p);
  } else {
    io::LinePlot p;
    p.figure.title = full_title;
    p.x.label = x_label;
    p.y.label = band;
    p.series = series;
    io::plot_lines(path, p);
  }
}

}  // namespace trim::cli
