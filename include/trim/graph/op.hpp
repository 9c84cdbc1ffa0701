#pragma once
/// \file
/// `Op`: what a graph node computes.
///
/// An op is immutable configuration (kernel size, stride, axis, ...). It owns
/// no parameters and no evaluation state: parameters live in the `Graph` and
/// arrive in `OpArgs::params` (in the order the node declared them);
/// activations live in a per-call `Workspace`. Hence one op may run on many
/// threads at once, and every method is `const`.
///
/// Contract of each method (who writes what, `=` or `+=`) is spelled out next
/// to it: executors for DeepLIFT and contextual decomposition rely on it.

#include <cstdint>
#include <string>
#include <vector>

#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"
#include "trim/graph/kind.hpp"

namespace trim {

/// Read-only arguments of one op evaluation.
struct OpArgs {
  /// Data inputs in node order; concrete shapes (batch substituted).
  std::vector<const Tensor*> inputs;
  /// The node's parameters in declaration order (weights, bias, buffers).
  std::vector<const Tensor*> params;

  const Tensor& input(size_t i = 0) const { return *inputs[i]; }
  const Tensor& param(size_t i) const { return *params[i]; }
};

/// Gradient destinations of one backward call. A null pointer means "not
/// needed": the op must skip that work. Non-null tensors are already shaped
/// like the corresponding input / parameter and the op ADDS (+=) into them,
/// except the inputs marked in `assign` (only ever for an op whose
/// `backward_assigns()` is true): those arrive with unspecified contents
/// and the op OVERWRITES (=) every element, as if adding into zeros. The
/// executor marks the first contribution to a cotangent buffer, so the
/// buffer needs no zeroing pass.
struct OpGrads {
  std::vector<Tensor*> inputs;
  std::vector<Tensor*> params;
  /// Nonzero at i: inputs[i] is to be overwritten (empty: add into all).
  std::vector<char> assign;

  Tensor* input(size_t i = 0) const { return i < inputs.size() ? inputs[i] : nullptr; }
  Tensor* param(size_t i) const { return i < params.size() ? params[i] : nullptr; }
  bool assigns(size_t i = 0) const { return i < assign.size() && assign[i] != 0; }
};

/// Adding an op (checklist):
///  1. Declare its `Kind` truthfully and implement what that kind exposes
///     (Linear: forward_unbiased / has_bias / add_bias; Elementwise: φ, φ';
///     Selection: select_indices; Product: forward bilinear in its two
///     inputs, backward reading only the other input). Say what backward
///     reads (`backward_reads_inputs` / `backward_reads_output`).
///  2. A builder in `trim/graph/nn.hpp` or `trim/graph/layers.hpp`, a test
///     with `check_gradients` and `check_kind` (tests/graph/), and the op in
///     `every_op()` (tests/support/every_op.cpp), which guards the
///     `backward_reads_*` claims and the ONNX export round trip.
///  3. ONNX: a handler member declared in `io/onnx_importer.hpp`, defined in
///     the `io/onnx_import_*.cpp` file of its family and entered in the table
///     `handlers()` of `io/onnx_import.cpp` (with a hint in `unsupported_hint`
///     for ops that still fail), and the exporter (`io/onnx_export.cpp`):
///     every op of `every_op()` must write and read back.
///  4. A new Kind also needs a rule in the kind switches of
///     `attribution/deeplift.cpp`, `attribution/cd.cpp` and `graph/check.cpp`
///     (they have no `default:`, so the compiler lists them), and in
///     docs/attribution.md.
class Op {
 public:
  virtual ~Op() = default;

  virtual Kind kind() const = 0;
  /// Short operator name used in messages and exports: "conv2d", "relu".
  virtual std::string type() const = 0;
  /// Number of data inputs; -1 for "one or more" (concat, add).
  virtual int arity() const { return 1; }

  /// Output shape from the input shapes and parameter shapes. Dimension 0 of
  /// an input may be `Shape::free` (the batch); the output keeps it free.
  /// Throws ShapeError whose message starts with `where` (e.g. `linear
  /// 'fc1'`) and states actual and expected shapes.
  virtual Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                            const std::string& where) const = 0;

  /// y = f(inputs; params). `y` arrives with the output's concrete shape and
  /// unspecified contents; the op overwrites every element.
  virtual void forward(const OpArgs& args, Tensor& y) const = 0;

