#include "trim/train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "trim/core/error.hpp"
#include "trim/core/rng.hpp"
#include "trim/graph/executor.hpp"

namespace trim::train {

namespace {

void require_single_io(const Graph& g, const char* who) {
  if (!g.finalized())
    throw ValueError(std::string(who) + ": the graph is not finalized (call finalize())");
  if (g.inputs().size() != 1 || g.outputs().size() != 1)
    throw ValueError(
        std::string(who) + ": needs a graph with one input and one output, this one has " +
        std::to_string(g.inputs().size()) + " inputs and " + std::to_string(g.outputs().size()) +
        " outputs (write a custom loop with forward/backward/Optimizer::step)");
}

void require_rows(const Tensor& t, const char* who, const char* what) {
  if (t.rank() < 1)
    throw ShapeError(std::string(who) + ": " + what + " " + t.shape().str() +
                     ", expected rank >= 1 with examples along axis 0");
}

void require_batch_size(int64_t batch_size, const char* who) {
  if (batch_size <= 0)
    throw ValueError(std::string(who) + ": batch_size = " + std::to_string(batch_size) +
                     ", expected > 0");
}

/// Elements per row of the leading axis.
int64_t row_size(const Tensor& t) { return t.dim(0) == 0 ? 0 : t.numel() / t.dim(0); }

void gather(const Tensor& src, const int64_t* index, int64_t n, Tensor& dst) {
  const int64_t row = row_size(src);
  dst.resize(with_rows(src.shape(), n));
  const size_t bytes = static_cast<size_t>(row) * sizeof(float);
  for (int64_t i = 0; i < n; ++i)
    if (bytes) std::memcpy(dst.data() + i * row, src.data() + index[i] * row, bytes);
}

void copy_rows(const Tensor& src, int64_t start, int64_t n, Tensor& dst) {
  const int64_t row = row_size(src);
  dst.resize(with_rows(src.shape(), n));
  if (row > 0 && n > 0)
    std::memcpy(dst.data(), src.data() + start * row, static_cast<size_t>(row * n) * sizeof(float));
}

/// Class indices from integer-valued float labels, checked against `classes`.
std::vector<int64_t> label_indices(const Tensor& labels, int64_t n, int64_t classes,
                                   const char* who) {
  if (labels.rank() != 1 || labels.dim(0) != n)
    throw ShapeError(std::string(who) + ": labels " + labels.shape().str() + ", expected [" +
                     std::to_string(n) + "]");
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const float v = labels[i];
    if (!std::isfinite(v) || v != std::floor(v) || v < 0.0f || v >= static_cast<float>(classes))
      throw ValueError(std::string(who) + ": label " + std::to_string(v) + " at row " +
                       std::to_string(i) + " is not a class index in [0," +
                       std::to_string(classes) + ")");
    idx[static_cast<size_t>(i)] = static_cast<int64_t>(v);
  }
  return idx;
}

}  // namespace

void gather_rows(const Tensor& src, const std::vector<int64_t>& index, Tensor& dst) {
  require_rows(src, "gather_rows", "source");
  const int64_t n = src.dim(0);
  for (size_t i = 0; i < index.size(); ++i)
    if (index[i] < 0 || index[i] >= n)
      throw ValueError("gather_rows: index " + std::to_string(index[i]) + " at position " +
                       std::to_string(i) + " is out of range [0," + std::to_string(n) + ")");
  gather(src, index.data(), static_cast<int64_t>(index.size()), dst);
}

std::vector<double> History::losses() const {
  std::vector<double> out;
  out.reserve(epochs.size());
  for (const EpochReport& e : epochs) out.push_back(e.loss);
  return out;
}

double History::final_loss() const {
  return epochs.empty() ? std::numeric_limits<double>::quiet_NaN() : epochs.back().loss;
}

History fit(Graph& graph, const Tensor& inputs, const Tensor& targets, const LossFn& loss,
            Optimizer& optimizer, const FitOptions& options) {
  require_single_io(graph, "fit");
  require_rows(inputs, "fit", "inputs");
  require_rows(targets, "fit", "targets");
  require_batch_size(options.batch_size, "fit");
  if (!loss) throw ValueError("fit: empty loss function");
  if (options.epochs < 0)
    throw ValueError("fit: epochs = " + std::to_string(options.epochs) + ", expected >= 0");
  const int64_t n = inputs.dim(0);
  if (targets.dim(0) != n)
    throw ShapeError("fit: inputs " + inputs.shape().str() + " hold " + std::to_string(n) +
                     " examples but targets " + targets.shape().str() + " hold " +
                     std::to_string(targets.dim(0)));
  if (n == 0) throw ValueError("fit: no examples (inputs " + inputs.shape().str() + ")");
  if (options.drop_last && options.batch_size > n)
    throw ValueError("fit: drop_last with batch_size " + std::to_string(options.batch_size) +
                     " > " + std::to_string(n) + " examples leaves no minibatch");

  const NodeId out = graph.outputs()[0];
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng(options.seed);
  Workspace ws;
  std::vector<Tensor> x(1), cotangent(1);
  Tensor y;
  History history;
  history.epochs.reserve(static_cast<size_t>(options.epochs));

  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    if (options.shuffle)
      for (int64_t i = n - 1; i > 0; --i)
        std::swap(order[static_cast<size_t>(i)],
                  order[static_cast<size_t>(rng.below(static_cast<uint64_t>(i + 1)))]);
    EpochReport report;
    report.epoch = epoch;
    report.epochs = options.epochs;
    double total = 0.0;
    for (int64_t start = 0; start < n; start += options.batch_size) {
      const int64_t rows = std::min(options.batch_size, n - start);
      if (options.drop_last && rows < options.batch_size) break;
      gather(inputs, order.data() + start, rows, x[0]);
      gather(targets, order.data() + start, rows, y);
      forward(graph, ws, x);
      const Tensor& pred = ws.value(out);
      LossResult l = loss(pred, y);
      if (l.grad.shape() != pred.shape())
        throw ShapeError("fit: the loss returned a gradient " + l.grad.shape().str() +
                         " for a prediction " + pred.shape().str() + ", expected equal shapes");
      if (!std::isfinite(l.value))
        throw Error("fit: the loss is " + std::to_string(l.value) + " at epoch " +
                    std::to_string(epoch) + ", minibatch " + std::to_string(report.batches) +
                    " (diverged: lower the learning rate or check the data)");
      cotangent[0] = std::move(l.grad);
      const Gradients grads = backward(graph, ws, cotangent, true, /*with_inputs=*/false);
      optimizer.step(graph, grads);
      total += l.value * static_cast<double>(rows);
      report.examples += rows;
      ++report.batches;
    }
    report.loss = total / static_cast<double>(report.examples);
    history.epochs.push_back(report);
    if (options.on_epoch) options.on_epoch(report);
  }
  return history;
}

