// trim.evaluate: how faithful attributions are to the model, over the
// library's evaluation API (trim/attribution/evaluate.hpp), with the options
// and defaults of `trim evaluate`; its report is the CLI's JSON "report".
#include <cmath>
#include <map>
#include <optional>

#include "bindings.hpp"
#include "trim/attribution/evaluate.hpp"
#include "trim/core/error.hpp"
#include "trim/io/evaluation_json.hpp"

namespace trim::py {

namespace {

/// Every array of the report by name, plus the summary and the JSON report.
struct PyEvaluation {
  std::vector<int64_t> targets;
  std::map<std::string, pyb::object> fields;
  pyb::dict summary, report;
};

/// The names and meanings of PyEvaluation's fields, in the order documented.
const std::vector<std::pair<const char*, const char*>>& field_docs() {
  static const std::vector<std::pair<const char*, const char*>> docs = {
      {"fractions", "float64 (points,): the removed fraction of the features at each curve point"},
      {"deletion", "(targets, N, points): the target output as features are set to the baseline, by decreasing score"},
      {"insertion", "(targets, N, points): the target output as features are restored from the baseline"},
      {"deletion_auc", "(targets, N): area under the deletion curve (lower is better)"},
      {"insertion_auc", "(targets, N): area under the insertion curve (higher is better)"},
      {"random_deletion_mean", "(targets, N, points): deletion in random orders, mean (None without random orders)"},
      {"random_deletion_std", "(targets, N, points): its standard deviation"},
      {"random_insertion_mean", "(targets, N, points): insertion in random orders, mean"},
      {"random_insertion_std", "(targets, N, points): its standard deviation"},
      {"random_deletion_auc_mean", "(targets, N)"},
      {"random_deletion_auc_std", "(targets, N)"},
      {"random_insertion_auc_mean", "(targets, N)"},
      {"random_insertion_auc_std", "(targets, N)"},
      {"road_morf", "(targets, N, points): ROAD, most relevant first (None without road)"},
      {"road_lerf", "(targets, N, points): ROAD, least relevant first"},
      {"road_morf_auc", "(targets, N) (lower is better)"},
      {"road_lerf_auc", "(targets, N) (higher is better)"},
      {"mu_fidelity", "(targets, N): Pearson correlation of summed scores and output drop over random subsets"},
      {"infidelity", "(targets, N) (None for group scores)"},
      {"sensitivity_max", "(targets, N) (None without method, or for group scores)"},
      {"randomisation", "(layers, targets, N): Spearman correlation with the original attributions after "
                        "re-initialising layers[0..k] (None without method)"},
  };
  return docs;
}

pyb::object array_or_none(Tensor t) {
  if (t.numel() == 0) return pyb::none();
  return to_array(std::move(t));
}

template <typename T>
T checked(const char* name, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi))
    throw ValueError(std::string(name) + " must be in [" + pyb::str(pyb::cast(lo)).cast<std::string>() + ", " +
                     pyb::str(pyb::cast(hi)).cast<std::string>() + "], got " +
                     pyb::str(pyb::cast(value)).cast<std::string>());
  return value;
}

