#pragma once
/// \file
/// The attribution methods by name: what `trim attribute --method` and the
/// Python module's `trim.attribute(method=...)` offer, the parameters each
/// reads with their defaults, how each calls the library, and the loop that
/// explains a batch a few examples at a time. One table for every front end,
/// so a method, a default or the per-example seeding cannot differ between
/// them (their results are compared bit for bit).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "trim/attribution/common.hpp"
#include "trim/attribution/gradients.hpp"

namespace trim {

/// A method's parameters, already checked by the caller.
struct MethodSettings {
  /// Baseline coefficients T(b): [1, coefficient_shape...] (broadcast), one
  /// row per example, or (methods with `baseline_set`) the set of baselines.
  /// Empty: zeros.
  Tensor baseline;
  int steps = 50;   ///< integrated_gradients: quadrature points
  int samples = 0;  ///< smoothgrad, gradient_shap, shapley; see NamedMethod::default_samples
  float stdev = 0;  ///< smoothgrad, gradient_shap; see NamedMethod::default_stdev
  uint64_t seed = 0;
  /// Occlusion window and strides over the trailing coefficient axes.
  std::vector<int64_t> window, strides;
  /// gradient_shap: compute the convergence delta (1 + B more forward rows
  /// per example, B baselines); off, the result's delta is empty
  /// (GradientShapOptions::convergence_delta).
  bool convergence_delta = true;
};

/// One entry of the method table.
struct NamedMethod {
  std::string name;
  std::string help;           ///< one line, as `trim attribute --help` lists it
  bool needs_groups = false;  ///< feature_ablation, shapley, cd: scores groups only
  bool needs_window = false;  ///< occlusion
  bool random = false;        ///< draws from `seed`: explained one example at a time
  bool baseline_set = false;  ///< the baseline is a set of references (SHAP methods)
  bool has_delta = false;     ///< reports the convergence delta (gradient_shap: unless turned off)
  /// Parameters it reads, of baseline, steps, samples, stdev, seed, window,
  /// strides, convergence_delta; front ends refuse the others (a silently
  /// ignored option is a wrong experiment).
  std::vector<std::string> options;
  /// What its progress reports count (see ProgressCallback), e.g. "integration points".
  std::string unit = "examples";
  int default_samples = 0;
  float default_stdev = 0;
  /// Runs on coefficients s [n, coefficient_shape...] of one call. For cd the
  /// result has group_scores (the relevant part per group), no attributions.
  std::function<Attribution(const Graph&, const Tensor& s, const AttributionOptions&, const MethodSettings&)> run;

  bool reads(const std::string& option) const;
  /// Its default settings: steps 50, its default samples and stdev, zero
  /// baseline, seed 0.
  MethodSettings defaults() const;
  /// The method with fixed settings, as sensitivity_max and the evaluation
  /// metrics take it.
  AttributionMethod bind(MethodSettings settings) const;
};

/// Every method, in the order help texts list them.
const std::vector<NamedMethod>& attribution_methods();
/// The method called `name`; nullptr when there is none.
const NamedMethod* find_attribution_method(const std::string& name);
/// "gradient, saliency, ...": the names, for messages and help texts.
std::string attribution_method_names();

/// Examples per library call of explain_examples for methods that draw no
/// random numbers: small enough for a progress report that moves, large
/// enough to batch well.
constexpr int64_t kExplainExamplesPerCall = 8;

/// Runs `method` over the batch s [N, coefficient_shape...] a few examples
/// at a time (random methods one at a time with seed + e, so an example's
/// result does not depend on the rest of the batch) and joins the parts into
/// [T, N, ...] as one call would give them. `options.extra_inputs` (e.g. the
/// residual) and a per-example baseline hold one row per example of s and
/// are split alike; `options.progress` sees the units of the whole batch
/// (every call costs the same per example, so the first report of the first
/// call gives the total).
Attribution explain_examples(const NamedMethod& method, const Graph& model, const Tensor& s,
                             const MethodSettings& settings, const AttributionOptions& options = {});

/// Examples [begin, end) of a batch: rows of `t` along axis 0, copied.
Tensor example_rows(const Tensor& t, int64_t begin, int64_t end);

}  // namespace trim
