#pragma once
// Internal: evaluating a model on many perturbed copies of its input, in
// chunks of max_batch, with the extra inputs of each row's example. Every
// attribution method is written on top of this.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "trim/attribution/common.hpp"
#include "trim/core/memory.hpp"
#include "trim/graph/executor.hpp"
#include "trim/kernels/weight_layouts.hpp"

namespace trim::detail {

class ModelRunner {
 public:
  /// Validates the model (finalized, one output), x against its first input
  /// and the extra inputs; `method` prefixes error messages.
  ModelRunner(const Graph& model, const Tensor& x, const AttributionOptions& options, std::string method);

  const std::string& method() const { return method_; }
  int64_t batch() const { return batch_; }                 ///< N, examples in x
  const Shape& example_shape() const { return example_; }  ///< input_shape (no batch)
  int64_t example_numel() const { return example_numel_; }
  int64_t n_outputs() const { return n_outputs_; }
  const std::vector<int64_t>& targets() const { return targets_; }
  int64_t n_targets() const { return static_cast<int64_t>(targets_.size()); }
  /// What one batch holds in memory, for AttributionOptions::max_memory.
  enum class Pass {
    outputs,    ///< a forward (Keep::input_gradients) for the outputs
    gradients,  ///< that forward and a backward to the inputs per target
    deeplift,   ///< x and baseline rows, each a forward (Keep::deeplift), and the multipliers
  };
  /// Rows per batch for `pass`: max_batch (half of it for DeepLIFT, whose
  /// rows come in x / baseline pairs) without a budget, else the most rows
  /// whose buffers fit max_memory (ValueError when not even one does).
  int64_t max_batch(Pass pass = Pass::outputs) const;
  /// Bytes a run holds with batches of `rows` rows of `pass` (the budget's
  /// measure): fixed_bytes() and the batch's planned buffers, copies and
  /// the ops' scratch.
  int64_t batch_bytes(Pass pass, int64_t rows) const;
  /// Bytes that do not depend on the batch: the model's weights, x, the
  /// extra inputs, the attributions [T, N, ...] and what the method holds.
  int64_t fixed_bytes() const;
  /// The method holds `floats` more for the whole call (path sums, a
  /// baseline): counted by the budget. Call before the first run.
  void hold(int64_t floats) { held_floats_ += floats; }
  const Tensor& x() const { return x_; }
  /// Whether the model has inputs besides x (held fixed per example).
  bool has_extra_inputs() const { return !extra_inputs_.empty(); }

  /// Writes row m (example_numel floats) into `dst`; returns the example it belongs to.
  using MakeRow = std::function<int64_t(int64_t m, float* dst)>;
  /// Receives rows [first, first + count): their outputs [count, n_outputs]
  /// and, when gradients were requested, d output[target] / d row as
  /// [targets, count, input_shape...].
  using TakeRows = std::function<void(int64_t first, int64_t count, const Tensor& outputs, const Tensor* grads)>;

  /// Declares the units of work (rows) the whole method will do, for
  /// progress reports; without it each run() adds its rows to the total.
  void plan(int64_t rows) { planned_ = rows; }
  /// `rows` more units are done: reports progress and throws Cancelled when
  /// the callback asks to stop. run() calls it after every batch; methods
  /// with their own walk (DeepLIFT, CD) call it themselves.
  void advance(int64_t rows);

  /// Whether run() may call `make` for several rows at once (on the pool):
  /// only when it writes nothing but its dst and reads nothing another row
  /// writes.
  enum class RowMaking { serial, parallel };

  /// Evaluates `rows` rows produced by `make`, max_batch at a time.
  void run(int64_t rows, const MakeRow& make, const TakeRows& take, bool with_gradients,
           RowMaking making = RowMaking::serial);

  /// A TakeRows that stores the targets' outputs of every row in f, row
  /// major [rows, targets] (f already sized): what perturbation methods keep.
  TakeRows store_target_outputs(std::vector<double>& f) const;

  /// Model outputs for the batch `inputs` [M, input_shape...] whose rows
  /// belong to examples `example_of_row`: [M, n_outputs] (under a max_memory
  /// budget, computed in batches that fit).
  Tensor outputs(const Tensor& inputs, const std::vector<int64_t>& example_of_row);

  /// Wraps attributions [T, N, input_shape...] and delta ([T, N] or empty)
  /// into the result, adding group sums when a grouping was given.
  Attribution finish(Tensor attributions, Tensor delta) const;

  /// Extra inputs gathered for rows of the given examples.
  std::vector<Tensor> gather_extras(const std::vector<int64_t>& example_of_row) const;

  /// The model (for executors with their own walk, e.g. DeepLIFT).
  const Graph& graph() const { return model_; }

 private:
  /// Outputs of the rows in[0] with their examples' extra inputs appended to `in`.
  Tensor forward_rows(std::vector<Tensor>& in, const std::vector<int64_t>& example_of_row);

  // Copies, not references: a runner built from a temporary input or
  // options object must not dangle. The model and the grouping (a pointer
  // in the options) belong to the caller for the duration of the call.
  const Graph& model_;
  Tensor x_;
  std::vector<Tensor> extra_inputs_;
  const Grouping* grouping_ = nullptr;
  ProgressCallback progress_;
  std::string method_;
  int64_t batch_ = 0;
  Shape example_;
  int64_t example_numel_ = 0;
  int64_t n_outputs_ = 0;
  std::vector<int64_t> targets_;
  int64_t max_batch_ = 256;
  int64_t max_memory_ = 0;
  int64_t held_floats_ = 0;
  mutable int64_t fitted_[3] = {0, 0, 0};  ///< max_batch(pass) under the budget, once computed
  int64_t done_ = 0, planned_ = 0;
  std::optional<StrictTensorCache> strict_cache_;  ///< under a budget: idle blocks within it
  /// Under a budget: no weight layouts kept between calls (the budget plans
  /// the kernels' scratch for one convolution at a time).
  std::optional<kernels::NoKeptWeightLayouts> no_kept_layouts_;
  Workspace ws_;
};

/// body(i0, i1) over parts of [0, width): on the pool when `rows` rows of
/// that width are worth it, else at once. For the take callbacks' sums over
/// rows, split by element: each element's sum keeps its order, so results do
/// not depend on the thread count.
void by_elements(int64_t rows, int64_t width, const std::function<void(int64_t, int64_t)>& body);

/// Integrated gradients' path through `run`: the N·K rows
/// b_e + α_k (x_e − b_e) (row e·K + k; x_e and b_e rows of `width` floats,
/// the runner's input rows) with their gradients, summed per target and
/// example as Σ_k w_k ∇F in double: [T, N, width].
std::vector<double> path_gradient_sums(ModelRunner& run, const float* x, const float* b, int64_t width,
                                       const std::vector<double>& alphas, const std::vector<double>& weights);

/// Integrated gradients' delta per target and example, Σ attr − (F(x) −
/// F(b)), from the attributions [T, N, ...] and the outputs `f` [2N, n_outputs]
/// of the rows [x; b].
Tensor path_delta(const ModelRunner& run, const Tensor& attr, const Tensor& f);

/// Each row of t [N, ...] repeated `times` times in a row: [N·times, ...].
Tensor repeat_rows(const Tensor& t, int64_t times);

}  // namespace trim::detail
