#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "inputs.hpp"
#include "progress.hpp"
#include "trim/transforms/wavelet.hpp"

namespace trim::cli {

namespace {

io::Json shape_json(const Shape& s) { return io::Json(s.to_vector()); }

/// Indices of the `k` largest |values[begin, begin + n)|, largest first
/// (ties: lower index first).
std::vector<int64_t> top_indices(const float* values, int64_t n, int k) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  const auto m = std::min<int64_t>(k, n);
  std::partial_sort(order.begin(), order.begin() + m, order.end(), [&](int64_t a, int64_t b) {
    const float fa = std::fabs(values[a]), fb = std::fabs(values[b]);
    return fa > fb || (fa == fb && a < b);
  });
  order.resize(static_cast<size_t>(m));
  return order;
}

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()));
  for (int a = shape.rank() - 1; a >= 0; --a) {
    index[static_cast<size_t>(a)] = flat % shape[a];
    flat /= shape[a];
  }
  return index;
}

/// Per target and example, the strongest groups (with a grouping) or
/// coefficients (without one).
io::Json top_list(const SummaryInput& in) {
  const Attribution& r = *in.result;
  const bool groups = in.grouping != nullptr;
  const Tensor& t = groups ? r.group_scores : r.attributions;
  const int64_t T = t.dim(0), N = t.dim(1), per = t.numel() / (T * N);
  io::Json list = io::Json::array();
  for (int64_t k = 0; k < T; ++k)
    for (int64_t e = 0; e < N; ++e) {
      const float* v = t.data() + (k * N + e) * per;
      io::Json entries = io::Json::array();
      for (int64_t i : top_indices(v, per, kTopCount)) {
        io::Json entry = io::Json::object();
        if (groups) {
          entry.set("group", in.grouping->names[static_cast<size_t>(i)]).set("index", i);
          if (static_cast<size_t>(i) < in.grouping->centers.size())
            entry.set("center", in.grouping->centers[static_cast<size_t>(i)]).set("units", in.grouping->units);
        } else {
          entry.set("index", unravel(i, in.coefficient_shape));
          if (in.t) entry.set("where", coefficient_coordinates(*in.t, unravel(i, in.coefficient_shape)));
        }
        entries.push(entry.set("score", static_cast<double>(v[i])));
      }
      list.push(io::Json::object()
                    .set("target", r.targets[static_cast<size_t>(k)])
                    .set("example", e)
                    .set(groups ? "groups" : "coefficients", entries));
    }
  return list;
}

/// top_indices for doubles.
std::vector<int64_t> top_indices_d(const std::vector<double>& v, int k) {
  std::vector<float> f(v.begin(), v.end());
  return top_indices(f.data(), static_cast<int64_t>(f.size()), k);
}

io::Json rows_json(const Tensor& t) {
  const int64_t n = t.dim(0), per = t.numel() / n;
  io::Json rows = io::Json::array();
  for (int64_t i = 0; i < n; ++i) rows.push(std::vector<double>(t.begin() + i * per, t.begin() + (i + 1) * per));
  return rows;
}

/// Mean over the examples of each group's score for target row k: [groups].
std::vector<double> mean_over_examples(const Tensor& t, int64_t k) {
  const int64_t N = t.dim(1), per = t.numel() / (t.dim(0) * N);
  std::vector<double> m(static_cast<size_t>(per), 0.0);
  for (int64_t e = 0; e < N; ++e)
    for (int64_t i = 0; i < per; ++i) m[static_cast<size_t>(i)] += t[(k * N + e) * per + i] / double(N);
  return m;
}

}  // namespace

