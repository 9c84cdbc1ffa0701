#include "trim/transforms/stft.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "families.hpp"
#include "inverse_op.hpp"
#include "trim/core/error.hpp"
#include "trim/core/text.hpp"
#include "trim/kernels/fft.hpp"

namespace trim {

namespace detail {

/// Everything the transform and its inverse op share (the op keeps the plan
/// alive, not the transform).
struct StftPlan {
  StftOptions o;
  Shape input_shape, coefficient_shape;
  int64_t length = 0, channels = 1, bins = 0, frames = 0, pad_left = 0;
  std::vector<float> window;         ///< w[j], j < n_fft
  std::vector<float> inv_overlap;    ///< 1 / Σ_m w²[p + pad_left − m·hop], p < length

  std::string spec() const {
    return "stft:" + stft_window_name(o.window) + ":" + std::to_string(o.n_fft) + ":" + std::to_string(o.hop) +
           (o.center ? ":center" : "");
  }
  /// Signal index of sample j of frame m (may be outside [0, length)).
  int64_t sample(int64_t m, int64_t j) const { return m * o.hop + j - pad_left; }

  /// The windowed frames [S·frames, n_fft] of x [S, length] (zeros outside
  /// the signal), each sample first multiplied by `scale[p]` when given.
  Tensor windowed_frames(const float* x, int64_t signals, const float* scale) const {
    const int64_t n = o.n_fft;
    Tensor seg(Shape{signals * frames, n});
    float* ps = seg.data();
    for (int64_t s = 0; s < signals; ++s)
      for (int64_t m = 0; m < frames; ++m, ps += n)
        for (int64_t j = 0; j < n; ++j) {
          const int64_t p = sample(m, j);
          const float v = (p >= 0 && p < length) ? x[s * length + p] * (scale ? scale[p] : 1.0f) : 0.0f;
          ps[j] = window[static_cast<size_t>(j)] * v;
        }
    return seg;
  }

  /// x [S, length] -> [S, bins, frames, 2].
  Tensor forward(const float* x, int64_t signals) const {
    const Tensor spec = kernels::rfftn(windowed_frames(x, signals, nullptr), 1);  // [S·frames, bins, 2]
    Tensor out(Shape{signals, bins, frames, 2});
    swap_axes(spec.data(), out.data(), signals, true);
    return out;
  }

  /// s [S, bins, frames, 2] -> x [S, length] (x given that size).
  void inverse(const float* s, int64_t signals, float* x) const {
    const int64_t n = o.n_fft;
    Tensor spec(Shape{signals * frames, bins, 2});
    swap_axes(s, spec.data(), signals, false);
    const Tensor seg = kernels::irfftn(spec, 1, n);  // [S·frames, n]
    std::fill(x, x + signals * length, 0.0f);
    const float* ps = seg.data();
    for (int64_t sig = 0; sig < signals; ++sig) {
      float* xs = x + sig * length;
      for (int64_t m = 0; m < frames; ++m, ps += n)
        for (int64_t j = 0; j < n; ++j) {
          const int64_t p = sample(m, j);
          if (p >= 0 && p < length) xs[p] += window[static_cast<size_t>(j)] * ps[j];
        }
      for (int64_t p = 0; p < length; ++p) xs[p] *= inv_overlap[static_cast<size_t>(p)];
    }
  }

  /// The adjoint of `inverse`: g [S, length] -> [S, bins, frames, 2]. The
  /// inverse is crop ∘ (1/overlap) ∘ overlap-add ∘ window ∘ irfft per frame;
  /// the adjoint of the c2r irfft (scale 1/n) is rfft/n with the interior
  /// bins doubled (their mirror is implied) and the ignored imaginary parts
  /// of DC and Nyquist at 0 (a real rfft gives exactly 0 there).
  Tensor adjoint(const float* g, int64_t signals) const {
    const int64_t n = o.n_fft;
    Tensor spec = kernels::rfftn(windowed_frames(g, signals, inv_overlap.data()), 1, kernels::Norm::Forward);
    float* p = spec.data();
    for (int64_t r = 0; r < signals * frames; ++r)
      for (int64_t k = 0; k < bins; ++k, p += 2)
        if (k != 0 && 2 * k != n) p[0] *= 2.0f, p[1] *= 2.0f;
    Tensor out(Shape{signals, bins, frames, 2});
    swap_axes(spec.data(), out.data(), signals, true);
    return out;
  }

