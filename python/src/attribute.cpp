// trim.attribute and trim.sweep: TRIM from NumPy, with the CLI's
// conventions (its result layout, examples a few at a time, random methods
// one example at a time with seed + e), so the results equal `trim
// attribute` / `trim sweep` bit for bit.
//
// The method table and the loop over the examples are the library's
// (trim/attribution/methods.hpp), as for the CLI.
#include <algorithm>
#include <optional>

#include "bindings.hpp"
#include "trim/attribution/cd.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/methods.hpp"
#include "trim/attribution/perturbation.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/error.hpp"

namespace trim::py {

namespace {

/// Examples per cd_band_sweep call, as `trim sweep`.
constexpr int64_t kSweepExamplesPerCall = 4;

}  // namespace

const NamedMethod& find_method(const std::string& name) {
  if (const NamedMethod* m = find_attribution_method(name)) return *m;
  throw ValueError("unknown method '" + name + "' (known: " + attribution_method_names() + ")");
}

std::vector<int64_t> to_targets(pyb::handle obj, const PyModel& m) {
  std::vector<int64_t> t;
  if (pyb::isinstance<pyb::str>(obj)) {
    if (obj.cast<std::string>() != "all")
      throw ValueError("target '" + obj.cast<std::string>() + "': expected 'all', an output index or a list of them");
    for (int64_t k = 0; k < m.n_outputs; ++k) t.push_back(k);
    return t;
  }
  auto one = [&](pyb::handle h) {
    if (pyb::isinstance<pyb::bool_>(h) || !pyb::hasattr(h, "__index__"))
      throw pyb::type_error("target: expected 'all', an output index or a list of them");
    const int64_t k = pyb::int_(pyb::reinterpret_borrow<pyb::object>(h)).cast<int64_t>();
    if (k < 0 || k >= m.n_outputs)
      throw ValueError("target " + std::to_string(k) + " is out of range: model '" + m.name + "' has " +
                       std::to_string(m.n_outputs) + " outputs per example (0 to " + std::to_string(m.n_outputs - 1) +
                       ")");
    t.push_back(k);
  };
  if (pyb::hasattr(obj, "__index__") && !pyb::isinstance<pyb::sequence>(obj)) {
    one(obj);
  } else if (pyb::isinstance<pyb::sequence>(obj) || pyb::isinstance<pyb::array>(obj)) {
    for (pyb::handle h : obj) one(h);
    if (t.empty()) throw ValueError("target: the list of outputs is empty");
  } else {
    throw pyb::type_error("target: expected 'all', an output index or a list of them");
  }
  return t;
}

namespace {

std::vector<int64_t> to_sizes(pyb::handle obj, const std::string& what) {
  std::vector<int64_t> v;
  if (pyb::hasattr(obj, "__index__") && !pyb::isinstance<pyb::sequence>(obj)) {
    v.push_back(pyb::int_(pyb::reinterpret_borrow<pyb::object>(obj)).cast<int64_t>());
  } else {
    for (pyb::handle h : obj) v.push_back(pyb::int_(pyb::reinterpret_borrow<pyb::object>(h)).cast<int64_t>());
  }
  if (v.empty()) throw ValueError(what + ": expected positive sizes such as 4 or (4, 4)");
  for (int64_t s : v)
    if (s < 1) throw ValueError(what + ": expected positive sizes such as 4 or (4, 4)");
  return v;
}

/// Occlusion's window over the trailing coefficient axes (the (re, im) pair
/// is occluded whole), as the CLI's --window / --strides.
void set_window(pyb::handle window, pyb::handle strides, const Transform& t, MethodSettings& st) {
  st.window = to_sizes(window, "window");
  st.strides = strides.is_none() ? st.window : to_sizes(strides, "strides");
  if (st.strides.size() != st.window.size())
    throw ValueError("strides has " + std::to_string(st.strides.size()) + " sizes for a window of " +
                     std::to_string(st.window.size()));
  const Shape& coef = t.coefficient_shape();
  const bool pair = t.complex_pairs();
  const int axes = coef.rank() - (pair ? 1 : 0);
  if (static_cast<int>(st.window.size()) > axes)
    throw ValueError("window has " + std::to_string(st.window.size()) + " sizes, but the coefficients " + coef.str() +
                     " have " + std::to_string(axes) + " axes to slide over");
  for (size_t j = 0; j < st.window.size(); ++j) {
    const int axis = axes - static_cast<int>(st.window.size()) + static_cast<int>(j);
    if (st.window[j] > coef[axis])
      throw ValueError("window size " + std::to_string(st.window[j]) + " does not fit axis " + std::to_string(axis) +
                       " (size " + std::to_string(coef[axis]) + ") of the coefficients " + coef.str());
  }
  if (pair) st.window.push_back(2), st.strides.push_back(2);
}

/// The baseline in input space: None/'zero', a number, or an array of one
/// example or a batch; returns its coefficients.
Tensor baseline_coefficients(pyb::handle obj, const NamedMethod& m, const PyModel& model, const Transform& t, int64_t n) {
  const Shape one = [&] {
    Shape s{1};
    for (int64_t d : model.example_shape) s.push_back(d);
    return s;
  }();
  Tensor b;
  if (obj.is_none() || (pyb::isinstance<pyb::str>(obj) && obj.cast<std::string>() == "zero")) {
    b = Tensor(one);
  } else if (!pyb::isinstance<pyb::array>(obj) && !pyb::isinstance<pyb::sequence>(obj) &&
             pyb::hasattr(obj, "__float__")) {  // a number, also a NumPy scalar
    const double v = obj.cast<double>();
    if (!std::isfinite(v)) throw ValueError("baseline: " + std::to_string(v) + " is not finite");
    b = Tensor(one, static_cast<float>(v));
  } else {
    b = as_batch(to_tensor(obj, "baseline").tensor, model.example_shape, "baseline");
  }
  if (!m.baseline_set && b.dim(0) != 1 && b.dim(0) != n)
    throw ShapeError("baseline holds " + std::to_string(b.dim(0)) + " examples, but the input holds " +
                     std::to_string(n) + ": give one example (used for all) or one per input example");
  try {
    return t.forward(b);
  } catch (const Error& e) {
    throw ValueError(std::string("baseline: ") + e.what());
  }
}

}  // namespace


Setup setup(const PyModel& model, pyb::handle x, pyb::handle transform, pyb::handle target, pyb::handle residual) {
  Setup s;
  s.input = to_tensor(x, "x");
  s.x = as_batch(std::move(s.input.tensor), model.example_shape, "x");
  s.transform = to_transform(transform, model.example_shape);
  TrimOptions options;
  if (!residual.is_none()) options.residual = residual.cast<bool>() ? TrimOptions::Residual::On : TrimOptions::Residual::Off;
  s.trim = std::make_unique<TrimModel>(*model.graph, s.transform, options);
  s.targets = to_targets(target, model);
  pyb::gil_scoped_release release;
  s.compute_coefficients("x");
  return s;
}


namespace {

pyb::object array_or_none(Tensor t) {
  if (t.numel() == 0) return pyb::none();
  return to_array(std::move(t));
}

PyAttribution attribute(const PyModel& model, pyb::handle x, pyb::handle transform, const std::string& method_name,
                        pyb::handle target, pyb::handle groups, pyb::handle baseline, std::optional<int> steps,
                        std::optional<int> samples, std::optional<double> stdev, uint64_t seed, pyb::handle window,
                        pyb::handle strides, pyb::handle residual, int64_t max_batch, int64_t max_memory,
                        std::optional<bool> convergence_delta) {
  const NamedMethod& method = find_method(method_name);
  const std::pair<const char*, bool> given[] = {{"baseline", !baseline.is_none()}, {"steps", steps.has_value()},
                                                {"samples", samples.has_value()},  {"stdev", stdev.has_value()},
                                                {"window", !window.is_none()},     {"strides", !strides.is_none()},
                                                {"convergence_delta", convergence_delta.has_value()}};
  for (const auto& [name, is_given] : given)
    if (is_given && !method.reads(name))
      throw ValueError(std::string(name) + " does not apply to method '" + method.name + "'");
  if (method.needs_groups && groups.is_none())
    throw ValueError("method '" + method.name + "' needs groups (e.g. 'radial:8', 'subbands', 'components')");
  if (method.needs_window && window.is_none()) throw ValueError("method '" + method.name + "' needs window (e.g. (4, 4))");
  if (max_batch < 1) throw ValueError("max_batch must be >= 1, got " + std::to_string(max_batch));
  if (max_memory < 0) throw ValueError("max_memory must be >= 0 bytes, got " + std::to_string(max_memory));
  MethodSettings st;
  st.steps = steps.value_or(50);
  st.samples = samples.value_or(method.default_samples);
  st.stdev = static_cast<float>(stdev.value_or(method.default_stdev));
  st.seed = seed;
  st.convergence_delta = convergence_delta.value_or(true);
  if (st.steps < 1) throw ValueError("steps must be >= 1, got " + std::to_string(st.steps));
  if (method.reads("samples") && st.samples < 1) throw ValueError("samples must be >= 1, got " + std::to_string(st.samples));
  if (!(st.stdev >= 0)) throw ValueError("stdev must be >= 0");

  Setup s = setup(model, x, transform, target, residual);
  std::optional<Grouping> grouping;
  if (!groups.is_none()) grouping = to_grouping(groups, *s.transform);
  if (method.needs_window) set_window(window, strides, *s.transform, st);
  if (method.reads("baseline")) st.baseline = baseline_coefficients(baseline, method, model, *s.transform, s.x.dim(0));

  AttributionOptions o;
  o.targets = Targets(s.targets);
  o.grouping = grouping ? &*grouping : nullptr;
  o.max_batch = max_batch;
  o.max_memory = max_memory;
  o.progress = signal_progress();
  if (s.residual.numel() > 0) o.extra_inputs = {s.residual};
  Attribution all;
  {
    pyb::gil_scoped_release release;
    all = explain_examples(method, s.trim->graph(), s.coefficients, st, o);
  }
  PyAttribution r;
  r.method = method.name;
  r.targets = all.targets;
  r.attributions = array_or_none(std::move(all.attributions));
  r.group_scores = array_or_none(std::move(all.group_scores));
  r.delta = array_or_none(std::move(all.delta));
  r.grouping = grouping ? pyb::cast(std::move(*grouping)) : pyb::none();
  return r;
}

pyb::array sweep(const PyModel& model, pyb::handle x, pyb::handle transform, std::vector<double> centers, double width,
                 pyb::handle target, pyb::handle residual, int64_t max_batch) {
  if (centers.empty()) throw ValueError("centers: no band centres given");
  for (double c : centers)
    if (!std::isfinite(c)) throw ValueError("centers: " + std::to_string(c) + " is not finite");
  if (!(width > 0) || !std::isfinite(width)) throw ValueError("width must be > 0 (the full band width)");
  if (max_batch < 1) throw ValueError("max_batch must be >= 1, got " + std::to_string(max_batch));
  const std::string spec = pyb::isinstance<PyTransform>(transform) ? transform.cast<const PyTransform&>().t->spec()
                                                                   : pyb::str(transform).cast<std::string>();
  if (!is_fourier(spec))
    throw ValueError("transform '" + spec + "': a band sweep needs a Fourier transform (fft1, fft2, rfft1 or rfft2)");
  Setup s = setup(model, x, transform, target, residual);
  const Tensor& coef = s.coefficients;
  const int64_t N = coef.dim(0), T = static_cast<int64_t>(s.targets.size()), C = static_cast<int64_t>(centers.size());
  Tensor curve({T, N, C});
  {
    pyb::gil_scoped_release release;
    for (int64_t e0 = 0; e0 < N; e0 += kSweepExamplesPerCall) {
      const int64_t e1 = std::min(N, e0 + kSweepExamplesPerCall), n = e1 - e0;
      CdOptions o;
      o.targets = Targets(s.targets);
      o.max_batch = max_batch;
      o.progress = signal_progress();
      if (s.residual.numel() > 0) o.extra_inputs = {example_rows(s.residual, e0, e1)};
      const CdResult r = cd_band_sweep(s.trim->graph(), example_rows(coef, e0, e1), *s.transform, centers, width, o);
      for (int64_t k = 0; k < T; ++k)
        std::copy(r.rel.begin() + k * n * C, r.rel.begin() + (k + 1) * n * C, curve.begin() + (k * N + e0) * C);
    }
  }
  return to_array(std::move(curve));
}

}  // namespace

void register_attribute(pyb::module_& m) {
  const std::string names = attribution_method_names();

  pyb::class_<PyAttribution>(m, "Attribution", R"(The result of trim.attribute, in the layout of ``trim attribute``.

Attributes
----------
attributions : numpy.ndarray or None
    float32 ``(targets, N, *coefficient_shape)``: the score of every
    coefficient (None for method 'cd', which scores groups only).
group_scores : numpy.ndarray or None
    float32 ``(targets, N, groups)``: the sums over each group (for 'cd' the
    relevant part of the output); None without ``groups``.
delta : numpy.ndarray or None
    float32 ``(targets, N)``: completeness delta sum(attributions) -
    (F(x) - F(baseline)) for the methods that have one; None for the others
    and for gradient_shap with ``convergence_delta=False``.
targets : list of int
    The output indices explained, in order (axis 0 of the arrays).
method : str
grouping : trim.Grouping or None)")
      .def_readonly("method", &PyAttribution::method, "The method that made it.")
      .def_readonly("targets", &PyAttribution::targets, "The output indices explained, in order (axis 0 of the arrays).")
      .def_readonly("attributions", &PyAttribution::attributions,
                    "float32 (targets, N, *coefficient_shape), or None for method 'cd'.")
      .def_readonly("group_scores", &PyAttribution::group_scores,
                    "float32 (targets, N, groups): sums over each group (cd: the relevant part); None without groups.")
      .def_readonly("delta", &PyAttribution::delta,
                    "float32 (targets, N): completeness delta, or None where the method has none or it was not "
                    "computed (gradient_shap with convergence_delta=False).")
      .def_readonly("grouping", &PyAttribution::grouping, "The trim.Grouping the group scores are over, or None.")
      .def("__repr__", [](const PyAttribution& a) {
        auto shape = [](const pyb::object& o) {
          return o.is_none() ? std::string("None") : std::string(pyb::str(o.attr("shape")));
        };
        return "<trim.Attribution " + a.method + ": attributions " + shape(a.attributions) + ", group_scores " +
               shape(a.group_scores) + ", delta " + shape(a.delta) + ">";
      });

  m.def("attribute", &attribute, pyb::arg("model"), pyb::arg("x"), pyb::kw_only(), pyb::arg("transform") = "identity",
        pyb::arg("method") = "integrated_gradients", pyb::arg("target") = "all", pyb::arg("groups") = pyb::none(),
        pyb::arg("baseline") = pyb::none(), pyb::arg("steps") = pyb::none(), pyb::arg("samples") = pyb::none(),
        pyb::arg("stdev") = pyb::none(), pyb::arg("seed") = 0, pyb::arg("window") = pyb::none(),
        pyb::arg("strides") = pyb::none(), pyb::arg("residual") = pyb::none(), pyb::arg("max_batch") = 64,
        pyb::arg("max_memory") = 0, pyb::arg("convergence_delta") = pyb::none(),
        (R"(Explain a model's outputs in a transform's coefficients (TRIM).

Attributes f'(s) = f(T^-1(s) + r) at s = T(x), the model composed with the
inverse of the transform, to the coefficients s. Same results, bit for bit,
as ``trim attribute`` on the same files.

Parameters
----------
model : trim.Model
x : array_like
    One example of shape ``model.input_shape`` or a batch ``(N, ...)``.
transform : str or trim.Transform
    The transform T, e.g. 'fft2', 'rfft2:ortho', 'dwt2:db4:3:symmetric',
    'nmf:DICT.npy' (default 'identity': plain input attribution).
method : str
    One of: )" + names + R"(.
target : int, list of int or 'all'
    Output indices to explain (default all).
groups : str, trim.Grouping or array of int, optional
    Also score groups of coefficients: 'radial:N', 'band:CENTER:WIDTH',
    'subbands', 'levels', 'components', a Grouping from
    ``Transform.groupings``, or integer labels over the coefficients (-1: in
    no group; for fft/rfft the (re, im) axis may be left out). Required by
    feature_ablation, shapley and cd.
baseline : None, 'zero', float or array_like
    The reference input in input space (its coefficients T(b) are used):
    zeros (default), a constant, one example or one per example; for
    deeplift_shap and gradient_shap any number of reference examples.
steps : int
    integrated_gradients: Gauss-Legendre points (default 50).
samples : int
    smoothgrad: noisy copies (10); gradient_shap: samples (20); shapley:
    permutations when there are more than 12 groups (50).
stdev : float
    smoothgrad (1.0) and gradient_shap (0.0): noise on the coefficients.
seed : int
    Random methods explain example e with seed + e (as the CLI), so an
    example's result does not depend on the rest of the batch.
window, strides : int or tuple of int
    occlusion: window over the trailing coefficient axes (the (re, im) pair
    is occluded whole) and the step between windows (default: the window).
residual : bool, optional
    Add the residual r = x - T^-1(T(x)) (default: exactly when the
    transform is lossy).
max_batch : int
    Rows sent through the model at once (memory grows with it).
max_memory : int
    A budget in bytes for one batch through the model (its activations,
    gradients and rows; not its weights): when > 0 it replaces max_batch,
    each batch being the largest that fits. Results do not change; a budget
    too small for one row raises ValueError.
convergence_delta : bool, optional
    gradient_shap: compute ``.delta`` (default True). It costs 1 + B more
    forward rows per example, B the number of baselines (captum computes
    none by default); False skips it and ``.delta`` is None. The
    attributions are the same either way. Other methods raise ValueError
    when it is given.

Returns
-------
trim.Attribution
    ``.attributions``, ``.group_scores``, ``.delta`` as NumPy arrays.

The GIL is released while trim computes; Ctrl-C stops the call (checked
between chunks of ``max_batch`` rows) with KeyboardInterrupt.)").c_str());

  m.def("sweep", &sweep, pyb::arg("model"), pyb::arg("x"), pyb::kw_only(), pyb::arg("transform") = "fft2",
        pyb::arg("centers"), pyb::arg("width"), pyb::arg("target") = "all", pyb::arg("residual") = pyb::none(),
        pyb::arg("max_batch") = 64,
        R"(CD band sweep: contextual decomposition of a sliding radial frequency band.

For each centre c, the band [c - width/2, c + width/2) of the normalised
frequency radius (1 = Nyquist along an axis) is the relevant part of the
coefficients; CD gives the part of each output it explains. As ``trim sweep``.

Parameters
----------
model : trim.Model
    Without opaque nodes (explain the logits, not a softmax).
x : array_like
    One example or a batch.
transform : str or trim.Transform
    fft1, fft2, rfft1 or rfft2 (optionally :ortho etc.).
centers : sequence of float
    Band centres, e.g. ``numpy.linspace(0.05, 1.35, 27)``.
width : float
    The full band width (the reference's "+-0.05" is 0.1).
target : int, list of int or 'all'
residual : bool, optional
max_batch : int

Returns
-------
numpy.ndarray
    float32 ``(targets, N, len(centers))``.

Releases the GIL; Ctrl-C raises KeyboardInterrupt between chunks.)");
}

}  // namespace trim::py
