#pragma once
/// \file
/// Training losses. Each returns the loss value together with its gradient
/// with respect to the prediction, which is exactly the output cotangent that
/// `trim::backward` takes: one call gives both, with no second pass.
///
/// Values follow PyTorch's default reductions (mean), so a model trained here
/// and one trained with torch see the same numbers and the same learning
/// rates. Accumulation is in double; softmax-based losses subtract the row
/// maximum, so huge logits give finite values and gradients.

#include <cstdint>
#include <functional>
#include <vector>

#include "trim/core/tensor.hpp"

namespace trim::train {

/// A loss value and d(loss)/d(prediction), shaped like the prediction.
struct LossResult {
  double value = 0.0;
  Tensor grad;
};

/// Mean of (pred − target)² over all elements (torch.nn.MSELoss()). The
/// shapes must be equal (no broadcasting: a silent broadcast is a classic
/// bug); throws ShapeError otherwise and ValueError for empty tensors.
LossResult mse_loss(const Tensor& pred, const Tensor& target);

/// Softmax cross entropy, −mean_n log softmax(logits_n)[label_n]
/// (torch.nn.CrossEntropyLoss()). `logits` is [N, C]. `labels` is either
/// [N], class indices as integer-valued floats in [0, C), or [N, C], class
/// probabilities per row (soft targets, as torch accepts since 1.10:
/// loss = −mean_n Σ_c t_nc log softmax_nc; rows need not sum to one).
/// Throws ShapeError on shape mismatches and ValueError on a label that is
/// not an integer in range, naming the row.
LossResult cross_entropy_loss(const Tensor& logits, const Tensor& labels);
/// Same with class indices given directly (one per row of `logits`).
LossResult cross_entropy_loss(const Tensor& logits, const std::vector<int64_t>& labels);

/// The losses `fit` knows by name.
enum class LossKind {
  MSE,           ///< mse_loss; targets shaped like the model's output
  CrossEntropy,  ///< cross_entropy_loss; targets [N] class indices (or [N,C] probabilities)
};

/// Any loss: (prediction, target) -> value and d/d prediction. The value
/// should be a mean over the batch, as the built-in losses are, so that the
/// learning rate does not depend on the batch size.
using LossFn = std::function<LossResult(const Tensor& prediction, const Tensor& target)>;

/// The function behind a LossKind.
LossFn loss_function(LossKind kind);

/// "mse", "cross_entropy".
const char* loss_name(LossKind kind);

}  // namespace trim::train