  /// [S, frames, bins, 2] -> [S, bins, frames, 2] (`to_bins`) and back.
  void swap_axes(const float* in, float* out, int64_t signals, bool to_bins) const {
    for (int64_t s = 0; s < signals; ++s)
      for (int64_t m = 0; m < frames; ++m)
        for (int64_t k = 0; k < bins; ++k) {
          const int64_t a = ((s * frames + m) * bins + k) * 2, b = ((s * bins + k) * frames + m) * 2;
          const int64_t from = to_bins ? a : b, to = to_bins ? b : a;
          out[to] = in[from], out[to + 1] = in[from + 1];
        }
  }
};

namespace {

/// The inverse as a graph op: Kind::Linear, no bias, backward = exact adjoint.
class StftInverse final : public TransformInverseOp {
 public:
  explicit StftInverse(std::shared_ptr<const StftPlan> plan)
      : TransformInverseOp(plan->coefficient_shape, plan->input_shape), plan_(std::move(plan)) {}
  std::string type() const override { return "inverse_stft"; }
  void forward(const OpArgs& a, Tensor& y) const override {
    const Tensor& s = a.input();
    plan_->inverse(s.data(), s.dim(0) * plan_->channels, y.data());
  }

 private:
  void add_adjoint(const Tensor& dy, Tensor& ds) const override {
    const Tensor adj = plan_->adjoint(dy.data(), dy.dim(0) * plan_->channels);
    ds.as_vector() += adj.as_vector();
  }