io::Json coefficient_coordinates(const Transform& t, const std::vector<int64_t>& index) {
  io::Json c = io::Json::object();
  const Shape& coef = t.coefficient_shape();
  if (t.coefficient_layout() == CoefficientLayout::TimeFrequency && index.size() >= 3) {
    // stft: [channels..., bin, frame, (re, im)]
    c.set("bin", index[index.size() - 3]).set("frame", index[index.size() - 2]);
    c.set("part", index.back() == 0 ? "re" : "im");
  } else if (t.complex_pairs()) {
    int64_t flat = 0;
    for (size_t a = 0; a < index.size(); ++a) flat = flat * coef[static_cast<int>(a)] + index[a];
    c.set("radius", frequency_radii(t)[static_cast<size_t>(flat)]).set("units", "normalised radius");
    c.set("part", t.polar() ? (index.back() == 0 ? "amplitude" : "phase") : (index.back() == 0 ? "re" : "im"));
  } else if (const auto* w = dynamic_cast<const WaveletTransform*>(&t)) {
    const kernels::WaveletLayout& L = w->layout();
    if (L.stationary) {
      const size_t band = static_cast<size_t>(index[index.size() - static_cast<size_t>(L.dims) - 1]);
      if (band < L.bands.size()) c.set("subband", L.bands[band].name);
    } else {
      const int64_t j = index.back();
      for (const kernels::WaveletBand& b : L.bands)
        if (j >= b.offset && j < b.offset + b.size) c.set("subband", b.name).set("position", j - b.offset);
    }
  } else if (t.coefficient_layout() == CoefficientLayout::Components) {
    c.set("component", index.back());
  }
  return c;
}

std::string attribution_report(const SummaryInput& in, const std::string& written, double seconds) {
  const int64_t N = in.output_shape[1];
  std::string s = "trim attribute: wrote " + written + " " + in.output_shape.str() + " (" + in.method + " on " +
                  in.transform + ", " + std::to_string(N) + (N == 1 ? " example" : " examples") + ", " +
                  std::to_string(in.result->targets.size()) + (in.result->targets.size() == 1 ? " target" : " targets") +
                  ") in " + duration_text(seconds) + "\n";
  if (!in.grouping) return s;
  const Grouping& g = *in.grouping;
  const size_t shown = std::min<size_t>(in.result->targets.size(), 10);
  for (size_t k = 0; k < shown; ++k) {
    const std::vector<double> m = mean_over_examples(in.result->group_scores, static_cast<int64_t>(k));
    s += "  target " + std::to_string(in.result->targets[k]) + (N > 1 ? ", mean of " + std::to_string(N) : "") +
         ": top groups";
    const std::vector<int64_t> top = top_indices_d(m, 3);
    for (size_t r = 0; r < top.size(); ++r) {
      char score[32];
      std::snprintf(score, sizeof score, "%.4g", m[static_cast<size_t>(top[r])]);
      s += (r ? ", " : " ") + g.names[static_cast<size_t>(top[r])] + " (" + score + ")";
    }
    s += "\n";
  }
  if (shown < in.result->targets.size())
    s += "  (" + std::to_string(in.result->targets.size() - shown) + " more targets in the output)\n";
  if (!g.units.empty() && g.units != "group" && g.units != "tile") s += "  groups in " + g.units + "\n";
  return s;
}

io::Json attribution_summary(const SummaryInput& in) {
  const Attribution& r = *in.result;
  io::Json j = io::Json::object();
  j.set("model", in.model).set("input", in.input).set("transform", in.transform).set("method", in.method);
  j.set("residual", in.residual);
  j.set("batch", in.prediction.dim(0)).set("targets", r.targets);
  j.set("coefficient_shape", shape_json(in.coefficient_shape)).set("output_shape", shape_json(in.output_shape));
  j.set("prediction", rows_json(in.prediction));
  if (in.grouping) {
    j.set("groups", io::Json::object()
                        .set("spec", in.groups)
                        .set("units", in.grouping->units)
                        .set("names", [&] {
                          io::Json names = io::Json::array();
                          for (const std::string& n : in.grouping->names) names.push(n);
                          return names;
                        }())
                        .set("centers", in.grouping->centers));
  }
  j.set("top", top_list(in));
  if (r.delta.numel() > 0) {
    double worst = 0;
    for (float d : r.delta) worst = std::max(worst, std::fabs(double(d)));
    j.set("delta", rows_json(r.delta)).set("max_abs_delta", worst);
  } else {
    j.set("delta", nullptr);
    if (!in.delta_off.empty()) j.set("delta_not_computed", "turned off by " + in.delta_off);
  }
  io::Json seconds = io::Json::object();
  for (const auto& [stage, s] : in.seconds) seconds.set(stage, s);
  j.set("seconds", seconds);
  j.set("provenance", in.provenance);
  return j;
}

}  // namespace trim::cli
