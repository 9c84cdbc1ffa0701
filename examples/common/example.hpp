#pragma once
// What the examples share: progress lines with the elapsed time, self-checks
// that set the exit status, the completeness check of integrated gradients,
// figures (skipped with a note when trim was built without PLplot), and
// explaining each example's own class. Header-only: every example is one
// program and compiles this once.
#include <trim/trim.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <exception>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

namespace example {

/// Seconds since construction.
class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Prints "[  1.2 s] <message>\n" and flushes, so that progress shows when
/// the output is piped.
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
inline void step(const Stopwatch& clock, const char* format, ...) {
  std::printf("[%5.1f s] ", clock.seconds());
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
  std::printf("\n");
  std::fflush(stdout);
}

/// How an example trains its model: Adam on minibatches, seeded.
struct Training {
  int epochs = 10;
  int64_t batch_size = 32;
  double lr = 2e-3;
  uint64_t seed = 0;     ///< of the shuffle (the weights come from the graph's seed)
  int report_every = 5;  ///< print the loss every this many epochs
};

/// Trains `model` on (x, y) with `loss` and Adam, printing progress lines.
inline void train_adam(trim::Graph& model, const trim::Tensor& x, const trim::Tensor& y,
                       const trim::train::LossFn& loss, const Training& t, const Stopwatch& clock) {
  trim::train::Adam adam(t.lr);
  trim::train::FitOptions fit;
  fit.epochs = t.epochs;
  fit.batch_size = t.batch_size;
  fit.seed = t.seed;
  fit.on_epoch = [&](const trim::train::EpochReport& r) {
    if ((r.epoch + 1) % std::max(t.report_every, 1) == 0 || r.epoch + 1 == r.epochs)
      step(clock, "  epoch %2d/%d  loss %.4f", r.epoch + 1, r.epochs, r.loss);
  };
  trim::train::fit(model, x, y, loss, adam, fit);
}

/// The example's checks of its own claims. Each prints "[ok]" or "[FAILED]"
/// with what it checked; the exit status is 1 when any failed.
class Checks {
 public:
  bool expect(bool ok, const std::string& what) {
    std::printf("  [%s] %s\n", ok ? "ok" : "FAILED", what.c_str());
    failures_ += ok ? 0 : 1;
    return ok;
  }
  int exit_status() const { return failures_ == 0 ? 0 : 1; }
  /// "all N checks passed" or how many failed, then the exit status.
  int finish(const Stopwatch& clock) const {
    if (failures_ == 0) std::printf("all checks passed; done in %.1f s\n", clock.seconds());
    else std::printf("%d CHECK(S) FAILED; done in %.1f s\n", failures_, clock.seconds());
    return exit_status();
  }

 private:
  int failures_ = 0;
};

/// How far integrated gradients are from complete. The path integral is
/// exactly complete, Σ attributions = F(x) − F(b); its n-point quadrature is
/// not: along the straight path a ReLU network's gradient is piecewise
/// constant, jumping wherever a unit switches on or off, and no quadrature
/// rule integrates those jumps exactly (the error falls like 1/n). The
/// honest yardstick is therefore the size of what is being explained: delta
/// relative to the typical output change F(x) − F(b). A bug (a wrong
/// baseline, a forgotten residual, a scaling slip) shows as an error of
/// order 100 %; the quadrature's is a few per cent at most.
struct Completeness {
  double max_delta = 0;     ///< max |Σ attributions − (F(x) − F(b))| over targets and examples
  double output_scale = 0;  ///< root mean square of F(x) − F(b) over the same
  double relative() const { return output_scale > 0 ? max_delta / output_scale : max_delta; }
};

/// From attributions [rows, ...] and their deltas [rows] (rows = targets ×
/// examples): F(x) − F(b) is Σ attributions − delta, so no extra forward
/// pass is needed.
inline Completeness completeness(const trim::Tensor& attributions, const trim::Tensor& delta) {
  const int64_t rows = delta.numel();
  if (rows == 0 || attributions.numel() % rows != 0)
    throw trim::ValueError("completeness: " + std::to_string(rows) + " deltas for attributions " +
                           attributions.shape().str());
  const int64_t per_row = attributions.numel() / rows;
  Completeness c;
  double sum_squares = 0;
  for (int64_t i = 0; i < rows; ++i) {
    double total = 0;
    for (int64_t j = 0; j < per_row; ++j) total += attributions[i * per_row + j];
    const double change = total - delta[i];
    sum_squares += change * change;
    c.max_delta = std::max(c.max_delta, std::fabs(static_cast<double>(delta[i])));
  }
  c.output_scale = std::sqrt(sum_squares / static_cast<double>(rows));
  return c;
}
inline Completeness completeness(const trim::Attribution& a) { return completeness(a.attributions, a.delta); }

/// Indices of `values` from the largest to the smallest (ties keep their order).
inline std::vector<int> ranking(const std::vector<double>& values) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return values[a] > values[b]; });
  return order;
}

/// True when figures can be written; otherwise prints once why not.
inline bool can_plot() {
  static const bool available = trim::io::plotting_available();
  static bool told = false;
  if (!available && !told) {
    std::printf("  (no figures: trim was built without PLplot; install libplplot-dev and plplot-driver-cairo, "
                "then reconfigure)\n");
    told = true;
  }
  return available;
}