  std::shared_ptr<const StftPlan> plan_;
};

StftWindow parse_window(const std::string& name, const std::string& where) {
  if (name == "hann") return StftWindow::Hann;
  if (name == "hamming") return StftWindow::Hamming;
  if (name == "rect" || name == "rectangular" || name == "boxcar") return StftWindow::Rect;
  throw ValueError(where + ": unknown window '" + name + "' (expected hann, hamming or rect)");
}

}  // namespace

void add_stft_family(std::vector<TransformFamily>& table) {
  TransformFamily f;
  f.name = "stft";
  f.syntax = ":WINDOW:N_FFT:HOP[:center]";
  f.layout = CoefficientLayout::TimeFrequency;
  f.make = [](const std::string& spec, const Shape& input_shape) -> std::shared_ptr<const Transform> {
    return make_stft(spec, input_shape);
  };
  // The frame count covers a range of HOP signal lengths: the coefficients
  // do not say which (trim inverse needs --shape, as for dwt).
  f.signal_shape = [](const std::string&, const Shape&) -> std::optional<Shape> { return std::nullopt; };
  table.push_back(std::move(f));
}

}  // namespace detail

std::string stft_window_name(StftWindow w) {
  switch (w) {
    case StftWindow::Hann: return "hann";
    case StftWindow::Hamming: return "hamming";
    case StftWindow::Rect: return "rect";
  }
  return "rect";
}

std::vector<double> stft_window(StftWindow w, int64_t n) {
  constexpr double kPi = 3.14159265358979323846;
  std::vector<double> v(static_cast<size_t>(n), 1.0);
  if (w == StftWindow::Rect) return v;
  const double a = w == StftWindow::Hann ? 0.5 : 0.54;
  for (int64_t j = 0; j < n; ++j)
    v[static_cast<size_t>(j)] = a - (1 - a) * std::cos(2 * kPi * static_cast<double>(j) / static_cast<double>(n));
  return v;
}

namespace {

std::shared_ptr<const detail::StftPlan> build_plan(const StftOptions& o, const Shape& input_shape) {
  auto plan = std::make_shared<detail::StftPlan>();
  plan->o = o;
  const std::string where = "transform '" + plan->spec() + "'";
  if (o.n_fft < 1 || o.n_fft > (int64_t(1) << 24))
    throw ValueError(where + ": N_FFT " + std::to_string(o.n_fft) + ", expected 1 to 16777216");
  if (o.hop < 1 || o.hop > o.n_fft)
    throw ValueError(where + ": HOP " + std::to_string(o.hop) + ", expected 1 to N_FFT = " + std::to_string(o.n_fft) +
                     " (a larger hop skips samples)");
  if (input_shape.rank() < 1 || input_shape.has_free_dim())
    throw ShapeError(where + ": input shape " + input_shape.str() + " must have at least one concrete axis");
  for (int64_t v : input_shape)
    if (v < 1) throw ShapeError(where + ": input shape " + input_shape.str() + " must have positive sizes");
  if (input_shape.rank() + 2 > Shape::max_rank)
    throw ShapeError(where + ": input shape " + input_shape.str() + " has too many axes");
  const int64_t n = o.n_fft, L = input_shape[input_shape.rank() - 1];
  if (n > L)
    throw ValueError(where + ": N_FFT " + std::to_string(n) + " is longer than the signal (" + std::to_string(L) +
                     " samples)");
  plan->input_shape = input_shape;
  plan->length = L;
  plan->channels = input_shape.numel(0, input_shape.rank() - 1);
  plan->bins = n / 2 + 1;
  plan->pad_left = o.center ? n / 2 : 0;
  const int64_t padded = L + (o.center ? 2 * (n / 2) : 0);
  plan->frames = padded <= n ? 1 : (padded - n + o.hop - 1) / o.hop + 1;
  if (plan->frames > (int64_t(1) << 24))
    throw ShapeError(where + ": " + std::to_string(plan->frames) + " frames for " + std::to_string(L) + " samples");
  const std::vector<double> w = stft_window(o.window, n);
  plan->window.assign(w.begin(), w.end());
  // NOLA on this signal: every sample must meet a non-zero window somewhere.
  std::vector<double> overlap(static_cast<size_t>(L), 0.0);
  for (int64_t m = 0; m < plan->frames; ++m)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t p = plan->sample(m, j);
      if (p >= 0 && p < L) overlap[static_cast<size_t>(p)] += w[static_cast<size_t>(j)] * w[static_cast<size_t>(j)];
    }
  plan->inv_overlap.resize(static_cast<size_t>(L));
  for (int64_t p = 0; p < L; ++p) {
    const double d = overlap[static_cast<size_t>(p)];
    if (!(d > 1e-10))
      throw ValueError(where + ": the window and hop fail the NOLA condition: the squared windows of the frames sum "
                       "to " + std::to_string(d) + " at sample " + std::to_string(p) + " of " + std::to_string(L) +
                       ", so the overlap-add inverse cannot reconstruct it (use a smaller hop, ':center', or a window "
                       "that is not zero at its ends such as hamming or rect)");
    plan->inv_overlap[static_cast<size_t>(p)] = static_cast<float>(1.0 / d);
  }
  Shape c;
  for (int a = 0; a + 1 < input_shape.rank(); ++a) c.push_back(input_shape[a]);
  c.push_back(plan->bins);
  c.push_back(plan->frames);
  c.push_back(2);
  plan->coefficient_shape = c;
  return plan;
}

}  // namespace

StftTransform::StftTransform(const StftOptions& o, const Shape& input_shape)
    : StftTransform(build_plan(o, input_shape)) {}

