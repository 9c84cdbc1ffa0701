// `trim evaluate` and `trim compare-methods`: how faithful attributions in a
// transform's coefficients are to the model (trim/attribution/evaluate.hpp).
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "inputs.hpp"
#include "methods.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "trim/attribution/evaluate.hpp"
#include "trim/io/evaluation_json.hpp"
#include "trim/io/plot.hpp"

namespace trim::cli {

namespace {

/// What the metric options of both commands set.
EvaluationOptions evaluation_options(const Args& args) {
  EvaluationOptions eo;
  FaithfulnessOptions& fo = eo.faithfulness;
  fo.steps = static_cast<int>(args.get_int("curve-steps", 0, 0, 100000));
  fo.n_random = static_cast<int>(args.get_int("random-orders", 10, 0, 100000));
  fo.by_magnitude = args.has("by-magnitude");
  fo.road = !args.has("no-road");
  fo.road_noise = static_cast<float>(args.get_double("road-noise", 0.01, 0, 1e6));
  fo.mu_subsets = static_cast<int>(args.get_int("subsets", 50, 2, 1000000));
  fo.mu_fraction = args.get_double("subset-fraction", 0.25, 1e-9, 1.0);
  fo.seed = static_cast<uint64_t>(args.get_int("seed", 0, 0, INT64_MAX));
  eo.infidelity.seed = eo.sensitivity.seed = eo.randomisation.seed = fo.seed;
  eo.sensitivity.n_perturb_samples = 5;
  eo.run_randomisation = !args.has("no-randomisation");
  return eo;
}

std::vector<OptionSpec> metric_options() {
  return {
      {"baseline", "zero|VALUE", "what a removed coefficient becomes, in coefficient space (default zero)"},
      {"curve-steps", "N",
       "points of the deletion / insertion / ROAD curves after the start (default: one per "
       "feature, at most 100)"},
      {"random-orders", "N", "random feature orders for the reference curves (default 10)"},
      {"by-magnitude", "", "order features by |score| (default: by the signed score, most positive first)"},
      {"no-road", "", "skip ROAD (imputation from neighbouring coefficients)"},
      {"road-noise", "S",
       "ROAD: noise added to imputed coefficients, relative to the RMS of the example's "
       "coefficients (default 0.01)"},
      {"subsets", "N", "mu-fidelity: random subsets (default 50)"},
      {"subset-fraction", "F", "mu-fidelity: fraction of the features in each subset (default 0.25)"},
      {"seed", "S", "seed of every random draw (default 0)"},
  };
}


std::string format_value(double v) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream o;
  o << std::setprecision(4) << v;
  return o.str();
}

/// Rows: metrics; columns: one per report.
std::string text_table(const std::vector<std::string>& names, const std::vector<EvaluationReport>& reports) {
  std::vector<std::vector<EvaluationSummaryRow>> rows;
  for (const EvaluationReport& r : reports) rows.push_back(evaluation_summary(r));
  size_t metric_width = 6;
  for (const EvaluationSummaryRow& r : rows[0]) metric_width = std::max(metric_width, r.name.size());
  std::ostringstream o;
  o << std::left << std::setw(static_cast<int>(metric_width) + 2) << "metric" << std::setw(10) << "better";
  for (const std::string& n : names)
    o << std::right << std::setw(std::max<int>(12, static_cast<int>(n.size()) + 2)) << n;
  o << "\n";
  for (size_t i = 0; i < rows[0].size(); ++i) {
    o << std::left << std::setw(static_cast<int>(metric_width) + 2) << rows[0][i].name << std::setw(10)
      << rows[0][i].better;
    for (size_t k = 0; k < reports.size(); ++k) {
      const double v = i < rows[k].size() ? rows[k][i].value : std::nan("");
      o << std::right << std::setw(std::max<int>(12, static_cast<int>(names[k].size()) + 2)) << format_value(v);
    }
    o << "\n";
  }
  return o.str();
}

/// Deletion and insertion curves per report, with the random reference as a band.
void draw_curves(const std::string& path, const std::vector<std::string>& names,
                 const std::vector<EvaluationReport>& reports, const std::string& title) {
  io::LinePlot p;
  p.figure.title = title;
  p.x.label = "fraction of features removed (deletion) / restored (insertion)";
  p.y.label = "model output (target), mean over targets and examples";
  const FaithfulnessCurves& ref = reports[0].curves;
  if (!ref.random_deletion_mean.empty()) {
    p.series.push_back({"random order, deletion (mean +- sd)", ref.fractions, mean_curve(ref.random_deletion_mean),
                        mean_curve(ref.random_deletion_std)});
    p.series.push_back({"random order, insertion (mean +- sd)", ref.fractions, mean_curve(ref.random_insertion_mean),
                        mean_curve(ref.random_insertion_std)});
  }
  for (size_t k = 0; k < reports.size(); ++k) {
    p.series.push_back(
        {names[k] + " deletion", reports[k].curves.fractions, mean_curve(reports[k].curves.deletion), {}});
    p.series.push_back(
        {names[k] + " insertion", reports[k].curves.fractions, mean_curve(reports[k].curves.insertion), {}});
  }
  io::plot_lines(path, p);
}

/// The features' baseline in coefficient space.
Baseline parse_coefficient_baseline(const Args& args) {
  const std::string text = args.get("baseline", "zero");
  if (text == "zero") return Baseline::zero();
  const std::optional<double> v = parse_double(text);
  if (!v || !std::isfinite(*v)) throw UsageError("--baseline '" + text + "': expected zero or a number");
  return Baseline::constant(static_cast<float>(*v));
}

AttributionOptions base_options(const TrimSetup& setup, const Grouping* g) {
  AttributionOptions o;
  o.targets = Targets(setup.targets);
  o.grouping = g;
  if (setup.residual.numel() > 0) o.extra_inputs = {setup.residual};
  return o;
}

void write_outputs(const Args& args, Outputs& outputs, const std::vector<std::string>& names,
                   const std::vector<EvaluationReport>& reports, const io::Json& json, const std::string& title) {
  const std::string table_text = text_table(names, reports);
  const std::string out = args.required("output"), text = args.get("table"), plot = args.get("plot");
  outputs.json(out, json);
  if (!text.empty())
    outputs.file(text, [&](const std::string& tmp) {
      std::ofstream f(tmp);
      f << table_text;
      if (!f) throw IoError("cannot write '" + text + "'");
    });
  if (!plot.empty()) outputs.file(plot, [&](const std::string& tmp) { draw_curves(tmp, names, reports, title); });
  outputs.commit();
  if (!args.has("quiet")) std::cout << table_text;
}

std::vector<OptionSpec> common_options() {
  std::vector<OptionSpec> o = {
      {"transform", "SPEC", "the transform T (required), as for 'trim attribute'"},
      target_option(),
      {"groups", "GROUPS",
       "score groups of coefficients (radial:N, band:C:W, hz:EDGES, mel:N, ell:EDGES, tiles:NF:NT, segments:N, "
       "subbands, levels, components, mask:FILE.npy; as for 'trim attribute'): features are whole groups"},
      {"residual", "", "always add the residual input r (default: only for lossy transforms)"},
  };
  for (OptionSpec& s : group_unit_options()) o.push_back(s);
  for (OptionSpec& s : metric_options()) o.push_back(s);
  o.push_back({"no-randomisation", "", "skip the model-randomisation check (it re-runs each method once per layer)"});
  o.push_back(output_option("the report (JSON)"));
  o.push_back({"table", "FILE.txt", "also write the text table (it is printed unless --quiet)"});
  o.push_back({"plot", "FILE.png", "also draw the deletion and insertion curves with the random reference"});
  o.push_back(quiet_option());
  return o;
}

/// `m` with its default settings, starting from the --baseline coefficients
/// the metrics remove features to.
AttributionMethod method_runner(const Method& m, const Args& args, const EvaluationOptions& eo, const Transform& t) {
  MethodSettings ms = m.defaults();
  ms.baseline = Tensor(prepend({1}, t.coefficient_shape()), eo.faithfulness.baseline.value);
  ms.steps = static_cast<int>(args.get_int("steps", 50, 1, 100000));
  ms.seed = eo.faithfulness.seed;
  ms.convergence_delta = false;  // gradient SHAP's N + B extra rows: no metric reads a delta
  return m.bind(ms);
}

const Method& checked_method(const std::string& name, const Args& args) {
  const Method& m = find_method(name);
  if (m.needs_window) throw UsageError("method '" + name + "' needs a window: run it with 'trim attribute'");
  if (m.needs_groups && !args.has("groups"))
    throw UsageError("method '" + name + "' needs --groups (e.g. radial:8, subbands, components)");
  return m;
}

const char* const kMetricsText =
    "Metrics (docs/evaluate.md): deletion / insertion curves (Petsiuk et al. 2018: features in order of decreasing "
    "score set to the baseline, or restored from it, the target output after each step, through T^-1(s) + r) and "
    "their areas; the same for random orders (the reference: a method should beat it); ROAD (Rong et al. 2022: "
    "removed coefficients imputed from their neighbours along the transform's own axes, most relevant first "
    "(MoRF) and least relevant first (LeRF)); mu-fidelity (Bhatt et al. 2020: correlation over random subsets of "
    "the summed scores and the output drop); infidelity and sensitivity_max (Yeh et al. 2019); the "
    "model-randomisation check (Adebayo et al. 2018: layers re-initialised from the top, the Spearman rank "
    "correlation with the original attributions after all of them).";

void run_evaluate(const Args& args) {
  Outputs outputs;
  outputs.declare(args.required("output"), "-o");
  outputs.declare(args.get("table"), "--table");
  outputs.declare_plot(args.get("plot"), "--plot");
  EvaluationOptions eo = evaluation_options(args);
  eo.faithfulness.baseline = parse_coefficient_baseline(args);
  const TrimSetup setup = load_trim_setup(args);
  std::optional<Grouping> grouping;
  grouping = parse_groups_option(args, *setup.transform);
  const Grouping* g = grouping ? &*grouping : nullptr;
  const std::string path = args.required("attributions");
  const Tensor a = read_finite_npy(path, "attributions");
  const int64_t T = static_cast<int64_t>(setup.targets.size()), N = setup.x.dim(0);
  const Shape want =
      g ? Shape{T, N, static_cast<int64_t>(g->size())} : prepend({T, N}, setup.transform->coefficient_shape());
  if (a.shape() != want)
    throw ShapeError("attributions '" + path + "' have shape " + a.shape().str() + ", expected " + want.str() +
                     " ([targets, batch, " + (g ? "groups]" : "coefficient_shape...]") +
                     " as 'trim attribute' writes them for these targets" + (g ? " and --groups" : "") + ")");
  Attribution attr;
  attr.targets = setup.targets;
  (g ? attr.group_scores : attr.attributions) = a;
  const AttributionOptions o = base_options(setup, g);
  Progress progress("evaluate", "reports", args.has("quiet"));
  progress.update(0, 1);
  AttributionMethod method;  // with --method: sensitivity_max and the randomisation check too
  if (args.has("method")) method = method_runner(checked_method(args.get("method"), args), args, eo, *setup.transform);
  const EvaluationReport r = evaluate_attribution(*setup.trim, setup.coefficients, attr, method, eo, o);
  progress.update(1, 1);
  progress.finish();
  io::Json j = io::Json::object();
  j.set("model", args.positional(0));
  j.set("input", args.positional(1));
  j.set("transform", setup.transform->spec());
  j.set("attributions", path);
  j.set("groups", args.get("groups"));
  io::Json targets = io::Json::array();
  for (int64_t t : setup.targets) targets.push(t);
  j.set("targets", std::move(targets));
  j.set("report", io::evaluation_report_json(r));
  write_outputs(args, outputs, {"score"}, {r}, j, "faithfulness, " + setup.transform->spec());
}

void run_compare(const Args& args) {
  Outputs outputs;
  outputs.declare(args.required("output"), "-o");
  outputs.declare(args.get("table"), "--table");
  outputs.declare_plot(args.get("plot"), "--plot");
  std::vector<const Method*> methods;
  for (const std::string& name : split(args.required("methods"), ',')) methods.push_back(&checked_method(name, args));
  EvaluationOptions eo = evaluation_options(args);
  eo.faithfulness.baseline = parse_coefficient_baseline(args);
  const TrimSetup setup = load_trim_setup(args);
  std::optional<Grouping> grouping;
  grouping = parse_groups_option(args, *setup.transform);
  const Grouping* g = grouping ? &*grouping : nullptr;
  const AttributionOptions o = base_options(setup, g);
  std::vector<std::string> names;
  std::vector<EvaluationReport> reports;
  Progress progress("compare-methods", "methods", args.has("quiet"));
  const int64_t n_methods = static_cast<int64_t>(methods.size());
  progress.update(0, n_methods);
  io::Json per_method = io::Json::object();
  for (size_t k = 0; k < methods.size(); ++k) {
    const Method& m = *methods[k];
    const AttributionMethod run = method_runner(m, args, eo, *setup.transform);
    const Attribution a = run(setup.trim->graph(), setup.coefficients, o);
    EvaluationOptions e = eo;
    if (k > 0) e.faithfulness.n_random = 0;  // the random reference does not depend on the method
    EvaluationReport r = evaluate_attribution(*setup.trim, setup.coefficients, a, run, e, o);
    if (k > 0) {
      const FaithfulnessCurves& ref = reports[0].curves;
      FaithfulnessCurves& c = r.curves;
      c.random_deletion_mean = ref.random_deletion_mean, c.random_deletion_std = ref.random_deletion_std;
      c.random_insertion_mean = ref.random_insertion_mean, c.random_insertion_std = ref.random_insertion_std;
      c.random_deletion_auc_mean = ref.random_deletion_auc_mean,
      c.random_deletion_auc_std = ref.random_deletion_auc_std;
      c.random_insertion_auc_mean = ref.random_insertion_auc_mean;
      c.random_insertion_auc_std = ref.random_insertion_auc_std;
    }
    per_method.set(m.name, io::evaluation_report_json(r));
    names.push_back(m.name);
    reports.push_back(std::move(r));
    progress.update(static_cast<int64_t>(k) + 1, n_methods);
  }
  progress.finish();
  // The most faithful by the difference of the areas (insertion − deletion).
  size_t best = 0;
  for (size_t k = 1; k < reports.size(); ++k)
    if (evaluation_mean(reports[k].curves.insertion_auc) - evaluation_mean(reports[k].curves.deletion_auc) >
        evaluation_mean(reports[best].curves.insertion_auc) - evaluation_mean(reports[best].curves.deletion_auc))
      best = k;
  io::Json j = io::Json::object();
  j.set("model", args.positional(0));
  j.set("input", args.positional(1));
  j.set("transform", setup.transform->spec());
  j.set("groups", args.get("groups"));
  io::Json targets = io::Json::array();
  for (int64_t t : setup.targets) targets.push(t);
  j.set("targets", std::move(targets));
  j.set("most_faithful_by_insertion_minus_deletion", names[best]);
  j.set("methods", std::move(per_method));
  write_outputs(args, outputs, names, reports, j, "deletion / insertion, " + setup.transform->spec());
  if (!args.has("quiet")) std::cout << "most faithful (largest insertion - deletion AUC): " << names[best] << "\n";
}

}  // namespace