namespace detail {

/// Runs `per_class(x_c, extra_c, c)` on the examples of each class c
/// (labels [N], class indices as floats) with `extra` the further graph
/// inputs [N, ...] of the same examples, and puts the rows back in order.
/// `per_class` returns tensors [1, N_c, ...] (one target: class c); the
/// result holds each of them as [N, ...].
using ClassMethod =
    std::function<std::vector<trim::Tensor>(const trim::Tensor& x, const std::vector<trim::Tensor>& extra, int64_t cls)>;
inline std::vector<trim::Tensor> per_class(const trim::Tensor& x, const std::vector<trim::Tensor>& extra,
                                           const trim::Tensor& labels, const ClassMethod& method) {
  const int64_t n = x.dim(0);
  if (labels.numel() != n)
    throw trim::ShapeError("explain_own_class: " + std::to_string(labels.numel()) + " labels for " +
                           std::to_string(n) + " examples");
  int64_t classes = 0;
  for (float l : labels) {
    if (!(l >= 0) || l != std::floor(l))
      throw trim::ValueError("explain_own_class: label " + std::to_string(l) + " is not a class index");
    classes = std::max(classes, static_cast<int64_t>(l) + 1);
  }
  std::vector<trim::Tensor> out;
  for (int64_t c = 0; c < classes; ++c) {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < n; ++i)
      if (static_cast<int64_t>(labels[i]) == c) rows.push_back(i);
    if (rows.empty()) continue;
    trim::Tensor xc;
    trim::train::gather_rows(x, rows, xc);
    std::vector<trim::Tensor> extra_c(extra.size());
    for (size_t e = 0; e < extra.size(); ++e) trim::train::gather_rows(extra[e], rows, extra_c[e]);
    const std::vector<trim::Tensor> parts = method(xc, extra_c, c);
    if (out.empty())
      for (const trim::Tensor& p : parts) {
        trim::Shape shape{n};
        for (int axis = 2; axis < p.rank(); ++axis) shape.push_back(p.dim(axis));
        out.emplace_back(shape);
      }
    for (size_t k = 0; k < parts.size(); ++k) {
      const int64_t per_row = parts[k].numel() / static_cast<int64_t>(rows.size());
      for (size_t r = 0; r < rows.size(); ++r)
        std::copy_n(parts[k].data() + static_cast<int64_t>(r) * per_row, per_row, out[k].data() + rows[r] * per_row);
    }
  }
  return out;
}

}  // namespace detail

/// Scores of each example's own class logit (one row per example).
struct OwnClassScores {
  trim::Tensor attributions;  ///< integrated gradients [N, coefficients...]
  trim::Tensor group_scores;  ///< their sums per group [N, groups]; empty without a grouping
  trim::Tensor cd;            ///< CD `rel` per group [N, groups]; empty unless asked for
  Completeness completeness;  ///< of the integrated gradients
};

/// Integrated gradients (and, with `with_cd`, contextual decomposition of
/// each group) of every example's own class logit, labels [N] holding class
/// indices. Explaining only the example's own class costs one target
/// instead of every class. `extra` are the model's further inputs (a
/// TrimModel's residual), one batch each.
inline OwnClassScores explain_own_class(const trim::Graph& model, const trim::Tensor& s,
                                        const std::vector<trim::Tensor>& extra, const trim::Tensor& labels,
                                        const trim::IntegratedGradientsOptions& ig,
                                        const trim::Grouping* grouping = nullptr, bool with_cd = false) {
  if (with_cd && !grouping) throw trim::ValueError("explain_own_class: CD needs a grouping");
  const std::vector<trim::Tensor> parts = detail::per_class(
      s, extra, labels, [&](const trim::Tensor& sc, const std::vector<trim::Tensor>& ec, int64_t c) {
        trim::AttributionOptions o;
        o.targets = trim::Targets(c);
        o.grouping = grouping;
        o.extra_inputs = ec;
        const trim::Attribution a = trim::integrated_gradients(model, sc, ig, o);
        std::vector<trim::Tensor> out{a.attributions, a.delta};
        if (grouping) out.push_back(a.group_scores);
        if (with_cd) {
          trim::CdOptions cd;
          cd.targets = trim::Targets(c);
          cd.extra_inputs = ec;
          out.push_back(trim::contextual_decomposition(model, sc, *grouping, cd).rel);
        }
        return out;
      });
  OwnClassScores r;
  r.attributions = parts[0];
  r.completeness = completeness(parts[0], parts[1]);
  if (grouping) r.group_scores = parts[2];
  if (with_cd) r.cd = parts[3];
  return r;
}

/// Runs the example's body; an exception (bad data file, a shape that does
/// not fit, a figure that cannot be written) becomes a message naming the
/// program and exit status 2.
inline int run(const char* program, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  }
}

/// The examples' command line: an optional directory for the figures
/// (default "."), or --help. Runs `body(directory)` through run().
inline int main_with_output_dir(int argc, char** argv, const char* program,
                                const std::function<int(const std::string&)>& body) {
  const std::string first = argc > 1 ? argv[1] : "";
  if (argc > 2 || (!first.empty() && first[0] == '-')) {
    std::printf("usage: %s [directory for the PNG figures, default .]\n", program);
    return first == "--help" || first == "-h" ? 0 : 2;
  }
  return run(program, [&] { return body(first.empty() ? "." : first); });
}

}  // namespace example
