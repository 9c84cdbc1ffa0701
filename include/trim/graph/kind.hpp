#pragma once
/// \file
/// The node kinds. Attribution rules (backward, DeepLIFT, contextual
/// decomposition) are written once per kind, never per layer: a new op gets
/// every method by declaring its kind truthfully (checked numerically by
/// `check_kind`).

namespace trim {

enum class Kind {
  /// Affine in its single data input: y = A(x) + b. Exposes A(x) through
  /// `Op::forward_unbiased` and b through `Op::add_bias`. Its backward is Aᵀ.
  Linear,
  /// y_i = φ(x_i) for a scalar function φ. Exposes φ and φ'.
  Elementwise,
  /// Each output element is one input element chosen by the data (max-pool).
  /// Exposes the chosen indices through `Op::select_indices`.
  Selection,
  /// Moves data without arithmetic: reshape, flatten, transpose, concat,
  /// slice, zero padding. Linear in all inputs jointly, no bias.
  Structural,
  /// Elementwise sum of two or more inputs of one shape (residual add).
  Sum,
  /// Bilinear in its two data inputs: y = B(a, b) (elementwise product with
  /// broadcasting, MatMul of two data tensors). `forward` computes B and
  /// `backward` its two VJPs; the gradient to a reads only b and vice versa,
  /// so DeepLIFT calls backward at the midpoints and CD evaluates B on parts.
  Product,
  /// A recurrent cell step (LSTM) that brings its own DeepLIFT and CD rules
  /// (`Op::deeplift_backward`, `Op::cd_forward`): acd's CD rule for an LSTM is
  /// defined per cell (a bias player, the output gate whole), which the rules
  /// above cannot express. Its DeepLIFT rule is composed of the rules above.
  Cell,
  /// Anything else (softmax as one op). Methods fall back to the plain
  /// gradient.
  Opaque,
};

/// "Linear", "Elementwise", ... for messages.
const char* kind_name(Kind k);

}  // namespace trim
