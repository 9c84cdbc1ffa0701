#pragma once
/// \file
/// Pooling ops: max pooling (Kind::Selection), average and global average
/// pooling (Kind::Linear, no bias), over (N, C, L) or (N, C, H, W).
///
/// The ops store the window literally (no "stride 0 means kernel": the nn::
/// builders resolve that) and validate it in `infer_shape`, so a bad window
/// coming from an ONNX file is reported with the node's name. The getters
/// give the configuration in ONNX attribute order for exporters.

#include <vector>

#include "trim/graph/op.hpp"
#include "trim/kernels/pool.hpp"

namespace trim::ops {

/// Shared configuration of the windowed pools.
class WindowPool : public Op {
 public:
  /// `spatial_dims` is 1 ((N,C,L): only the width entries of `window` are
  /// used, see kernels::PoolWindow::one_d) or 2 ((N,C,H,W)).
  WindowPool(int spatial_dims, const kernels::PoolWindow& window)
      : dims_(spatial_dims), window_(window) {}

  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;

  /// 1 or 2.
  int spatial_dims() const { return dims_; }
  /// The full 2d window (height entries are 1 / 0 for 1d pools).
  const kernels::PoolWindow& window() const { return window_; }
  /// ONNX `kernel_shape`: {k} or {kh, kw}.
  std::vector<int64_t> kernel_shape() const;
  /// ONNX `strides`: {s} or {sh, sw}.
  std::vector<int64_t> strides() const;
  /// ONNX `pads` (all begins, then all ends): {left, right} or
  /// {top, left, bottom, right}.
  std::vector<int64_t> pads() const;
  bool ceil_mode() const { return window_.ceil_mode; }

 protected:
  int dims_;
  kernels::PoolWindow window_;
};

/// Max over each window; padding never wins. Kind::Selection: y[j] = x[i(j)]
/// with i(j) the window's first maximum.
class MaxPool final : public WindowPool {
 public:
  bool backward_reads_output() const override { return false; }  // reads the input only
  bool backward_assigns() const override { return true; }
  using WindowPool::WindowPool;
  Kind kind() const override { return Kind::Selection; }
  std::string type() const override { return dims_ == 1 ? "max_pool1d" : "max_pool2d"; }
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void select_indices(const OpArgs& args, std::vector<int64_t>& index) const override;
};

/// Mean over each window (padding counts as zeros; divisor per
/// `count_include_pad`). Kind::Linear without bias.
class AvgPool final : public WindowPool {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  using WindowPool::WindowPool;
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return dims_ == 1 ? "avg_pool1d" : "avg_pool2d"; }
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override { forward(args, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}
  bool count_include_pad() const { return window_.count_include_pad; }
};

/// Mean over all axes after 1, kept as size 1: [N,C,H,W] -> [N,C,1,1]
/// (ONNX GlobalAveragePool). Input rank ≥ 3. Kind::Linear without bias.
class GlobalAvgPool final : public Op {
 public:
  bool backward_reads_inputs(bool) const override { return false; }  // dy and parameters suffice
  bool backward_reads_output() const override { return false; }
  Kind kind() const override { return Kind::Linear; }
  std::string type() const override { return "global_avg_pool"; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void forward_unbiased(const OpArgs& args, Tensor& y) const override { forward(args, y); }
  bool has_bias(const OpArgs&) const override { return false; }
  void add_bias(const OpArgs&, Tensor&, float) const override {}
};

}  // namespace trim::ops
