#pragma once
// The parts of the module, each registered by its own file, and the model
// object the functions share.
#include <memory>
#include <string>

#include "convert.hpp"
#include "trim/graph/graph.hpp"
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

/// "fft2:ortho" -> "fft2".
std::string spec_family(const std::string& spec);
/// fft1, fft2, rfft1, rfft2: a trailing (re, im) axis.
bool is_fourier(const std::string& spec);

void register_model(pyb::module_& m);
void register_transform(pyb::module_& m);
void register_attribute(pyb::module_& m);
void register_nmf(pyb::module_& m);

}  // namespace trim::py