Command evaluate_command() {
  CommandSpec s;
  s.name = "evaluate";
  s.summary = "how faithful given attributions are to the model (deletion, insertion, ROAD, mu-fidelity, ...)";
  s.description =
      std::string(
          "Scores attributions of INPUT.npy in a transform's coefficients (as 'trim attribute' writes "
          "them: [targets, batch, coefficient_shape...], or [targets, batch, groups] with --groups) against "
          "the model itself. Writes a JSON report (-o) and prints a table of the means over targets and "
          "examples.\n\n") +
      kMetricsText + " sensitivity_max and the randomisation check re-run the method: give --method.";
  s.positionals = model_and_input();
  s.options = common_options();
  s.options.insert(s.options.begin() + 1,
                   {"attributions", "A.npy", "the scores to evaluate (required), for the same --target and --groups"});
  s.options.insert(s.options.begin() + 2,
                   {"method", "METHOD",
                    "the method that made the scores (optional; default settings, --baseline as its baseline): "
                    "adds sensitivity_max and the model-randomisation check, which re-run it"});
  s.options.insert(s.options.begin() + 3, {"steps", "N", "integrated_gradients: quadrature points (default 50)"});
  s.examples =
      "  trim attribute cnn.onnx maps.npy --transform fft2 --method integrated_gradients --groups radial:8 -o a.npy\n"
      "  trim evaluate cnn.onnx maps.npy --transform fft2 --groups radial:8 --attributions a.npy -o report.json\n";
  return {s, run_evaluate};
}

