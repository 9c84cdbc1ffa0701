#include "runner.hpp"

#include <algorithm>
#include <cmath>

#include "trim/core/check.hpp"
#include "trim/core/error.hpp"
#include "trim/core/memory.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/text.hpp"

namespace trim::detail {

std::vector<double> path_gradient_sums(ModelRunner& run, const float* x, const float* b, int64_t width,
                                       const std::vector<double>& alphas, const std::vector<double>& weights) {
  const int64_t N = run.batch(), T = run.n_targets(), K = static_cast<int64_t>(alphas.size());
  std::vector<double> sum(static_cast<size_t>(T * N * width), 0.0);
  run.run(
      N * K,
      [&](int64_t m, float* dst) {
        const int64_t e = m / K;
        const float a = static_cast<float>(alphas[static_cast<size_t>(m % K)]);
        const float* xe = x + e * width;
        const float* be = b + e * width;
        for (int64_t i = 0; i < width; ++i) dst[i] = be[i] + a * (xe[i] - be[i]);
        return e;
      },
      [&](int64_t first, int64_t count, const Tensor&, const Tensor* g) {
        by_elements(T * count, width, [&](int64_t i0, int64_t i1) {
          for (int64_t t = 0; t < T; ++t)
            for (int64_t r = 0; r < count; ++r) {
              const int64_t m = first + r, e = m / K;
              const double w = weights[static_cast<size_t>(m % K)];
              const float* src = g->data() + (t * count + r) * width;
              double* acc = sum.data() + (t * N + e) * width;
              for (int64_t i = i0; i < i1; ++i) acc[i] += w * src[i];
            }
        });
      },
      true, ModelRunner::RowMaking::parallel);
  return sum;
}

void by_elements(int64_t rows, int64_t width, const std::function<void(int64_t, int64_t)>& body) {
  // Below about a quarter of a million values a pass takes tens of
  // microseconds: not worth waking the pool (LeNet's rows).
  if (rows * width < (int64_t{1} << 18)) body(0, width);
  else parallel_for(width, body);
}

Tensor path_delta(const ModelRunner& run, const Tensor& attr, const Tensor& f) {
  const int64_t N = run.batch(), P = run.example_numel(), T = run.n_targets(), O = run.n_outputs();
  Tensor delta({T, N});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < N; ++e) {
      double s = 0.0;
      for (int64_t i = 0; i < P; ++i) s += attr[(t * N + e) * P + i];
      const int64_t k = run.targets()[static_cast<size_t>(t)];
      delta[t * N + e] = static_cast<float>(s - (double(f[e * O + k]) - double(f[(N + e) * O + k])));
    }
  return delta;
}

Tensor repeat_rows(const Tensor& t, int64_t times) {
  const int64_t n = t.dim(0), per = n > 0 ? t.numel() / n : 0;
  Shape s = t.shape();
  s[0] = n * times;
  Tensor r(s);
  for (int64_t e = 0; e < n; ++e)
    for (int64_t k = 0; k < times; ++k)
      std::copy(t.begin() + e * per, t.begin() + (e + 1) * per, r.begin() + (e * times + k) * per);
  return r;
}

namespace {

bool fits(const Shape& graph_shape, const Shape& t) {
  if (graph_shape.rank() != t.rank() || t.rank() == 0) return false;
  for (int a = 1; a < t.rank(); ++a)
    if (graph_shape[a] != t[a]) return false;
  return graph_shape[0] == Shape::free || graph_shape[0] == t[0];
}

}  // namespace

