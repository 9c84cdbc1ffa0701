#pragma once
// The parts of the module, each registered by its own file, and the model
// object the functions share.
#include <memory>
#include <string>

#include "convert.hpp"
#include "trim/attribution/methods.hpp"
#include "trim/attribution/trim_model.hpp"
#include "trim/graph/graph.hpp"
#include "trim/io/model_summary.hpp"
#include "trim/transforms/grouping.hpp"
#include "trim/transforms/transform.hpp"

namespace trim::py {

/// An ONNX model with one input and one output, as `trim info` reads it.
struct PyModel {
  std::string name;  ///< the file, or "<bytes>"
  std::shared_ptr<const Graph> graph;
  Shape example_shape;  ///< one input example, without the batch axis
  Shape output_shape;   ///< one output, without the batch axis
  int64_t n_outputs = 0;
  io::ModelSummary summary;  ///< what `trim info` shows (the library's summary)
};

struct PyTransform {
  std::shared_ptr<const Transform> t;
};

/// `transform=` of attribute / sweep: a spec string (for examples of shape
/// `example`) or a trim.Transform made for that shape.
std::shared_ptr<const Transform> to_transform(pyb::handle obj, const Shape& example);

/// `groups=`: a trim.Grouping, a string as the CLI's --groups (radial:N,
/// band:CENTER:WIDTH, subbands, levels, components) or integer labels over
/// the coefficients (-1: in no group).
Grouping to_grouping(pyb::handle obj, const Transform& t);

/// A spec of the Fourier families (fft1, fft2, rfft1, rfft2), from the
/// library's family table: band sweeps need one.
bool is_fourier(const std::string& spec);

/// The method called `name`; ValueError listing the known ones otherwise.
const NamedMethod& find_method(const std::string& name);

/// `target=`: 'all', an output index or a list of them.
std::vector<int64_t> to_targets(pyb::handle obj, const PyModel& m);

/// What attribute, sweep and evaluate share (the CLI's load_trim_setup):
/// the input, transform, TRIM model, targets and coefficients.
struct Setup : TrimBatch {
  Input input;
};
Setup setup(const PyModel& model, pyb::handle x, pyb::handle transform, pyb::handle target, pyb::handle residual);

/// The result of trim.attribute.
struct PyAttribution {
  std::string method;
  std::vector<int64_t> targets;
  pyb::object attributions, group_scores, delta, grouping;
};

void register_model(pyb::module_& m);
void register_transform(pyb::module_& m);
void register_attribute(pyb::module_& m);
void register_nmf(pyb::module_& m);
void register_evaluate(pyb::module_& m);

}  // namespace trim::py
