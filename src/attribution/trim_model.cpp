#include "trim/attribution/trim_model.hpp"

#include "trim/core/error.hpp"
#include "trim/graph/compose.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/nn.hpp"

namespace trim {

TrimModel::TrimModel(const Graph& model, std::shared_ptr<const Transform> transform, const TrimOptions& options)
    : TrimModel(model, nullptr, std::move(transform), options) {}

std::unique_ptr<TrimModel> TrimModel::sharing_weights(Graph& model, std::shared_ptr<const Transform> transform,
                                                      const TrimOptions& options) {
  std::unique_ptr<TrimModel> tm(new TrimModel(model, &model, std::move(transform), options));
  for (Parameter& p : model.parameters()) {
    const Tensor& held = tm->graph_.parameter(p.name).value;
    if (held.numel() > 0) p.value = Tensor::borrow(held.data(), held.shape());
  }
  return tm;
}

TrimModel::TrimModel(const Graph& model, Graph* take_from, std::shared_ptr<const Transform> transform,
                     const TrimOptions& options)
    : transform_(std::move(transform)) {
  if (!transform_) throw ValueError("TrimModel: no transform given");
  if (!model.finalized()) throw Error("TrimModel: the model graph is not finalized");
  if (model.inputs().size() != 1 || model.outputs().size() != 1)
    throw ValueError("TrimModel: the model must have one input and one output, it has " +
                     std::to_string(model.inputs().size()) + " and " + std::to_string(model.outputs().size()));
  residual_ = options.residual == TrimOptions::Residual::On ||
              (options.residual == TrimOptions::Residual::Auto && !transform_->exact());
  const std::string where = "TrimModel(" + transform_->spec() + ")";

  NodeId s = graph_.input("coefficients", prepend({Shape::free}, transform_->coefficient_shape()));
  NodeId x = add_inverse(graph_, s, *transform_, "trim.inverse");
  if (residual_) {
    const NodeId r = graph_.input("residual", prepend({Shape::free}, transform_->input_shape()));
    x = nn::add(graph_, x, r, "trim.plus_residual");
  }
  if (options.mean.numel() > 0) {
    Tensor neg = options.mean;
    neg.as_vector() *= -1.0f;
    x = nn::add_constant(graph_, x, neg, "trim.minus_mean");
  }
  if (options.std.numel() > 0) {
    Tensor inv = options.std;
    for (float& v : inv) {
      if (!(v > 0.0f)) throw ValueError(where + ": normalisation std must be positive, got " + std::to_string(v));
      v = 1.0f / v;
    }
    x = nn::mul_constant(graph_, x, inv, "trim.over_std");
  }
  if (options.reshape.rank() > 0) x = nn::reshape(graph_, x, options.reshape, "trim.reshape");
  const Shape& want = model.shape(model.inputs()[0]);
  const Shape& got = graph_.shape(x);
  if (want != got)
    throw ShapeError(where + ": the inverse transform gives " + got.str() + " but the model's input '" +
                     model.node(model.inputs()[0]).name + "' is " + want.str() +
                     (options.reshape.rank() > 0 ? "" : " (set TrimOptions::reshape?)"));
  graph_.set_outputs(take_from ? append_graph_taking_weights(graph_, *take_from, {x}) : append_graph(graph_, model, {x}));
  graph_.finalize();
}

Tensor TrimModel::coefficients(const Tensor& x) const { return transform_->forward(x); }

Tensor TrimModel::residual(const Tensor& x) const {
  Tensor r = x;
  if (!transform_->exact()) r.as_vector() -= transform_->inverse(transform_->forward(x)).as_vector();
  else r.set_zero();
  return r;
}

TrimModel::Inputs TrimModel::inputs(const Tensor& x, const std::string& where) const {
  Inputs in;
  try {
    in.coefficients = transform_->forward(x);
    if (residual_) {
      in.residual = x;
      if (transform_->exact()) in.residual.set_zero();
      else in.residual.as_vector() -= transform_->inverse(in.coefficients).as_vector();
    }
  } catch (const Error& e) {
    throw ValueError(where + ": " + e.what());
  }
  return in;
}

AttributionOptions TrimModel::options_for(const Tensor& x, AttributionOptions base) const {
  base.extra_inputs.clear();
  if (residual_) base.extra_inputs.push_back(residual(x));
  return base;
}

Tensor TrimModel::forward(const Tensor& s, const Tensor* r) const {
  if (residual_ && !r) throw ValueError("TrimModel::forward: this model has a residual input; pass r");
  if (!residual_ && r) throw ValueError("TrimModel::forward: this model has no residual input");
  Workspace ws;
  std::vector<Tensor> in{s};
  if (r) in.push_back(*r);
  trim::forward(graph_, ws, in);
  return ws.value(graph_.outputs()[0]);
}

}  // namespace trim
