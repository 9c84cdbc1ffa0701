#include "trim/train/loss.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "trim/core/error.hpp"

namespace trim::train {

LossResult mse_loss(const Tensor& pred, const Tensor& target) {
  if (pred.shape() != target.shape())
    throw ShapeError("mse_loss: prediction " + pred.shape().str() + ", target " +
                     target.shape().str() + ", expected equal shapes");
  if (pred.numel() == 0) throw ValueError("mse_loss: empty prediction " + pred.shape().str());
  const int64_t n = pred.numel();
  const double scale = 2.0 / static_cast<double>(n);
  LossResult r;
  r.grad.resize(pred.shape());
  const float* p = pred.data();
  const float* t = target.data();
  float* g = r.grad.data();
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(p[i]) - static_cast<double>(t[i]);
    sum += d * d;
    g[i] = static_cast<float>(scale * d);
  }
  r.value = sum / static_cast<double>(n);
  return r;
}

namespace {

void check_logits(const Tensor& logits) {
  if (logits.rank() != 2)
    throw ShapeError("cross_entropy_loss: logits " + logits.shape().str() + ", expected [N,C]");
  if (logits.dim(0) == 0 || logits.dim(1) == 0)
    throw ValueError("cross_entropy_loss: empty logits " + logits.shape().str());
}

/// Per row: log-sum-exp shifted by the row maximum, so exp never overflows.
/// `target(row, c)` gives the row's target weight of class c and `tsum(row)`
/// their sum; loss_row = Σ_c t_c (lse − x_c), grad = (softmax·Σt − t) / N.
template <class Target, class TargetSum>
LossResult softmax_cross_entropy(const Tensor& logits, Target target, TargetSum tsum) {
  const int64_t n = logits.dim(0), c = logits.dim(1);
  const double inv_n = 1.0 / static_cast<double>(n);
  LossResult r;
  r.grad.resize(logits.shape());
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float* x = logits.data() + i * c;
    float* g = r.grad.data() + i * c;
    const double m = *std::max_element(x, x + c);
    double s = 0.0;
    for (int64_t k = 0; k < c; ++k) s += std::exp(static_cast<double>(x[k]) - m);
    const double lse = m + std::log(s);
    const double ts = tsum(i);
    double row = 0.0;
    for (int64_t k = 0; k < c; ++k) {
      const double t = target(i, k);
      if (t != 0.0) row += t * (lse - static_cast<double>(x[k]));
      const double p = std::exp(static_cast<double>(x[k]) - lse);
      g[k] = static_cast<float>((p * ts - t) * inv_n);
    }
    total += row;
  }
  r.value = total * inv_n;
  return r;
}

LossResult cross_entropy_indices(const Tensor& logits, const std::vector<int64_t>& labels) {
  const int64_t c = logits.dim(1);
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= c)
      throw ValueError("cross_entropy_loss: label " + std::to_string(labels[i]) + " at row " +
                       std::to_string(i) + " is out of range [0," + std::to_string(c) + ")");
  return softmax_cross_entropy(
      logits, [&](int64_t i, int64_t k) { return labels[static_cast<size_t>(i)] == k ? 1.0 : 0.0; },
      [](int64_t) { return 1.0; });
}

}  // namespace

LossResult cross_entropy_loss(const Tensor& logits, const std::vector<int64_t>& labels) {
  check_logits(logits);
  if (static_cast<int64_t>(labels.size()) != logits.dim(0))
    throw ShapeError("cross_entropy_loss: " + std::to_string(labels.size()) +
                     " labels for logits " + logits.shape().str() + ", expected " +
                     std::to_string(logits.dim(0)));
  return cross_entropy_indices(logits, labels);
}

LossResult cross_entropy_loss(const Tensor& logits, const Tensor& labels) {
  check_logits(logits);
  const int64_t n = logits.dim(0), c = logits.dim(1);
  if (labels.rank() == 2) {
    if (labels.shape() != logits.shape())
      throw ShapeError("cross_entropy_loss: probability targets " + labels.shape().str() +
                       " for logits " + logits.shape().str() + ", expected " +
                       logits.shape().str() + " (or class indices [" + std::to_string(n) + "])");
    for (int64_t i = 0; i < labels.numel(); ++i)
      if (!std::isfinite(labels[i]))
        throw ValueError("cross_entropy_loss: probability target at row " + std::to_string(i / c) +
                         " is not finite");
    return softmax_cross_entropy(
        logits, [&](int64_t i, int64_t k) { return static_cast<double>(labels[i * c + k]); },
        [&](int64_t i) {
          double s = 0.0;
          for (int64_t k = 0; k < c; ++k) s += labels[i * c + k];
          return s;
        });
  }
  if (labels.rank() != 1 || labels.dim(0) != n)
    throw ShapeError("cross_entropy_loss: labels " + labels.shape().str() + " for logits " +
                     logits.shape().str() + ", expected [" + std::to_string(n) +
                     "] class indices (or " + logits.shape().str() + " probabilities)");
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float v = labels[i];
    if (!std::isfinite(v) || v != std::floor(v))
      throw ValueError("cross_entropy_loss: label " + std::to_string(v) + " at row " +
                       std::to_string(i) + " is not an integer class index");
    if (v < 0.0f || v >= static_cast<float>(c))
      throw ValueError("cross_entropy_loss: label " + std::to_string(static_cast<int64_t>(v)) +
                       " at row " + std::to_string(i) + " is out of range [0," + std::to_string(c) +
                       ")");
    idx[static_cast<size_t>(i)] = static_cast<int64_t>(v);
  }
  return cross_entropy_indices(logits, idx);
}

LossFn loss_function(LossKind kind) {
  switch (kind) {
    case LossKind::MSE:
      return [](const Tensor& p, const Tensor& t) { return mse_loss(p, t); };
    case LossKind::CrossEntropy:
      return [](const Tensor& p, const Tensor& t) { return cross_entropy_loss(p, t); };
  }
  throw ValueError("loss_function: unknown LossKind " + std::to_string(static_cast<int>(kind)));
}

const char* loss_name(LossKind kind) {
  switch (kind) {
    case LossKind::MSE:
      return "mse";
    case LossKind::CrossEntropy:
      return "cross_entropy";
  }
  return "unknown";
}

}  // namespace trim::train