PyEvaluation evaluate(const PyModel& model, pyb::handle x, pyb::handle attributions, pyb::handle transform,
                      pyb::handle target, pyb::handle groups, std::optional<std::string> method_name,
                      std::optional<int> steps, pyb::handle baseline, int curve_steps, int random_orders,
                      bool by_magnitude, bool road, double road_noise, int subsets, double subset_fraction,
                      int64_t seed, bool randomisation, pyb::handle residual, int64_t max_batch) {
  // An Attribution from trim.attribute: its scores, targets and grouping.
  pyb::object scores = pyb::reinterpret_borrow<pyb::object>(attributions);
  pyb::object target_obj = pyb::reinterpret_borrow<pyb::object>(target);
  pyb::object groups_obj = pyb::reinterpret_borrow<pyb::object>(groups);
  if (pyb::isinstance<PyAttribution>(attributions)) {
    const PyAttribution& a = attributions.cast<const PyAttribution&>();
    if (groups_obj.is_none()) groups_obj = a.grouping;
    if (target_obj.is_none()) target_obj = pyb::cast(a.targets);
    scores = groups_obj.is_none() ? a.attributions : a.group_scores;
    if (scores.is_none())
      throw ValueError("attributions: the Attribution of method '" + a.method + "' has no " +
                       (groups_obj.is_none() ? "per-coefficient attributions (give groups)" : "group scores"));
  }
  if (target_obj.is_none()) target_obj = pyb::str("all");

  EvaluationOptions eo;
  FaithfulnessOptions& fo = eo.faithfulness;
  fo.steps = checked("curve_steps", curve_steps, 0, 100000);
  fo.n_random = checked("random_orders", random_orders, 0, 100000);
  fo.by_magnitude = by_magnitude;
  fo.road = road;
  fo.road_noise = static_cast<float>(checked("road_noise", road_noise, 0.0, 1e6));
  fo.mu_subsets = checked("subsets", subsets, 2, 1000000);
  fo.mu_fraction = checked("subset_fraction", subset_fraction, 1e-9, 1.0);
  fo.seed = static_cast<uint64_t>(checked<int64_t>("seed", seed, 0, INT64_MAX));
  eo.infidelity.seed = eo.sensitivity.seed = eo.randomisation.seed = fo.seed;
  eo.sensitivity.n_perturb_samples = 5;
  eo.run_randomisation = randomisation;
  if (baseline.is_none() || (pyb::isinstance<pyb::str>(baseline) && baseline.cast<std::string>() == "zero")) {
    fo.baseline = Baseline::zero();
  } else if (!pyb::isinstance<pyb::str>(baseline) && pyb::hasattr(baseline, "__float__") &&
             !pyb::isinstance<pyb::array>(baseline)) {
    const double v = baseline.cast<double>();
    if (!std::isfinite(v)) throw ValueError("baseline: " + std::to_string(v) + " is not finite");
    fo.baseline = Baseline::constant(static_cast<float>(v));
  } else {
    throw pyb::type_error("baseline: expected 'zero' or a number (the value a removed coefficient takes)");
  }
  if (max_batch < 1) throw ValueError("max_batch must be >= 1, got " + std::to_string(max_batch));
  const NamedMethod* method = method_name ? &find_method(*method_name) : nullptr;
  if (method && method->needs_window)
    throw ValueError("method '" + method->name + "' needs a window: run it with trim.attribute");
  if (method && method->needs_groups && groups_obj.is_none())
    throw ValueError("method '" + method->name + "' needs groups (e.g. 'radial:8', 'subbands', 'components')");
  if (steps && !method) throw ValueError("steps applies to the method that re-runs: give method");
  if (steps) checked("steps", *steps, 1, 100000);

  Setup s = setup(model, x, transform, target_obj, residual);
  std::optional<Grouping> grouping;
  if (!groups_obj.is_none()) grouping = to_grouping(groups_obj, *s.transform);
  const Grouping* g = grouping ? &*grouping : nullptr;
  Input a = to_tensor(scores, "attributions");
  const int64_t T = static_cast<int64_t>(s.targets.size()), N = s.x.dim(0);
  Shape want{T, N};
  if (g) {
    want.push_back(static_cast<int64_t>(g->size()));
  } else {
    for (int64_t d : s.transform->coefficient_shape()) want.push_back(d);
  }
  if (a.tensor.shape() != want)
    throw ShapeError("attributions have shape " + a.tensor.shape().str() + ", expected " + want.str() +
                     " ([targets, N, " + (g ? "groups]" : "coefficient_shape...]") +
                     " as trim.attribute returns them for these targets" + (g ? " and groups" : "") + ")");
  Attribution attr;
  attr.targets = s.targets;
  (g ? attr.group_scores : attr.attributions) = std::move(a.tensor);
  AttributionOptions o;
  o.targets = Targets(s.targets);
  o.grouping = g;
  o.max_batch = max_batch;
  o.progress = signal_progress();
  if (s.residual.numel() > 0) o.extra_inputs = {s.residual};
  AttributionMethod run;  // with a method: sensitivity_max and the randomisation check too
  if (method) {
    MethodSettings ms = method->defaults();
    Shape one{1};
    for (int64_t d : s.transform->coefficient_shape()) one.push_back(d);
    ms.baseline = Tensor(one, fo.baseline.value);
    ms.steps = steps.value_or(50);
    ms.seed = fo.seed;
    ms.convergence_delta = false;  // gradient SHAP's N + B extra rows: no metric reads a delta
    run = method->bind(ms);
  }
  EvaluationReport r;
  std::string json;
  {
    pyb::gil_scoped_release release;
    r = evaluate_attribution(*s.trim, s.coefficients, attr, run, eo, o);
    json = io::evaluation_report_json(r).dump(0);
  }
  PyEvaluation e;
  e.targets = r.targets;
  e.report = pyb::module_::import("json").attr("loads")(json);
  for (const EvaluationSummaryRow& row : evaluation_summary(r))
    e.summary[pyb::str(row.name)] = std::isfinite(row.value) ? pyb::object(pyb::float_(row.value)) : pyb::none();
  FaithfulnessCurves& c = r.curves;
  e.fields["fractions"] = to_array_f64(c.fractions.data(), {static_cast<int64_t>(c.fractions.size())});
  e.fields["deletion"] = array_or_none(std::move(c.deletion));
  e.fields["insertion"] = array_or_none(std::move(c.insertion));
  e.fields["deletion_auc"] = array_or_none(std::move(c.deletion_auc));
  e.fields["insertion_auc"] = array_or_none(std::move(c.insertion_auc));
  e.fields["random_deletion_mean"] = array_or_none(std::move(c.random_deletion_mean));
  e.fields["random_deletion_std"] = array_or_none(std::move(c.random_deletion_std));
  e.fields["random_insertion_mean"] = array_or_none(std::move(c.random_insertion_mean));
  e.fields["random_insertion_std"] = array_or_none(std::move(c.random_insertion_std));
  e.fields["random_deletion_auc_mean"] = array_or_none(std::move(c.random_deletion_auc_mean));
  e.fields["random_deletion_auc_std"] = array_or_none(std::move(c.random_deletion_auc_std));
  e.fields["random_insertion_auc_mean"] = array_or_none(std::move(c.random_insertion_auc_mean));
  e.fields["random_insertion_auc_std"] = array_or_none(std::move(c.random_insertion_auc_std));
  e.fields["road_morf"] = array_or_none(std::move(c.road_morf));
  e.fields["road_lerf"] = array_or_none(std::move(c.road_lerf));
  e.fields["road_morf_auc"] = array_or_none(std::move(c.road_morf_auc));
  e.fields["road_lerf_auc"] = array_or_none(std::move(c.road_lerf_auc));
  e.fields["mu_fidelity"] = array_or_none(std::move(r.mu_fidelity));
  e.fields["infidelity"] = array_or_none(std::move(r.infidelity));
  e.fields["sensitivity_max"] = array_or_none(std::move(r.sensitivity));
  e.fields["randomisation"] = array_or_none(std::move(r.randomisation.correlation));
  e.fields["randomisation_layers"] = pyb::cast(r.randomisation.layers);
  return e;
}

}  // namespace