StftTransform::StftTransform(std::shared_ptr<const detail::StftPlan> plan)
    : Transform(plan->input_shape, plan->coefficient_shape), plan_(std::move(plan)) {}

std::string StftTransform::spec() const { return plan_->spec(); }
const StftOptions& StftTransform::options() const { return plan_->o; }
int64_t StftTransform::length() const { return plan_->length; }
int64_t StftTransform::bins() const { return plan_->bins; }
int64_t StftTransform::frames() const { return plan_->frames; }
int64_t StftTransform::channels() const { return plan_->channels; }
double StftTransform::frame_center(int64_t m) const {
  return static_cast<double>(m * plan_->o.hop) + (plan_->o.center ? 0.0 : 0.5 * static_cast<double>(plan_->o.n_fft));
}

Tensor StftTransform::forward(const Tensor& x) const {
  detail::check_batched(x.shape(), input_shape(), "transform '" + spec() + "' forward");
  const Tensor s = plan_->forward(x.data(), x.dim(0) * plan_->channels);
  return s.reshaped(prepend({x.dim(0)}, coefficient_shape()));
}

Tensor StftTransform::inverse(const Tensor& s) const {
  detail::check_batched(s.shape(), coefficient_shape(), "transform '" + spec() + "' inverse");
  Tensor x(prepend({s.dim(0)}, input_shape()));
  plan_->inverse(s.data(), s.dim(0) * plan_->channels, x.data());
  return x;
}

std::shared_ptr<const Op> StftTransform::inverse_op() const { return std::make_shared<detail::StftInverse>(plan_); }

std::shared_ptr<const StftTransform> make_stft(const std::string& spec, const Shape& input_shape) {
  const std::vector<std::string> parts = split(spec, ':');
  const std::string usage = "expected stft:WINDOW:N_FFT:HOP[:center], e.g. stft:hann:256:64:center";
  const std::string where = "transform '" + spec + "'";
  if (parts.size() < 4) throw ValueError(where + ": " + usage);
  if (parts.size() > 5 || (parts.size() == 5 && parts[4] != "center"))
    throw ValueError(where + ": unexpected part '" + parts[4] + "' (" + usage + ")");
  StftOptions o;
  o.window = detail::parse_window(parts[1], where);
  const std::optional<int64_t> n = parse_int(parts[2]), hop = parse_int(parts[3]);
  if (!n) throw ValueError(where + ": N_FFT '" + parts[2] + "' is not an integer (" + usage + ")");
  if (!hop) throw ValueError(where + ": HOP '" + parts[3] + "' is not an integer (" + usage + ")");
  o.n_fft = *n;
  o.hop = *hop;
  o.center = parts.size() == 5;
  return std::make_shared<StftTransform>(o, input_shape);
}

const StftTransform& as_stft(const Transform& t, const std::string& where) {
  const auto* s = dynamic_cast<const StftTransform*>(&t);
  if (!s) throw ValueError(where + ": transform '" + t.spec() + "' is not an STFT (expected stft:WINDOW:N_FFT:HOP)");
  return *s;
}

