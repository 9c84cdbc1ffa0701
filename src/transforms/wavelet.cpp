// Wavelet transforms (dwt1, dwt2, swt1, swt2): spec parsing, the Transform,
// its inverse op (exact transpose as backward) and the wavelet groupings.

#include "trim/transforms/wavelet.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "inverse_op.hpp"
#include "families.hpp"
#include "trim/core/error.hpp"
#include "trim/core/text.hpp"

namespace trim {

namespace detail {

/// Everything the transform and its inverse op share (immutable).
struct WaveletPlan {
  std::string family;  ///< dwt1, dwt2, swt1, swt2
  const kernels::Wavelet* wavelet = nullptr;
  kernels::WaveletLayout layout;
  Shape input_shape, coefficient_shape;
  int64_t channels = 1;  ///< leading positions of one example

  int dims() const { return layout.dims; }
  std::string spec() const {
    std::string s = family + ":" + wavelet->name + ":" + std::to_string(layout.level);
    if (!layout.stationary) s += std::string(":") + kernels::dwt_mode_name(layout.mode);
    return s;
  }
  /// Signals per batch of n examples.
  int64_t signals(int64_t n) const { return n * channels; }
};

namespace {

/// x [N, coefficient_shape...] -> y [N, input_shape...] (y overwritten).
void synthesize(const WaveletPlan& p, const Tensor& s, Tensor& y) {
  kernels::waverec_flat(s.data(), p.signals(s.dim(0)), p.layout, *p.wavelet, y.data());
}

/// The inverse as a graph op: Kind::Linear, no bias, backward = transpose.
class WaveletInverse final : public TransformInverseOp {
 public:
  explicit WaveletInverse(std::shared_ptr<const WaveletPlan> plan)
      : TransformInverseOp(plan->coefficient_shape, plan->input_shape), plan_(std::move(plan)) {}
  std::string type() const override { return "inverse_" + plan_->family; }
  void forward(const OpArgs& a, Tensor& y) const override { synthesize(*plan_, a.input(), y); }

 private:
  void add_adjoint(const Tensor& dy, Tensor& ds) const override {
    Tensor adj;
    adj.resize(ds.shape());  // fully overwritten
    kernels::waverec_flat_adjoint(dy.data(), plan_->signals(dy.dim(0)), plan_->layout, *plan_->wavelet, adj.data());
    ds.as_vector() += adj.as_vector();
  }

