// The method table (trim/attribution/methods.hpp): every attribution method
// by name, and the loop over the examples of a batch.
#include "trim/attribution/methods.hpp"

#include <algorithm>

#include "trim/core/error.hpp"

#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/perturbation.hpp"

namespace trim {

namespace {

Baseline baseline_of(const MethodSettings& m) {
  return m.baseline.numel() == 0 ? Baseline::zero() : Baseline::of(m.baseline);
}

Attribution run_cd(const Graph& g, const Tensor& s, const AttributionOptions& o) {
  CdOptions cd;
  static_cast<RunOptions&>(cd) = o;
  CdResult r = contextual_decomposition(g, s, *o.grouping, cd);
  Attribution a;
  a.targets = r.targets;
  a.group_scores = std::move(r.rel);
  return a;
}

using Run = std::function<Attribution(const Graph&, const Tensor&, const AttributionOptions&, const MethodSettings&)>;

std::vector<NamedMethod> make_methods() {
  std::vector<NamedMethod> m;
  m.reserve(16);  // the references `add` returns stay valid
  auto add = [&](std::string name, std::string help, std::vector<std::string> options, Run run) -> NamedMethod& {
    NamedMethod method;
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
  NamedMethod& sg = add("smoothgrad", "mean gradient over --samples copies of s with N(0, stdev^2) noise",
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
  NamedMethod& dls = add("deeplift_shap", "DeepLIFT averaged over the baselines of --baseline", {"baseline"},
                    [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
                      return deeplift_shap(g, s, ms.baseline, {}, o);
                    });
  dls.baseline_set = true;
  dls.unit = "example-baseline pairs";
  dls.has_delta = true;
  NamedMethod& gs = add("gradient_shap", "expected gradients over --samples random baselines and path points",
                   {"baseline", "samples", "stdev", "seed", "convergence_delta"},
                   [](const Graph& g, const Tensor& s, const AttributionOptions& o, const MethodSettings& ms) {
                     GradientShapOptions options;
                     options.n_samples = ms.samples;
                     options.stdev = ms.stdev;
                     options.seed = ms.seed;
                     options.convergence_delta = ms.convergence_delta;
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
  NamedMethod& sh = add("shapley", "Shapley values of the groups: exact up to 12 groups, else --samples permutations",
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

bool NamedMethod::reads(const std::string& option) const {
  return std::find(options.begin(), options.end(), option) != options.end();
}

MethodSettings NamedMethod::defaults() const {
  MethodSettings ms;
  ms.samples = default_samples;
  ms.stdev = default_stdev;
  return ms;
}

AttributionMethod NamedMethod::bind(MethodSettings settings) const {
  return [run = run, settings = std::move(settings)](const Graph& g, const Tensor& s, const AttributionOptions& o) {
    return run(g, s, o, settings);
  };
}

const std::vector<NamedMethod>& attribution_methods() {
  static const std::vector<NamedMethod> all = make_methods();
  return all;
}

const NamedMethod* find_attribution_method(const std::string& name) {
  for (const NamedMethod& m : attribution_methods())
    if (m.name == name) return &m;
  return nullptr;
}

std::string attribution_method_names() {
  std::string names;
  for (const NamedMethod& m : attribution_methods()) names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

Tensor example_rows(const Tensor& t, int64_t begin, int64_t end) {
  if (t.rank() < 1 || begin < 0 || end < begin || end > t.dim(0))
    throw ShapeError("example_rows: rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") of " +
                     t.shape().str());
  Shape s = t.shape();
  const int64_t per = t.dim(0) > 0 ? t.numel() / t.dim(0) : 0;
  s[0] = end - begin;
  Tensor out(s);
  std::copy(t.begin() + begin * per, t.begin() + end * per, out.begin());
  return out;
}

namespace {

/// Copies rows [e0, e0 + n) of the batch axis (axis 1) of `part` [T, n, ...]
/// into `all`, allocating `all` as [T, N, ...] on the first call.
void paste(Tensor& all, const Tensor& part, int64_t e0, int64_t N) {
  if (part.numel() == 0) return;
  const int64_t T = part.dim(0), n = part.dim(1), per = part.numel() / (T * n);
  if (all.numel() == 0) {
    Shape s = part.shape();
    s[1] = N;
    all = Tensor(s);
  }
  for (int64_t k = 0; k < T; ++k)
    std::copy(part.begin() + k * n * per, part.begin() + (k + 1) * n * per, all.begin() + (k * N + e0) * per);
}

}  // namespace

Attribution explain_examples(const NamedMethod& method, const Graph& model, const Tensor& s,
                             const MethodSettings& settings, const AttributionOptions& options) {
  if (s.rank() < 1) throw ShapeError("explain_examples: coefficients " + s.shape().str() + " have no batch axis");
  const int64_t N = s.dim(0);
  for (const Tensor& e : options.extra_inputs)
    if (e.rank() < 1 || e.dim(0) != N)
      throw ShapeError("explain_examples: an extra input of shape " + e.shape().str() + " for " + std::to_string(N) +
                       " examples");
  if (method.needs_groups && !options.grouping)
    throw ValueError("method '" + method.name + "' scores groups: give a grouping");
  if (method.needs_window && settings.window.empty())
    throw ValueError("method '" + method.name + "' needs a window");
  const int64_t per_call = method.random ? 1 : kExplainExamplesPerCall;
  const bool baseline_per_example =
      !method.baseline_set && settings.baseline.numel() > 0 && settings.baseline.dim(0) > 1;
  if (baseline_per_example && settings.baseline.dim(0) != N)
    throw ShapeError("explain_examples: " + std::to_string(settings.baseline.dim(0)) + " baselines for " +
                     std::to_string(N) + " examples (give one, or one per example)");
  const Shape& out = model.shape(model.outputs()[0]);
  Attribution all;
  int64_t n_outputs = 1;  // per example: every axis after the batch
  for (int a = 1; a < out.rank(); ++a) n_outputs *= out[a];
  all.targets = options.targets.resolve(n_outputs);
  int64_t done_before = 0;
  for (int64_t e0 = 0; e0 < N; e0 += per_call) {
    const int64_t e1 = std::min(N, e0 + per_call);
    AttributionOptions o = options;
    int64_t call_total = 0;
    if (options.progress)
      o.progress = [&](int64_t done, int64_t total) {
        call_total = total;
        return options.progress(done_before + done, total * N / (e1 - e0));
      };
    for (size_t k = 0; k < o.extra_inputs.size(); ++k)
      o.extra_inputs[k] = example_rows(options.extra_inputs[k], e0, e1);
    MethodSettings ms = settings;
    if (baseline_per_example) ms.baseline = example_rows(settings.baseline, e0, e1);
    if (method.random) ms.seed = settings.seed + static_cast<uint64_t>(e0);
    const Attribution part = method.run(model, example_rows(s, e0, e1), o, ms);
    paste(all.attributions, part.attributions, e0, N);
    paste(all.group_scores, part.group_scores, e0, N);
    paste(all.delta, part.delta, e0, N);
    done_before += call_total;
  }
  return all;
}

}  // namespace trim
