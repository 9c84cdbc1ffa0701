#pragma once
// NumPy arrays in and out of trim's Tensor, and the small rules every
// binding shares: finite inputs, the batch convention, Ctrl-C while the GIL
// is released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <string>
#include <vector>

#include "trim/attribution/common.hpp"
#include "trim/core/shape.hpp"
#include "trim/core/tensor.hpp"

namespace trim::py {

namespace pyb = pybind11;

/// A float32 view of a Python array: borrowed without a copy when it is a
/// float32, C-contiguous, 64-byte aligned NumPy array (every array trim
/// returns, and trim.empty), else converted once. `keep` holds the Python
/// object whose memory `tensor` may point into; keep both alive together.
struct Input {
  pyb::object keep;
  Tensor tensor;
};

/// Converts `obj` (array-like of real numbers). TypeError naming `what` for
/// non-numeric, complex or boolean data; ValueError for NaN or infinity.
Input to_tensor(pyb::handle obj, const std::string& what);

/// Hands `t` to NumPy without a copy (the array owns the tensor).
pyb::array to_array(Tensor t);
/// A float64 array of shape `shape` from a row-major buffer (copied).
pyb::array to_array_f64(const double* data, const std::vector<int64_t>& shape);
pyb::array to_array_i32(const std::vector<int32_t>& data, const Shape& shape);

/// ValueError naming `what` and the first element that is not finite.
void require_finite(const Tensor& t, const std::string& what);

/// `x` as a batch [N, example...]: one example gets a leading axis of 1.
/// ValueError naming both shapes otherwise.
Tensor as_batch(Tensor x, const Shape& example, const std::string& what);

/// Shape from a Python sequence of ints, or a single int.
Shape to_shape(pyb::handle obj, const std::string& what);
pyb::tuple to_tuple(const Shape& s);

/// A progress callback for AttributionOptions / CdOptions that ignores the
/// counts: with the GIL released, it takes it briefly after each batch and
/// raises the pending KeyboardInterrupt (or whatever a signal handler raised)
/// as pybind11::error_already_set, which stops the call.
ProgressCallback signal_progress();

}  // namespace trim::py
