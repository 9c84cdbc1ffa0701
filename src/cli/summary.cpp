#include "summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

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
        if (groups)
          entry.set("group", in.grouping->names[static_cast<size_t>(i)]).set("index", i);
        else
          entry.set("index", unravel(i, in.coefficient_shape));
        entries.push(entry.set("score", static_cast<double>(v[i])));
      }
      list.push(io::Json::object()
                    .set("target", r.targets[static_cast<size_t>(k)])
                    .set("example", e)
                    .set(groups ? "groups" : "coefficients", entries));
    }
  return list;
}

io::Json rows_json(const Tensor& t) {
  const int64_t n = t.dim(0), per = t.numel() / n;
  io::Json rows = io::Json::array();
  for (int64_t i = 0; i < n; ++i) rows.push(std::vector<double>(t.begin() + i * per, t.begin() + (i + 1) * per));
  return rows;
}

}  // namespace

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
  }
  io::Json seconds = io::Json::object();
  for (const auto& [stage, s] : in.seconds) seconds.set(stage, s);
  j.set("seconds", seconds);
  return j;
}

}  // namespace trim::cli
