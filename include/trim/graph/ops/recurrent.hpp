#pragma once
/// \file
/// One time step of an LSTM, as two ops of Kind::Cell (ONNX `LSTM` is
/// unrolled over its static time steps at import into these, `linear`,
/// `slice`, `reshape` and `concat`).
///
/// Why a kind of their own: contextual decomposition of an LSTM is defined by
/// acd's `cd_text` (Murdoch et al., 2018) per cell, not per elementwise piece:
/// each gate's pre-activation is split into relevant, irrelevant and bias with
/// the bias as a third Shapley player, the cell's products give every term
/// with an irrelevant factor to the irrelevant part, and the output gate is
/// taken whole. The generic Elementwise / Product rules cannot express that
/// (they have no bias player and split cross terms evenly), so these ops carry
/// their CD rule, and a DeepLIFT rule composed of the generic ones (rescale
/// through σ and tanh, the symmetric product split), which keeps DeepLIFT's
/// completeness exact. docs/models.md states the split.
///
/// Gate layout is ONNX's: pre-activations [N, 4H] hold the gates i, o, f, c
/// (input, output, forget, cell candidate) at offsets 0, H, 2H, 3H.

#include "trim/graph/op.hpp"

namespace trim::ops {

/// Common part: inputs zx [N,4H] (input projection W·x_t, no bias), zh [N,4H]
/// (recurrent projection R·h_{t−1}, no bias) and a third [N,H]; param: bias
/// [4H] (ONNX's Wb + Rb).
class LstmStep : public Op {
 public:
  Kind kind() const override { return Kind::Cell; }
  int arity() const override { return 3; }
  Shape infer_shape(const std::vector<Shape>& inputs, const std::vector<Shape>& params,
                    const std::string& where) const override;
  bool backward_reads_output() const override { return false; }
};

/// c_t = σ(f)·c_{t−1} + σ(i)·tanh(c̃): inputs (zx, zh, c_{t−1}).
///
/// CD (acd's cell rule): with each gate's pre-activation split into relevant
/// r = zx_rel + zh_rel, irrelevant q = total − r and bias b, a gate is
/// (r', q', φ(b)) by the three-player Shapley value; then
/// rel = r'_i·(r'_g + φ(b_g)) + σ(b_i)·r'_g + w·σ(b_i)·φ(b_g) + (r'_f + σ(b_f))·c_rel,
/// where w is 1 when the step's input is relevant (acd: the step lies in the
/// span) and 0 when it is not: w = |zx_rel| / (|zx_rel| + |zx_irrel|) summed
/// over the row, a proportional split for a mask that covers part of a step.
class LstmCell final : public LstmStep {
 public:
  std::string type() const override { return "lstm_cell"; }
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void deeplift_backward(const OpArgs& x, const OpArgs& baseline, const Tensor& dy, const OpGrads& grads,
                         float eps) const override;
  void cd_forward(const OpArgs& rel, const OpArgs& total, Tensor& y) const override;
};

/// h_t = σ(o)·tanh(c_t): inputs (zx, zh, c_t).
///
/// CD (acd): the output gate whole, times the two-player Shapley split of
/// tanh: rel = σ(o)·½[tanh(c_rel) + tanh(c) − tanh(c − c_rel)].
class LstmHidden final : public LstmStep {
 public:
  std::string type() const override { return "lstm_hidden"; }
  void forward(const OpArgs& args, Tensor& y) const override;
  void backward(const OpArgs& args, const Tensor& y, const Tensor& dy,
                const OpGrads& grads) const override;
  void deeplift_backward(const OpArgs& x, const OpArgs& baseline, const Tensor& dy, const OpGrads& grads,
                         float eps) const override;
  void cd_forward(const OpArgs& rel, const OpArgs& total, Tensor& y) const override;
};

}  // namespace trim::ops
