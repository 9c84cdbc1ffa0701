#include "trim/train/optimizer.hpp"

#include <cmath>

#include "trim/core/error.hpp"

namespace trim::train {

namespace {
void require_non_negative(const char* who, const char* what, double v) {
  if (!(v >= 0.0) || !std::isfinite(v))
    throw ValueError(std::string(who) + ": " + what + " = " + std::to_string(v) +
                     ", expected a finite value >= 0");
}
}  // namespace

// ---- Optimizer --------------------------------------------------------------------

Optimizer::Optimizer(double lr) : lr_(lr) { require_non_negative("optimizer", "lr", lr); }

void Optimizer::set_lr(double lr) {
  require_non_negative(name().c_str(), "lr", lr);
  lr_ = lr;
}

void Optimizer::reset() {
  state_.clear();
  steps_ = 0;
}

void Optimizer::step(Graph& graph, const Gradients& grads) {
  std::vector<Parameter>& params = graph.parameters();
  const std::string who = name() + " step";
  if (grads.params.size() != params.size())
    throw ValueError(who + ": " + std::to_string(grads.params.size()) +
                     " parameter gradients for a graph with " + std::to_string(params.size()) +
                     " parameters (use backward(..., with_params = true))");
  if (!state_.empty() && state_.size() != params.size())
    throw ValueError(who + ": the graph has " + std::to_string(params.size()) +
                     " parameters, this optimiser's state was built for " +
                     std::to_string(state_.size()) + " (one optimiser per graph, or reset())");
  for (size_t i = 0; i < params.size(); ++i) {
    const Parameter& p = params[i];
    if (!p.trainable) continue;
    const Tensor& g = grads.params[i];
    if (g.shape() != p.value.shape())
      throw ShapeError(who + ": gradient of parameter '" + p.name + "' has shape " +
                       (g.empty() ? std::string("(none)") : g.shape().str()) + ", expected " +
                       p.value.shape().str() +
                       (g.empty() ? " (use backward(..., with_params = true))" : ""));
    if (!state_.empty())
      for (const Tensor& b : state_[i].buffers)
        if (b.shape() != p.value.shape())
          throw ShapeError(who + ": parameter '" + p.name + "' has shape " + p.value.shape().str() +
                           ", its optimiser state " + b.shape().str() +
                           " (reset() after reshaping)");
  }
  state_.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].trainable) update(params[i].value, grads.params[i], state_[i]);
  ++steps_;
}

// ---- SGD --------------------------------------------------------------------------

SGD::SGD(double lr, double momentum, double weight_decay, bool nesterov, double dampening)
    : Optimizer(lr),
      momentum_(momentum),
      weight_decay_(weight_decay),
      nesterov_(nesterov),
      dampening_(dampening) {
  require_non_negative("sgd", "momentum", momentum);
  require_non_negative("sgd", "weight_decay", weight_decay);
  if (!std::isfinite(dampening)) throw ValueError("sgd: dampening must be finite");
  if (nesterov && (momentum <= 0.0 || dampening != 0.0))
    throw ValueError("sgd: nesterov momentum requires momentum > 0 and dampening = 0 (momentum = " +
                     std::to_string(momentum) + ", dampening = " + std::to_string(dampening) + ")");
}

void SGD::update(Tensor& param, const Tensor& grad, ParamState& state) {
  auto p = param.as_vector().array();
  const auto g = grad.as_vector().array();
  const float rate = static_cast<float>(lr());
  ++state.step;
  if (momentum_ == 0.0 && weight_decay_ == 0.0) {
    p -= rate * g;
    return;
  }
  // d = grad + wd·p (torch adds the decay before the momentum).
  Eigen::ArrayXf d = g;
  if (weight_decay_ != 0.0) d += static_cast<float>(weight_decay_) * p;
  if (momentum_ != 0.0) {
    const float mu = static_cast<float>(momentum_);
    if (state.buffers.empty()) {
      state.buffers.emplace_back(param.shape());
      state.buffers[0].as_vector().array() = d;
    } else {
      auto b = state.buffers[0].as_vector().array();
      b = mu * b + static_cast<float>(1.0 - dampening_) * d;
    }
    const auto b = state.buffers[0].as_vector().array();
    if (nesterov_)
      d += mu * b;
    else
      d = b;
  }
  p -= rate * d;
}

// ---- Adam -------------------------------------------------------------------------

Adam::Adam(double lr, double beta1, double beta2, double eps, double weight_decay)
    : Optimizer(lr), beta1_(beta1), beta2_(beta2), eps_(eps), weight_decay_(weight_decay) {
  for (const auto& [label, b] : {std::pair<const char*, double>{"beta1", beta1}, {"beta2", beta2}})
    if (!(b >= 0.0 && b < 1.0))
      throw ValueError(std::string("adam: ") + label + " = " + std::to_string(b) +
                       ", expected a value in [0, 1)");
  require_non_negative("adam", "eps", eps);
  require_non_negative("adam", "weight_decay", weight_decay);
}

void Adam::update(Tensor& param, const Tensor& grad, ParamState& state) {
  if (state.buffers.empty()) {
    state.buffers.emplace_back(param.shape());  // exp_avg
    state.buffers.emplace_back(param.shape());  // exp_avg_sq
  }
  ++state.step;
  auto p = param.as_vector().array();
  auto m = state.buffers[0].as_vector().array();
  auto v = state.buffers[1].as_vector().array();
  const auto g0 = grad.as_vector().array();
  const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
  const float c1 = static_cast<float>(1.0 - beta1_), c2 = static_cast<float>(1.0 - beta2_);
  const float wd = static_cast<float>(weight_decay_);
  const double t = static_cast<double>(state.step);
  const double bc1 = 1.0 - std::pow(beta1_, t);
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(beta2_, t));
  const float step_size = static_cast<float>(lr() / bc1);
  const float eps = static_cast<float>(eps_);
  if (weight_decay_ != 0.0) {
    const Eigen::ArrayXf g = g0 + wd * p;
    m = b1 * m + c1 * g;
    v = b2 * v + c2 * g * g;
  } else {
    m = b1 * m + c1 * g0;
    v = b2 * v + c2 * g0 * g0;
  }
  const float bc2s = static_cast<float>(bc2_sqrt);
  p -= step_size * (m / (v.sqrt() / bc2s + eps));
}

}  // namespace trim::train
