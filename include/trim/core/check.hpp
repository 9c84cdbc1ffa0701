#pragma once
/// \file
/// Named argument checks shared by every layer, so each kind of bad input is
/// refused with the same wording wherever it arrives.

#include <string>

#include "trim/core/tensor.hpp"

namespace trim {

/// The multi-index "[i,j,k]" of row-major position `flat` in `shape`, for
/// messages that point at one element.
std::string index_text(const Shape& shape, int64_t flat);

/// ValueError "`where`: the `what` contains NaN or infinity (first at flat
/// index i)" when `t` holds a non-finite value.
void check_finite(const Tensor& t, const std::string& where, const std::string& what);

}  // namespace trim