  /// Reverse mode: given the cotangent `dy` of the output (and the forward's
  /// inputs and output `y`), ADD Jᵀ·dy into each non-null `grads.inputs[i]`
  /// and the parameter gradient (summed over the batch) into each non-null
  /// `grads.params[j]`.
  virtual void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                        const OpGrads& grads) const = 0;

  /// What `backward` reads besides `dy` and the parameters: its inputs'
  /// values (shapes included) and its output `y`. An op that reads less says
  /// so, and a forward kept for input gradients (`Keep::input_gradients`)
  /// may drop those activations once the forward is past them.
  /// `param_grads`: parameter gradients are wanted too.
  virtual bool backward_reads_inputs(bool param_grads) const {
    (void)param_grads;
    return true;
  }
  virtual bool backward_reads_output() const { return true; }
  /// Whether `backward` honours `OpGrads::assign` (writes `=` into the
  /// marked input gradients). The result must equal adding into zeros bit
  /// for bit (write 0.0f + v, which turns a −0 into +0 as the sum would).
  virtual bool backward_assigns() const { return false; }
  /// Whether `backward` may be handed, for one input j, the cotangent `dy`
  /// itself as that input's gradient (`grads.inputs[j] == &dy`, assigned):
  /// the gradient then replaces dy in its buffer. The executor does so for an
  /// input of the output's shape that this node alone reads, once (its
  /// cotangent starts here, and dy dies here): an add leaves it as it is, a
  /// ReLU masks it in place, and neither writes a fresh buffer.
  virtual bool backward_in_place() const { return false; }
  /// Whether every input's gradient is dy itself (an add of equal shapes):
  /// with `backward_in_place`, the executor may hand dy to several inputs
  /// at once, which then share one buffer (see `plan_reverse_order`).
  virtual bool backward_is_identity() const { return false; }

  /// Floats of temporary memory one forward or backward of this node holds
  /// besides its output and the gradient buffers the executor plans (kernel
  /// scratch, per-thread buffers kept between calls, temporaries), for the
  /// concrete shapes given (batch included): what a memory budget counts on
  /// top of the planned buffers (`planned_scratch_floats`). The default is
  /// conservative: one temporary as large as the largest of the inputs and
  /// the output. Ops that know better (the convolutions: per-thread packing
  /// buffers and a padded copy of the batch's input) override it.
  virtual int64_t scratch_floats(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                                 const Shape& output) const;

  // ---- Linear kind -------------------------------------------------------
  /// y = A(x) without the bias (`=`, overwrites y). Linear ops must override;
  /// Structural ops need not (their forward is already unbiased).
  virtual void forward_unbiased(const OpArgs& args, Tensor& y) const;
  /// Whether `add_bias` adds anything.
  virtual bool has_bias(const OpArgs& args) const;
  /// y += scale · b, with b broadcast to y's shape.
  virtual void add_bias(const OpArgs& args, Tensor& y, float scale = 1.0f) const;

  // ---- Elementwise kind --------------------------------------------------
  /// y[i] = φ(x[i]) for i < n (`=`).
  virtual void phi(const float* x, float* y, int64_t n) const;
  /// d[i] = φ'(x[i]) for i < n (`=`).
  virtual void dphi(const float* x, float* d, int64_t n) const;
  /// True for ReLU-like φ: φ(0) = 0 and positively homogeneous
  /// (φ(a·x) = a·φ(x) for a ≥ 0), e.g. ReLU and leaky ReLU. Contextual
  /// decomposition then passes φ(rel) as acd does for ReLU; other φ get the
  /// two-term Shapley rule.
  virtual bool relu_like() const { return false; }

  // ---- Selection kind ----------------------------------------------------
  /// For each output element (row-major), the flat index into the input of
  /// the element it copies: y[j] = x[index[j]]. `index` is resized here.
  virtual void select_indices(const OpArgs& args, std::vector<int64_t>& index) const;

  // ---- Cell kind ---------------------------------------------------------
  /// DeepLIFT: ADD (+=) the multipliers of each non-null input, given the
  /// multipliers `dy` of the output, inputs `x` and baseline inputs (same
  /// shapes), so that Σ_k <m_k, x_k − b_k> = <dy, y(x) − y(b)> exactly. `eps`
  /// as in DeepLiftOptions (below it, Δy/Δx is the derivative).
  virtual void deeplift_backward(const OpArgs& x, const OpArgs& baseline, const Tensor& dy,
                                 const OpGrads& grads, float eps) const;
  /// Contextual decomposition: the relevant part `y` (`=`) from the relevant
  /// parts of the inputs (`rel`) and the totals (`total`, rows matching
  /// rel's). An input that does not depend on the graph input arrives with a
  /// zero relevant part.
  virtual void cd_forward(const OpArgs& rel, const OpArgs& total, Tensor& y) const;

 protected:
  /// Throws Error saying this op's kind does not provide `what`.
  [[noreturn]] void not_provided(const char* what) const;
};

/// Base for Elementwise ops: forward and backward come from φ and φ'.
class ElementwiseOp : public Op {
 public:
  Kind kind() const override { return Kind::Elementwise; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  bool backward_reads_output() const override { return false; }  // φ'(x) reads the input
  bool backward_assigns() const override { return true; }
};

}  // namespace trim
