// `trim sweep`: contextual decomposition of a sliding radial frequency band,
// the reference's "which scales matter" curve.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>

#include "commands.hpp"
#include "figures.hpp"
#include "inputs.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "provenance.hpp"
#include "stream.hpp"
#include "trim/attribution/cd.hpp"

namespace trim::cli {

namespace {

/// Examples per cd_band_sweep call (all bands of an example go as one batch).
constexpr int64_t kExamplesPerCall = 4;

/// Mean over the examples of target row k of rel [T, N, C], and its peak.
std::vector<double> mean_curve(const Tensor& rel, int64_t k) {
  const int64_t N = rel.dim(1), C = rel.dim(2);
  std::vector<double> m(static_cast<size_t>(C), 0.0);
  for (int64_t e = 0; e < N; ++e)
    for (int64_t c = 0; c < C; ++c) m[static_cast<size_t>(c)] += rel[(k * N + e) * C + c] / double(N);
  return m;
}

size_t peak(const std::vector<double>& v) {
  size_t best = 0;
  for (size_t i = 1; i < v.size(); ++i)
    if (std::fabs(v[i]) > std::fabs(v[best])) best = i;
  return best;
}

/// Band sweeps are defined on Fourier coefficients only.
void require_fourier(const Args& args) {
  const TransformFamily* family = find_transform_family(args.required("transform"));
  if (!family || (family->layout != CoefficientLayout::Spectrum && family->layout != CoefficientLayout::HalfSpectrum))
    throw UsageError("--transform '" + args.get("transform") +
                     "': a band sweep needs a Fourier transform (fft1, fft2, rfft1 or rfft2)");
}

/// The CD band sweep of examples [e0, e1) of the coefficients s (r.rel is
/// [targets, e1 - e0, bands]); `done(k)` reports band-example pairs finished in it.
CdResult sweep_rows(const TrimSetup& setup, const Tensor& s, const Tensor& residual, int64_t e0, int64_t e1,
                    const std::vector<double>& centers, double width, const std::function<void(int64_t)>& done,
                    int64_t max_memory) {
  CdOptions o;
  o.targets = Targets(setup.targets);
  o.max_batch = rows_per_batch(s.numel() / s.dim(0));
  o.max_memory = max_memory;  // 0, or chunks sized to fit it (replaces max_batch)
  if (residual.numel() > 0) o.extra_inputs = {rows(residual, e0, e1)};
  o.progress = [&](int64_t finished, int64_t) {
    done(finished);
    return true;
  };
  return cd_band_sweep(setup.trim->graph(), rows(s, e0, e1), *setup.transform, centers, width, o);
}

/// A streamed sweep (stream.hpp): [N, targets, centres], examples first.
void run_sweep_streamed(const Args& args, const std::vector<double>& centers, double width) {
  const int64_t max_memory = max_memory_option(args);
  const auto start = std::chrono::steady_clock::now();
  const std::string out = args.required("output"), plot = args.get("plot");
  if (args.has("json"))
    throw UsageError("--json holds the mean curve of an in-memory run; a streamed run writes --summary FILE.json "
                     "(mean, std, interval per band over all examples) instead");
  require_fourier(args);
  TrimSetup setup;
  agreed([&] {
    if (!plot.empty()) {
      Outputs check;
      check.declare_plot(plot, "--plot");
    }
    setup = load_trim_setup(args, false);
  });
  const int64_t T = static_cast<int64_t>(setup.targets.size()), C = static_cast<int64_t>(centers.size());
  StreamJob job;
  job.command = "sweep";
  job.model = &setup.model;
  job.input = args.positional(1);
  job.output = out;
  job.row_shape = {T, C};
  job.call = kExamplesPerCall;
  job.settings = run_settings(args);
  job.settings.emplace_back("transform_spec", setup.transform->spec());
  job.label = "sweep";
  job.compute = [&](int64_t, const Tensor& x, const std::function<void(int64_t, int64_t)>& report) {
    const TrimModel::Inputs in = setup.trim->inputs(x, "input '" + args.positional(1) + "'");
    const Tensor &s = in.coefficients, &residual = in.residual;
    const int64_t n = s.dim(0);
    Tensor y({n, T, C});
    for (int64_t e0 = 0; e0 < n; e0 += kExamplesPerCall) {
      const int64_t e1 = std::min(n, e0 + kExamplesPerCall), m = e1 - e0;
      const CdResult r = sweep_rows(setup, s, residual, e0, e1, centers, width,
                                    [&](int64_t done) { report(e0 * C + done, n * C); }, max_memory);
      for (int64_t k = 0; k < T; ++k)
        for (int64_t e = 0; e < m; ++e)
          std::copy(r.rel.begin() + (k * m + e) * C, r.rel.begin() + (k * m + e + 1) * C,
                    y.begin() + ((e0 + e) * T + k) * C);
    }
    return y;
  };
  job.plot_path = plot;
  job.plot = [&](const std::string& path, const dataset::SummaryResult& r) {
    plot_mean_band(path, r, centers, {}, false, setup.targets, "CD band sweep, " + setup.transform->spec(),
                   "band centre (normalised radius)", "CD: relevant part of the output");
  };
  // The provenance hashes the input files: once, on rank 0, and only for a JSON summary.
  agreed([&] {
    if (process_rank() != 0 || args.get("summary").find(".json") == std::string::npos) return;
    job.provenance = provenance_json(args, {{"model", args.positional(0)}, {"input", spec_file(args.positional(1))}},
                                     io::Json::object()
                                         .set("transform", setup.transform->spec())
                                         .set("centers", centers)
                                         .set("width", width)
                                         .set("targets", setup.targets)
                                         .set("layout", "examples first"));
  });
  const StreamReport rep = run_streamed(args, job);
  if (!args.has("quiet") && rep.lead) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string text = "trim sweep: wrote " + out + " " + streamed_shape_text(rep.shape) + " (CD band sweep on " +
                       setup.transform->spec() + ", examples first, " + std::to_string(rep.examples) + " examples" +
                       (rep.resumed ? ", " + std::to_string(rep.resumed) + " of them from the resumed run" : "") +
                       (process_count() > 1 ? ", " + std::to_string(process_count()) + " processes" : "") + ", " +
                       std::to_string(C) + " bands) in " + duration_text(seconds) + "\n";
    for (const std::string& f : {args.get("summary"), plot})
      if (!f.empty()) text += "  also wrote " + f + "\n";
    std::fputs(text.c_str(), stdout);
  }
}

void run_sweep(const Args& args) {
  const auto start = std::chrono::steady_clock::now();
  const std::string out = args.required("output"), plot = args.get("plot"), json = args.get("json");
  const std::vector<double> centers = parse_range(args.required("centers"), "centers");
  const double width = args.get_double("width", 0, 0, 1e6);
  if (!args.has("width") || !(width > 0)) throw UsageError("--width W (the full band width, > 0) is required");
  if (is_streamed(args, args.positional(1), out)) return run_sweep_streamed(args, centers, width);
  Outputs outputs;
  outputs.declare(out, "-o");
  outputs.declare_plot(plot, "--plot");
  outputs.declare(json, "--json");
  require_fourier(args);
  const int64_t max_memory = max_memory_option(args);
  const TrimSetup setup = load_trim_setup(args);
  const Tensor& s = setup.coefficients;
  const Tensor& residual = setup.residual;

  const int64_t N = s.dim(0), T = static_cast<int64_t>(setup.targets.size()), C = static_cast<int64_t>(centers.size());
  Tensor curve({T, N, C});
  Progress progress("sweep", "bands x examples", args.has("quiet"));
  for (int64_t e0 = 0; e0 < N; e0 += kExamplesPerCall) {
    const int64_t e1 = std::min(N, e0 + kExamplesPerCall), n = e1 - e0;
    const CdResult r = sweep_rows(setup, s, residual, e0, e1, centers, width,
                                  [&](int64_t done) { progress.update(e0 * C + done, N * C); }, max_memory);
    for (int64_t k = 0; k < T; ++k)
      std::copy(r.rel.begin() + k * n * C, r.rel.begin() + (k + 1) * n * C, curve.begin() + (k * N + e0) * C);
  }
  progress.finish();
  outputs.npy(out, curve, "the sweep");
  if (!plot.empty()) {
    std::string title = "CD band sweep, " + setup.transform->spec();
    if (N > 1) title += ", mean of " + std::to_string(N) + " examples";
    outputs.file(plot, [&](const std::string& tmp) { plot_sweep(tmp, centers, width, curve, setup.targets, title); });
  }
  if (!json.empty()) {
    io::Json curves = io::Json::array();
    for (int64_t k = 0; k < T; ++k) {
      const std::vector<double> m = mean_curve(curve, k);
      curves.push(io::Json::object()
                      .set("target", setup.targets[static_cast<size_t>(k)])
                      .set("mean_over_examples", m)
                      .set("peak_center", centers[peak(m)]));
    }
    io::Json settings = io::Json::object()
                            .set("transform", setup.transform->spec())
                            .set("centers", centers)
                            .set("width", width)
                            .set("units", "normalised radius")
                            .set("targets", setup.targets);
    outputs.json(json, io::Json::object()
                           .set("model", args.positional(0))
                           .set("input", args.positional(1))
                           .set("output_shape", curve.shape().to_vector())
                           .set("curves", curves)
                           .set("provenance", provenance_json(args, {{"model", args.positional(0)},
                                                                     {"input", args.positional(1)}},
                                                              settings)));
  }
  outputs.commit();
  if (!args.has("quiet")) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string report = "trim sweep: wrote " + out + " " + curve.shape().str() + " (CD band sweep on " +
                         setup.transform->spec() + ", " + std::to_string(N) + (N == 1 ? " example" : " examples") +
                         ", " + std::to_string(C) + " bands) in " + duration_text(seconds) + "\n";
    for (int64_t k = 0; k < std::min<int64_t>(T, 10); ++k) {
      const std::vector<double> m = mean_curve(curve, k);
      const size_t p = peak(m);
      char line[160];
      std::snprintf(line, sizeof line, "  target %lld%s: largest |rel| %.4g at band centre %.3g (normalised radius)\n",
                    static_cast<long long>(setup.targets[static_cast<size_t>(k)]),
                    N > 1 ? (", mean of " + std::to_string(N)).c_str() : "", m[p], centers[p]);
      report += line;
    }
    for (const std::string& f : {plot, json})
      if (!f.empty()) report += "  also wrote " + f + "\n";
    std::fputs(report.c_str(), stdout);
  }
}

}  // namespace

