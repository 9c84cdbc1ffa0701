// The model-randomisation sanity check and the report that runs every metric.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "trim/attribution/evaluate.hpp"
#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"

namespace trim {

namespace {

std::vector<double> average_ranks(const std::vector<double>& v) {
  const size_t n = v.size();
  std::vector<size_t> o(n);
  std::iota(o.begin(), o.end(), size_t{0});
  std::stable_sort(o.begin(), o.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && v[o[j + 1]] == v[o[i]]) ++j;
    const double mid = 0.5 * double(i + j);
    for (size_t k = i; k <= j; ++k) r[o[k]] = mid;
    i = j + 1;
  }
  return r;
}

/// The scores a method's result is judged by.
const Tensor& scores_of(const Attribution& a, const AttributionOptions& options, const std::string& where) {
  const Tensor& t = options.grouping ? a.group_scores : a.attributions;
  if (t.empty())
    throw ValueError(where + ": the attribution has no " +
                     (options.grouping ? std::string("group scores (compute it with the grouping)")
                                       : std::string("per-coefficient attributions (give a grouping)")));
  return t;
}

}  // namespace

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    throw ShapeError("spearman: " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + " values");
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double n = double(a.size());
  if (a.size() < 2) return 0.0;
  const double m = 0.5 * (n - 1.0);
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double u = ra[i] - m, v = rb[i] - m;
    sab += u * v, saa += u * u, sbb += v * v;
  }
  return saa > 0.0 && sbb > 0.0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

RandomisationResult model_randomisation(const Graph& model, const Tensor& s, const AttributionMethod& method,
                                        const RandomisationOptions& ro, const AttributionOptions& options) {
  const std::string where = "model_randomisation";
  if (!method) throw ValueError(where + ": no attribution method given");
  if (!model.finalized()) throw Error(where + ": the model graph is not finalized");
  const Attribution original = method(model, s, options);
  const Tensor& ref = scores_of(original, options, where);
  const int64_t T = ref.dim(0), N = ref.dim(1), K = ref.numel() / std::max<int64_t>(1, T * N);
  Graph g = model;
  RandomisationResult res;
  std::vector<NodeId> layers;
  for (NodeId id = g.num_nodes() - 1; id >= 0; --id) {
    bool trainable = false;
    for (int p : g.node(id).params) trainable = trainable || g.parameters()[static_cast<size_t>(p)].trainable;
    if (trainable) layers.push_back(id);
  }
  if (layers.empty()) throw ValueError(where + ": the model has no trainable parameters to randomise");
  res.correlation = Tensor({static_cast<int64_t>(layers.size()), T, N});
  std::vector<double> a(static_cast<size_t>(K)), b(static_cast<size_t>(K));
  for (size_t k = 0; k < layers.size(); ++k) {
    const Node& node = g.node(layers[k]);
    res.layers.push_back(node.name);
    for (int p : node.params) {
      Parameter& param = g.parameters()[static_cast<size_t>(p)];
      if (!param.trainable) continue;
      double ss = 0.0;
      for (float v : param.value) ss += double(v) * v;
      const float half = static_cast<float>(std::sqrt(3.0 * ss / double(std::max<int64_t>(1, param.value.numel()))));
      Rng rng(ro.seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(p) + 1);
      for (float& v : param.value) v = rng.uniform(-half, half);
    }
    const Attribution now = method(g, s, options);
    const Tensor& cur = scores_of(now, options, where);
    if (cur.shape() != ref.shape())
      throw ShapeError(where + ": the method returned " + cur.shape().str() + " after randomising '" + node.name +
                       "', " + ref.shape().str() + " before");
    for (int64_t t = 0; t < T; ++t)
      for (int64_t e = 0; e < N; ++e) {
        for (int64_t i = 0; i < K; ++i) {
          const double u = ref[(t * N + e) * K + i], v = cur[(t * N + e) * K + i];
          a[static_cast<size_t>(i)] = ro.absolute ? std::fabs(u) : u;
          b[static_cast<size_t>(i)] = ro.absolute ? std::fabs(v) : v;
        }
        res.correlation[(static_cast<int64_t>(k) * T + t) * N + e] = static_cast<float>(spearman(a, b));
      }
  }
  return res;
}

