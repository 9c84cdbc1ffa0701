#pragma once
/// \file
/// First-order optimisers with exactly PyTorch's update rules
/// (torch.optim.SGD and torch.optim.Adam, non-amsgrad), so hyper-parameters
/// carry over from Python unchanged.
///
/// An optimiser updates the parameter *values* of a graph in place from one
/// `Gradients` (as returned by `trim::backward(..., with_params = true)`,
/// whose `params` are aligned with `graph.parameters()`). Buffers and
/// constants (`Parameter::trainable == false`) are never touched. Per-parameter
/// state (momentum, moments) is created lazily at a parameter's first step
/// and keyed by parameter index, so one optimiser belongs to one graph.

#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/graph.hpp"

namespace trim::train {

/// Optimiser state of one parameter: its buffers (momentum, moments) and
/// how many updates it has received.
struct ParamState {
  std::vector<Tensor> buffers;
  int64_t step = 0;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  /// Applies one update to every trainable parameter of `graph`.
  /// Throws ValueError when `grads.params` does not have one entry per
  /// parameter, and ShapeError naming the parameter when a trainable
  /// parameter's gradient is missing (backward without `with_params`) or
  /// shaped differently. Validation happens before any parameter changes.
  void step(Graph& graph, const Gradients& grads);

  double lr() const { return lr_; }
  /// Changes the learning rate for later steps (schedules); lr ≥ 0.
  void set_lr(double lr);
  /// Number of `step` calls so far.
  int64_t steps() const { return steps_; }
  /// Forgets all state (as a freshly constructed optimiser).
  void reset();

  /// "sgd", "adam".
  virtual std::string name() const = 0;

 protected:
  explicit Optimizer(double lr);

  /// Updates one parameter in place from its gradient. `state` is the
  /// parameter's own slot (no buffers, step 0 before its first update); the
  /// implementation increments `state.step`.
  virtual void update(Tensor& param, const Tensor& grad, ParamState& state) = 0;

 private:
  double lr_;
  int64_t steps_ = 0;
  std::vector<ParamState> state_;
};

/// torch.optim.SGD: with g = grad + weight_decay·p,
/// b = g at the first step, else momentum·b + (1 − dampening)·g;
/// p −= lr · (nesterov ? g + momentum·b : b)  (b = g when momentum = 0).
class SGD : public Optimizer {
 public:
  /// Throws ValueError for negative lr / momentum / weight_decay, and for
  /// nesterov without momentum or with dampening (as torch does).
  explicit SGD(double lr, double momentum = 0.0, double weight_decay = 0.0, bool nesterov = false,
               double dampening = 0.0);
  std::string name() const override { return "sgd"; }

  double momentum() const { return momentum_; }
  double weight_decay() const { return weight_decay_; }
  bool nesterov() const { return nesterov_; }
  double dampening() const { return dampening_; }

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;

 private:
  double momentum_, weight_decay_;
  bool nesterov_;
  double dampening_;
};

/// torch.optim.Adam (amsgrad = false): with g = grad + weight_decay·p (L2,
/// not AdamW's decoupled decay), m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g²,
/// p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps), t counted per parameter.
class Adam : public Optimizer {
 public:
  /// Throws ValueError for lr < 0, betas outside [0, 1), eps < 0 or
  /// weight_decay < 0.
  explicit Adam(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                double weight_decay = 0.0);
  std::string name() const override { return "adam"; }

  double beta1() const { return beta1_; }
  double beta2() const { return beta2_; }
  double eps() const { return eps_; }
  double weight_decay() const { return weight_decay_; }

 protected:
  void update(Tensor& param, const Tensor& grad, ParamState& state) override;

 private:
  double beta1_, beta2_, eps_, weight_decay_;
};

}  // namespace trim::train
