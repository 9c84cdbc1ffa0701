#pragma once
// Internal: the spec-string families make_transform() hands over to the
// files that implement them.
#include <memory>
#include <string>

#include "trim/transforms/transform.hpp"

namespace trim::detail {

/// `dwt1:...`, `dwt2:...`, `swt1:...`, `swt2:...` (wavelet.cpp).
std::shared_ptr<const Transform> make_wavelet_transform(const std::string& spec, const Shape& input_shape);

/// `nmf:<file.npy>`, `pca:<file.npy>`, `dict:<file.npy>` (dictionary.cpp).
std::shared_ptr<const Transform> make_dictionary_transform(const std::string& spec, const Shape& input_shape);

}  // namespace trim::detail
