#pragma once
// The attribution methods `trim attribute --method` offers: their names, the
// options each one reads, and how each calls the library.
#include <cstdint>
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "trim/attribution/common.hpp"

namespace trim::cli {

/// Method parameters from the command line (already validated).
struct MethodSettings {
  /// Baseline coefficients T(b): [1, coefficient_shape...] (broadcast), one
  /// row per example of the call, or (SHAP methods) the set of baselines.
  Tensor baseline;
  int steps = 50;
  int samples = 0;   ///< 0: the method's default
  float stdev = 0;
  uint64_t seed = 0;
  /// Occlusion window and strides over the trailing coefficient axes.
  std::vector<int64_t> window, strides;
};

struct Method {
  std::string name;
  std::string help;             ///< one line for `trim attribute --help`
  bool needs_groups = false;    ///< feature_ablation, shapley, cd
  bool needs_window = false;    ///< occlusion
  bool random = false;          ///< draws from --seed
  bool baseline_set = false;    ///< --baseline is a set of references (SHAP methods)
  bool has_delta = false;       ///< reports the convergence delta
  /// Options it reads, of baseline, steps, samples, stdev, seed, window, strides;
  /// any other of these given on the command line is a usage error.
  std::vector<std::string> options;
  /// What the progress report counts: the library's units of work for this
  /// method (see trim::ProgressCallback), e.g. "integration points".
  std::string unit = "examples";
  int default_samples = 0;
  float default_stdev = 0;
  /// Runs on coefficients s [n, coefficient_shape...]. For cd the result has
  /// group_scores (the relevant part per group) and no attributions.
  std::function<Attribution(const Graph&, const Tensor& s, const AttributionOptions&, const MethodSettings&)> run;

  bool reads(const std::string& option) const;
};

const std::vector<Method>& methods();
/// UsageError listing the known names when `name` is not one.
const Method& find_method(const std::string& name);

}  // namespace trim::cli