Command compare_methods_command() {
  CommandSpec s;
  s.name = "compare-methods";
  s.summary = "run several attribution methods and every evaluation metric: which answer to trust";
  s.description =
      std::string(
          "Runs each method of --methods on INPUT.npy in the transform's coefficients (the methods' "
          "default settings; their baseline is --baseline, as for the metrics), scores each with every metric and "
          "writes one JSON report (-o), one "
          "text table (printed, and --table) and one figure (--plot: deletion and insertion curves per "
          "method with the random-order reference as a band). The first thing to run on a new model.\n\n") +
      kMetricsText +
      "\n\nThe most faithful method is reported by the largest difference insertion AUC - deletion AUC; read it "
      "against the random reference and the other columns.";
  s.positionals = model_and_input();
  s.options = common_options();
  s.options.insert(s.options.begin() + 1, {"methods", "M[,M...]",
                                           "the methods to compare (required), e.g. gradient,integrated_gradients,"
                                           "deeplift,cd (cd, feature_ablation and shapley need --groups)"});
  s.options.insert(s.options.begin() + 2, {"steps", "N", "integrated_gradients: quadrature points (default 50)"});
  s.examples =
      "  trim compare-methods cnn.onnx maps.npy --transform dwt2:db4:3 --groups subbands \\\n"
      "       --methods gradient,integrated_gradients,deeplift,cd -o compare.json --plot compare.png\n";
  return {s, run_compare};
}

}  // namespace trim::cli
