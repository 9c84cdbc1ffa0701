#pragma once
// Reading what a command works on: the ONNX model, .npy arrays (finite
// values only), the example/batch convention, and the argument values that
// name library objects (transform spec, targets, groups, baseline). Errors in
// the command line become UsageError (exit 2); errors in files stay runtime
// errors (exit 1).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "args.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/core/tensor.hpp"
#include "trim/graph/graph.hpp"
#include "trim/io/onnx.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

namespace trim::cli {

/// An ONNX model with one input and one output.
struct Model {
  std::string path;
  Graph graph;
  Shape example_shape;  ///< one input example, without the batch axis
  Shape output_shape;   ///< one output, without the batch axis
  int64_t n_outputs = 0;  ///< output values per example (targets index them)
  /// Token-id inputs explained in the space of their embedding (see io::OnnxTokenInput).
  std::vector<io::OnnxTokenInput> tokens;
};

Model load_model(const std::string& path);

/// A .npy file as float32; Error naming the file and the first element that
/// is NaN or infinite. `role` ("input", "baseline", ...) starts messages.
Tensor read_finite_npy(const std::string& path, const std::string& role);

/// Error naming `what` and the first element of `t` that is not finite;
/// `why` ends the message.
void require_finite(const Tensor& t, const std::string& what,
                    const std::string& why = "trim accepts finite values only");

/// `x` read from `path` as a batch [N, example...]: an array of the
/// example's rank is one example (N = 1), one more axis is a batch. Error
/// naming the file and both shapes otherwise.
Tensor as_batch(const Tensor& x, const Shape& example, const std::string& path, const std::string& model_path);

/// The model's input batch from the array in `path`: as_batch, except that a
/// token model (Model::tokens) also takes token ids [T...] or [N, T...],
/// which are embedded first (the space it is explained in).
Tensor model_input(const Model& m, const Tensor& x, const std::string& path);

/// "[N,4,5]" for the example shape [4,5]: how messages show a batch.
std::string batch_text(const Shape& example);

/// Rows [begin, end) of t along axis 0.
Tensor rows(const Tensor& t, int64_t begin, int64_t end);

/// Shape `s` without its first `n` axes.
Shape drop_leading(const Shape& s, int n);

/// The part of an option value before the first ':' ("mask" of
/// "mask:m.npy"). A transform answers its own family (Transform::family).
std::string spec_family(const std::string& spec);

/// make_transform with a bad spec (unknown family, wavelet, mode, level,
/// normalisation) reported as a UsageError; problems with a dictionary
/// file or with the shape stay runtime errors.
std::shared_ptr<const Transform> parse_transform(const std::string& spec, const Shape& example_shape);

/// "all" or "K[,K...]" against a model with `n_outputs` outputs per example.
std::vector<int64_t> parse_targets(const std::string& text, int64_t n_outputs, const std::string& model_path);

/// The physical units some --groups forms are given in: --sample-rate
/// (hz:, mel:, and the labels of tiles: and segments:) and
/// --arcmin-per-pixel (ell:); 0 when not given.
struct GroupUnits {
  double sample_rate = 0;
  double arcmin_per_pixel = 0;
};
/// The units options of a command (group_unit_options); UsageError when one
/// is given without --groups.
GroupUnits group_units(const Args& args);
/// --sample-rate and --arcmin-per-pixel, for commands that take --groups.
std::vector<OptionSpec> group_unit_options();

/// A grouping of the coefficients of `t`: radial:N, band:CENTER:WIDTH,
/// bands:EDGES:SPACING[:UNITS], hz:EDGES, mel:N[:htk|slaney], ell:EDGES,
/// tiles:NF:NT, segments:N, subbands, levels, components or mask:FILE.npy.
/// A units option the form does not read, or a form that needs one that is
/// missing, is a UsageError.
Grouping parse_groups(const std::string& text, const Transform& t, const GroupUnits& units = {});
/// --groups with its units options, nullopt without --groups.
std::optional<Grouping> parse_groups_option(const Args& args, const Transform& t);

/// The baseline in input space: zeros, a constant, or a .npy file holding one
/// example or a batch [B, example...]. Returns [B, example...] (B = 1 for
/// zero and constants).
Tensor parse_baseline(const std::string& text, const Shape& example_shape, const std::string& model_path);

/// What `attribute` and `sweep` share: positionals MODEL.onnx INPUT.npy and
/// the options --transform, --residual and --target, read and checked, and
/// the input's coefficients.
struct TrimSetup : TrimBatch {
  Model model;
};
/// `read_input` false: everything but x, the coefficients and the residual
/// (a streamed run reads the input a chunk at a time).
TrimSetup load_trim_setup(const Args& args, bool read_input = true);

/// Rows per batch through the graph for examples of `example_numel` values:
/// 64 (the library's default) for small examples, fewer for large ones, so
/// that a batch holds about a million input values: memory stays bounded and
/// the progress report moves even on one large image.
int64_t rows_per_batch(int64_t example_numel);

/// --max-memory SIZE in bytes (2G, 500M, 65536), 0 when not given: the budget
/// of one batch through the model (AttributionOptions / CdOptions::max_memory).
int64_t max_memory_option(const Args& args);

/// "A:B:N": N evenly spaced values from A to B inclusive (numpy.linspace).
std::vector<double> parse_range(const std::string& text, const std::string& option);

}  // namespace trim::cli
