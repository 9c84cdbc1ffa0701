#pragma once
/// \file
/// A learned decoder as the T⁻¹ of TRIM (the reference's `DecoderEncoder`):
/// explain a model in the latent space of an autoencoder (a VAE's decoder).
///
/// Spec: `decoder:DECODER.onnx[:ENCODER.onnx]`. The decoder maps latent codes
/// [N, latent...] to signals whose per-example element count equals the
/// example's (it is reshaped to the example's shape); the coefficients of one
/// example are its latent code flattened, [k]. T(x) is the encoder's output
/// when one is given (a VAE's mean), else the least-squares code
/// argmin_z |decoder(z) − x|² found by gradient descent (`DecoderFit`).
/// The transform is not exact: `TrimModel` holds the residual
/// x − T⁻¹(T(x)) fixed (as for NMF), so F(T(x)) = model(x) whatever the fit.
///
/// In a TRIM graph the decoder's own nodes are appended after the
/// coefficients (`add_inverse_nodes`), so gradients, DeepLIFT and CD walk
/// through its layers with their kinds, as through the model. `inverse_op()`
/// is one Opaque op that runs the decoder graph (its backward is the graph's
/// backward) for code that needs a single op.
///
/// Coefficient layout: `Components` (groupings `components`: one group per
/// latent dimension; figure: bars).

#include <memory>
#include <string>

#include "trim/graph/graph.hpp"
#include "trim/transforms/transform.hpp"

namespace trim {

/// The least-squares fit of a latent code without an encoder: gradient
/// descent on z from z = 0, every example with its own loss
/// |decoder(z) − x|² and its own step (starting at `initial_step`; an
/// accepted step grows it ×1.5, a step that would raise the loss is undone
/// and halves it), stopped after `max_steps` iterations or when every
/// example's loss fell by at most `tolerance` (relative) over the last
/// `window` iterations. The residual x − decoder(z) is held fixed by
/// TrimModel, so the fit only decides where in latent space the explanation
/// starts, never whether F(T(x)) = model(x).
struct DecoderFit {
  int max_steps = 2000;
  double initial_step = 0.01;
  double tolerance = 1e-7;
  int window = 20;
};

class DecoderTransform final : public Transform {
 public:
  /// `encoder` may be null (least-squares fit). Throws ShapeError when the
  /// graphs do not fit `input_shape` (one input and one output each; the
  /// decoder's output and the encoder's input hold as many elements as an
  /// example, the encoder's output as many as the decoder's input).
  DecoderTransform(std::shared_ptr<const Graph> decoder, std::shared_ptr<const Graph> encoder, const Shape& input_shape,
                   std::string spec, DecoderFit fit = {});

  std::string spec() const override { return spec_; }
  std::string family() const override { return "decoder"; }
  CoefficientLayout coefficient_layout() const override { return CoefficientLayout::Components; }
  int axes() const override { return input_shape().rank(); }
  bool exact() const override { return false; }
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& s) const override;
  std::shared_ptr<const Op> inverse_op() const override;
  NodeId add_inverse_nodes(Graph& g, NodeId coefficients, const std::string& name) const override;

  const Graph& decoder() const { return *decoder_; }
  bool has_encoder() const { return encoder_ != nullptr; }
  /// The fitted codes' losses |decoder(z) − x|² of the last `forward` without
  /// an encoder are not kept; this recomputes them for a batch of codes.
  Tensor reconstruction_error(const Tensor& x, const Tensor& s) const;

 private:
  std::shared_ptr<const Graph> decoder_, encoder_;
  Shape latent_shape_;  ///< the decoder input's per-example shape
  std::string spec_;
  DecoderFit fit_;
};

/// Loads `decoder:DECODER.onnx[:ENCODER.onnx]` for examples of shape
/// `input_shape` (what `make_transform` calls). IoError naming the file when
/// one cannot be read.
std::shared_ptr<const DecoderTransform> make_decoder(const std::string& spec, const Shape& input_shape);

}  // namespace trim