namespace {

/// numpy.array_split of n items into k runs: k + 1 boundaries, the first n % k
/// runs one longer.
std::vector<int64_t> runs(int64_t n, int64_t k) {
  std::vector<int64_t> b{0};
  for (int64_t i = 0; i < k; ++i) b.push_back(b.back() + n / k + (i < n % k ? 1 : 0));
  return b;
}

/// The run of each index 0..n-1.
std::vector<int32_t> run_of(const std::vector<int64_t>& b) {
  std::vector<int32_t> r(static_cast<size_t>(b.back()));
  for (size_t i = 0; i + 1 < b.size(); ++i)
    for (int64_t j = b[i]; j < b[i + 1]; ++j) r[static_cast<size_t>(j)] = static_cast<int32_t>(i);
  return r;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void check_runs(int64_t k, int64_t n, const char* runs_of, const std::string& where) {
  if (k < 1 || k > n)
    throw ValueError(where + ": " + std::to_string(k) + " " + runs_of + " runs, expected 1 to " + std::to_string(n));
}

/// Labels over [channels, bins, frames, 2] from a label per (bin, frame).
Grouping tf_grouping(const StftTransform& s, const std::function<int32_t(int64_t, int64_t)>& label) {
  Grouping g;
  g.coefficient_shape = s.coefficient_shape();
  g.labels.reserve(static_cast<size_t>(g.coefficient_shape.numel()));
  for (int64_t c = 0; c < s.channels(); ++c)
    for (int64_t k = 0; k < s.bins(); ++k)
      for (int64_t m = 0; m < s.frames(); ++m) {
        const int32_t l = label(k, m);
        g.labels.push_back(l);
        g.labels.push_back(l);
      }
  return g;
}

}  // namespace

Grouping stft_tiles(const Transform& t, int n_freq, int n_time, double rate) {
  const std::string where = "stft_tiles";
  const StftTransform& s = as_stft(t, where);
  check_runs(n_freq, s.bins(), "frequency", where);
  check_runs(n_time, s.frames(), "time", where);
  if (rate < 0 || !std::isfinite(rate)) throw ValueError(where + ": sample rate " + num(rate) + ", expected > 0");
  const auto fb = runs(s.bins(), n_freq), tb = runs(s.frames(), n_time);
  const auto fr = run_of(fb), tr = run_of(tb);
  Grouping g = tf_grouping(s, [&](int64_t k, int64_t m) {
    return fr[static_cast<size_t>(k)] * n_time + tr[static_cast<size_t>(m)];
  });
  const double df = rate / static_cast<double>(s.options().n_fft);
  for (int i = 0; i < n_freq; ++i)
    for (int j = 0; j < n_time; ++j) {
      const int64_t k0 = fb[static_cast<size_t>(i)], k1 = fb[static_cast<size_t>(i) + 1] - 1;
      const int64_t m0 = tb[static_cast<size_t>(j)], m1 = tb[static_cast<size_t>(j) + 1] - 1;
      if (rate > 0)
        g.names.push_back(num(static_cast<double>(k0) * df) + "-" + num(static_cast<double>(k1) * df) + " Hz, " +
                          num(s.frame_center(m0) / rate) + "-" + num(s.frame_center(m1) / rate) + " s");
      else
        g.names.push_back("f " + std::to_string(k0) + "-" + std::to_string(k1) + ", t " + std::to_string(m0) + "-" +
                          std::to_string(m1));
      g.centers.push_back(static_cast<double>(i * n_time + j));
    }
  g.units = "tile";
  return g;
}

Grouping stft_segments(const Transform& t, int n, double rate) {
  const std::string where = "stft_segments";
  const StftTransform& s = as_stft(t, where);
  check_runs(n, s.frames(), "time", where);
  if (rate < 0 || !std::isfinite(rate)) throw ValueError(where + ": sample rate " + num(rate) + ", expected > 0");
  const auto tb = runs(s.frames(), n);
  const auto tr = run_of(tb);
  Grouping g = tf_grouping(s, [&](int64_t, int64_t m) { return tr[static_cast<size_t>(m)]; });
  const double unit = rate > 0 ? rate : 1.0;
  for (int j = 0; j < n; ++j) {
    const int64_t m0 = tb[static_cast<size_t>(j)], m1 = tb[static_cast<size_t>(j) + 1] - 1;
    const double c0 = s.frame_center(m0) / unit, c1 = s.frame_center(m1) / unit;
    g.names.push_back(rate > 0 ? num(c0) + "-" + num(c1) + " s"
                               : "frames " + std::to_string(m0) + "-" + std::to_string(m1));
    g.centers.push_back(0.5 * (c0 + c1));
  }
  g.units = rate > 0 ? "s" : "frame centre (samples)";
  return g;
}

}  // namespace trim
