// `trim attribute`: explain a model's outputs in a transform's coefficients.
#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>
#include <cstdio>

#include "commands.hpp"
#include "figures.hpp"
#include "inputs.hpp"
#include "methods.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "provenance.hpp"
#include "stream.hpp"
#include "summary.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/text.hpp"

namespace trim::cli {

namespace {

/// Method options: the command-line flag and the setting it sets; each method
/// reads some of them (Method::options).
const std::pair<const char*, const char*> kMethodOptions[] = {
    {"baseline", "baseline"}, {"steps", "steps"},     {"samples", "samples"},
    {"stdev", "stdev"},       {"seed", "seed"},       {"window", "window"},
    {"strides", "strides"},   {"no-convergence-delta", "convergence_delta"}};

class Stopwatch {
 public:
  /// Seconds since the last lap (or the start).
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void check_method_options(const Args& args, const Method& m) {
  for (const auto& [flag, setting] : kMethodOptions)
    if (args.has(flag) && !m.reads(setting))
      throw UsageError("--" + std::string(flag) + " does not apply to method '" + m.name + "'");
  if (m.needs_groups && !args.has("groups"))
    throw UsageError("method '" + m.name + "' needs --groups (e.g. radial:8, subbands, components)");
  if (m.needs_window && !args.has("window")) throw UsageError("method '" + m.name + "' needs --window (e.g. 4,4)");
}

std::vector<int64_t> parse_sizes(const std::string& text, const std::string& option) {
  std::vector<int64_t> sizes;
  for (const std::string& part : split(text, ',')) {
    const std::optional<int64_t> v = parse_int(part);
    if (!v || *v < 1) throw UsageError("--" + option + " '" + text + "': expected positive sizes such as 4 or 4,4");
    sizes.push_back(*v);
  }
  return sizes;
}

/// Occlusion's window over the coefficient axes: the user's sizes cover the
/// last axes (before the (re, im) pair, which is always occluded whole).
void set_window(const Args& args, const Transform& t, MethodSettings& ms) {
  ms.window = parse_sizes(args.get("window"), "window");
  ms.strides = args.has("strides") ? parse_sizes(args.get("strides"), "strides") : ms.window;
  if (ms.strides.size() != ms.window.size())
    throw UsageError("--strides has " + std::to_string(ms.strides.size()) + " sizes for a window of " +
                     std::to_string(ms.window.size()));
  const Shape& coef = t.coefficient_shape();
  const bool pair = t.complex_pairs();
  const int axes = coef.rank() - (pair ? 1 : 0);
  if (static_cast<int>(ms.window.size()) > axes)
    throw UsageError("--window has " + std::to_string(ms.window.size()) + " sizes, but the coefficients " +
                     coef.str() + " have " + std::to_string(axes) + " axes to slide over");
  for (size_t j = 0; j < ms.window.size(); ++j) {
    const int axis = axes - static_cast<int>(ms.window.size()) + static_cast<int>(j);
    if (ms.window[j] > coef[axis])
      throw UsageError("--window '" + args.get("window") + "': size " + std::to_string(ms.window[j]) +
                       " does not fit axis " + std::to_string(axis) + " (size " + std::to_string(coef[axis]) +
                       ") of the coefficients " + coef.str());
  }
  if (pair) ms.window.push_back(2), ms.strides.push_back(2);
}

/// The baseline's coefficients T(b); for methods with one baseline per
/// example the file must hold one example or exactly one per input example.
Tensor baseline_coefficients(const Args& args, const Method& m, const Model& model, const Transform& t, int64_t n) {
  const std::string text = args.get("baseline", "zero");
  const Tensor b = parse_baseline(text, model.example_shape, model.path);
  if (!m.baseline_set && b.dim(0) != 1 && b.dim(0) != n)
    throw ShapeError("baseline '" + text + "' holds " + std::to_string(b.dim(0)) + " examples, but the input holds " +
                     std::to_string(n) + ": give one example (used for all) or one per input example");
  try {
    return t.forward(b);
  } catch (const Error& e) {
    throw ValueError("baseline '" + text + "': " + e.what());
  }
}

/// The method over the rows of s with the library's explain_examples.
/// `first`: the index of s's first example in the input (a streamed chunk):
/// example e of the input draws with seed + e and takes baseline row e,
/// whatever the chunk; `report(done, total)` counts the library's units of
/// work over the rows of s.
Attribution explain_rows(const Method& method, const TrimModel& tm, const Tensor& s, const Tensor& residual,
                         const Grouping* grouping, const std::vector<int64_t>& targets, const MethodSettings& settings,
                         int64_t first, const std::function<void(int64_t, int64_t)>& report, int64_t max_memory) {
  const int64_t N = s.dim(0);
  MethodSettings ms = settings;
  const bool baseline_per_example =
      !method.baseline_set && settings.baseline.numel() > 0 && settings.baseline.dim(0) > 1;
  if (baseline_per_example) {
    if (first + N > settings.baseline.dim(0))
      throw ShapeError("--baseline holds " + std::to_string(settings.baseline.dim(0)) +
                       " examples, but the input holds more: give one example (used for all) or one per input example");
    ms.baseline = example_rows(settings.baseline, first, first + N);
  }
  if (method.random) ms.seed = settings.seed + static_cast<uint64_t>(first);
  AttributionOptions o;
  o.targets = Targets(targets);
  o.grouping = grouping;
  o.max_batch = rows_per_batch(s.numel() / N);
  o.max_memory = max_memory;  // 0, or the batches fit this many bytes (replaces max_batch)
  o.progress = [&](int64_t done, int64_t total) {
    report(done, total);
    return true;
  };
  if (residual.numel() > 0) o.extra_inputs = {residual};
  return explain_examples(method, tm.graph(), s, ms, o);
}

Attribution explain(const Method& method, const TrimModel& tm, const Tensor& s, const Tensor& residual,
                    const Grouping* grouping, const std::vector<int64_t>& targets, const MethodSettings& settings,
                    bool quiet, int64_t max_memory) {
  Progress progress(method.name, method.unit, quiet);
  const Attribution all = explain_rows(method, tm, s, residual, grouping, targets, settings, 0,
                                       [&](int64_t done, int64_t total) { progress.update(done, total); }, max_memory);
  progress.finish();
  return all;
}

/// [T, n, rest...] as [n, T, rest...]: a streamed output is examples first.
Tensor examples_first(const Tensor& t) {
  const int64_t T = t.dim(0), n = t.dim(1), per = t.numel() / (T * n);
  Shape s = t.shape();
  std::swap(s[0], s[1]);
  Tensor out(s);
  for (int64_t k = 0; k < T; ++k)
    for (int64_t e = 0; e < n; ++e)
      std::copy(t.begin() + (k * n + e) * per, t.begin() + (k * n + e + 1) * per, out.begin() + (e * T + k) * per);
  return out;
}

std::string groups_axis_label(const std::string& groups) {
  const std::string kind = spec_family(groups);
  if (kind == "hz") return "frequency band (Hz)";
  if (kind == "mel")
    return std::string("mel band (centre in mel, ") + (groups.find(":htk") != std::string::npos ? "HTK" : "Slaney") +
           " scale)";
  if (kind == "ell") return "multipole band (l)";
  if (kind == "tiles") return "time-frequency tile";
  if (kind == "segments") return "time segment (frame centres)";
  if (kind == "radial") return "radial frequency (normalised radius; 1 = Nyquist along an axis)";
  if (kind == "band") return "band (normalised radius)";
  if (kind == "bands") {
    const std::vector<std::string> parts = split(groups, ':');
    const std::string units = parts.size() == 4 ? parts[3] : "cycles per sample spacing";
    return "frequency band (" + (units == "ell" || units == "l" ? std::string("multipole l") : units) + ")";
  }
  if (kind == "subbands") return "wavelet sub-band";
  if (kind == "levels") return "wavelet level";
  if (kind == "components") return "dictionary component";
  return "group (label in the mask)";
}

/// "integrated gradients" for "integrated_gradients": how figures name a method.
std::string display_name(const std::string& method) {
  std::string s = method;
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

/// The --plot figure: group scores, or the first target's coefficient map.
/// The value axis says what is drawn, not only the method.
void draw(const std::string& path, const Args& args, const Method& method, const TrimSetup& setup, const Grouping* g,
          const Tensor& written) {
  // Short titles: a plot title wider than the figure is clipped.
  const std::string title = display_name(method.name) + ", " + setup.transform->spec();
  const int64_t n = setup.x.dim(0);
  const std::string batch_note = n > 1 ? ", mean of " + std::to_string(n) + " examples" : "";
  const bool cd = method.name == "cd";
  if (g) {
    const std::string one_target =
        setup.targets.size() == 1 ? " of output " + std::to_string(setup.targets[0]) : "";
    const std::string value_label = cd ? "CD: relevant part" + one_target + " per group"
                                       : display_name(method.name) + one_target + ", summed per group";
    plot_groups(path, *g, written, setup.targets, title + batch_note, groups_axis_label(args.get("groups")),
                value_label);
  } else {
    const std::string target = std::to_string(setup.targets[0]);
    plot_coefficients(path, *setup.transform, written, 0, title + ", target " + target + batch_note,
                      display_name(method.name) + " attribution to output " + target);
  }
}

/// Every file the run read: the model, the input, and the baseline, mask
/// and dictionary files when the options name them.
std::vector<std::pair<std::string, std::string>> input_files(const Args& args) {
  std::vector<std::pair<std::string, std::string>> files = {{"model", args.positional(0)},
                                                            {"input", args.positional(1)}};
  const std::string transform = args.get("transform");
  const TransformFamily* family = find_transform_family(transform);
  if (family && family->reads_file) files.emplace_back("dictionary", transform.substr(family->name.size() + 1));
  const std::string groups = args.get("groups");
  if (spec_family(groups) == "mask") files.emplace_back("mask", groups.substr(5));
  const std::string baseline = args.get("baseline", "zero");
  if (baseline != "zero" && !parse_double(baseline)) files.emplace_back("baseline", baseline);
  return files;
}

/// The values the method ran with, defaults included.
io::Json settings_json(const Args& args, const Method& m, const MethodSettings& ms, const TrimSetup& setup) {
  io::Json j = io::Json::object();
  j.set("transform", setup.transform->spec()).set("residual", setup.trim->has_residual());
  j.set("targets", setup.targets);
  if (m.reads("baseline")) j.set("baseline", args.get("baseline", "zero"));
  if (m.reads("steps")) j.set("steps", ms.steps).set("quadrature", "gauss-legendre");
  if (m.reads("samples")) j.set("samples", ms.samples);
  if (m.reads("stdev")) j.set("stdev", static_cast<double>(ms.stdev));
  if (m.reads("seed")) j.set("seed", static_cast<long long>(ms.seed)).set("seed_per_example", "seed + example index");
  if (m.reads("window")) j.set("window", ms.window).set("strides", ms.strides);
  if (m.reads("convergence_delta")) j.set("convergence_delta", ms.convergence_delta);
  j.set("rows_per_batch", static_cast<long long>(rows_per_batch(setup.coefficients.numel() / setup.x.dim(0))));
  return j;
}

/// A streamed run (stream.hpp): the input a chunk at a time, results [N, T, ...]
/// written as they come, the summary and its figure from the statistics.
void run_attribute_streamed(const Args& args, const Method& method, MethodSettings settings) {
  const int64_t max_memory = max_memory_option(args);
  Stopwatch clock;
  const std::string out = args.required("output"), plot = args.get("plot");
  if (args.has("json"))
    throw UsageError("--json lists every example's strongest groups; a streamed run writes --summary FILE.json "
                     "(statistics over all examples) instead");
  TrimSetup setup;
  std::optional<Grouping> grouping;
  agreed([&] {
    if (!plot.empty()) {
      Outputs check;
      check.declare_plot(plot, "--plot");
    }
    setup = load_trim_setup(args, false);
    grouping = parse_groups_option(args, *setup.transform);
    if (method.needs_window) set_window(args, *setup.transform, settings);
    if (method.reads("baseline")) {
      const std::string text = args.get("baseline", "zero");
      const Tensor b = parse_baseline(text, setup.model.example_shape, setup.model.path);
      try {
        settings.baseline = setup.transform->forward(b);
      } catch (const Error& e) {
        throw ValueError("baseline '" + text + "': " + e.what());
      }
    }
  });
  const Grouping* g = grouping ? &*grouping : nullptr;
  const auto& t = setup.transform;
  const TrimModel& tm = *setup.trim;
  StreamJob job;
  job.command = "attribute";
  job.model = &setup.model;
  job.input = args.positional(1);
  job.output = out;
  job.row_shape = {static_cast<int64_t>(setup.targets.size())};
  if (g) job.row_shape.push_back(static_cast<int64_t>(g->names.size()));
  else for (int64_t d : t->coefficient_shape()) job.row_shape.push_back(d);
  job.call = kExplainExamplesPerCall;
  job.settings = run_settings(args);
  job.settings.emplace_back("transform_spec", t->spec());
  job.label = method.name;
  job.compute = [&](int64_t first, const Tensor& x, const std::function<void(int64_t, int64_t)>& report) {
    const TrimModel::Inputs in = tm.inputs(x, "input '" + job.input + "'");
    const Attribution a = explain_rows(method, tm, in.coefficients, in.residual, g, setup.targets, settings, first,
                                       report, max_memory);
    return examples_first(g ? a.group_scores : a.attributions);
  };
  job.plot_path = plot;
  const std::string title = display_name(method.name) + ", " + t->spec();
  job.plot = [&](const std::string& path, const dataset::SummaryResult& r) {
    if (g) {
      const std::string kind = spec_family(args.get("groups"));
      // Polar transforms: amplitude and phase groups share their centres, so bars.
      const bool curve = (kind == "radial" || kind == "band" || kind == "bands" || kind == "hz" || kind == "mel" ||
                          kind == "ell" || kind == "segments") &&
                         !t->polar();
      plot_mean_band(path, r, g->centers, g->names, !curve, setup.targets, title, groups_axis_label(args.get("groups")),
                     method.name == "cd" ? "CD: relevant part per group" : display_name(method.name) + ", summed per group");
    } else {
      // The mean attributions as [T, 1, coefficients...], drawn as the in-memory run draws them.
      Shape s = prepend({static_cast<int64_t>(setup.targets.size()), 1}, t->coefficient_shape());
      Tensor mean(s);
      for (int64_t i = 0; i < mean.numel(); ++i) mean[i] = static_cast<float>(r.all.mean[static_cast<size_t>(i)]);
      plot_coefficients(path, *t, mean, 0, title + ", target " + std::to_string(setup.targets[0]) + ", mean of " +
                        std::to_string(r.all.count) + " examples",
                        display_name(method.name) + " attribution to output " + std::to_string(setup.targets[0]));
    }
  };
  // The provenance hashes the input files: once, on rank 0, and only for a JSON summary.
  agreed([&] {
    if (process_rank() != 0 || args.get("summary").find(".json") == std::string::npos) return;
    std::vector<std::pair<std::string, std::string>> files = input_files(args);
    files[1].second = spec_file(files[1].second);
    job.provenance = provenance_json(args, files, io::Json::object()
                                                                 .set("transform", t->spec())
                                                                 .set("targets", setup.targets)
                                                                 .set("layout", "examples first"));
  });
  const StreamReport rep = run_streamed(args, job);
  if (!args.has("quiet") && rep.lead) {
    std::string text = "trim attribute: wrote " + out + " " + streamed_shape_text(rep.shape) + " (" + method.name +
                       " on " + t->spec() + ", examples first, " + std::to_string(rep.examples) + " examples" +
                       (rep.resumed ? ", " + std::to_string(rep.resumed) + " of them from the resumed run" : "") +
                       (process_count() > 1 ? ", " + std::to_string(process_count()) + " processes" : "") + ") in " +
                       duration_text(clock.lap()) + "\n";
    for (const std::string& f : {args.get("summary"), plot})
      if (!f.empty()) text += "  also wrote " + f + "\n";
    std::fputs(text.c_str(), stdout);
  }
}

void run_attribute(const Args& args) {
  Stopwatch clock;
  const std::string& model_path = args.positional(0);
  const std::string& input_path = args.positional(1);
  const Method& method = find_method(args.required("method"));
  check_method_options(args, method);
  const std::string out = args.required("output"), plot = args.get("plot"), json = args.get("json");
  MethodSettings settings;
  settings.steps = static_cast<int>(args.get_int("steps", 50, 1, 100000));
  settings.samples = static_cast<int>(args.get_int("samples", method.default_samples, 1, 1000000));
  settings.stdev = static_cast<float>(args.get_double("stdev", method.default_stdev, 0, 1e30));
  settings.seed = static_cast<uint64_t>(args.get_int("seed", 0, 0, INT64_MAX));
  settings.convergence_delta = !args.has("no-convergence-delta");
  if (is_streamed(args, input_path, out)) return run_attribute_streamed(args, method, settings);
  const int64_t max_memory = max_memory_option(args);
  Outputs outputs;
  outputs.declare(out, "-o");
  outputs.declare_plot(plot, "--plot");
  outputs.declare(json, "--json");

  const TrimSetup setup = load_trim_setup(args);
  const Model& model = setup.model;
  const Tensor& x = setup.x;
  const auto& t = setup.transform;
  const TrimModel& tm = *setup.trim;
  const std::vector<int64_t>& targets = setup.targets;
  std::optional<Grouping> grouping;
  grouping = parse_groups_option(args, *t);
  if (method.needs_window) set_window(args, *t, settings);
  if (method.reads("baseline")) settings.baseline = baseline_coefficients(args, method, model, *t, x.dim(0));
  const double load_seconds = clock.lap();

  const Grouping* g = grouping ? &*grouping : nullptr;
  const Attribution result =
      explain(method, tm, setup.coefficients, setup.residual, g, targets, settings, args.has("quiet"), max_memory);
  const double attribution_seconds = clock.lap();

  const Tensor& written = g ? result.group_scores : result.attributions;
  outputs.npy(out, written, "the " + method.name + " attributions");
  if (!plot.empty())
    outputs.file(plot, [&](const std::string& tmp) { draw(tmp, args, method, setup, g, written); });
  SummaryInput in;
  in.model = model_path;
  in.input = input_path;
  in.transform = t->spec();
  in.t = t.get();
  in.method = method.name;
  in.groups = args.get("groups");
  in.residual = tm.has_residual();
  in.result = &result;
  if (method.has_delta && !settings.convergence_delta) in.delta_off = "--no-convergence-delta";
  in.grouping = g;
  in.coefficient_shape = t->coefficient_shape();
  in.output_shape = written.shape();
  if (!json.empty()) {
    in.prediction = model.graph.evaluate(x);
    in.seconds = {{"load_and_transform", load_seconds},
                  {"attribution", attribution_seconds},
                  {"total", load_seconds + attribution_seconds + clock.lap()}};
    in.provenance = provenance_json(args, input_files(args), settings_json(args, method, settings, setup));
    outputs.json(json, attribution_summary(in));
  }
  outputs.commit();
  if (!args.has("quiet")) {
    std::string also;
    for (const std::string& f : {plot, json})
      if (!f.empty()) also += (also.empty() ? "" : ", ") + f;
    std::string report = attribution_report(in, out, load_seconds + attribution_seconds + clock.lap());
    if (!also.empty()) report += "  also wrote " + also + "\n";
    std::fputs(report.c_str(), stdout);
  }
}

}  // namespace

Command attribute_command() {
  CommandSpec s;
  s.name = "attribute";
  s.summary = "attribute a model's outputs to transform coefficients (TRIM)";
  std::string methods_text;
  for (const Method& m : methods()) methods_text += "\n  " + m.name + ": " + m.help;
  s.description =
      "Explains f'(s) = f(T^-1(s) + r) at s = T(x): the model composed with the inverse of the transform, attributed "
      "to the coefficients s of INPUT.npy. The model's input shape fixes the shape of one example; INPUT.npy holds "
      "one example or a batch (one more leading axis).\n\n"
      "The output -o is [targets, batch, coefficient_shape...] (the (re, im) pair of complex coefficients is a "
      "trailing axis of 2, each part attributed separately), or [targets, batch, groups] with --groups (the sum over "
      "each group; for cd the relevant part of the output). Always with the batch axis, also for one example. A "
      "streamed run (--chunk, --summary, --resume, an HDF5 or FITS input, an HDF5 output, or mpirun) writes the same "
      "values examples first: [batch, targets, ...] (docs/scale.md).\n\n"
      "The residual r = x - T^-1(T(x)) is added exactly when the transform is lossy (nmf, pca or dict with fewer "
      "components than features, dmey wavelets) unless --residual forces it on; it is held fixed, so F(T(x)) equals "
      "the model's output.\n\n"
      "Examples are explained a few at a time (the progress bar counts them). Methods that draw random numbers "
      "(smoothgrad, gradient_shap, shapley) explain example e with seed S+e, so an example gets the same result "
      "whatever else is in the file.\n\n"
      "Methods:" +
      methods_text;
  s.positionals = model_and_input();
  s.options = {
      {"transform", "SPEC", "the transform T (required): fft2, rfft2:ortho, dct2, dwt2:db4:3:symmetric, swt1:haar:2, "
                            "nmf:DICT.npy, identity, ... (see 'trim transform --help')"},
      {"method", "METHOD", "the attribution method (required), see Methods above"},
      target_option(),
      {"groups", "GROUPS",
       "also score groups of coefficients and write [targets, batch, groups]: radial:N (N equal radial frequency "
       "bands over the normalised radius, Fourier transforms), band:CENTER:WIDTH (one band [CENTER - WIDTH/2, "
       "CENTER + WIDTH/2); WIDTH is the full width), bands:E0,E1,...:SPACING[:UNITS] (bands with edges in physical "
       "frequency: SPACING is the sample spacing, e.g. 0.000125 s for 8 kHz audio with edges in Hz, or arcmin per "
       "pixel with UNITS ell for multipoles l), hz:E0,E1,... (bands in Hz, with --sample-rate; fft1, rfft1, dct1, "
       "stft), mel:N[:htk|slaney] (N mel bands, with --sample-rate), ell:E0,E1,... (multipole bins, with "
       "--arcmin-per-pixel; fft2, rfft2), tiles:NF:NT and segments:N (stft time-frequency tiles and time "
       "segments), subbands or levels (wavelets), components (dictionaries), "
       "mask:FILE.npy (an integer label per coefficient, -1 for none; for fft/rfft the (re, im) axis may be left out)"},
      {"baseline", "zero|VALUE|FILE.npy",
       "the reference input, in input space (trim uses its coefficients T(b)): zeros (default), a constant, or a file "
       "with one example or one per input example; for deeplift_shap and gradient_shap any number of reference "
       "examples"},
      {"steps", "N", "integrated_gradients: quadrature points (default 50)"},
      {"samples", "N", "smoothgrad: noisy copies (10); gradient_shap: samples (20); shapley: permutations when "
                       "there are more than 12 groups (50)"},
      {"stdev", "S", "smoothgrad (default 1) and gradient_shap (default 0): standard deviation of the noise added "
                     "to the coefficients, in coefficient units"},
      {"seed", "S", "random seed of smoothgrad, gradient_shap and shapley (default 0)"},
      {"no-convergence-delta", "",
       "gradient_shap: skip the convergence delta, which costs 1 + B more forward rows per example (B baselines; "
       "captum computes none by default); the attributions do not change, and --json then says \"delta\": null "
       "with \"delta_not_computed\""},
      {"window", "K[,K...]", "occlusion (required): window over the last coefficient axes (the (re, im) pair is "
                             "always occluded together), e.g. 4,4 for fft2"},
      {"strides", "K[,K...]", "occlusion: step between windows (default: the window)"},
      {"residual", "", "always add the residual input r (default: only for lossy transforms)"},
      {"max-memory", "SIZE",
       "memory budget for one batch through the model: its activations, gradients and rows, not its weights nor the "
       "input and output arrays (e.g. 2G, 500M; powers of 1024). Each batch is then the largest that fits, sized "
       "from the model's buffer plans (results do not depend on it); a budget too small for one row is an error. "
       "Default: batches of about a million input values"},
      output_option("the attributions or group scores (float32 .npy)"),
      {"plot", "FILE.png|svg|pdf",
       "also draw the result, in the format the extension names (mean over the batch): without --groups a heatmap of the first target's coefficient "
       "attributions (frequency-centred for fft2/rfft2, a sub-band mosaic for dwt, bars for dictionaries) with a "
       "colour bar; with --groups a curve over the band centres (radial) or bars per group, one series per target"},
      {"json", "FILE.json", "also write a summary: the prediction, the top " + std::to_string(kTopCount) +
                                " groups (with their centre in the grouping's units) or coefficients (with their "
                                "frequency radius, sub-band or component) per target and example, the convergence "
                                "delta (null for methods without one and with --no-convergence-delta), timings, and how to reproduce the run (trim version and build, every option "
                                "and the values used, input files with size and SHA-256, threads, date)"},
      quiet_option(),
  };
  for (const OptionSpec& o : group_unit_options()) s.options.push_back(o);
  for (const OptionSpec& o : stream_options()) s.options.push_back(o);
  s.examples =
      "  trim attribute cnn.onnx maps.npy --transform fft2 --method integrated_gradients \\\n"
      "       --groups radial:12 --target 0 -o bands.npy --plot bands.png --json bands.json\n"
      "  trim attribute cnn.onnx maps.npy --transform dwt2:db4:3 --method cd --groups subbands -o cd.npy\n"
      "  trim attribute mlp.onnx digits.npy --transform nmf:nmf30.npy --method deeplift -o attr.npy\n";
  return {s, run_attribute};
}

}  // namespace trim::cli