History fit(Graph& graph, const Tensor& inputs, const Tensor& targets, LossKind loss,
            Optimizer& optimizer, const FitOptions& options) {
  return fit(graph, inputs, targets, loss_function(loss), optimizer, options);
}

Tensor predict(const Graph& graph, const Tensor& inputs, int64_t batch_size) {
  require_single_io(graph, "predict");
  require_rows(inputs, "predict", "inputs");
  require_batch_size(batch_size, "predict");
  const int64_t n = inputs.dim(0);
  const NodeId out = graph.outputs()[0];
  if (n == 0) return Tensor(graph.shape(out).with_batch(0));
  Workspace ws;
  std::vector<Tensor> x(1);
  Tensor result;
  int64_t row = 0;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t rows = std::min(batch_size, n - start);
    copy_rows(inputs, start, rows, x[0]);
    forward(graph, ws, x);
    const Tensor& y = ws.value(out);
    if (y.rank() < 1 || y.dim(0) != rows)
      throw ShapeError("predict: output " + graph.describe(out) + " has shape " + y.shape().str() +
                       " for a batch of " + std::to_string(rows) +
                       ", expected the batch along axis 0");
    if (start == 0) {
      result.resize(with_rows(y.shape(), n));
      row = row_size(y);
    }
    std::copy(y.begin(), y.end(), result.data() + start * row);
  }
  return result;
}

double evaluate_loss(const Graph& graph, const Tensor& inputs, const Tensor& targets,
                     const LossFn& loss, int64_t batch_size) {
  if (!loss) throw ValueError("evaluate_loss: empty loss function");
  require_rows(targets, "evaluate_loss", "targets");
  require_rows(inputs, "evaluate_loss", "inputs");
  if (targets.dim(0) != inputs.dim(0))
    throw ShapeError("evaluate_loss: inputs " + inputs.shape().str() + " hold " +
                     std::to_string(inputs.dim(0)) + " examples but targets " +
                     targets.shape().str() + " hold " + std::to_string(targets.dim(0)));
  return loss(predict(graph, inputs, batch_size), targets).value;
}

double evaluate_loss(const Graph& graph, const Tensor& inputs, const Tensor& targets, LossKind loss,
                     int64_t batch_size) {
  return evaluate_loss(graph, inputs, targets, loss_function(loss), batch_size);
}

double accuracy(const Tensor& logits, const std::vector<int64_t>& labels) {
  if (logits.rank() != 1 && logits.rank() != 2)
    throw ShapeError("accuracy: logits " + logits.shape().str() + ", expected [N,C] or [N]");
  const int64_t n = logits.dim(0);
  const int64_t c = logits.rank() == 2 ? logits.dim(1) : 1;
  if (static_cast<int64_t>(labels.size()) != n)
    throw ShapeError("accuracy: " + std::to_string(labels.size()) + " labels for logits " +
                     logits.shape().str() + ", expected " + std::to_string(n));
  if (n == 0) throw ValueError("accuracy: no examples");
  if (c == 0) throw ValueError("accuracy: logits " + logits.shape().str() + " have no classes");
  const int64_t classes = std::max<int64_t>(c, 2);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = labels[static_cast<size_t>(i)];
    if (label < 0 || label >= classes)
      throw ValueError("accuracy: label " + std::to_string(label) + " at row " + std::to_string(i) +
                       " is out of range [0," + std::to_string(classes) + ")");
    const float* x = logits.data() + i * c;
    const int64_t pred = c == 1 ? (x[0] > 0.0f ? 1 : 0) : std::max_element(x, x + c) - x;
    correct += pred == label;
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

double accuracy(const Tensor& logits, const Tensor& labels) {
  if (logits.rank() != 1 && logits.rank() != 2)
    throw ShapeError("accuracy: logits " + logits.shape().str() + ", expected [N,C] or [N]");
  const int64_t c = logits.rank() == 2 ? logits.dim(1) : 1;
  return accuracy(logits,
                  label_indices(labels, logits.dim(0), std::max<int64_t>(c, 2), "accuracy"));
}

}  // namespace trim::train