ModelRunner::ModelRunner(const Graph& model, const Tensor& x, const AttributionOptions& options, std::string method)
    : model_(model), x_(x), extra_inputs_(options.extra_inputs), grouping_(options.grouping),
      progress_(options.progress),
      method_(std::move(method)) {
  if (!model.finalized()) throw Error(method_ + ": the model graph is not finalized");
  if (model.outputs().size() != 1)
    throw ValueError(method_ + ": the model must have exactly one output, it has " +
                     std::to_string(model.outputs().size()));
  if (model.inputs().empty()) throw ValueError(method_ + ": the model has no input");
  const Shape& in = model.shape(model.inputs()[0]);
  if (!fits(in, x.shape()))
    throw ShapeError(method_ + ": input " + x.shape().str() + " does not fit the model's input '" +
                     model.node(model.inputs()[0]).name + "' " + in.str());
  if (in[0] != Shape::free)
    throw ShapeError(method_ + ": the model's input '" + model.node(model.inputs()[0]).name + "' " + in.str() +
                     " has no free batch dimension; attribution batches perturbed inputs through it");
  batch_ = x.dim(0);
  if (batch_ < 1) throw ShapeError(method_ + ": input " + x.shape().str() + " has no examples");
  for (int a = 1; a < x.rank(); ++a) example_.push_back(x.shape()[a]);
  example_numel_ = example_.numel();
  if (options.extra_inputs.size() + 1 != model.inputs().size())
    throw ValueError(method_ + ": the model has " + std::to_string(model.inputs().size()) + " inputs, " +
                     std::to_string(options.extra_inputs.size()) + " extra inputs given (expected " +
                     std::to_string(model.inputs().size() - 1) + ")");
  for (size_t k = 0; k < options.extra_inputs.size(); ++k) {
    const Tensor& e = options.extra_inputs[k];
    const NodeId id = model.inputs()[k + 1];
    if (!fits(model.shape(id), e.shape()) || e.dim(0) != batch_)
      throw ShapeError(method_ + ": extra input '" + model.node(id).name + "' has shape " + e.shape().str() +
                       ", expected " + model.shape(id).str() + " with batch " + std::to_string(batch_));
  }
  const Shape& out = model.shape(model.outputs()[0]);
  n_outputs_ = 1;
  for (int a = 1; a < out.rank(); ++a) n_outputs_ *= out[a];
  if (out.rank() == 0 || out[0] != Shape::free)
    throw ShapeError(method_ + ": the model's output " + out.str() + " has no batch dimension");
  targets_ = options.targets.resolve(n_outputs_);
  if (options.max_batch < 1)
    throw ValueError(method_ + ": max_batch must be >= 1, got " + std::to_string(options.max_batch));
  max_batch_ = options.max_batch;
  if (options.max_memory < 0)
    throw ValueError(method_ + ": max_memory must be >= 0 bytes (0: no budget), got " + std::to_string(options.max_memory));
  max_memory_ = options.max_memory;
  // Idle blocks kept from earlier calls are not part of this run's budget,
  // and the cache keeps idle and live memory within what the run has live.
  if (max_memory_ > 0) {
    strict_cache_.emplace();
    no_kept_layouts_.emplace();
  }
  if (options.grouping && options.grouping->coefficient_shape != example_)
    throw ShapeError(method_ + ": the grouping is for shape " + options.grouping->coefficient_shape.str() +
                     ", the model's input examples have shape " + example_.str());
  check_finite(x, method_, "input");
}

int64_t ModelRunner::fixed_bytes() const {
  // The weights, the runner's copies of x and the extra inputs, the
  // attributions [T, N, ...] every method returns, and what the method holds.
  int64_t floats = parameter_floats(model_) + x_.numel() + n_targets() * x_.numel() + held_floats_;
  for (const Tensor& e : extra_inputs_) floats += e.numel();
  return floats * static_cast<int64_t>(sizeof(float));
}

