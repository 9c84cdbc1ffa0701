// The JSON form of an evaluation report (trim/io/evaluation_json.hpp).
#include "trim/io/evaluation_json.hpp"

#include <cmath>

namespace trim::io {

namespace {

Json numbers(const std::vector<double>& v) {
  Json a = Json::array();
  for (double x : v) a.push(x);
  return a;
}

/// [T, N] as nested arrays.
Json table(const Tensor& t) {
  Json a = Json::array();
  if (t.empty()) return a;
  const int64_t T = t.dim(0), N = t.numel() / T;
  for (int64_t i = 0; i < T; ++i) {
    Json row = Json::array();
    for (int64_t e = 0; e < N; ++e) row.push(double(t[i * N + e]));
    a.push(std::move(row));
  }
  return a;
}

}  // namespace

Json evaluation_report_json(const EvaluationReport& r) {
  Json j = Json::object();
  Json summary = Json::object();
  for (const EvaluationSummaryRow& row : evaluation_summary(r)) {
    Json v = Json::object();
    v.set("mean", std::isfinite(row.value) ? Json(row.value) : Json());
    v.set("better", row.better);
    summary.set(row.name, std::move(v));
  }
  j.set("summary", std::move(summary));
  const FaithfulnessCurves& c = r.curves;
  Json per = Json::object();  // [targets][examples]
  per.set("deletion_auc", table(c.deletion_auc));
  per.set("insertion_auc", table(c.insertion_auc));
  per.set("road_morf_auc", table(c.road_morf_auc));
  per.set("road_lerf_auc", table(c.road_lerf_auc));
  per.set("mu_fidelity", table(r.mu_fidelity));
  per.set("infidelity", table(r.infidelity));
  per.set("sensitivity_max", table(r.sensitivity));
  j.set("per_target_and_example", std::move(per));
  Json curves = Json::object();  // means over targets and examples
  curves.set("fraction_removed", numbers(c.fractions));
  curves.set("deletion", numbers(mean_curve(c.deletion)));
  curves.set("insertion", numbers(mean_curve(c.insertion)));
  curves.set("random_deletion", numbers(mean_curve(c.random_deletion_mean)));
  curves.set("random_deletion_std", numbers(mean_curve(c.random_deletion_std)));
  curves.set("random_insertion", numbers(mean_curve(c.random_insertion_mean)));
  curves.set("random_insertion_std", numbers(mean_curve(c.random_insertion_std)));
  curves.set("road_morf", numbers(mean_curve(c.road_morf)));
  curves.set("road_lerf", numbers(mean_curve(c.road_lerf)));
  j.set("mean_curves", std::move(curves));
  if (!r.randomisation.layers.empty()) {
    Json rnd = Json::object();
    Json layers = Json::array();
    for (const std::string& l : r.randomisation.layers) layers.push(l);
    rnd.set("layers_from_the_top", std::move(layers));
    rnd.set("mean_rank_correlation", numbers(mean_rank_correlation(r.randomisation)));
    j.set("randomisation", std::move(rnd));
  }
  return j;
}

}  // namespace trim::io
