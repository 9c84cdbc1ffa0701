#pragma once
/// \file
/// Ops that move data without arithmetic (Kind::Structural): reshape,
/// flatten, transpose, concat, slice and zero padding. Padding with a
/// non-zero value is affine, so `Pad` is then Kind::Linear with the padding
/// value as its bias.
///
/// Batch rule shared by all of them: axis 0 is the batch. It stays first,
/// keeps its (free) size, and is never permuted, joined, sliced, padded or
/// merged, so every example is transformed on its own and shape inference
/// never depends on the batch size. Axis arguments may be negative
/// (Python-style, −1 is the last axis) unless stated otherwise. An axis
/// outside the input's rank, or shapes that do not fit, raise ShapeError; an
/// argument that is wrong whatever the input (a non-permutation, step ≤ 0,
/// the batch axis) raises ValueError. Messages start with the node
/// (`slice 's1': ...`) and give the shapes involved.

#include <array>
#include <cstdint>
#include <vector>

#include "trim/graph/op.hpp"

namespace trim::ops {

/// [N, ...] -> [N, per_example...] with the same elements in row-major
/// order. One entry of `per_example` may be -1 (inferred from the others);
/// the others must be ≥ 1.
class Reshape final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  explicit Reshape(const Shape& per_example) : per_example_(per_example) {}
  Kind kind() const override { return Kind::Structural; }
  std::string type() const override { return "reshape"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  /// The target as given (a -1 entry, if any, kept).
  const Shape& per_example() const { return per_example_; }

 private:
  Shape per_example_;
};

/// Collapses axes [axis, rank) into one: [N,C,H,W] -> [N, C·H·W] for axis 1.
/// 1 ≤ axis ≤ rank (axis = rank appends a size-1 axis); negative axes count
/// from the end.
class Flatten final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  explicit Flatten(int axis = 1) : axis_(axis) {}
  Kind kind() const override { return Kind::Structural; }
  std::string type() const override { return "flatten"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  int axis() const { return axis_; }

 private:
  int axis_;
};

/// y.shape[k] = x.shape[perm[k]] (torch.permute); perm is a permutation of
/// 0..rank−1 (no negative entries) with perm[0] = 0.
class Transpose final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  explicit Transpose(std::vector<int> perm) : perm_(std::move(perm)) {}
  Kind kind() const override { return Kind::Structural; }
  std::string type() const override { return "transpose"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  const std::vector<int>& perm() const { return perm_; }

 private:
  std::vector<int> perm_;
};

/// Joins one or more inputs along `axis` (torch.cat); they must agree on
/// every other axis, the batch included.
class Concat final : public Op {
 public:
  bool backward_reads_output() const override { return false; }  // reads the input shapes only
  bool backward_assigns() const override { return true; }
  explicit Concat(int axis) : axis_(axis) {}
  Kind kind() const override { return Kind::Structural; }
  std::string type() const override { return "concat"; }
  int arity() const override { return -1; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  int axis() const { return axis_; }

 private:
  int axis_;
};

/// Elements start, start+step, ... < end along `axis` (x[:, ..., start:end:step]).
/// step > 0. Python-style bounds: a negative start or end counts from the
/// end of the axis and end is clipped to the axis length (so INT64_MAX
/// means "to the end", as in ONNX); the resolved start must lie inside the
/// axis and the slice must not be empty.
class Slice final : public Op {
 public:
  bool backward_reads_output() const override { return false; }  // reads the input shape only
  Slice(int axis, int64_t start, int64_t end, int64_t step = 1)
      : axis_(axis), start_(start), end_(end), step_(step) {}
  Kind kind() const override { return Kind::Structural; }
  std::string type() const override { return "slice"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  int axis() const { return axis_; }
  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t step() const { return step_; }

 private:
  int axis_;
  int64_t start_, end_, step_;
};

/// Constant padding of every axis after the batch: `pads[k]` = {before,
/// after} (both ≥ 0) for axis k + 1, outermost first (torch's F.pad lists
/// them innermost first). Structural when value = 0; otherwise Linear:
/// forward_unbiased pads with zeros and the bias is `value` on the padding.
class Pad final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  Pad(std::vector<std::array<int64_t, 2>> pads, float value = 0.0f);
  Kind kind() const override { return value_ == 0.0f ? Kind::Structural : Kind::Linear; }
  std::string type() const override { return "pad"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override;
  bool has_bias(const OpArgs&) const override { return value_ != 0.0f; }
  void add_bias(const OpArgs& args, Tensor& y, float scale) const override;
  /// {before, after} per axis after the batch, as given.
  const std::vector<std::array<int64_t, 2>>& pads() const { return pads_; }
  float value() const { return value_; }

 private:
  std::vector<std::array<int64_t, 2>> pads_;
  std::vector<std::array<int64_t, 2>> all_pads_;  ///< with {0, 0} for the batch axis
  float value_;
};

}  // namespace trim::ops
