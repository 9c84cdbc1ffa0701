#pragma once
// Which attribution method is most faithful to the example's model: deletion
// and insertion curves in coefficient space against a random-order
// reference, and µ-fidelity (trim/attribution/evaluate.hpp, docs/evaluate.md).
#include <cstdio>
#include <string>
#include <trim/trim.hpp>
#include <vector>

namespace example {

struct FaithfulnessRow {
  std::string method;
  double deletion = 0, insertion = 0;                // AUCs, means over the examples
  double random_deletion = 0, random_insertion = 0;  // the same for random orders
  double mu_fidelity = 0;
  double gap() const { return insertion - deletion; }
};

inline double mean_of(const trim::Tensor& t) {
  double s = 0;
  for (float v : t) s += v;
  return t.numel() ? s / static_cast<double>(t.numel()) : 0.0;
}

/// Mean over examples of AUCs [1, N], each times sign[e] (when given).
inline double signed_mean(const trim::Tensor& auc, const std::vector<double>& sign) {
  if (sign.empty()) return mean_of(auc);
  double s = 0;
  for (int64_t e = 0; e < auc.numel(); ++e) s += sign[static_cast<size_t>(e)] * auc[e];
  return auc.numel() ? s / static_cast<double>(auc.numel()) : 0.0;
}

/// Scores [1, N, groups] (one target) of one method, judged on the model `f`
/// at coefficients s [N, ...]; `options` holds the target, the grouping and
/// the extra inputs. `sign` (one ±1 per example, optional) judges the
/// evidence for the predicted class of a single logit: the scores are
/// flipped where it is −1, and so are the AUCs and µ-fidelity (as if the
/// output were flipped too).
inline FaithfulnessRow score_method(const std::string& name, const trim::Graph& f, const trim::Tensor& s,
                                    const trim::Tensor& scores, const trim::FaithfulnessOptions& fo,
                                    const trim::AttributionOptions& options, const std::vector<double>& sign = {}) {
  trim::Tensor sc = scores;
  if (!sign.empty()) {
    const int64_t n = sc.dim(1), per = sc.numel() / n;
    for (int64_t e = 0; e < n; ++e)
      for (int64_t j = 0; j < per; ++j) sc[e * per + j] *= static_cast<float>(sign[static_cast<size_t>(e)]);
  }
  const trim::FaithfulnessCurves c = trim::faithfulness_curves(f, s, sc, fo, options);
  FaithfulnessRow r;
  r.method = name;
  r.deletion = signed_mean(c.deletion_auc, sign);
  r.insertion = signed_mean(c.insertion_auc, sign);
  r.random_deletion = signed_mean(c.random_deletion_auc_mean, sign);
  r.random_insertion = signed_mean(c.random_insertion_auc_mean, sign);
  // corr(sign·a, sign·d) = corr(a, d): flip the correlation of the flipped scores back per example.
  r.mu_fidelity = signed_mean(trim::mu_fidelity(f, s, sc, fo, options), sign);
  return r;
}

/// Prints the table (the random reference of the first row) and names the
/// method with the largest insertion − deletion AUC; returns its index.
inline size_t print_faithfulness(const std::vector<FaithfulnessRow>& rows, const std::string& what) {
  std::printf(
      "\nFaithfulness to the model (%s): remove (deletion) or restore (insertion) the features in the "
      "method's order, AUC of the output over the fraction removed\n",
      what.c_str());
  std::printf("  %-22s %10s %10s %10s %12s\n", "method", "deletion", "insertion", "ins - del", "mu-fidelity");
  size_t best = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const FaithfulnessRow& r = rows[i];
    std::printf("  %-22s %10.4f %10.4f %10.4f %12.3f\n", r.method.c_str(), r.deletion, r.insertion, r.gap(),
                r.mu_fidelity);
    if (r.gap() > rows[best].gap()) best = i;
  }
  if (!rows.empty()) {
    const FaithfulnessRow& r = rows[0];
    std::printf("  %-22s %10.4f %10.4f %10.4f %12s\n", "(random order)", r.random_deletion, r.random_insertion,
                r.random_insertion - r.random_deletion, "");
    std::printf("  most faithful on this model: %s (largest insertion - deletion)\n", rows[best].method.c_str());
  }
  return best;
}

}  // namespace example