void register_evaluate(pyb::module_& m) {
  std::string fields_doc;
  for (const auto& [name, doc] : field_docs()) fields_doc += std::string(name) + "\n    " + doc + "\n";
  const std::string class_doc = R"(The result of trim.evaluate: every metric, as ``trim evaluate`` computes it.

Attributes
----------
summary : dict
    Metric name -> mean over targets and examples (None when it did not
    run), as the table ``trim evaluate`` prints.
report : dict
    The "report" object of ``trim evaluate -o REPORT.json``, number for
    number: summary (with which direction is better),
    per_target_and_example, mean_curves and randomisation.
targets : list of int
randomisation_layers : list of str
    The layers re-initialised, from the top (empty without method).
)" + fields_doc + "All arrays are float32 unless noted; None where the metric did not run.";
  auto cls = pyb::class_<PyEvaluation>(m, "Evaluation", class_doc.c_str());
  cls.def_readonly("targets", &PyEvaluation::targets, "The output indices the scores are for (axis 0 of the arrays).");
  cls.def_readonly("summary", &PyEvaluation::summary,
                   "Metric -> mean over targets and examples (None when it did not run).");
  cls.def_readonly("report", &PyEvaluation::report,
                   "The report object of `trim evaluate -o REPORT.json`, number for number.");
  for (const auto& [name, doc] : field_docs()) {
    const std::string key = name;
    cls.def_property_readonly(name, [key](const PyEvaluation& e) { return e.fields.at(key); }, doc);
  }
  cls.def_property_readonly("randomisation_layers",
                            [](const PyEvaluation& e) { return e.fields.at("randomisation_layers"); },
                            "The layers re-initialised, from the top (empty without method).");
  cls.def("__repr__", [](const PyEvaluation& e) {
    std::string s = "<trim.Evaluation";
    for (auto item : e.summary)
      if (!item.second.is_none())
        s += " " + pyb::str("{}={:.4g}").format(item.first, item.second).cast<std::string>();
    return s + ">";
  });

  m.def("evaluate", &evaluate, pyb::arg("model"), pyb::arg("x"), pyb::arg("attributions"), pyb::kw_only(),
        pyb::arg("transform") = "identity", pyb::arg("target") = pyb::none(), pyb::arg("groups") = pyb::none(),
        pyb::arg("method") = pyb::none(), pyb::arg("steps") = pyb::none(), pyb::arg("baseline") = "zero",
        pyb::arg("curve_steps") = 0, pyb::arg("random_orders") = 10, pyb::arg("by_magnitude") = false,
        pyb::arg("road") = true, pyb::arg("road_noise") = 0.01, pyb::arg("subsets") = 50,
        pyb::arg("subset_fraction") = 0.25, pyb::arg("seed") = 0, pyb::arg("randomisation") = true,
        pyb::arg("residual") = pyb::none(), pyb::arg("max_batch") = 64,
        R"(How faithful attributions in a transform's coefficients are to the model.

Scores ``attributions`` of ``x`` (as trim.attribute returns them) against
the model itself, with every metric of ``trim evaluate`` (docs/evaluate.md):
deletion / insertion curves (Petsiuk et al. 2018: features in order of
decreasing score set to the baseline, or restored from it, the target output
after each step, through T^-1(s) + r) and their areas; the same for random
orders (the reference a method should beat); ROAD (Rong et al. 2022: removed
coefficients imputed from their neighbours along the transform's own axes,
most / least relevant first); mu-fidelity (Bhatt et al. 2020); infidelity
and sensitivity_max (Yeh et al. 2019); the model-randomisation check
(Adebayo et al. 2018). Same numbers as ``trim evaluate`` on the same files.

Parameters
----------
model : trim.Model
x : array_like
    One example or a batch ``(N, ...)``: the inputs the scores explain.
attributions : array_like or trim.Attribution
    ``(targets, N, *coefficient_shape)``, or ``(targets, N, groups)`` with
    ``groups``. A trim.Attribution gives its scores, its targets (unless
    ``target`` is given) and its grouping (unless ``groups`` is given).
transform : str or trim.Transform
    The transform the scores are in (default 'identity').
target : int, list of int or 'all'
    The outputs the scores are for (default: all, or the Attribution's).
groups : str, trim.Grouping or array of int, optional
    Features are whole groups (then the scores are group scores).
method : str, optional
    The method that made the scores, re-run with its default settings and
    ``baseline`` as its baseline for sensitivity_max and the randomisation
    check (occlusion cannot: it needs a window).
steps : int, optional
    integrated_gradients re-run: quadrature points (default 50).
baseline : 'zero' or float
    What a removed coefficient becomes, in coefficient space.
curve_steps : int
    Curve points after the start (0: one per feature, at most 100).
random_orders : int
    Random feature orders for the reference curves (default 10; 0: none).
by_magnitude : bool
    Order features by |score| instead of the signed score.
road : bool
    Also ROAD (imputation from neighbouring coefficients).
road_noise : float
    ROAD: noise on imputed coefficients, relative to the example's RMS.
subsets, subset_fraction : int, float
    mu-fidelity: random subsets and the fraction of features in each.
seed : int
    Seed of every random draw.
randomisation : bool
    Run the model-randomisation check when ``method`` is given (it re-runs
    the method once per layer).
residual : bool, optional
    Add the residual r = x - T^-1(T(x)) (default: exactly when lossy).
max_batch : int
    Rows sent through the model at once.

Returns
-------
trim.Evaluation
    ``.summary`` (means), ``.report`` (the CLI's JSON report) and every
    curve and metric per target and example as NumPy arrays.

Raises
------
ValueError
    Scores of the wrong shape, unknown method, options out of range.

The GIL is released while trim computes; Ctrl-C stops the call with
KeyboardInterrupt (checked between batches).)");
}

}  // namespace trim::py