EvaluationReport evaluate_attribution(const TrimModel& tm, const Tensor& s, const Attribution& attribution,
                                      const AttributionMethod& method, const EvaluationOptions& eo,
                                      const AttributionOptions& options) {
  const std::string where = "evaluate_attribution";
  AttributionOptions opts = options;
  if (!attribution.targets.empty()) opts.targets = Targets(attribution.targets);
  const Tensor& scores = scores_of(attribution, opts, where);
  EvaluationReport r;
  const Shape& out = tm.graph().shape(tm.graph().outputs()[0]);
  int64_t n_outputs = 1;
  for (int a = 1; a < out.rank(); ++a) n_outputs *= out[a];
  r.targets = opts.targets.resolve(n_outputs);
  FaithfulnessOptions fo = eo.faithfulness;
  CoefficientNeighbours own;
  if (fo.road && !fo.neighbours) {
    own = coefficient_neighbours(tm.transform());
    fo.neighbours = &own;
  }
  r.curves = faithfulness_curves(tm.graph(), s, scores, fo, opts);
  r.mu_fidelity = mu_fidelity(tm.graph(), s, scores, fo, opts);
  if (!attribution.attributions.empty()) {
    Attribution a = attribution;
    a.targets = r.targets;
    r.infidelity = infidelity(tm.graph(), s, a, eo.infidelity, opts);
  }
  if (method) {
    // sensitivity_max compares per-coefficient attributions (CD has none).
    if (!attribution.attributions.empty()) r.sensitivity = sensitivity_max(method, tm.graph(), s, eo.sensitivity, opts);
    if (eo.run_randomisation) r.randomisation = model_randomisation(tm.graph(), s, method, eo.randomisation, opts);
  }
  return r;
}

double evaluation_mean(const Tensor& t) {
  if (t.empty()) return std::nan("");
  double s = 0.0;
  for (float v : t) s += v;
  return s / double(t.numel());
}

std::vector<double> mean_curve(const Tensor& c) {
  if (c.empty()) return {};
  const int64_t pts = c.dim(2), rows = c.numel() / pts;
  std::vector<double> m(static_cast<size_t>(pts), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t p = 0; p < pts; ++p) m[static_cast<size_t>(p)] += c[r * pts + p] / double(rows);
  return m;
}

std::vector<double> mean_rank_correlation(const RandomisationResult& randomisation) {
  const Tensor& rc = randomisation.correlation;
  if (rc.empty()) return {};
  const int64_t L = rc.dim(0), per_layer = rc.numel() / L;
  std::vector<double> m(static_cast<size_t>(L), 0.0);
  for (int64_t l = 0; l < L; ++l)
    for (int64_t i = 0; i < per_layer; ++i) m[static_cast<size_t>(l)] += rc[l * per_layer + i] / double(per_layer);
  return m;
}

std::vector<EvaluationSummaryRow> evaluation_summary(const EvaluationReport& r) {
  const FaithfulnessCurves& c = r.curves;
  std::vector<EvaluationSummaryRow> rows = {
      {"deletion_auc", evaluation_mean(c.deletion_auc), "lower"},
      {"insertion_auc", evaluation_mean(c.insertion_auc), "higher"},
      {"insertion_minus_deletion", evaluation_mean(c.insertion_auc) - evaluation_mean(c.deletion_auc), "higher"},
      {"random_deletion_auc", evaluation_mean(c.random_deletion_auc_mean), "reference"},
      {"random_insertion_auc", evaluation_mean(c.random_insertion_auc_mean), "reference"},
      {"road_morf_auc", evaluation_mean(c.road_morf_auc), "lower"},
      {"road_lerf_auc", evaluation_mean(c.road_lerf_auc), "higher"},
      {"road_lerf_minus_morf", evaluation_mean(c.road_lerf_auc) - evaluation_mean(c.road_morf_auc), "higher"},
      {"mu_fidelity", evaluation_mean(r.mu_fidelity), "higher"},
      {"infidelity", evaluation_mean(r.infidelity), "lower"},
      {"sensitivity_max", evaluation_mean(r.sensitivity), "lower"},
  };
  if (!r.randomisation.layers.empty()) {
    // After every layer is re-initialised: a faithful method's ranking is gone.
    const Tensor& rc = r.randomisation.correlation;
    const int64_t L = rc.dim(0), per = rc.numel() / L;
    double m = 0.0;
    for (int64_t i = 0; i < per; ++i) m += rc[(L - 1) * per + i] / double(per);
    rows.push_back({"randomisation_rank_correlation", m, "lower"});
  }
  return rows;
}

}  // namespace trim
