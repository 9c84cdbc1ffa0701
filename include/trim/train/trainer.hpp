#pragma once
/// \file
/// Minibatch training and batched evaluation: enough to train the example
/// models in C++ without Python.
///
/// `fit` runs the classic loop — shuffle, gather a minibatch by rows of the
/// leading axis, forward, loss, backward with parameter gradients, optimiser
/// step — on a graph with exactly one input and one output (the common case
/// of a classifier or regressor; anything else throws ValueError, build a
/// custom loop from `forward` / `backward` / `Optimizer::step` for it).
/// Everything is deterministic: the shuffle comes from `trim::Rng` seeded by
/// `FitOptions::seed`, so the same graph seed and the same fit seed give
/// bit-identical weights (on one machine and thread count).

#include <cstdint>
#include <functional>
#include <vector>

#include "trim/core/tensor.hpp"
#include "trim/graph/graph.hpp"
#include "trim/train/loss.hpp"
#include "trim/train/optimizer.hpp"

namespace trim::train {

/// What `fit` reports after each epoch.
struct EpochReport {
  int epoch = 0;         ///< 0-based index of the epoch just finished
  int epochs = 0;        ///< total number of epochs requested
  double loss = 0.0;     ///< example-weighted mean of the minibatch losses
  int64_t batches = 0;   ///< optimiser steps taken in this epoch
  int64_t examples = 0;  ///< examples seen in this epoch
};

struct FitOptions {
  int epochs = 1;
  int64_t batch_size = 32;
  /// Seeds the shuffle (not the weights: those come from the graph's seed).
  uint64_t seed = 0;
  /// Reshuffle the examples every epoch; false keeps their order.
  bool shuffle = true;
  /// Skip the last, smaller minibatch of an epoch.
  bool drop_last = false;
  /// Called after every epoch (progress output, learning-rate schedules via
  /// Optimizer::set_lr, recording validation metrics).
  std::function<void(const EpochReport&)> on_epoch;
};

/// One report per epoch.
struct History {
  std::vector<EpochReport> epochs;
  /// The per-epoch losses in order.
  std::vector<double> losses() const;
  /// Loss of the last epoch (NaN when no epoch ran).
  double final_loss() const;
};

/// Trains `graph` (one input, one output, finalized) on `inputs` [N, ...]
/// and `targets` [N, ...] (row i of each is one example) for
/// `options.epochs` epochs. The loss of each minibatch is `loss(prediction,
/// target rows)`; its gradient drives `trim::backward(..., with_params =
/// true)` and `optimizer.step`. Throws ValueError on bad options or a graph
/// with other than one input and one output, ShapeError when `inputs` and
/// `targets` disagree on N or `inputs` does not fit the graph's input.
History fit(Graph& graph, const Tensor& inputs, const Tensor& targets, const LossFn& loss,
            Optimizer& optimizer, const FitOptions& options);
/// Same with a built-in loss (targets as that loss expects them).
History fit(Graph& graph, const Tensor& inputs, const Tensor& targets, LossKind loss,
            Optimizer& optimizer, const FitOptions& options);

/// The graph's output for every row of `inputs`, evaluated `batch_size` rows
/// at a time to bound memory; returns [N, ...] (one input, one output).
Tensor predict(const Graph& graph, const Tensor& inputs, int64_t batch_size = 256);

/// Loss over a whole data set (no training): predictions are computed in
/// batches by `predict`, then the loss is called once on all of them.
double evaluate_loss(const Graph& graph, const Tensor& inputs, const Tensor& targets,
                     const LossFn& loss, int64_t batch_size = 256);
double evaluate_loss(const Graph& graph, const Tensor& inputs, const Tensor& targets, LossKind loss,
                     int64_t batch_size = 256);

/// Fraction of rows whose arg-max over `logits` [N, C] equals the label (ties
/// go to the lowest class, as torch.argmax). With C = 1 (or logits [N]) the
/// single logit is a binary score: class 1 when it is > 0. Labels as in
/// cross_entropy_loss ([N] integer-valued floats) or as a vector.
double accuracy(const Tensor& logits, const Tensor& labels);
double accuracy(const Tensor& logits, const std::vector<int64_t>& labels);

/// Rows `index[0], index[1], ...` of `src` along the leading axis, written
/// into `dst` (resized to [index.size(), ...], keeping its allocation).
void gather_rows(const Tensor& src, const std::vector<int64_t>& index, Tensor& dst);

}  // namespace trim::train
