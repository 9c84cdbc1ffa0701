#include "methods.hpp"

#include "args.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/perturbation.hpp"

namespace trim::cli {

namespace {

Baseline baseline_of(const MethodSettings& m) { return Baseline::of(m.baseline); }

Attribution run_cd(const Graph& g, const Tensor& s, const AttributionOptions& o) {
  CdOptions cd;
  cd.targets = o.targets;
  cd.max_batch = o.max_batch;
  cd.extra_inputs = o.extra_inputs;
  cd.progress = o.progress;
  CdResult r = contextual_decomposition(g, s, *o.grouping, cd);
  Attribution a;
  a.targets = r.targets;
  a.group_scores = std::move(r.rel);
  return a;
}

using Run = std::function<Attribution(const Graph&, const Tensor&, const AttributionOptions&, const MethodSettings&)>;

std::vector<Method> make_methods() {
  std::vector<Method> m;
  m.reserve(16);  // the references `add` returns stay valid
  auto add = [&](std::string name, std::string help, std::vector<std::string> options, Run run) -> Method& {
    Method method;
    method.name = std::move(name);
    method.help = std::move(help);
    method.options = std::move(options);
    method.run = std::move(run);
    m.push_back(std::move(method));
    return m.back();
  };
  add("gradient", "dF/ds, the plain gradient", {},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings&) {
        return gradient(g, s, o);
      });
  add("saliency", "|dF/ds| (captum's Saliency)", {},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings&) {
        return saliency(g, s, o);
      });
  add("input_x_gradient", "s * dF/ds", {},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings&) {
        return input_x_gradient(g, s, o);
      });
  Method& sg = add("smoothgrad", "mean gradient over --samples copies of s with N(0, stdev^2) noise",
                   {"samples", "stdev", "seed"},
                   [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
                     SmoothGradOptions options;
                     options.n_samples = ms.samples;
                     options.stdev = ms.stdev;
                     options.seed = ms.seed;
                     return smoothgrad(gradient, g, s, options, o);
                   });
  sg.random = true;
  sg.unit = "noisy copies";
  sg.default_samples = 10;
  sg.default_stdev = 1.0f;
  add("integrated_gradients", "path integral of the gradient from the baseline (Gauss-Legendre, --steps points)",
      {"baseline", "steps"},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
        IntegratedGradientsOptions options;
        options.n_steps = ms.steps;
        options.baseline = baseline_of(ms);
        return integrated_gradients(g, s, options, o);
      });
  m.back().has_delta = true;
  m.back().unit = "integration points";
  add("deeplift", "DeepLIFT, rescale rule", {"baseline"},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
        DeepLiftOptions options;
        options.baseline = baseline_of(ms);
        return deeplift(g, s, options, o);
      })
      .has_delta = true;
  Method& dls = add("deeplift_shap", "DeepLIFT averaged over the baselines of --baseline", {"baseline"},
                    [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
                      return deeplift_shap(g, s, ms.baseline, {}, o);
                    });
  dls.baseline_set = true;
  dls.unit = "example-baseline pairs";
  dls.has_delta = true;
  Method& gs = add("gradient_shap", "expected gradients over --samples random baselines and path points",
                   {"baseline", "samples", "stdev", "seed"},
                   [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
                     GradientShapOptions options;
                     options.n_samples = ms.samples;
                     options.stdev = ms.stdev;
                     options.seed = ms.seed;
                     return gradient_shap(g, s, ms.baseline, options, o);
                   });
  gs.random = true;
  gs.unit = "samples";
  gs.baseline_set = true;
  gs.has_delta = true;
  gs.default_samples = 20;
  add("feature_ablation", "F(s) - F(s with the group set to the baseline), per group", {"baseline"},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
        FeatureAblationOptions options;
        options.baseline = baseline_of(ms);
        return feature_ablation(g, s, options, o);
      });
  m.back().needs_groups = true;
  m.back().unit = "ablated copies";
  add("occlusion", "mean output drop when a sliding --window of coefficients is set to the baseline",
      {"baseline", "window", "strides"},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
        OcclusionOptions options;
        options.window = ms.window;
        options.strides = ms.strides;
        options.baseline = baseline_of(ms);
        return occlusion(g, s, options, o);
      });
  m.back().needs_window = true;
  m.back().unit = "windows";
  Method& sh = add("shapley", "Shapley values of the groups: exact up to 12 groups, else --samples permutations",
                   {"baseline", "samples", "seed"},
                   [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
                     ShapleyOptions options;
                     options.baseline = baseline_of(ms);
                     options.n_permutations = ms.samples;
                     options.seed = ms.seed;
                     return shapley(g, s, options, o);
                   });
  sh.needs_groups = true;
  sh.unit = "coalitions";
  sh.random = true;
  sh.has_delta = true;
  sh.default_samples = 50;
  add("cd", "contextual decomposition: the relevant part of the output per group", {},
      [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings&) {
        return run_cd(g, s, o);
      });
  m.back().needs_groups = true;
  m.back().unit = "groups x examples";
  return m;
}

}  // namespace

bool Method::reads(const std::string& option) const {
  return std::find(options.begin(), options.end(), option) != options.end();
}

const std::vector<Method>& methods() {
  static const std::vector<Method> all = make_methods();
  return all;
}

const Method& find_method(const std::string& name) {
  std::string names;
  for (const Method& m : methods()) {
    if (m.name == name) return m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  throw UsageError("unknown method '" + name + "' (known: " + names + ")");
}

}  // namespace trim::cli