int64_t ModelRunner::batch_bytes(Pass pass, int64_t rows) const {
  int64_t extras = 0;  // the rows' extra inputs (DeepLIFT: for x and baseline)
  for (const Tensor& e : extra_inputs_) extras += rows * (e.numel() / e.dim(0));
  const int64_t P = rows * example_numel_, K = rows * n_outputs_;
  // The rows and extras are held twice besides the graph's input buffers
  // (the chunk and the argument vector forward() copies from); the outputs
  // twice (the graph's and the copy returned); the ops' temporaries on top.
  int64_t floats = planned_scratch_floats(model_, rows);
  switch (pass) {
    case Pass::outputs:
      floats += planned_floats(model_, rows, Keep::input_gradients, false) + 2 * (P + extras) + 2 * K;
      break;
    case Pass::gradients:  // and one cotangent, the input gradient returned, the gradients of every target
      floats += planned_floats(model_, rows, Keep::input_gradients, true) + 2 * (P + extras) + 3 * K + P +
                n_targets() * P;
      break;
    case Pass::deeplift:  // one forward of the x and baseline rows, the multipliers of the x rows
      floats += planned_scratch_floats(model_, 2 * rows) - planned_scratch_floats(model_, rows) +
                planned_floats(model_, 2 * rows, Keep::deeplift, false) +
                planned_floats(model_, rows, Keep::deeplift, true) -
                planned_floats(model_, rows, Keep::deeplift, false) + 2 * (P + extras);
      break;
  }
  return fixed_bytes() + floats * static_cast<int64_t>(sizeof(float));
}

