#include "prefix_sharing.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "trim/core/error.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/split.hpp"

namespace trim::detail {

namespace {

/// The model cut after its affine prefix, and the two passes that use the
/// prefix alone: A(s) for a few rows, and Lᵀ u (a backward through it) for
/// the summed z-gradients.
class SharedPrefix {
 public:
  /// Prefix batches of at most `rows` rows (the call's max_batch: under a
  /// memory budget the methods take the plain path).
  SharedPrefix(GraphSplit split, const ModelRunner& run, int64_t rows) : split_(std::move(split)), rows_(rows) {
    const Shape& z = split_.prefix.shape(split_.prefix.outputs()[0]);
    for (int a = 1; a < z.rank(); ++a) cut_shape_.push_back(z[a]);
    cut_numel_ = cut_shape_.numel();
    example_ = run.example_shape();
    P_ = run.example_numel();
  }
  const Graph& suffix() const { return split_.suffix; }
  const Shape& cut_shape() const { return cut_shape_; }  ///< z per example
  int64_t cut_numel() const { return cut_numel_; }

  /// A(s) for M rows of s at `s` (M·example_numel floats, 64-byte aligned
  /// when a whole row is): [M, cut...], valid until the next call. Large
  /// rows are not copied more than needed: the rows are read in place and,
  /// in one batch, the result is the prefix's own output.
  const Tensor& forward_rows(const float* s, int64_t M) {
    const bool one = M <= rows_;
    if (!one) z_.resize(prepend({M}, cut_shape_));
    const bool aligned = reinterpret_cast<std::uintptr_t>(s) % 64 == 0 && (P_ * sizeof(float)) % 64 == 0;
    for (int64_t first = 0; first < M; first += rows_) {
      const int64_t count = std::min(rows_, M - first);
      if (aligned) {
        in_[0] = Tensor::borrow(s + first * P_, prepend({count}, example_));
      } else {
        in_[0].resize(prepend({count}, example_));
        std::copy(s + first * P_, s + (first + count) * P_, in_[0].begin());
      }
      forward(split_.prefix, ws_, in_, Keep::input_gradients);
      if (aligned) in_[0] = Tensor();  // the caller's rows are not kept
      const Tensor& out = ws_.value(split_.prefix.outputs()[0]);
      if (one) return out;
      std::copy(out.begin(), out.end(), z_.begin() + first * cut_numel_);
    }
    return z_;
  }

  /// Lᵀ u for M cotangent rows u: `fill(r, dst)` writes row r of u
  /// (cut_numel floats), `take(r, g)` receives row r of Lᵀ u (P floats).
  void transpose(int64_t M, const std::function<void(int64_t, float*)>& fill,
                 const std::function<void(int64_t, const float*)>& take) {
    Tensor at, cot;
    for (int64_t first = 0; first < M; first += rows_) {
      const int64_t count = std::min(rows_, M - first);
      // The backward of an affine map does not depend on where it is taken:
      // a forward of zeros gives the executor its shapes.
      at.resize(prepend({count}, example_));
      at.set_zero();
      forward(split_.prefix, ws_, {at}, Keep::input_gradients);
      cot.resize(prepend({count}, cut_shape_));
      for (int64_t r = 0; r < count; ++r) fill(first + r, cot.data() + r * cut_numel_);
      const Gradients g = backward(split_.prefix, ws_, {cot}, false, true);
      for (int64_t r = 0; r < count; ++r) take(first + r, g.inputs[0].data() + r * P_);
    }
  }