  std::shared_ptr<const WaveletPlan> plan_;
};

std::shared_ptr<const WaveletTransform> build(const std::string& family, const kernels::Wavelet& w, int level,
                                              kernels::DwtMode mode, const Shape& input_shape,
                                              const std::string& where) {
  const int d = family.back() - '0';
  const bool stationary = family[0] == 's';
  if (input_shape.rank() < d)
    throw ShapeError(where + ": input shape " + input_shape.str() + " has " + std::to_string(input_shape.rank()) +
                     " axes, expected at least " + std::to_string(d));
  if (input_shape.rank() + (stationary ? 2 : 1) > Shape::max_rank)
    throw ShapeError(where + ": input shape " + input_shape.str() + " has too many axes");
  for (int64_t v : input_shape)
    if (v < 1) throw ShapeError(where + ": input shape " + input_shape.str() + " must have positive sizes");
  auto plan = std::make_shared<WaveletPlan>();
  plan->family = family;
  plan->wavelet = &w;
  std::vector<int64_t> sizes;
  for (int i = input_shape.rank() - d; i < input_shape.rank(); ++i) sizes.push_back(input_shape[i]);
  plan->layout = kernels::wavelet_layout(sizes, w, mode, level, stationary, where);
  plan->input_shape = input_shape;
  plan->channels = input_shape.numel(0, input_shape.rank() - d);
  Shape c;
  for (int i = 0; i < input_shape.rank() - d; ++i) c.push_back(input_shape[i]);
  if (!stationary) {
    c.push_back(plan->layout.size);
  } else {
    c.push_back(static_cast<int64_t>(plan->layout.bands.size()));
    for (int64_t v : sizes) c.push_back(v);
  }
  plan->coefficient_shape = c;
  return std::make_shared<WaveletTransform>(plan);
}

/// `dwt1|dwt2:<wavelet>[:<level>[:<mode>]]`, `swt1|swt2:<wavelet>[:<level>]`.
std::shared_ptr<const Transform> make_from_spec(const std::string& spec, const Shape& input_shape) {
  const std::vector<std::string> parts = split(spec, ':');
  const std::string& family = parts[0];
  const bool stationary = family[0] == 's';
  const std::string usage = family + ":<wavelet>[:<level>" + (stationary ? "]" : "[:<mode>]]") + ", e.g. " + family +
                            (stationary ? ":haar:2" : ":db4:3:symmetric");
  const std::string where = "transform '" + spec + "'";
  if (input_shape.has_free_dim())
    throw ShapeError(where + ": input shape " + input_shape.str() +
                     " must be one example's concrete shape (no batch axis)");
  if (parts.size() < 2 || parts[1].empty())
    throw ValueError(where + ": missing wavelet name (expected " + usage + ")");
  if (parts.size() > (stationary ? 3u : 4u))
    throw ValueError(where + ": unexpected part '" + parts[stationary ? 3 : 4] + "'" +
                     (stationary ? " (the stationary transform is always periodic and takes no mode)" : "") +
                     " (expected " + usage + ")");
  const kernels::Wavelet* w = nullptr;
  try {
    w = &kernels::wavelet(parts[1]);
  } catch (const ValueError& e) {
    throw ValueError(where + ": " + e.what());
  }
  int level = -1;
  if (parts.size() > 2 && !parts[2].empty()) {
    const std::optional<int64_t> v =
        std::isspace(static_cast<unsigned char>(parts[2][0])) ? std::nullopt : parse_int(parts[2]);
    if (!v || *v > INT32_MAX)  // levels above 64 are refused by wavelet_layout
      throw ValueError(where + ": bad level '" + parts[2] + "' (expected a non-negative integer, or nothing for the maximum)");
    if (*v < 0) throw ValueError(where + ": level " + parts[2] + " is negative (expected >= 0)");
    level = static_cast<int>(*v);
  }
  kernels::DwtMode mode = kernels::DwtMode::Symmetric;
  if (parts.size() > 3) {
    try {
      mode = kernels::dwt_mode(parts[3]);
    } catch (const ValueError& e) {
      throw ValueError(where + ": " + e.what());
    }
  }
  return build(family, *w, level, mode, input_shape, where);
}

}  // namespace

void add_wavelet_families(std::vector<TransformFamily>& table) {
  for (const char* name : {"dwt1", "dwt2", "dwt3", "swt1", "swt2"}) {
    TransformFamily f;
    f.name = name;
    const bool stationary = name[0] == 's';
    f.syntax = stationary ? ":WAVELET[:LEVEL]" : ":WAVELET[:LEVEL[:MODE]]";
    f.layout = stationary ? CoefficientLayout::StationaryBands : CoefficientLayout::Subbands;
    f.make = make_from_spec;
    const int spatial = name[3] - '0';
    f.signal_shape = [stationary, spatial](const std::string& spec, const Shape& coef) -> std::optional<Shape> {
      if (!stationary) return std::nullopt;  // the sub-band sizes do not say the signal's length
      // [..., bands, n] or [..., bands, h, w]: drop the band axis.
      require_coefficient_rank(coef, spatial + 1, spec);
      const int band_axis = coef.rank() - spatial - 1;
      Shape s;
      for (int a = 0; a < coef.rank(); ++a)
        if (a != band_axis) s.push_back(coef[a]);
      return s;
    };
    table.push_back(std::move(f));
  }
}

}  // namespace detail

// ---- WaveletTransform ----------------------------------------------------------------------

WaveletTransform::WaveletTransform(std::shared_ptr<const detail::WaveletPlan> plan)
    : Transform(plan->input_shape, plan->coefficient_shape), plan_(std::move(plan)) {}

std::string WaveletTransform::spec() const { return plan_->spec(); }
int WaveletTransform::axes() const { return plan_->dims(); }
std::string WaveletTransform::family() const { return plan_->family; }
CoefficientLayout WaveletTransform::coefficient_layout() const {
  return plan_->layout.stationary ? CoefficientLayout::StationaryBands : CoefficientLayout::Subbands;
}
FigureKind WaveletTransform::figure_kind() const {
  // The sub-band mosaic is a 1-D or 2-D picture; 3-D sub-bands are drawn as
  // the flat coefficient vector.
  return plan_->layout.dims == 3 ? FigureKind::Grid : Transform::figure_kind();
}
bool WaveletTransform::exact() const { return plan_->wavelet->name != "dmey"; }
const kernels::Wavelet& WaveletTransform::wavelet() const { return *plan_->wavelet; }
const kernels::WaveletLayout& WaveletTransform::layout() const { return plan_->layout; }
int WaveletTransform::level() const { return plan_->layout.level; }
kernels::DwtMode WaveletTransform::mode() const { return plan_->layout.mode; }
bool WaveletTransform::stationary() const { return plan_->layout.stationary; }
int64_t WaveletTransform::channels() const { return plan_->channels; }

Tensor WaveletTransform::forward(const Tensor& x) const {
  detail::check_batched(x.shape(), input_shape(), "transform '" + spec() + "' forward");
  Tensor s;
  s.resize(prepend({x.dim(0)}, coefficient_shape()));  // fully overwritten
  kernels::wavedec_flat(x.data(), plan_->signals(x.dim(0)), plan_->layout, *plan_->wavelet, s.data());
  return s;
}

Tensor WaveletTransform::inverse(const Tensor& s) const {
  detail::check_batched(s.shape(), coefficient_shape(), "transform '" + spec() + "' inverse");
  Tensor x;
  x.resize(prepend({s.dim(0)}, input_shape()));  // fully overwritten
  detail::synthesize(*plan_, s, x);
  return x;
}

std::shared_ptr<const Op> WaveletTransform::inverse_op() const {
  return std::make_shared<detail::WaveletInverse>(plan_);
}

std::shared_ptr<const WaveletTransform> make_wavelet(const std::string& family, const std::string& wavelet, int level,
                                                     kernels::DwtMode mode, const Shape& input_shape) {
  const std::string where = "transform '" + family + ":" + wavelet + "'";
  if (family != "dwt1" && family != "dwt2" && family != "dwt3" && family != "swt1" && family != "swt2")
    throw ValueError(where + ": unknown wavelet family '" + family + "' (expected dwt1, dwt2, dwt3, swt1 or swt2)");
  if (level < -1) throw ValueError(where + ": level " + std::to_string(level) + " is negative (expected >= 0, or -1)");
  if (input_shape.has_free_dim())
    throw ShapeError(where + ": input shape " + input_shape.str() +
                     " must be one example's concrete shape (no batch axis)");
  const kernels::Wavelet* w = nullptr;
  try {
    w = &kernels::wavelet(wavelet);
  } catch (const ValueError& e) {
    throw ValueError(where + ": " + e.what());
  }
  return detail::build(family, *w, level, mode, input_shape, where);
}

// ---- groupings -------------------------------------------------------------------------------

namespace {

/// Labels by band for one channel, repeated over the channels.
Grouping by_band(const WaveletTransform& t, const std::vector<int32_t>& band_label, std::vector<std::string> names,
                 std::vector<double> centers) {
  const kernels::WaveletLayout& L = t.layout();
  Grouping g;
  g.coefficient_shape = t.coefficient_shape();
  g.labels.reserve(static_cast<size_t>(t.channels() * L.size));
  for (int64_t c = 0; c < t.channels(); ++c)
    for (size_t b = 0; b < L.bands.size(); ++b)
      g.labels.insert(g.labels.end(), static_cast<size_t>(L.bands[b].size), band_label[b]);
  g.names = std::move(names);
  g.centers = std::move(centers);
  g.units = "level";
  return g;
}

double band_center(const kernels::WaveletBand& b, int level) {
  return b.orientation == 'a' ? level + 1.0 : double(b.level);
}

const WaveletTransform& wavelet_of(const Transform& t, const std::string& where) {
  const auto* wt = dynamic_cast<const WaveletTransform*>(&t);
  if (!wt)
    throw ValueError(where + ": transform '" + t.spec() +
                     "' is not a wavelet transform (expected dwt1, dwt2, swt1 or swt2)");
  return *wt;
}

}  // namespace

Grouping wavelet_subbands(const Transform& t) {
  const WaveletTransform& w = wavelet_of(t, "wavelet_subbands");
  const kernels::WaveletLayout& L = w.layout();
  std::vector<int32_t> label;
  std::vector<std::string> names;
  std::vector<double> centers;
  for (const auto& b : L.bands) {
    label.push_back(static_cast<int32_t>(names.size()));
    names.push_back(b.name);
    centers.push_back(band_center(b, L.level));
  }
  return by_band(w, label, names, centers);
}

Grouping wavelet_levels(const Transform& t) {
  const WaveletTransform& w = wavelet_of(t, "wavelet_levels");
  const kernels::WaveletLayout& L = w.layout();
  std::vector<int32_t> label;
  std::vector<std::string> names;
  std::vector<double> centers;
  for (const auto& b : L.bands) {
    if (b.orientation == 'a') {
      names.push_back(b.name);
      centers.push_back(L.level + 1.0);
    } else if (names.back() != "level_" + std::to_string(b.level)) {
      names.push_back("level_" + std::to_string(b.level));
      centers.push_back(b.level);
    }
    label.push_back(static_cast<int32_t>(names.size()) - 1);
  }
  return by_band(w, label, names, centers);
}

Grouping wavelet_coefficients(const Transform& t) {
  const WaveletTransform& w = wavelet_of(t, "wavelet_coefficients");
  const kernels::WaveletLayout& L = w.layout();
  Grouping g;
  g.coefficient_shape = w.coefficient_shape();
  const int64_t n = w.channels() * L.size;
  g.labels.resize(static_cast<size_t>(n));
  g.names.reserve(static_cast<size_t>(n));
  g.centers.reserve(static_cast<size_t>(n));
  for (int64_t c = 0; c < w.channels(); ++c) {
    const std::string prefix = w.channels() > 1 ? "ch" + std::to_string(c) + ":" : "";
    for (const auto& b : L.bands) {
      for (int64_t i = 0; i < b.size; ++i) {
        // "i", "i,j" or "i,j,k" inside the band.
        std::string pos;
        for (size_t a = b.shape.size(), rest = static_cast<size_t>(i); a-- > 0;) {
          const int64_t v = static_cast<int64_t>(rest) % b.shape[a];
          rest /= static_cast<size_t>(b.shape[a]);
          pos = std::to_string(v) + (pos.empty() ? "" : "," + pos);
        }
        g.labels[static_cast<size_t>(g.names.size())] = static_cast<int32_t>(g.names.size());
        g.names.push_back(prefix + b.name + "[" + pos + "]");
        g.centers.push_back(band_center(b, L.level));
      }
    }
  }
  g.units = "level";
  return g;
}

}  // namespace trim