namespace {

/// The most rows (up to 2^24) whose `bytes(rows)` fit `budget`, for bytes
/// growing with the rows; 0 when not even one row fits.
int64_t most_rows(int64_t budget, const std::function<int64_t(int64_t)>& bytes) {
  if (bytes(1) > budget) return 0;
  // Double, then bisect (the bytes grow with the rows).
  constexpr int64_t cap = int64_t{1} << 24;
  int64_t lo = 1, hi = 2;
  while (hi <= cap && bytes(hi) <= budget) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (bytes(mid) <= budget ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

int64_t ModelRunner::max_batch(Pass pass) const {
  if (max_memory_ == 0) return pass == Pass::deeplift ? std::max<int64_t>(1, max_batch_ / 2) : max_batch_;
  int64_t& fitted = fitted_[static_cast<int>(pass)];
  if (fitted > 0) return fitted;
  const int64_t one = batch_bytes(pass, 1);
  if (one > max_memory_)
    throw ValueError(method_ + ": max_memory " + bytes_text(max_memory_) +
                     " is too small for one row through the model: the run needs at least " + bytes_text(one) + " (" +
                     bytes_text(fixed_bytes()) + " for the model's weights and the method's inputs and results, " +
                     bytes_text(one - fixed_bytes()) + " for a batch of one row)");
  return fitted = most_rows(max_memory_, [&](int64_t rows) { return batch_bytes(pass, rows); });
}

std::vector<Tensor> ModelRunner::gather_extras(const std::vector<int64_t>& example_of_row) const {
  std::vector<Tensor> out;
  const int64_t m = static_cast<int64_t>(example_of_row.size());
  for (const Tensor& e : extra_inputs_) {
    const int64_t per = e.numel() / e.dim(0);
    Shape s = e.shape();
    s[0] = m;
    Tensor t(s);
    for (int64_t r = 0; r < m; ++r) {
      const int64_t ex = example_of_row[static_cast<size_t>(r)];
      std::copy(e.begin() + ex * per, e.begin() + (ex + 1) * per, t.begin() + r * per);
    }
    out.push_back(std::move(t));
  }
  return out;
}

Tensor ModelRunner::outputs(const Tensor& inputs, const std::vector<int64_t>& example_of_row) {
  const int64_t M = inputs.dim(0);
  if (max_memory_ > 0 && M > max_batch(Pass::outputs)) {  // under a budget: in batches that fit
    const int64_t step = max_batch(Pass::outputs);
    Tensor y({M, n_outputs_});
    for (int64_t first = 0; first < M; first += step) {
      const int64_t count = std::min(step, M - first);
      Tensor part(prepend({count}, example_));
      std::copy(inputs.begin() + first * example_numel_, inputs.begin() + (first + count) * example_numel_, part.begin());
      const Tensor py = outputs(part, std::vector<int64_t>(example_of_row.begin() + first,
                                                           example_of_row.begin() + first + count));
      std::copy(py.begin(), py.end(), y.begin() + first * n_outputs_);
    }
    return y;
  }
  std::vector<Tensor> in{inputs};
  return forward_rows(in, example_of_row);
}

Tensor ModelRunner::forward_rows(std::vector<Tensor>& in, const std::vector<int64_t>& example_of_row) {
  for (Tensor& e : gather_extras(example_of_row)) in.push_back(std::move(e));
  // The methods read only the output and input gradients: the activations
  // the backward pass does not read need not all be held at once.
  forward(model_, ws_, in, Keep::input_gradients);
  Tensor y = ws_.value(model_.outputs()[0]);
  return std::move(y).reshape({in[0].dim(0), n_outputs_});
}

void ModelRunner::advance(int64_t rows) {
  done_ += rows;
  if (progress_ && !progress_(done_, std::max(planned_, done_)))
    throw Cancelled(method_ + ": cancelled after " + std::to_string(done_) + " of " +
                    std::to_string(std::max(planned_, done_)) + " units of work");
}

ModelRunner::TakeRows ModelRunner::store_target_outputs(std::vector<double>& f) const {
  return [this, &f](int64_t first, int64_t count, const Tensor& out, const Tensor*) {
    const int64_t T = n_targets(), O = n_outputs_;
    for (int64_t r = 0; r < count; ++r)
      for (int64_t t = 0; t < T; ++t)
        f[static_cast<size_t>((first + r) * T + t)] = out[r * O + targets_[static_cast<size_t>(t)]];
  };
}

void ModelRunner::run(int64_t rows, const MakeRow& make, const TakeRows& take, bool with_gradients,
                      RowMaking making) {
  planned_ = std::max(planned_, done_ + rows);
  const int64_t T = n_targets();
  Tensor chunk, grads;
  std::vector<int64_t> example_of_row;
  const int64_t step = max_batch(with_gradients ? Pass::gradients : Pass::outputs);
  for (int64_t first = 0; first < rows; first += step) {
    const int64_t count = std::min(step, rows - first);
    chunk.resize(prepend({count}, example_));
    example_of_row.resize(static_cast<size_t>(count));
    const auto make_row = [&](int64_t r) {
      example_of_row[static_cast<size_t>(r)] = make(first + r, chunk.data() + r * example_numel_);
    };
    if (making == RowMaking::parallel) parallel_tasks(count, make_row);
    else for (int64_t r = 0; r < count; ++r) make_row(r);
    for (int64_t ex : example_of_row)
      if (ex < 0 || ex >= batch_) throw Error(method_ + ": internal error, row of example " + std::to_string(ex));
    // The chunk goes to the forward pass and comes back (no copy of the rows).
    std::vector<Tensor> in;
    in.push_back(std::move(chunk));
    const Tensor out = forward_rows(in, example_of_row);
    chunk = std::move(in[0]);
    if (!with_gradients) {
      take(first, count, out, nullptr);
      advance(count);
      continue;
    }
    if (T > 1) grads.resize(prepend({T, count}, example_));
    const Shape out_shape = ws_.value(model_.outputs()[0]).shape();
    Tensor cot(out_shape);
    for (int64_t t = 0; t < T; ++t) {
      cot.set_zero();
      const int64_t k = targets_[static_cast<size_t>(t)];
      for (int64_t r = 0; r < count; ++r) cot[r * n_outputs_ + k] = 1.0f;
      Gradients g = backward(model_, ws_, {cot}, false, true);
      if (T == 1) grads = std::move(g.inputs[0]).reshape(prepend({1, count}, example_));  // no copy for one target
      else std::copy(g.inputs[0].begin(), g.inputs[0].end(), grads.begin() + t * count * example_numel_);
    }
    take(first, count, out, &grads);
    advance(count);
  }
  // Under a budget, a later outputs pass must not find the gradient buffers
  // of this one still allocated next to its own (larger) batches.
  if (with_gradients && max_memory_ > 0) ws_ = Workspace();
}

Attribution ModelRunner::finish(Tensor attributions, Tensor delta) const {
  Attribution a;
  a.targets = targets_;
  if (grouping_) a.group_scores = group_sums(attributions, *grouping_);
  a.attributions = std::move(attributions);
  a.delta = std::move(delta);
  return a;
}

}  // namespace trim::detail
