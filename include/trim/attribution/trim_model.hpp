#pragma once
/// \file
/// `TrimModel`: the model seen from a transform's coefficients,
/// s ↦ model(norm(T⁻¹(s) + r)), as one graph, so every attribution method
/// explains it like any other model.
///
/// For a lossy transform (a dictionary with fewer components than pixels) the
/// residual r = x − T⁻¹(T(x)) of each example is a second graph input, held
/// fixed by the methods (pass `options_for(x)`), so that F(T(x)) = model(x)
/// exactly. The optional normalisation ((x − mean) / std) and reshape sit
/// between the inverse and the model, as the reference's NormLayer and
/// ReshapeLayer do. For `fft1`/`fft2` (full complex spectra) the inverse
/// already takes the real part.

#include <memory>
#include <string>
#include <vector>

#include "trim/attribution/common.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

struct TrimOptions {
  /// Add the residual input r (default: on exactly when the transform is lossy).
  enum class Residual { Auto, On, Off };
  Residual residual = Residual::Auto;
  /// Optional (x − mean) / std before the model, broadcast NumPy-style
  /// against one example (empty tensors: no normalisation).
  Tensor mean, std;
  /// Optional per-example shape the model expects (empty: the transform's
  /// input shape), e.g. {1, 28, 28} for a transform of flat 784-vectors.
  Shape reshape;
};

class TrimModel {
 public:
  /// `model`: a finalized graph with one input and one output. Throws
  /// ShapeError when the transform's input shape (or `reshape`) does not
  /// fit the model's input.
  TrimModel(const Graph& model, std::shared_ptr<const Transform> transform, const TrimOptions& options = {});
  /// A TRIM model holding the only copy of `model`'s weights: they are
  /// moved into the TRIM graph and each parameter of `model` is left
  /// borrowing it (Tensor::borrow), so `model` still evaluates while the
  /// result lives but the weights are resident once (the CLI: a ResNet-18's
  /// 45 MB, not 90 MB, under a --max-memory budget that counts them once).
  /// Should it throw, `model` may be left without its weights.
  static std::unique_ptr<TrimModel> sharing_weights(Graph& model, std::shared_ptr<const Transform> transform,
                                                    const TrimOptions& options = {});

  /// The TRIM graph: input "coefficients" [*, coefficient_shape...] (and
  /// "residual" [*, input_shape...] when it has one), the model's output.
  const Graph& graph() const { return graph_; }
  const Transform& transform() const { return *transform_; }
  bool has_residual() const { return residual_; }

  /// s = T(x) for a batch of inputs.
  Tensor coefficients(const Tensor& x) const;
  /// r = x − T⁻¹(T(x)) (zeros for an exact transform).
  Tensor residual(const Tensor& x) const;
  /// What an explanation of the batch x starts from: s = T(x) and, when
  /// the model has one, the residual r = x − T⁻¹(s) (else empty), with T(x)
  /// computed once (an NMF or dictionary code is a solve). A failing
  /// transform (e.g. NMF codes of negative values) throws ValueError
  /// starting with `where`, the name of the input for the user.
  struct Inputs {
    Tensor coefficients;
    Tensor residual;
  };
  Inputs inputs(const Tensor& x, const std::string& where) const;
  /// `base` with the residual of x added as the extra input when the model
  /// has one: pass it to any attribution method together with T(x).
  AttributionOptions options_for(const Tensor& x, AttributionOptions base = {}) const;
  /// F(s) with residual r (required exactly when has_residual()).
  Tensor forward(const Tensor& s, const Tensor* r = nullptr) const;

 private:
  /// The constructor; the weights are moved out of `take_from` (the model
  /// itself) when it is given.
  TrimModel(const Graph& model, Graph* take_from, std::shared_ptr<const Transform> transform,
            const TrimOptions& options);
  std::shared_ptr<const Transform> transform_;
  Graph graph_;
  bool residual_ = false;
};

/// A batch to explain in a transform's coefficients, as the command-line
/// tool and the Python module set it up before running a method: the
/// inputs, the transform, the TRIM model, the targets, and s = T(x) with
/// the residual (after `compute_coefficients`).
struct TrimBatch {
  Tensor x;  ///< [N, example...]
  std::shared_ptr<const Transform> transform;
  std::unique_ptr<TrimModel> trim;
  std::vector<int64_t> targets;
  Tensor coefficients;  ///< s = T(x)
  Tensor residual;      ///< r = x - T⁻¹(T(x)) when the TRIM model has it, else empty

  /// Sets `coefficients` and `residual` from x (TrimModel::inputs; errors
  /// start with `where`, the input's name for the user).
  void compute_coefficients(const std::string& where) {
    TrimModel::Inputs in = trim->inputs(x, where);
    coefficients = std::move(in.coefficients);
    residual = std::move(in.residual);
  }
};

}  // namespace trim
