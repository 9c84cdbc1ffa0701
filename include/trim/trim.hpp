#pragma once
/// \file
/// Umbrella header: everything public in trim.
///
/// trim explains a trained network f in the coefficients s = T(x) of a
/// transform T: it attributes the prediction of f(T⁻¹(s) + r), r = x − T⁻¹(T(x)),
/// to s or to groups of s (frequency bands, wavelet sub-bands, components).
///
/// Layers, each using only the ones above it (the table in README.md):
///  - core/        Tensor, Shape, errors, checks, RNG, the parallel loops.
///  - kernels/     numerical kernels (conv, pools, FFT, DWT) on raw buffers.
///  - graph/       Op (one attribution Kind each, graph/op.hpp has the
///                 add-an-op checklist), Graph, Executor, builders (nn.hpp).
///  - transforms/  Transform (fft, dct, dwt, dictionaries, NMF, PCA) as graph
///                 nodes, and Grouping (radial bands, sub-bands, masks).
///  - attribution/ TrimModel (f ∘ T⁻¹ as one graph), the methods (gradients.hpp,
///                 deeplift.hpp, cd.hpp, perturbation.hpp), evaluation.
///  - io/          .npy, JSON, ONNX import/export, plots; dataset/ streams
///                 large inputs (.npy, HDF5, FITS) and runs under MPI.
///
/// The whole path in five lines (examples/embed/main.cpp runs it):
/// \code
///   trim::Graph f = trim::io::load_onnx("model.onnx");
///   auto fft2 = trim::make_transform("fft2", {1, 16, 16});
///   trim::TrimModel tm(f, fft2);
///   trim::Grouping bands = trim::radial_bands(*fft2, 6);
///   trim::AttributionOptions o = tm.options_for(x);  o.grouping = &bands;
///   trim::Attribution a = trim::integrated_gradients(tm.graph(), tm.coefficients(x), {}, o);
/// \endcode
/// Contracts (shapes, which guarantee each method keeps, what throws) are
/// stated on each function; the guarantees are in docs/attribution.md.

#include "trim/attribution/cd.hpp"
#include "trim/attribution/common.hpp"
#include "trim/attribution/deeplift.hpp"
#include "trim/attribution/evaluate.hpp"
#include "trim/attribution/gradients.hpp"
#include "trim/attribution/methods.hpp"
#include "trim/attribution/metrics.hpp"
#include "trim/attribution/perturbation.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/buffer_plan.hpp"
#include "trim/core/check.hpp"
#include "trim/core/error.hpp"
#include "trim/core/memory.hpp"
#include "trim/core/parallel.hpp"
#include "trim/core/rng.hpp"
#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"
#include "trim/core/text.hpp"
#include "trim/graph/check.hpp"
#include "trim/graph/compose.hpp"
#include "trim/graph/executor.hpp"
#include "trim/graph/graph.hpp"
#include "trim/graph/kind.hpp"
#include "trim/graph/lifetimes.hpp"
#include "trim/graph/nn.hpp"
#include "trim/graph/op.hpp"
#include "trim/graph/ops/activation.hpp"
#include "trim/graph/ops/batch_constant.hpp"
#include "trim/graph/ops/batch_norm.hpp"
#include "trim/graph/ops/clip.hpp"
#include "trim/graph/ops/conv.hpp"
#include "trim/graph/ops/conv_transpose.hpp"
#include "trim/graph/ops/dense.hpp"
#include "trim/graph/ops/pool.hpp"
#include "trim/graph/ops/resize.hpp"
#include "trim/graph/ops/softmax.hpp"
#include "trim/graph/ops/structural.hpp"
#include "trim/graph/ops/product.hpp"
#include "trim/graph/ops/reduce.hpp"
#include "trim/graph/ops/math.hpp"
#include "trim/graph/ops/volume.hpp"
#include "trim/graph/layers.hpp"
#include "trim/graph/split.hpp"
#include "trim/dataset/array.hpp"
#include "trim/dataset/summary.hpp"
#include "trim/io/evaluation_json.hpp"
#include "trim/figures/coefficients.hpp"
#include "trim/io/json.hpp"
#include "trim/io/model_summary.hpp"
#include "trim/io/npy.hpp"
#include "trim/io/onnx.hpp"
#include "trim/io/onnx_info.hpp"
#include "trim/io/plot.hpp"
#include "trim/io/sha256.hpp"
#include "trim/kernels/activation.hpp"
#include "trim/kernels/batch_norm.hpp"
#include "trim/kernels/conv.hpp"
#include "trim/kernels/conv_transpose.hpp"
#include "trim/kernels/dense.hpp"
#include "trim/kernels/dwt.hpp"
#include "trim/kernels/fft.hpp"
#include "trim/kernels/pool.hpp"
#include "trim/kernels/resize.hpp"
#include "trim/kernels/softmax.hpp"
#include "trim/kernels/structural.hpp"
#include "trim/kernels/volume.hpp"
#include "trim/train/loss.hpp"
#include "trim/train/optimizer.hpp"
#include "trim/train/trainer.hpp"
#include "trim/transforms/decoder.hpp"
#include "trim/transforms/dictionary.hpp"
#include "trim/transforms/frequency_bands.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/stft.hpp"
#include "trim/transforms/transform.hpp"
#include "trim/transforms/wavelet.hpp"