 private:
  GraphSplit split_;
  int64_t rows_;
  Shape cut_shape_, example_;
  int64_t cut_numel_ = 0, P_ = 0;
  Workspace ws_;
  std::vector<Tensor> in_{Tensor()};  ///< the prefix's input rows
  Tensor z_;                          ///< forward_rows' result
};

}  // namespace

std::optional<Attribution> integrated_gradients_sharing_prefix(ModelRunner& run, const Tensor& b,
                                                               const std::vector<double>& alphas,
                                                               const std::vector<double>& weights,
                                                               const AttributionOptions& options) {
  // Under a memory budget the plain path runs: its accounting is the one
  // checked against the process's peak resident set (test_cli_memory); the
  // shared path filled a 12 MiB budget to within allocator slack and
  // sometimes past it.
  if (options.max_memory > 0) return std::nullopt;
  std::optional<GraphSplit> split = split_affine_prefix(run.graph());
  if (!split) return std::nullopt;
  SharedPrefix pre(std::move(*split), run, options.max_batch);
  const Tensor& x = run.x();
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets(), Z = pre.cut_numel();
  // The sums are over the cut's values: they may outgrow the plain path's
  // sums over s by at most this much (a CNN's stem holds ~2.7× the values of
  // 3-channel fft2 coefficients, so explaining all 1000 outputs of an
  // ImageNet model would hold ~0.7 GB more).
  constexpr int64_t most_extra_bytes = int64_t{256} << 20;
  if (T * N * (Z - P) * static_cast<int64_t>(sizeof(double)) > most_extra_bytes) return std::nullopt;
  // The rest of the model runs each step's z rows: its runner holds the
  // targets, extra inputs, batching and progress of the call. Its "input"
  // is a stand-in [N, cut...] (the runner only counts it).
  AttributionOptions rest = options;
  rest.grouping = nullptr;
  ModelRunner srun(pre.suffix(), Tensor(prepend({N}, pre.cut_shape())), rest, run.method());

  // A(x) and A(b), rows [x; b]: the steps' ends and the delta's F(x), F(b).
  Tensor ends(prepend({2 * N}, run.example_shape()));
  std::copy(x.begin(), x.end(), ends.begin());
  std::copy(b.begin(), b.end(), ends.begin() + N * P);
  const Tensor zends = pre.forward_rows(ends.data(), 2 * N);
  ends = Tensor();
  std::vector<int64_t> rows(static_cast<size_t>(2 * N));
  for (int64_t e = 0; e < N; ++e) rows[static_cast<size_t>(e)] = rows[static_cast<size_t>(e + N)] = e;

  // Σ_k w_k ∇_z F(z_k) per target and example, in double.
  const std::vector<double> sum = path_gradient_sums(srun, zends.data(), zends.data() + N * Z, Z, alphas, weights);

  // F(x) and F(b) for the delta (after the steps, as the plain path: the
  // workspace's buffers then keep their size).
  const Tensor f = srun.outputs(zends, rows);

  // Back through the prefix once per target and example: row t·N + e.
  Tensor attr(prepend({T, N}, run.example_shape()));
  pre.transpose(
      T * N,
      [&](int64_t j, float* dst) {
        const double* src = sum.data() + j * Z;
        for (int64_t i = 0; i < Z; ++i) dst[i] = static_cast<float>(src[i]);
      },
      [&](int64_t j, const float* g) {
        const int64_t e = j % N;
        const float* xe = x.data() + e * P;
        const float* be = b.data() + e * P;
        float* dst = attr.data() + j * P;
        for (int64_t i = 0; i < P; ++i) dst[i] = static_cast<float>(double(g[i]) * (double(xe[i]) - double(be[i])));
      });

  Tensor delta = path_delta(run, attr, f);
  return run.finish(std::move(attr), std::move(delta));
}

std::optional<Attribution> smoothgrad_sharing_prefix(ModelRunner& run, const Tensor& noisy, int64_t S,
                                                     const AttributionOptions& options) {
  if (options.max_memory > 0) return std::nullopt;  // the plain path, as for integrated gradients
  std::optional<GraphSplit> split = split_affine_prefix(run.graph());
  if (!split) return std::nullopt;
  SharedPrefix pre(std::move(*split), run, options.max_batch);
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets(), Z = pre.cut_numel();
  AttributionOptions rest = options;
  rest.grouping = nullptr;
  ModelRunner srun(pre.suffix(), Tensor(prepend({N}, pre.cut_shape())), rest, run.method());
  // The copies go through the prefix a block at a time; a block's z rows
  // are held while the rest of the model runs them.
  const int64_t block = std::min<int64_t>(options.max_batch, N * S);

  // Σ_k ∇_z F(A(x + ε_k)) per target and example, in double.
  std::vector<double> sum(static_cast<size_t>(T * N * Z), 0.0);
  srun.plan(N * S);
  for (int64_t first = 0; first < N * S; first += block) {
    const int64_t count = std::min(block, N * S - first);
    const Tensor& z = pre.forward_rows(noisy.data() + first * P, count);
    srun.run(
        count,
        [&](int64_t m, float* dst) {
          std::copy(z.begin() + m * Z, z.begin() + (m + 1) * Z, dst);
          return (first + m) / S;
        },
        [&](int64_t at, int64_t n, const Tensor&, const Tensor* g) {
          by_elements(T * n, Z, [&](int64_t i0, int64_t i1) {
            for (int64_t t = 0; t < T; ++t)
              for (int64_t r = 0; r < n; ++r) {
                const int64_t e = (first + at + r) / S;
                const float* src = g->data() + (t * n + r) * Z;
                double* acc = sum.data() + (t * N + e) * Z;
                for (int64_t i = i0; i < i1; ++i) acc[i] += src[i];
              }
          });
        },
        true, ModelRunner::RowMaking::parallel);
  }

  // The mean gradient at the cut, back through the prefix: row t·N + e.
  Tensor attr(prepend({T, N}, run.example_shape()));
  pre.transpose(
      T * N,
      [&](int64_t j, float* dst) {
        const double* src = sum.data() + j * Z;
        for (int64_t i = 0; i < Z; ++i) dst[i] = static_cast<float>(src[i] / double(S));
      },
      [&](int64_t j, const float* g) { std::copy(g, g + P, attr.data() + j * P); });
  return run.finish(std::move(attr), {});
}

}  // namespace trim::detail