Command sweep_command() {
  CommandSpec s;
  s.name = "sweep";
  s.summary = "CD band sweep: contextual decomposition of a sliding frequency band";
  s.description =
      "For each centre c of --centers, the radial band [c - W/2, c + W/2) of the normalised frequency radius "
      "(numpy's fftfreq divided by its largest magnitude per axis, so 1 is the Nyquist frequency along an axis; "
      "radii reach sqrt(2) in 2-D) is the relevant part of the coefficients, and contextual decomposition gives the "
      "part of each output it explains. --width is the full width of the band (the reference's \"+-0.05\" is "
      "--width 0.1).\n\n"
      "Writes [targets, batch, centres]; a streamed run (--chunk, --summary, --resume, HDF5 or FITS input, HDF5 "
      "output, or mpirun) writes [batch, targets, centres]. The model must have no opaque node (e.g. explain the logits, not a "
      "softmax; 'trim info' tells).";
  s.positionals = model_and_input();
  s.options = {
      {"transform", "SPEC", "fft1, fft2, rfft1 or rfft2, optionally with :backward, :ortho or :forward (required)"},
      {"centers", "A:B:N", "N band centres from A to B inclusive (numpy.linspace), in normalised radius (required)"},
      {"width", "W", "the full width of every band, in normalised radius (required)"},
      target_option(),
      {"residual", "", "always add the residual input r (not needed for Fourier transforms, which are exact)"},
      {"max-memory", "SIZE",
       "memory budget for one chunk of band x example rows through the model (the forward of its examples and the "
       "relevant parts, not the weights), e.g. 2G or 500M: chunks are the largest that fit; results do not depend "
       "on it"},
      output_option("the curves [targets, batch, centres] (float32 .npy)"),
      {"plot", "FILE.png|svg|pdf", "also draw the curves (mean over the batch, one per target, at most 10)"},
      {"json", "FILE.json", "also write a summary: the mean curve and its peak per target, and how to reproduce the "
                            "run (version, every option, input files with SHA-256, threads, date)"},
      quiet_option(),
  };
  for (const OptionSpec& o : stream_options()) s.options.push_back(o);
  s.examples = "  trim sweep cnn.onnx maps.npy --transform fft2 --centers 0.05:1.35:27 --width 0.1 -o curve.npy\n";
  return {s, run_sweep};
}

}  // namespace trim::cli
