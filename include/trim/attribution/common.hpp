#pragma once
/// \file
/// What every attribution method shares: which outputs to explain, the
/// baseline, batching, and the shape of the result.
///
/// A method explains a finalized graph with one output. Its first input is
/// the one attributed to (a batch x [N, input_shape...]); further graph
/// inputs (e.g. a TrimModel's residual) are held fixed per example and passed
/// in `AttributionOptions::extra_inputs`. The output is read per example as a
/// flat vector of `n_outputs` values; a target is an index into it.
///
/// Every method returns attributions for all requested targets at once,
/// shaped [targets, N, input_shape...]; with a grouping also per-group scores
/// [targets, N, groups]; and, where the method has one, the convergence delta
/// Σ attributions − (F(x) − F(baseline)) per target and example [targets, N].

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "trim/core/error.hpp"
#include "trim/core/tensor.hpp"
#include "trim/graph/graph.hpp"
#include "trim/transforms/grouping.hpp"

namespace trim {

/// Reports a method's progress and lets the caller stop it. Called on the
/// calling thread after every batch sent through the graph with the units
/// of work done so far and the total the call will do. A unit is one model
/// row: an integration point of one example (integrated gradients: steps ×
/// examples), a noisy copy or sample, an ablated copy, occlusion window or
/// coalition, a group of one example (CD: groups × examples). Returning
/// false stops the method, which then throws `Cancelled`. Empty: no calls.
using ProgressCallback = std::function<bool(int64_t done, int64_t total)>;

/// Thrown when a ProgressCallback asked to stop; no result is returned.
class Cancelled : public Error {
 public:
  using Error::Error;
};

/// Output indices to explain: one, several, or all outputs of the model.
struct Targets {
  std::vector<int64_t> indices;  ///< empty with `all`
  bool all = false;

  Targets() : all(true) {}  ///< every output
  /// One output. Explicit so an integer never turns into a target list by
  /// accident (a count, a seed or a batch size passed in the wrong place).
  explicit Targets(int64_t index) : indices{index} {}
  Targets(std::vector<int64_t> list) : indices(std::move(list)) {}
  static Targets every() { return Targets(); }
  /// The concrete list for a model with `n_outputs` outputs per example;
  /// ValueError when an index is out of range or the list is empty.
  std::vector<int64_t> resolve(int64_t n_outputs) const;
};

/// The reference input of path and difference methods.
struct Baseline {
  enum class Kind { Zero, Constant, Tensor };
  Kind kind = Kind::Zero;
  float value = 0.0f;
  trim::Tensor tensor;  ///< one example [input_shape...] (broadcast) or a batch [N, input_shape...]

  static Baseline zero() { return {}; }
  static Baseline constant(float v) { return {Kind::Constant, v, {}}; }
  static Baseline of(trim::Tensor t) { return {Kind::Tensor, 0.0f, std::move(t)}; }
  /// The baseline for every example of x: [N, input_shape...]. ShapeError
  /// when a tensor baseline fits neither one example nor the batch,
  /// ValueError when it holds NaN or infinity; messages start with `method`.
  /// Every method that takes a Baseline expands it here, so each refuses a
  /// non-finite one alike.
  trim::Tensor expand(const trim::Tensor& x, const std::string& method = "baseline") const;
};

/// What every method (CD included) needs to run a model over a batch: the
/// outputs to explain, the chunk size, the fixed extra inputs, progress.
/// AttributionOptions and CdOptions extend it, so one is set from the other
/// by assigning this part.
struct RunOptions {
  Targets targets;  ///< default: every output
  /// Largest batch sent through the graph at once; the methods build their
  /// perturbed / interpolated inputs in chunks of it. 64 rows keep GEMMs
  /// efficient while a LeNet-sized net's activations stay in cache (IG-50 on
  /// 4 examples: 17 % faster than one 200-row batch); memory grows linearly
  /// with it, so lower it for large inputs.
  int64_t max_batch = 64;
  /// Memory budget in bytes for the call: the graph's weights, the call's
  /// inputs and results and the method's own arrays, and per batch the
  /// planned activation and gradient buffers (`planned_floats`), the ops'
  /// scratch (`planned_scratch_floats`) and the batch's rows, outputs and
  /// gradients; not the caller's own arrays, the process or allocator slack
  /// (CD: its planned buffers and rows only).
  /// When > 0 it replaces max_batch: every batch is the largest that fits
  /// (so results are those of any other batch size), and a budget too small
  /// for one row is refused with a ValueError naming the minimum. 0:
  /// max_batch rows.
  int64_t max_memory = 0;
  /// The graph's inputs after the first, one batch each [N, ...], held fixed.
  std::vector<Tensor> extra_inputs;
  /// Progress reports and cancellation (see ProgressCallback).
  ProgressCallback progress;
};

struct AttributionOptions : RunOptions {
  /// Per-group scores are the sums of the attributions over each group's
  /// elements (labels over one example's input shape).
  const Grouping* grouping = nullptr;
};

struct Attribution {
  std::vector<int64_t> targets;  ///< the output indices explained, in order
  Tensor attributions;           ///< [targets, N, input_shape...]
  Tensor group_scores;           ///< [targets, N, groups], empty without a grouping
  Tensor delta;                  ///< [targets, N], empty when the method has none
};

/// Sums `attributions` [T, N, input_shape...] over each group:
/// [T, N, groups]. ShapeError when the grouping's shape is not input_shape.
Tensor group_sums(const Tensor& attributions, const Grouping& grouping);

}  // namespace trim
